"""Concentration, loss simulation, heatmap and the `assess` JSON report."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from risk_models.engine.assessment import assess
from risk_models.engine.concentration import hhi, hhi_band
from risk_models.engine.score import score
from risk_models.engine.simulation import expected_losses_exact, pert_table, simulate
from risk_models.inventory.read import import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from risk_models.report.json_report import report
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY


@pytest.fixture(scope="module")
def demo(lib):
    res = import_inventory(DEMO_INVENTORY, lib)
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    return res, answers


def test_hhi_values_and_bands():
    assert hhi(pd.Series(["a"]), np.array([5.0]))["hhi"] == 10_000
    four = hhi(pd.Series(list("abcd")), np.ones(4))
    assert four["hhi"] == 2500 and four["band"] == "high" and four["top_share"] == 25
    assert hhi_band(999.9) == "unconcentrated" and hhi_band(1000) == "moderate"
    assert hhi_band(1800) == "moderate" and hhi_band(1800.1) == "high"
    ten = hhi(pd.Series(list("abcdefghij")), np.ones(10))
    assert ten["hhi"] == 1000 and ten["band"] == "moderate"
    assert hhi(pd.Series([], dtype=str), np.array([]))["hhi"] == 0


def test_pert_table_has_the_pert_mean():
    t = pert_table(0.5, 1.0, 3.0)
    assert t.min() >= 0.5 and t.max() <= 3.0
    assert t.mean() == pytest.approx((0.5 + 4 + 3) / 6, rel=1e-3)


def test_simulation_matches_closed_form_and_is_seeded(lib, demo):
    res, answers = demo
    s = score(res.frame, answers, lib)
    sim = simulate(res.frame, s, lib, trials=20_000, seed=3)
    exact = expected_losses_exact(res.frame, s, lib)
    assert sim.portfolio.mean() == pytest.approx(exact.sum(), rel=0.03)
    again = simulate(res.frame, s, lib, trials=20_000, seed=3)
    assert np.array_equal(sim.portfolio, again.portfolio)
    other = simulate(res.frame, s, lib, trials=20_000, seed=4)
    assert not np.array_equal(sim.portfolio, other.portfolio)


def test_correlated_losses_through_shared_events(lib, demo):
    """Deployments hit by the same outcome lose in the same trials: two copies of one deployment
    have losses in exactly as many trials as one copy (independent draws would give more)."""
    res, answers = demo
    # the scenario pack alone: with the baseline events DEP-001 loses something in ~97 % of years,
    # where one copy and two independent copies could not be told apart
    lib = dataclasses.replace(lib, baseline=None)
    one = res.frame[res.frame["deployment_id"] == "DEP-001"].reset_index(drop=True)
    two = pd.concat([one, one.assign(deployment_id="DEP-001-copy")], ignore_index=True)
    hit_one = (simulate(one, score(one, answers, lib), lib, 20_000, 5).portfolio > 0).mean()
    sim_two = simulate(two, score(two, answers, lib), lib, 20_000, 5)
    assert (sim_two.portfolio > 0).mean() == pytest.approx(hit_one, abs=0.01)
    assert 0.1 < hit_one < 0.9


def test_report_shape_and_determinism(lib, demo):
    res, answers = demo
    a = assess(res, answers, lib, trials=2000, seed=7)
    r1 = report(a)
    r2 = report(assess(res, answers, lib, trials=2000, seed=7))
    r1.pop("generated_at"), r2.pop("generated_at")
    assert json.dumps(r1, sort_keys=True) == json.dumps(r2, sort_keys=True)
    assert {"schema_version", "scenario_library", "inventory", "deployments", "concentration", "simulation",
            "heatmap"} <= set(r1)
    d = r1["deployments"][0]
    for key in ("deployment_id", "name", "business_unit", "channel", "model", "model_vendor", "region",
                "jurisdiction", "annual_spend_usd", "criticality", "data_sensitivity", "fallback_status",
                "abstraction_layer", "proprietary_features", "score", "inherent_score", "likelihood", "impact",
                "rating", "dimensions", "drivers", "assumed", "expected_loss_usd"):
        assert key in d, key
    kinds = r1["catalogues"]["drivers"]
    for dep in r1["deployments"]:
        outcome_sum = sum(x["value"] for x in dep["drivers"] if kinds[x["id"]]["kind"] == "outcome")
        assert outcome_sum == pytest.approx(dep["score"], abs=0.5)
    assert sum(c["count"] for c in r1["heatmap"]["cells"]) == len(r1["deployments"]) == 61
    sim = r1["simulation"]
    assert 50 <= len(sim["lec"]) <= 200
    assert 0 < sim["expected_annual_loss_usd"] <= sim["var95_usd"] <= sim["var99_usd"]
    assert sum(sim["by_business_unit"].values()) == pytest.approx(
        sum(d["expected_loss_usd"] for d in r1["deployments"]), rel=1e-6)
    assert r1["concentration"]["channel"]["spend"]["top"] == "azure_openai"


def _assess(*args):
    return run_cli("assess", *args)


def test_cli_assess_json_and_byte_identical_reruns(tmp_path):
    """A rerun is identical even in another process (its own hash seed, nothing cached): the first run
    is in this process, the second one a fresh `python -m risk_models`."""
    args = [str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--trials", "2000", "--json"]
    here = _assess(*args, str(tmp_path / "r0.json"))
    assert here.returncode == 0, here.stderr
    assert "Expected annual loss" in here.stdout
    fresh = subprocess.run([sys.executable, "-m", "risk_models", "assess", *args, str(tmp_path / "r1.json")],
                           capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr
    outs = []
    for k in range(2):
        data = json.loads((tmp_path / f"r{k}.json").read_text())
        data.pop("generated_at")
        outs.append(json.dumps(data))
    assert outs[0] == outs[1]


def test_cli_assess_invalid_rows_and_skip_invalid(tmp_path):
    f = tmp_path / "inv.csv"
    f.write_text("deployment_id,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                 "A,aoai,gpt-4o,1000,high,internal\nB,Azur,gpt-4o,-1,high,internal\n")
    p = _assess(str(f), "--trials", "500")
    assert p.returncode == 1 and "line 3 (B)" in p.stderr
    p = _assess(str(f), "--trials", "500", "--skip-invalid", "--json", "-")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert [d["deployment_id"] for d in rep["deployments"]] == ["A"]
    assert {e["line"] for e in rep["inventory"]["rejected"]} == {3}


def test_cli_stress_reports_delta(tmp_path):
    p = _assess(str(DEMO_INVENTORY), "--trials", "1000", "--stress", "msft_openai_dispute", "--json", "-")
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)["stress"]
    assert st["portfolio"]["expected_annual_loss_usd"]["delta"] > 0
    azure = [d for d in st["deployments"] if d["deployment_id"] == "DEP-001"][0]
    assert azure["score_delta"] > 0
    p = _assess(str(DEMO_INVENTORY), "--stress", "no_such_outcome")
    assert p.returncode == 2 and "unknown outcome" in p.stderr and "Traceback" not in p.stderr


def test_report_written_to_a_stream_is_the_report_as_a_dict(lib, demo):
    """One writer: the streamed bytes parse to exactly the dict `report` builds, texts catalogue included."""
    import datetime as dt
    import io as _io

    from risk_models.report import json_report
    res, answers = demo
    a = assess(res, answers, lib, trials=500, seed=2)
    header = json_report.report_header(a, "Org", dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    out = _io.BytesIO()
    json_report.write_report(a, out, header=header)
    assert json.loads(out.getvalue()) == json.loads(json.dumps(json_report.report(a, header=header)))


def test_the_summary_names_each_deployment_s_first_outcome_driver(lib, demo):
    from risk_models.engine.assessment import drivers, top_outcome_label
    res, answers = demo
    a = assess(res, answers, lib, trials=500, seed=2)
    for i in range(len(a.frame)):
        first = next((d["label"] for d in drivers(a, i) if d["kind"] == "outcome"), None)
        assert top_outcome_label(a, i) == first


def test_streamed_json_report_equals_the_in_memory_report(lib, demo):
    import datetime as dt
    import io as _io

    from risk_models.report.json_report import write_report
    res, answers = demo
    a = assess(res, answers, lib, trials=1000, seed=2)
    when = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    buf = _io.BytesIO()
    write_report(a, buf, "Org", when)
    assert json.loads(buf.getvalue()) == report(a, "Org", when)


def test_the_json_fallbacks_are_the_app_s_option_records(lib, demo):
    """The JSON writer serialises the options from whole columns; every deployment's `fallbacks` must be
    exactly the records the app shows (`ranked_records`), reasons named through the texts catalogue."""
    from risk_models.fallbacks.recommend import recommendations_of
    res, answers = demo
    a = assess(res, answers, lib, trials=200, seed=1)
    data = report(a, "Org")
    texts = data["catalogues"]["texts"]
    rec = recommendations_of(a)
    expected = rec.ranked_records(0, len(a.frame))
    seen_reasons = seen_retraining = 0
    for got, want in zip([d["fallbacks"] for d in data["deployments"]], expected, strict=True):
        for g in got:
            if "reasons" in g:
                g["reasons"] = [texts[t] for t in g["reasons"]]
                seen_reasons += 1
            seen_retraining += "retraining_weeks" in g
        assert [list(g) for g in got] == [list(w) for w in want]  # same keys, same order
        assert got == want
    assert seen_reasons and seen_retraining, "the demo must exercise reasons and re-training"


def test_the_json_drivers_are_the_app_s_drivers(lib, demo):
    """The JSON writer serialises the drivers from whole columns; every deployment's `drivers` must name
    what the app lists (`context_drivers`): outcome points, the other outcomes' count and points, each
    factor with its label (through the texts catalogue) and value, in the same order."""
    from risk_models.engine.assessment import OTHER_OUTCOMES, context_drivers, driver_context
    res, answers = demo
    a = assess(res, answers, lib, trials=200, seed=1)
    data = report(a, "Org")
    texts = data["catalogues"]["texts"]
    ctx = driver_context(a)
    kinds = set()
    for j, d in enumerate(data["deployments"]):
        want = []
        for w in context_drivers(a, ctx, j):
            if w["id"] == OTHER_OUTCOMES:
                want.append({"id": w["id"], "count": ctx.other[j][0], "value": w["value"]})
            elif w["kind"] == "factor":
                want.append({"id": w["id"], "text": w["label"], "value": w["value"]})
            else:
                want.append({"id": w["id"], "value": w["value"]})
        got = [g | {"text": texts[g["text"]]} if "text" in g else g for g in d["drivers"]]
        assert got == want
        kinds |= {tuple(g) for g in got}
    assert kinds == {("id", "value"), ("id", "count", "value"), ("id", "text", "value")}, kinds
