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
    for dep in r1["deployments"]:
        outcome_sum = sum(x["value"] for x in dep["drivers"] if x["kind"] == "outcome")
        assert outcome_sum == pytest.approx(dep["score"], abs=0.5)
    assert sum(c["count"] for c in r1["heatmap"]["cells"]) == len(r1["deployments"]) == 61
    sim = r1["simulation"]
    assert 50 <= len(sim["lec"]) <= 200
    assert 0 < sim["expected_annual_loss_usd"] <= sim["var95_usd"] <= sim["var99_usd"]
    assert sum(sim["by_business_unit"].values()) == pytest.approx(
        sum(d["expected_loss_usd"] for d in r1["deployments"]), rel=1e-6)
    assert r1["concentration"]["channel"]["spend"]["top"] == "azure_openai"


def _assess(*args):
    return subprocess.run([sys.executable, "-m", "risk_models", "assess", *args], capture_output=True, text=True)


def test_cli_assess_json_and_byte_identical_reruns(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"r{k}.json"
        p = _assess(str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--json", str(out), "--trials", "2000")
        assert p.returncode == 0, p.stderr
        data = json.loads(out.read_text())
        data.pop("generated_at")
        outs.append(json.dumps(data))
    assert outs[0] == outs[1]
    assert "Expected annual loss" in p.stdout


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


def test_report_written_by_two_processes_is_byte_for_byte_the_one_written_by_one(lib, demo, monkeypatch):
    import datetime as dt
    import io as _io
    import os

    from risk_models.report import json_report
    res, answers = demo
    a = assess(res, answers, lib, trials=500, seed=2)
    header = json_report.report_header(a, "Org", dt.datetime(2026, 11, 25, tzinfo=dt.UTC))
    one, two = _io.BytesIO(), _io.BytesIO()
    json_report.write_report(a, one, header=header, parallel_from=10**9)
    json_report.write_report(a, two, header=header, parallel_from=2)
    assert two.getvalue() == one.getvalue()
    # a second process that fails leaves nothing out: its part is written by the first
    parent, write = os.getpid(), json_report._write_records

    def failing_in_child(*args):
        if os.getpid() != parent:
            raise MemoryError("child ran out")
        write(*args)
    monkeypatch.setattr(json_report, "_write_records", failing_in_child)
    three = _io.BytesIO()
    json_report.write_report(a, three, header=header, parallel_from=2)
    assert three.getvalue() == one.getvalue()


def test_a_later_records_started_early_is_the_same_and_is_stopped_when_the_report_fails(lib, demo):
    import io as _io

    from risk_models.report import json_report
    res, answers = demo
    a = assess(res, answers, lib, trials=500, seed=2)
    header = json_report.report_header(a, "Org")
    one, two = _io.BytesIO(), _io.BytesIO()
    json_report.write_report(a, one, header=header, parallel_from=10**9)
    with json_report.later_records_started(a, parallel_from=2) as started:
        assert started is not None
        json_report.report_header(a, "Org")  # work done here meanwhile
        json_report.write_report(a, two, header=header, started=started)
    assert two.getvalue() == one.getvalue()
    with pytest.raises(RuntimeError), json_report.later_records_started(a, parallel_from=2) as started:
        raise RuntimeError("the PDF could not be written")
    assert started.done  # the child was stopped and reaped: no process left behind


def test_deferred_draws_are_the_draws_made_at_once(lib, demo):
    res, answers = demo
    now = assess(res, answers, lib, trials=2000, seed=7)
    later = assess(res, answers, lib, trials=2000, seed=7, deferred_draws=True)
    assert later.simulation._portfolio is None  # not drawn yet
    np.testing.assert_array_equal(later.simulation.portfolio, now.simulation.portfolio)
    assert later.simulation.summary(later.frame) == now.simulation.summary(now.frame)


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
