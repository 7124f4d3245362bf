"""Fallback recommender, what-if and exit plans."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.config.labels import human
from risk_models.engine.assessment import assess
from risk_models.engine.score import score
from risk_models.engine.simulation import expected_losses_exact
from risk_models.fallbacks.exit_plan import exit_plan, exit_plan_markdown
from risk_models.fallbacks.recommend import recommend, recommendations_of
from risk_models.fallbacks.whatif import WhatIfError, top_plan, whatif
from risk_models.inventory.read import ImportResult, import_inventory
from risk_models.io.escape import md_escape
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY
from tests.engine_data import deployment, frame_of, inventories

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assess(lib, records, answers=None, trials=500):
    return assess(ImportResult(frame_of(lib, records)), answers or {}, lib, trials=trials, seed=1)


@SETTINGS
@given(inventories())
def test_controls_and_levers_never_raise_scores_or_expected_losses(lib, records):
    """Controls and contract levers only improve the factors they act on. (A switch moves the workload
    and is scored natively on its target, which can be riskier: such a switch is never the top
    recommendation.)"""
    f = frame_of(lib, records)
    s = score(f, {}, lib)
    rec = recommend(f, {}, lib, s)
    feas = rec.feasible()
    lever = np.array([not o.is_switch for o in rec.options])
    ok = feas & lever[:, None]
    assert np.all(rec.residual[ok] <= np.broadcast_to(rec.current, rec.residual.shape)[ok] + 1e-9)
    assert np.all(rec.loss_avoided[ok] >= -1e-6)
    for i in range(len(f)):
        k = rec.top(i)
        assert k is None or rec.loss_avoided[k, i] > 0
    # applying every feasible lever of every deployment through the what-if keeps every score and
    # every (closed-form) expected loss at or below where it was
    a = assess(ImportResult(f), {}, lib, trials=200, seed=0)
    plan = {str(f["deployment_id"].iat[i]): [rec.options[k].id for k in np.flatnonzero(ok[:, i])]
            for i in range(len(f)) if ok[:, i].any()}
    out = whatif(a, recommendations_of(a), plan)
    after = out["scores_after"]
    assert np.all(after.table["score"].to_numpy() <= a.residual.table["score"].to_numpy() + 1e-9)
    assert np.all(expected_losses_exact(f, after, lib) <= expected_losses_exact(f, a.residual, lib) + 1e-6)


@SETTINGS
@given(deployment(), st.sampled_from(["low", "medium", "high", "critical"]))
def test_azure_openai_without_fallback_always_has_a_feasible_option(lib, rec, crit):
    rec = rec | {"channel": "azure_openai", "fallback_status": "none", "criticality": crit}
    f = frame_of(lib, [rec])
    r = recommend(f, {}, lib, score(f, {}, lib))
    records = r.records(0, lib)
    assert records[0]["feasible"] and any(x["feasible"] for x in records)
    assert [x["feasible"] for x in records] == sorted([x["feasible"] for x in records], reverse=True)


@SETTINGS
@given(deployment())
def test_exit_plan_mentions_every_proprietary_feature(lib, rec):
    a = _assess(lib, [rec])
    plan = exit_plan(a, recommendations_of(a), 0)
    md = exit_plan_markdown(plan)
    for feat in filter(None, rec["proprietary_features"].split(";")):
        name = human("feature", feat)  # named as people know it, never by its id
        assert md_escape(name) in md and any(f"Replace {name}:" in step for step in plan["steps"])
        assert "_" not in feat or feat not in md  # e.g. on_your_data


BASE = {"deployment_id": "X", "name": "x", "channel": "azure_openai", "model": "gpt-4o", "region": "westeurope",
        "annual_spend_usd": 100000, "criticality": "high", "data_sensitivity": "confidential"}


def _reasons(lib, rec, option_id, answers=None):
    f = frame_of(lib, [rec])
    r = recommend(f, answers or {}, lib, score(f, answers or {}, lib))
    return next(x for x in r.records(0, lib) if x["option_id"] == option_id)


def test_region_rule(lib):
    eu = _reasons(lib, BASE | {"data_sensitivity": "regulated"}, "openai_on_bedrock")
    assert not eu["feasible"] and "EU regulated data must stay in its region; this option serves US regions only" \
        in eu["reasons"]
    # Bedrock offers GPT-5 models only (config/availability.yaml): gpt-4o is never feasible there
    us = _reasons(lib, BASE | {"region": "eastus2", "model": "gpt-5"}, "openai_on_bedrock")
    assert us["feasible"], us["reasons"]
    # confidential EU data that may leave its region can go to a US-only option
    free = _reasons(lib, BASE | {"model": "gpt-5"}, "openai_on_bedrock", {"X": {"data_may_leave_region": "yes"}})
    assert free["feasible"], free["reasons"]


def test_sensitivity_rule(lib):
    r = _reasons(lib, BASE | {"data_sensitivity": "regulated"}, "openai_api_direct")
    assert not r["feasible"] and any("regulated data exceeds" in x for x in r["reasons"])
    assert _reasons(lib, BASE, "openai_api_direct")["feasible"]


def test_feature_rule_and_rebuild_effort(lib):
    r = _reasons(lib, BASE | {"proprietary_features": "assistants"}, "gpt_oss_cloud")
    assert not r["feasible"] and "uses assistants: no equivalent on target" in r["reasons"]
    plain = _reasons(lib, BASE, "gemini_on_vertex")
    heavy = _reasons(lib, BASE | {"proprietary_features": "on_your_data;vector_store"}, "gemini_on_vertex")
    assert heavy["feasible"] and heavy["effort_weeks"][0] > plain["effort_weeks"][0]


def test_applies_to_and_already_there(lib):
    r = _reasons(lib, BASE | {"channel": "self_hosted", "model": "llama-3.1-70b", "region": "on-prem"},
                 "openai_api_direct")
    assert not r["feasible"] and any("applies to" in x for x in r["reasons"])
    r = _reasons(lib, BASE | {"channel": "aws_bedrock", "model": "claude-sonnet-4-5", "region": "us-east-1"},
                 "claude_on_bedrock")
    assert "the deployment already runs there" in r["reasons"]


@pytest.fixture(scope="module")
def demo_assessment(lib):
    from risk_models.questionnaire.answers import read_answers_file, validate_answers
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    return assess(import_inventory(DEMO_INVENTORY, lib), answers, lib, trials=2000, seed=0)


def test_demo_high_and_critical_have_ranked_options_and_whatif_improves(demo_assessment):
    a = demo_assessment
    rec = recommendations_of(a)
    hc = np.flatnonzero(a.residual.table["rating"].isin(["high", "critical"]).to_numpy())
    assert len(hc) > 0
    paying = [i for i in hc if rec.top(i) is not None]
    for i in hc:
        # every high/critical deployment has a ranked list and an exit target; a top recommendation
        # exists where some option saves more than it costs (issue 11: never one that does not)
        assert rec.exit_target(i) is not None and rec.records(i)[0]["feasible"]
    assert len(paying) >= len(hc) // 2
    out = whatif(a, rec, top_plan(a, rec, "high"))
    assert out["after"]["expected_annual_loss_usd"] < out["before"]["expected_annual_loss_usd"]
    assert out["after"]["ratings"]["critical"] < out["before"]["ratings"]["critical"]
    assert len(out["applied"]) == len(paying)


def test_whatif_rejects_infeasible_and_unknown(demo_assessment):
    a = demo_assessment
    with pytest.raises(WhatIfError, match="not feasible"):
        whatif(a, recommendations_of(a), {"DEP-001": ["openai_on_bedrock"]})
    with pytest.raises(WhatIfError, match="unknown option"):
        whatif(a, recommendations_of(a), {"DEP-001": ["teleport"]})
    with pytest.raises(WhatIfError, match="unknown deployment"):
        whatif(a, recommendations_of(a), {"NOPE": ["abstraction_gateway"]})


def test_channel_switch_moves_concentration(demo_assessment):
    a = demo_assessment
    plan = {"DEP-001": ["gemini_on_vertex"]}
    out = whatif(a, recommendations_of(a), plan)
    before = out["before"]["concentration"]["channel"]["spend"]["shares"]
    after = out["after"]["concentration"]["channel"]["spend"]["shares"]
    assert after["google_vertex"] > before["google_vertex"] and after["azure_openai"] < before["azure_openai"]


def _cli(*args):
    return run_cli(*args)


def test_cli_exit_plan_and_whatif(tmp_path):
    p = _cli("exit-plan", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--deployment", "DEP-001",
             "--trials", "500")
    assert p.returncode == 0, p.stderr
    assert "# Exit plan" in p.stdout and "Replace On Your Data:" in p.stdout and "DORA" in p.stdout
    # human labels, no Markdown escapes in a file or terminal, no internal ids
    assert "\\" not in p.stdout and "$300,000" in p.stdout
    assert not re.search(r"\b(azure_openai|on_your_data|assistants)\b", p.stdout), p.stdout
    p = _cli("exit-plan", str(DEMO_INVENTORY), "--deployment", "NOPE", "--trials", "500")
    assert p.returncode == 2 and "not among the valid rows" in p.stderr
    p = _cli("whatif", str(DEMO_INVENTORY), "--apply-top", "high", "--json", "-", "--trials", "500")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["after"]["expected_annual_loss_usd"] < out["before"]["expected_annual_loss_usd"]
    p = _cli("whatif", str(DEMO_INVENTORY), "--apply", "DEP-001=openai_on_bedrock", "--trials", "500")
    assert p.returncode == 2 and "not feasible" in p.stderr


def test_assess_json_has_fallbacks_and_exit_plans(demo_assessment):
    from risk_models.report.json_report import report
    from risk_models.report.options import with_option_details
    rep = with_option_details(report(demo_assessment))
    for d in rep["deployments"]:
        assert len(d["fallbacks"]) == len(demo_assessment.lib.fallbacks.options) == 14
        flags = [f["feasible"] for f in d["fallbacks"]]
        assert flags == sorted(flags, reverse=True)
        assert ("exit_plan" in d) == (d["rating"] in ("high", "critical"))


def test_a_notice_date_already_passed_is_said_to_have_passed():
    import datetime as dt

    from risk_models.fallbacks.exit_plan import act_on_dates
    ref = dt.date(2026, 11, 26)
    late = act_on_dates(dt.date(2027, 7, 28), 365, ref, 24)
    assert late[0]["date"] == "2026-07-28" and "has passed" in late[0]["action"]
    in_time = act_on_dates(dt.date(2027, 7, 28), 90, ref, 24)
    assert in_time[0]["action"].startswith("last day to give notice")
