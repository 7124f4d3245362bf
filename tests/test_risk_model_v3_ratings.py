"""Risk model v3 (issue #25, parts 4-6): ratings that agree with the losses, monotone where a reader
expects it, and the assessment date as the clock. Properties as hypothesis tests, defects reproduced."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.config.loader import load_profile, with_profile
from risk_models.config.profile import DEFAULT_IMPACT_USD, OrgProfile, RiskAppetite
from risk_models.engine.assessment import assess
from risk_models.engine.score import RATINGS, committed_at_risk, score
from risk_models.fallbacks.exit_plan import exit_plan
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.inventory.read import ImportResult, import_inventory
from risk_models.io.safe_yaml import load_user_yaml
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT
from tests.engine_data import deployment, frame_of, random_inventory

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PORTFOLIO = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RANK = {r: i for i, r in enumerate(RATINGS)}
AS_OF = dt.date(2026, 12, 2)


@pytest.fixture(scope="module")
def demo_lib(lib):
    return with_profile(lib, load_profile(ROOT / "config" / "demo" / "profile.yaml", lib.regimes))


@pytest.fixture(scope="module")
def dated(lib):
    """The default library with a fixed assessment date (results must not move with the calendar)."""
    return with_profile(lib, lib.profile.model_copy(update={"reporting_date": AS_OF}))


def _ranks(s) -> np.ndarray:
    return s.table["rating"].map(RANK).to_numpy()


def _spearman(a, b) -> float:
    return float(pd.Series(a).rank().corr(pd.Series(b).rank()))


# --- 4. Ratings agree with losses -------------------------------------------------------------
DEP010 = {"deployment_id": "DEP-010", "name": "Credit decision support", "business_unit": "Retail Banking",
          "channel": "azure_openai", "model": "gpt-4o", "region": "westeurope", "annual_spend_usd": 1_790_000,
          "committed_spend_usd": 0, "criticality": "critical", "data_sensitivity": "regulated",
          "fallback_status": "tested", "proprietary_features": "", "abstraction_layer": False}


def test_a_critical_regulated_high_loss_row_with_a_tested_fallback_is_not_rated_low(demo_lib):
    """Reproduction: DEP-010 (critical, regulated, $1.79M, tested fallback) was rated low (1 x 4) with
    the third-highest expected loss; documented -> tested moved it from critical to low."""
    recs = [DEP010 | {"deployment_id": s, "fallback_status": s} for s in ("documented", "tested")]
    s = score(frame_of(demo_lib, recs), {}, demo_lib)
    ranks, loss = _ranks(s), s.loss.sum(axis=1)
    assert ranks[1] >= RANK["high"]
    assert loss[1] < loss[0] and (ranks[0] - ranks[1] <= 1 or loss[1] < loss[0] / 2)
    assert s.table["likelihood"].iat[0] == s.table["likelihood"].iat[1]  # a fallback does not stop outages


@SETTINGS
@given(deployment())
def test_a_control_moves_a_row_one_band_at_most_unless_its_loss_halves(dated, rec):
    steps = [rec | {"deployment_id": f"F{k}", "fallback_status": f, "abstraction_layer": False}
             for k, f in enumerate(["none", "documented", "tested", "active"])]
    steps += [steps[0] | {"deployment_id": "A1", "abstraction_layer": True}]
    s = score(frame_of(dated, steps), {}, dated)
    ranks, loss, lik = _ranks(s), s.loss.sum(axis=1), s.table["likelihood"].to_numpy()
    for before, after in [(0, 1), (1, 2), (2, 3), (0, 2), (0, 3), (0, 4)]:
        assert loss[after] <= loss[before] + 1e-9 and ranks[after] <= ranks[before]
        assert lik[after] == lik[before]  # controls act on the impact, never on the likelihood
        if loss[after] >= loss[before] / 2:
            assert ranks[before] - ranks[after] <= 1


@PORTFOLIO
@given(st.integers(0, 10_000))
def test_for_equal_likelihood_the_rating_follows_the_expected_loss(dated, seed):
    s = score(frame_of(dated, random_inventory(seed, 120)), {}, dated)
    t = s.table.assign(loss=s.loss.sum(axis=1), rank=_ranks(s))
    pairs = 0
    for _, g in t.groupby([t["p_hit"].round(12), t["p_reach"].round(12)]):
        g = g.sort_values("loss")
        pairs += len(g) - 1
        assert (np.diff(g["rank"].to_numpy()) >= 0).all(), g[["loss", "likelihood", "impact", "rating"]]
    assert pairs > 0


@PORTFOLIO
@given(st.integers(0, 10_000))
def test_random_inventories_rank_ratings_like_losses_and_never_rate_the_top_decile_low(dated, seed):
    s = score(frame_of(dated, random_inventory(seed)), {}, dated)
    loss, ranks = s.loss.sum(axis=1), _ranks(s)
    assert _spearman(ranks, loss) >= 0.8
    assert (ranks[loss >= np.quantile(loss, 0.9)] > RANK["low"]).all()


def test_the_demo_ranks_ratings_like_losses(demo_lib):
    dated_demo = with_profile(demo_lib, demo_lib.profile.model_copy(update={"reporting_date": AS_OF}))
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), dated_demo.questions)
    s = score(import_inventory(DEMO_INVENTORY, dated_demo).frame, answers, dated_demo)
    loss, ranks = s.loss.sum(axis=1), _ranks(s)
    assert _spearman(ranks, loss) >= 0.8
    assert (ranks[loss >= np.quantile(loss, 0.9)] > RANK["low"]).all()


def test_the_impact_is_banded_by_the_organisations_risk_appetite(dated):
    rec = DEP010 | {"fallback_status": "none"}
    f = frame_of(dated, [rec])
    base = score(f, {}, dated)
    usd = base.table["impact_usd"].iat[0]
    assert usd == pytest.approx(base.loss.sum() / base.table["p_reach"].iat[0])
    # the same loss against an appetite ten times larger is one or two bands lower, never higher
    big = with_profile(dated, dated.profile.model_copy(update={"risk_appetite": RiskAppetite(
        impact_usd=tuple(10 * v for v in DEFAULT_IMPACT_USD))}))
    assert score(f, {}, big).table["impact"].iat[0] < base.table["impact"].iat[0]


def test_risk_appetite_defaults_are_stated_in_the_profile_and_bands_are_spaced(lib):
    data = load_user_yaml((ROOT / "config" / "profile.yaml").read_text(encoding="utf-8"))
    assert tuple(data["risk_appetite"]["impact_usd"]) == DEFAULT_IMPACT_USD == lib.profile.risk_appetite.impact_usd
    with pytest.raises(ValueError, match="at least 2 times"):
        RiskAppetite(impact_usd=(10_000, 15_000, 100_000, 300_000))
    assert OrgProfile().risk_appetite.materiality_usd == DEFAULT_IMPACT_USD[0]


# --- 5. Monotone where a reader expects it ----------------------------------------------------
@SETTINGS
@given(deployment(), st.floats(1, 5e6))
def test_more_spend_never_lowers_score_or_loss(dated, rec, more):
    """Reproduction: with the same commitment, $10k -> $10M of spend lowered the score (72.75 -> 69.76)."""
    recs = [rec, rec | {"deployment_id": "MORE", "annual_spend_usd": rec["annual_spend_usd"] + round(more, 2)}]
    s = score(frame_of(dated, recs), {}, dated)
    sc, loss = s.table["score"].to_numpy(), s.loss.sum(axis=1)
    assert sc[1] >= sc[0] - 1e-9 and loss[1] >= loss[0] - 1e-6


def test_spend_with_the_same_commitment_does_not_lower_the_score(dated):
    rec = DEP010 | {"committed_spend_usd": 300_000, "contract_end": "2027-06-30"}
    recs = [rec | {"deployment_id": f"S{k}", "annual_spend_usd": v} for k, v in enumerate([1e4, 1e6, 1e7])]
    s = score(frame_of(dated, recs), {}, dated)
    assert (np.diff(s.table["score"].to_numpy()) >= -1e-9).all()
    assert (np.diff(s.loss.sum(axis=1)) > 0).all()
    assert s.loss[:, 2].tolist() == pytest.approx([s.loss[0, 2]] * 3)  # the stranded commitment is the same


EU_REGIONS = ["westeurope", "northeurope", "eu-west-1", "europe-west4", "francecentral"]
OUTSIDE = ["eastus", "uaenorth", "us-east-1", "me-central-1", "japaneast", "brazilsouth"]


@SETTINGS
@given(deployment(), st.sampled_from(EU_REGIONS), st.sampled_from(OUTSIDE))
def test_for_an_eu_entity_moving_data_out_of_the_eu_never_lowers_score_or_loss(dated, rec, eu, outside):
    assert "eu" in dated.profile.jurisdictions
    recs = [rec | {"region": eu}, rec | {"deployment_id": "OUT", "region": outside}]
    f = frame_of(dated, recs)
    assert f["jurisdiction"].tolist()[0] == "eu" and f["jurisdiction"].tolist()[1] != "eu"
    s = score(f, {}, dated)
    sc, loss = s.table["score"].to_numpy(), s.loss.sum(axis=1)
    assert sc[1] >= sc[0] - 1e-9 and loss[1] >= loss[0] - 1e-6


def test_eu_confidential_data_moved_to_the_uae_or_the_us_is_not_safer(demo_lib):
    """Reproduction: westeurope -> eastus / uaenorth lowered the expected loss (-11 %, -12 %): the GEMA and
    DMA outcomes were matched on the data centre, not on the entity."""
    rec = {"deployment_id": "westeurope", "channel": "azure_openai", "model": "gpt-4o", "region": "westeurope",
           "annual_spend_usd": 250_000, "criticality": "high", "data_sensitivity": "confidential"}
    recs = [rec | {"deployment_id": r, "region": r} for r in ("westeurope", "eastus", "uaenorth")]
    s = score(frame_of(demo_lib, recs), {}, demo_lib)
    loss, sc = s.loss.sum(axis=1), s.table["score"].to_numpy()
    assert loss[1] >= loss[0] and loss[2] >= loss[0] and sc[1] >= sc[0] and sc[2] >= sc[0]
    gema = s.outcomes.ids.index("gema_appeal_upheld")
    assert (s.severity[:, gema, :].max(axis=1) > 0).all()  # the ruling binds the EU entity wherever its data is
    transfer = s.outcomes.ids.index("dpf_invalidated")
    assert s.severity[2, transfer].max() > s.severity[0, transfer].max()  # no adequacy decision for the UAE


def test_the_inventory_fallback_answers_the_open_exit_plan_question_and_contradictions_are_listed(dated):
    """Reproduction: rows with a tested or active fallback kept the "exit plan: none" default."""
    base = {"channel": "azure_openai", "model": "gpt-4o", "region": "westeurope", "annual_spend_usd": 1e5,
            "criticality": "high", "data_sensitivity": "internal"}
    recs = [base | {"deployment_id": d, "fallback_status": f}
            for d, f in [("T", "tested"), ("A", "active"), ("N", "none"), ("X", "tested")]]
    f = frame_of(dated, recs)
    answers = {"X": {"exit_plan_exists": "none"}}
    s = score(f, answers, dated)
    assumed = dict(zip(f["deployment_id"], s.assumed, strict=True))
    assert "exit_plan_exists" not in assumed["T"] and "exit_plan_exists" not in assumed["A"]
    assert "exit_plan_exists" in assumed["N"]
    factor = next(x for x in s.factors if x.id == "q:exit_plan_exists").values
    tested = score(f, {d: {"exit_plan_exists": "tested"} for d in "TA"}, dated)
    assert factor[:2].tolist() == next(x for x in tested.factors if x.id == "q:exit_plan_exists").values[:2].tolist()
    assert factor[3].tolist() == factor[2].tolist()  # the answer given wins over the inventory ...
    warnings = plausibility_warnings(f, dated, answers)  # ... and the contradiction is listed
    assert [(w.deployment_id, w.column, w.value) for w in warnings] == [("X", "fallback_status", "tested")]
    assert "None" in warnings[0].message and "tested" in warnings[0].message
    a = assess(ImportResult(f), answers, dated, trials=50)
    assert a.answers == answers  # what the user answered (and what is saved) stays as it is
    assert a.answers_in_effect["T"] == {"exit_plan_exists": "tested"} and a.answers_in_effect["X"] == answers["X"]


# --- 6. The clock is the assessment's date -----------------------------------------------------
def test_a_contract_that_ended_the_day_before_the_assessment_date_strands_nothing(dated):
    """Reproduction: a contract that ended on 30 Nov still showed stranded commitment on 2 Dec and
    "contract ends 30 Nov" as a date to act on (contracts were measured against the pack's date)."""
    ended = (AS_OF - dt.timedelta(days=1)).isoformat()
    rec = DEP010 | {"committed_spend_usd": 500_000, "contract_end": ended}
    live = rec | {"deployment_id": "LIVE", "contract_end": (AS_OF + dt.timedelta(days=90)).isoformat()}
    f = frame_of(dated, [rec, live])
    assert dated.reference_date == AS_OF
    assert committed_at_risk(f, dated.reference_date).tolist()[0] == 0
    a = assess(ImportResult(f), {}, dated, trials=200)
    assert a.simulation.components[0, 2] == 0 and a.simulation.components[1, 2] > 0
    rec_ = recommendations_of(a)
    assert exit_plan(a, rec_, 0)["dates_to_act_on"] == []
    assert ended not in json.dumps(exit_plan(a, rec_, 0)["dates_to_act_on"])
    assert exit_plan(a, rec_, 1)["dates_to_act_on"]


def test_the_assessment_date_is_today_unless_set(lib):
    assert lib.profile.reporting_date is None and lib.reference_date == dt.date.today()


def test_assess_as_of_sets_the_assessment_date(tmp_path):
    out = tmp_path / "r.json"
    r = run_cli("assess", DEMO_INVENTORY, "--trials", "200", "--as-of", "2026-12-02", "--json", out)
    assert r.returncode == 0, r.stderr
    rep = json.loads(out.read_text(encoding="utf-8"))
    assert rep["reference_date"] == "2026-12-02" and rep["organisation_profile"]["reporting_date"] == "2026-12-02"
    assert "assessed on 02 Dec 2026" in r.stdout
    bad = run_cli("assess", DEMO_INVENTORY, "--as-of", "2026-02-30")
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_settings_set_the_assessment_date_and_the_risk_appetite():
    """The app's Settings page: the assessment date every page is measured against, and the risk
    appetite bands with their stated defaults."""
    from tests.test_app import goto, start
    at = goto(start(), "settings")
    assert any("stated defaults" in c.value and "$10,000" in c.value for c in at.caption)
    next(c for c in at.checkbox if c.label.startswith("Set the assessment date")).check()
    next(d for d in at.date_input if d.label == "Assessment date").set_value(AS_OF)
    next(n for n in at.number_input if n.label == "Major from (USD)").set_value(150_000.0)
    next(b for b in at.button if b.label == "Save profile").click().run()
    assert not at.exception, at.exception
    profile = at.session_state["profile"]
    assert profile.reporting_date == AS_OF
    assert profile.risk_appetite.impact_usd == (10_000.0, 30_000.0, 150_000.0, 300_000.0)
    goto(at, "heatmaps")
    assert any("4 from $150,000" in c.value for c in at.caption)


def test_materiality_is_judged_on_the_inherent_vulnerability(demo_lib):
    """The likelihood's materiality uses the vulnerability without controls, built from the residual
    factors (cheap); it must equal what the inherent view computes itself."""
    from risk_models.engine.score import _inherent_raw, _raw_vulnerability, vulnerability_factors
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), demo_lib.questions)
    f = import_inventory(DEMO_INVENTORY, demo_lib).frame
    ref = demo_lib.reference_date
    residual, _ = vulnerability_factors(f, answers, demo_lib, ref, controls=True)
    inherent, _ = vulnerability_factors(f, answers, demo_lib, ref, controls=False)
    assert np.allclose(_inherent_raw(demo_lib, residual, len(f), ref), _raw_vulnerability(demo_lib, inherent, len(f)))
    r, i = score(f, answers, demo_lib), score(f, answers, demo_lib, controls=False)
    assert (r.table["likelihood"].to_numpy() == i.table["likelihood"].to_numpy()).all()
