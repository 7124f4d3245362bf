"""The sensitivity tornado: every assumption moved ±50 % one at a time, ranked by its effect."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.engine.sensitivity import Metrics, assumptions_of, context, moved, rank, sensitivity, swing
from risk_models.engine.simulation import expected_losses_exact
from tests.engine_data import frame_of, inventories

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.function_scoped_fixture])


@given(inventories(max_size=4))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
def test_factor_one_moves_nothing(lib, records):
    """An assumption x 1.0 is the assessment itself: zero change in every figure, for every assumption."""
    frame = frame_of(lib, records)
    ctx = context(frame, {}, lib)
    base_el = float(expected_losses_exact(frame, ctx.base, lib).sum())
    base_crit = int((ctx.base.table["rating"] == "critical").sum())
    for a in assumptions_of(lib):
        m = moved(ctx, a, 1.0)
        assert m.expected_loss == pytest.approx(base_el, rel=1e-9, abs=1e-6), a.id
        assert m.critical == base_crit, a.id
        assert m.mean_score == pytest.approx(float(ctx.base.table["score"].mean()), abs=1e-9), a.id


_change = st.floats(-1e7, 1e7, allow_nan=False)
_row = st.fixed_dictionaries({
    "label": st.text(min_size=1, max_size=8), "expected_loss_low_usd": _change, "expected_loss_high_usd": _change,
    "critical_low": st.integers(-50, 50), "critical_high": st.integers(-50, 50),
    "mean_score_low": st.floats(-100, 100), "mean_score_high": st.floats(-100, 100)})


@given(st.lists(_row, max_size=40), st.sampled_from(["expected_loss", "critical", "mean_score"]))
@settings(max_examples=200, deadline=None)
def test_rows_ranked_by_magnitude(rows, by):
    """Largest |change| first in the chosen metric, whatever its sign; nothing lost or added."""
    ranked = rank(rows, by)
    swings = [swing(r, by) for r in ranked]
    assert swings == sorted(swings, reverse=True)
    assert sorted(map(id, ranked)) == sorted(map(id, rows))


def test_demo_tornado(lib, small_assessment):
    a = small_assessment
    s = sensitivity(a.frame, a.answers, lib, a.probabilities, a.residual)
    rows = {r["id"]: r for r in s["rows"]}
    assert s["base"]["expected_loss_usd"] == pytest.approx(float(a.simulation.expected_by_deployment.sum()), rel=1e-9)
    assert s["base"]["critical"] == int((a.residual.table["rating"] == "critical").sum())
    # the documented constants are in it
    assert {"calibration", "base_vulnerability"} <= set(rows)
    # the calibration constant only rescales the 0-100 score: ratings and losses do not use it
    cal = rows["calibration"]
    assert cal["expected_loss_low_usd"] == cal["expected_loss_high_usd"] == 0
    assert cal["critical_low"] == cal["critical_high"] == 0
    assert cal["mean_score_low"] < 0 < cal["mean_score_high"]
    # more base vulnerability: more loss, more criticals, higher scores
    bv = rows["base_vulnerability"]
    assert bv["expected_loss_low_usd"] < 0 < bv["expected_loss_high_usd"]
    assert bv["critical_low"] <= 0 <= bv["critical_high"]
    # a loss assumption is linear in the expected loss: the downtime cost of critical deployments
    d = rows["downtime_usd_per_hour.critical"]
    assert d["expected_loss_high_usd"] == pytest.approx(-d["expected_loss_low_usd"], rel=1e-9)
    assert d["critical_low"] == d["critical_high"] == 0
    # a stronger control lowers the expected loss
    tested = rows["factors.fallback_status.tested"]
    assert tested["expected_loss_high_usd"] < 0 < tested["expected_loss_low_usd"]
    # event groups: probability, severity and (outages) duration
    assert {"baseline.provider_outage.probability", "baseline.provider_outage.severity",
            "baseline.provider_outage.outage_hours"} <= set(rows)
    assert {r["id"] for r in s["not_moved"]} == {"common_factor", "payback_years", "probability_spread", "severity_spread"}
    swings = [swing(r, "expected_loss") for r in s["rows"]]
    assert swings == sorted(swings, reverse=True) and swings[0] > 0


def test_probability_move_keeps_events_mutually_exclusive(lib, small_assessment):
    """x 1.5 on an event whose outcomes already sum near 1 is capped at certainty, not above it."""
    a = small_assessment
    ctx = context(a.frame, a.answers, lib, a.probabilities, a.residual)
    ev = max(lib.scenarios.events, key=lambda e: sum(o.probability for o in e.outcomes))
    item = next(x for x in assumptions_of(lib) if x.id == f"{ev.id}.probability")
    captured = {}

    def spy(probabilities=None, **_):
        captured.update(probabilities)
        return Metrics(0.0, 0, 0.0)

    ctx.run = spy
    item.move(ctx, 1.5)
    total = sum(captured[o.id] for o in ev.outcomes)
    assert total <= 1 + 1e-9
    assert total == pytest.approx(min(1.0, 1.5 * sum(o.probability for o in ev.outcomes)))
    ratio = [captured[o.id] / o.probability for o in ev.outcomes if o.probability]
    assert np.allclose(ratio, ratio[0])  # scaled together, shares kept


def test_cli_sensitivity_table_and_json(tmp_path):
    from risk_models.report.schema import Report
    from tests.cli_run import run_cli
    from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY
    out = tmp_path / "r.json"
    p = run_cli("assess", DEMO_INVENTORY, "--answers", DEMO_ANSWERS, "--trials", "200", "--sensitivity", "--json", out)
    assert p.returncode == 0, p.stderr
    rep = json.loads(out.read_text())
    Report.model_validate(rep)
    rows = rep["sensitivity"]["rows"]
    text = p.stdout
    assert "Sensitivity: each assumption moved to ×0.5 and ×1.5" in text
    lines = [ln for ln in text.splitlines() if ln.startswith(("Base vulnerability", "Calibration constant"))]
    assert len(lines) == 2
    # printed in the JSON's (ranked) order, with human labels and money, never a raw id
    first = text.index(rows[0]["label"][:40])
    assert first < text.index(rows[-1]["label"][:40])
    assert "base_vulnerability" not in text and "$" in text
    # without the flag: no key, no table
    p2 = run_cli("assess", DEMO_INVENTORY, "--answers", DEMO_ANSWERS, "--trials", "200", "--json", out)
    assert "sensitivity" not in json.loads(out.read_text()) and "Sensitivity:" not in p2.stdout


def test_method_doc_figures_match_the_demo(lib):
    """docs/method.md quotes the demo's sensitivity of the two model constants: they are the real output."""
    import re

    from risk_models.config.loader import load_profile, with_profile
    from risk_models.engine.assessment import assess
    from risk_models.inventory.read import import_inventory
    from risk_models.questionnaire.answers import read_answers_file, validate_answers
    from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT
    text = " ".join((ROOT / "docs" / "method.md").read_text(encoding="utf-8").split())
    m = re.search(r"base vulnerability leads: ×0\.5 / ×1\.5 change the expected annual loss by −(\d+) % / \+(\d+) % "
                  r"and the critical deployments by −(\d+) / \+(\d+); the calibration constant moves the mean score by "
                  r"−([\d.]+) / \+([\d.]+) points", text)
    assert m, "the sentence quoting the demo's sensitivity is missing from docs/method.md"
    demo_lib = with_profile(lib, load_profile(ROOT / "config" / "demo" / "profile.yaml", lib.regimes))
    # the worked example's assessment date (its command's --as-of): contracts are measured against it
    as_of = __import__("datetime").date.fromisoformat(re.search(r"--as-of (\d{4}-\d\d-\d\d)", (ROOT / "docs" / "method.md").read_text(encoding="utf-8")).group(1))
    demo_lib = with_profile(demo_lib, demo_lib.profile.model_copy(update={"reporting_date": as_of}))
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), demo_lib.questions)
    a = assess(import_inventory(DEMO_INVENTORY, demo_lib), answers, demo_lib, trials=100, seed=0)
    s = sensitivity(a.frame, a.answers, demo_lib, a.probabilities, a.residual)
    rows = {r["id"]: r for r in s["rows"]}
    bv, cal, el = rows["base_vulnerability"], rows["calibration"], s["base"]["expected_loss_usd"]
    assert int(m[1]) == round(-100 * bv["expected_loss_low_usd"] / el)
    assert int(m[2]) == round(100 * bv["expected_loss_high_usd"] / el)
    assert (-int(m[3]), int(m[4])) == (bv["critical_low"], bv["critical_high"])
    assert (-float(m[5]), float(m[6])) == (round(cal["mean_score_low"], 1), round(cal["mean_score_high"], 1))
    assert rows["calibration"]["expected_loss_low_usd"] == 0 == rows["calibration"]["critical_high"]


def test_methodology_states_the_configured_constants(lib, small_assessment):
    """The PDF/Markdown methodology names the constants of config/scoring.yaml, and their measured effect."""
    from risk_models.cli.sensitivity import sensitivity_record
    from risk_models.report.methodology import BASE_VULNERABILITY, CALIBRATION, constants_paragraph
    assert (lib.scoring.base_vulnerability, lib.scoring.calibration) == (BASE_VULNERABILITY, CALIBRATION)
    plain = constants_paragraph({})
    assert "base vulnerability 0.35" in plain and "calibration constant 11" in plain and "In this portfolio" not in plain
    s = sensitivity_record(small_assessment)
    with_s = constants_paragraph({"sensitivity": s})
    bv = next(r for r in s["rows"] if r["id"] == "base_vulnerability")
    assert f"{bv['critical_low']:+d} / {bv['critical_high']:+d}" in with_s


def test_pdf_appendix_has_the_tornado_and_the_ranked_table(tmp_path, small_assessment):
    import shutil
    import subprocess

    from reportlab.graphics.shapes import Rect

    from risk_models.cli.sensitivity import sensitivity_record
    from risk_models.report.json_report import report
    from risk_models.report.pdf import render_pdf
    from risk_models.report.pdf.sensitivity import TORNADO_ROWS, tornado_drawing
    s = sensitivity_record(small_assessment)
    d = tornado_drawing(s, 500)
    bars = [x for x in d.contents if isinstance(x, Rect)]
    moving = [r for r in s["rows"] if r["expected_loss_low_usd"] or r["expected_loss_high_usd"]][:TORNADO_ROWS]
    assert len(bars) == sum(bool(r["expected_loss_low_usd"]) + bool(r["expected_loss_high_usd"]) for r in moving)
    widest = max(bars, key=lambda b: b.width)  # the top row's larger change has the longest bar
    assert widest.y == max(b.y for b in bars)
    rep = report(small_assessment) | {"sensitivity": s}
    path = tmp_path / "s.pdf"
    path.write_bytes(render_pdf(rep))
    assert shutil.which("pdftotext")
    text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())
    assert "Appendix: sensitivity — what the numbers rest on" in text and "All assumptions, ranked" in text
    assert "Model constants. Two constants are model assumptions" in text and "In this portfolio" in text
    # the table is in rank order
    first, last = s["rows"][0]["label"], s["rows"][-1]["label"]
    assert text.index(first, text.index("All assumptions, ranked")) < text.rindex(last[:25])
    # without a sensitivity key: no appendix
    path.write_bytes(render_pdf(report(small_assessment)))
    plain = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Appendix: sensitivity" not in plain and "Model constants." in " ".join(plain.split())


def test_empty_inventory_gives_zero_changes_not_nan(lib, small_assessment):
    s = sensitivity(small_assessment.frame.iloc[:0], {}, lib)
    assert s["base"] == {"expected_loss_usd": 0.0, "critical": 0, "mean_score": 0.0}
    assert all(v == 0 for r in s["rows"] for k, v in r.items() if k.endswith(("_usd", "_low", "_high")))
    json.dumps(s, allow_nan=False)


def test_every_scoring_and_loss_parameter_is_in_the_tornado(lib):
    """A parameter added to scoring.yaml or assumptions.yaml must be moved too (or named as not moved)."""
    from risk_models.config.schema import AssumptionsFile, ScoringFactors, ScoringFile
    from risk_models.engine.sensitivity import NOT_MOVED
    ids = {a.id for a in assumptions_of(lib)}
    prefixes = {i.split(".")[0] for i in ids} | {".".join(i.split(".")[:2]) for i in ids}
    scoring = {f for f in ScoringFile.model_fields if f not in ("as_of", "dimensions", "factors")}
    factors = {f"factors.{f}" for f in ScoringFactors.model_fields}
    loss = {f for f in AssumptionsFile.model_fields if f != "as_of"} - set(NOT_MOVED)
    assert not (scoring | factors | loss) - prefixes
    # and every event of the library, as probability and severity
    groups = {e.id for e in lib.scenarios.events} | {f"baseline.{t.id}" for t in lib.baseline.templates}
    assert {f"{g}.probability" for g in groups} | {f"{g}.severity" for g in groups} <= ids
