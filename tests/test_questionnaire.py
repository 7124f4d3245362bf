"""Questionnaire at portfolio scale (engine): the new DORA / AI Act questions, record-only and
event-scoped questions, inherited answers, bulk edits, register diffs that never lose answers,
value of information."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.config.loader import ConfigError, load_library
from risk_models.config.schema import Question
from risk_models.engine.score import score
from risk_models.engine.value_of_information import completion, value_of_information
from risk_models.inventory.read import import_inventory
from risk_models.inventory.versions import carry_answers, register_diff, register_hash, restore_answers
from risk_models.questionnaire.answers import answer_factor_arrays, normalise_answer, scoped_answer_factors
from risk_models.questionnaire.bulk import Selection, copy_answers, select, set_answer
from risk_models.questionnaire.scoped import ScopedAnswers, resolve_answers, source_label
from tests.conftest import DEMO_INVENTORY
from tests.engine_data import frame_of, inventories

NEW = ["ip_indemnity", "model_deprecation_notice_days", "subprocessors_disclosed", "incident_notification_hours",
       "audit_rights", "inference_data_location", "logs_data_location", "data_retention", "service_levels",
       "termination_on_supervisor_instruction", "exit_assistance", "change_of_control_clause", "certifications",
       "critical_ict_provider", "ai_act_role", "ai_act_high_risk"]


@pytest.fixture(scope="module")
def demo(lib):
    return import_inventory(DEMO_INVENTORY, lib).frame


def test_new_questions_cite_a_reference_and_say_whether_they_move_the_score(lib):
    for qid in NEW:
        q = lib.questions[qid]
        assert re.search(r"DORA Art\. \d+|Regulation \(EU\)", q.help), qid
        if q.record_only:
            assert q.help.startswith("Record only") and not q.dimensions
        else:
            assert q.help.startswith("Moves a factor"), qid


def test_scoped_questions_name_the_events_the_lead_wires(lib):
    assert lib.questions["ip_indemnity"].scope_events == ["copyright_openai", "copyright_other_vendors"]
    assert lib.questions["model_deprecation_notice_days"].scope_events == ["model_retirement"]


def test_record_only_and_scoped_questions_get_no_vulnerability_array(lib):
    arrays, assumed = answer_factor_arrays(["D"], {}, lib.questions, dt.date(2026, 11, 1))
    assert "ip_indemnity" not in arrays and "certifications" not in arrays and "rto_hours" in arrays
    assert "certifications" in assumed[0] and "ip_indemnity" in assumed[0]  # still reported as assumed


def test_scoped_answer_factors_lower_only_their_events(lib):
    ids = ["A", "B", "C"]
    answers = {"A": {"ip_indemnity": "uncapped", "model_deprecation_notice_days": 365.0},
               "B": {"model_deprecation_notice_days": 364.0}}
    out = scoped_answer_factors(ids, answers, lib.questions, dt.date(2026, 11, 1))
    # v3: the EU AI Act classification scales the AI Act event (unanswered: high-risk, no relief)
    assert set(out) == {"copyright_openai", "copyright_other_vendors", "model_retirement", "eu_ai_act_gpai"}
    assert (out["eu_ai_act_gpai"] == 1).all()
    cost, comp, cap = 1, 4, 3  # DIMENSIONS order: continuity, cost, contract, capability, compliance
    for ev in ("copyright_openai", "copyright_other_vendors"):
        assert out[ev].shape == (3, 5)
        assert out[ev][0, cost] < 1 and out[ev][0, comp] < 1 and out[ev][0, cap] == 1
        assert (out[ev][1:] == 1).all()  # unanswered = conservative default = no relief
    assert out["model_retirement"][0, cap] < 1  # 12 months' notice
    assert out["model_retirement"][1, cap] == 1  # 364 days is less than 12 months
    assert (out["model_retirement"][:, [0, 1, 2, 4]] == 1).all()


def test_record_only_answers_never_change_a_score(lib, demo):
    record_only = [q for q in lib.questions.values() if q.record_only]
    assert len(record_only) >= 4
    def some_answer(q):  # a valid answer of each type (a record-only date, e.g. a model's retirement date)
        if q.type == "date":
            return __import__("datetime").date(2027, 1, 15)
        if q.type == "number":
            return 1.0
        return q.options[0].value if q.type != "multi" else [q.options[0].value]

    given_answers = {d: {q.id: some_answer(q) for q in record_only} for d in demo["deployment_id"]}
    a = score(demo, {}, lib).table["score"].to_numpy()
    b = score(demo, given_answers, lib).table["score"].to_numpy()
    assert np.array_equal(a, b)


def test_loader_rejects_a_record_only_question_with_factors(tmp_path, lib):
    import shutil

    import yaml
    for f in lib.directory.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    data = yaml.safe_load((tmp_path / "questionnaire.yaml").read_text())
    q = next(q for q in data["questions"] if q["id"] == "certifications")
    q["options"][0]["factors"] = {"compliance": 0.8}
    (tmp_path / "questionnaire.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"questionnaire.yaml: questions\[\d+\].*record_only"):
        load_library(tmp_path)


def test_defaults_of_new_questions_are_conservative_and_neutral(lib):
    """Unanswered, the new questions leave every score where it was (default factor 1)."""
    for qid in NEW:
        q = lib.questions[qid]
        assert Question.model_validate(q.model_dump()) == q  # schema round trip (a model is always truthy)
        from risk_models.questionnaire.answers import answer_factors
        assert all(v == 1.0 for v in answer_factors(q, q.default, dt.date(2026, 11, 1)).values()), qid


# --- inherited answers ----------------------------------------------------------------------------
def test_resolver_inherits_by_provider_and_vendor_and_own_answers_win(lib, demo):
    scoped = ScopedAnswers(channel={"azure_openai": {"audit_rights": "own_only"}},
                           model_vendor={"openai": {"audit_rights": "none", "ip_indemnity": "capped"}})
    own = {"DEP-001": {"audit_rights": "full_with_supervisor"}}
    eff, src = resolve_answers(demo, scoped, own)
    azure = demo.loc[demo["channel"] == "azure_openai", "deployment_id"].tolist()
    other = azure[1]
    assert eff["DEP-001"]["audit_rights"] == "full_with_supervisor" and src["DEP-001"]["audit_rights"] == "deployment"
    assert eff[other]["audit_rights"] == "own_only" and src[other]["audit_rights"] == "channel:azure_openai"
    assert eff[other]["ip_indemnity"] == "capped" and src[other]["ip_indemnity"] == "model_vendor:openai"
    not_openai = demo.loc[demo["model_vendor"] != "openai", "deployment_id"].iloc[0]
    assert "ip_indemnity" not in eff.get(not_openai, {})
    assert source_label("channel:azure_openai", {"azure_openai": "Azure OpenAI"}, {}) == \
        "inherited from provider Azure OpenAI"


def test_inherited_answers_move_the_score_like_own_answers(lib, demo):
    scoped = ScopedAnswers(channel={"azure_openai": {"exit_plan_exists": "tested"}})
    eff, _ = resolve_answers(demo, scoped, {})
    own = {d: {"exit_plan_exists": "tested"} for d in demo.loc[demo["channel"] == "azure_openai", "deployment_id"]}
    assert np.allclose(score(demo, eff, lib).table["score"], score(demo, own, lib).table["score"])


# --- bulk ------------------------------------------------------------------------------------------
def test_select_by_filters_and_bulk_set_counts_only_real_changes(demo):
    mask = select(demo, Selection(channel=["azure_openai"], business_unit=["Retail Banking"]))
    picked = demo.loc[mask, "deployment_id"].tolist()
    assert picked and (demo.loc[mask, "channel"] == "azure_openai").all()
    answers = {picked[0]: {"eval_suite": "yes"}}
    new, changed = set_answer(answers, picked, "eval_suite", "yes")
    assert changed == len(picked) - 1 and all(new[d]["eval_suite"] == "yes" for d in picked)
    assert answers == {picked[0]: {"eval_suite": "yes"}}  # the input is not mutated
    cleared, n = set_answer(new, picked, "eval_suite", None)
    assert n == len(picked) and all(d not in cleared for d in picked)
    by_end = select(demo, Selection(contract_end_from=dt.date(2027, 1, 1), contract_end_to=dt.date(2027, 12, 31)))
    ends = pd.to_datetime(demo.loc[by_end, "contract_end"])
    assert by_end.any() and ends.dt.year.eq(2027).all()


def test_copy_answers_to_a_selection(demo):
    answers = {"DEP-001": {"eval_suite": "yes", "rto_hours": 4.0}, "DEP-002": {"eval_suite": "no", "rpo_hours": 2.0}}
    new, changed = copy_answers(answers, "DEP-001", ["DEP-002", "DEP-003", "DEP-001"])
    assert new["DEP-002"] == {"eval_suite": "yes", "rto_hours": 4.0, "rpo_hours": 2.0}
    assert new["DEP-003"] == {"eval_suite": "yes", "rto_hours": 4.0}
    assert changed == 2 + 2


# --- register versions ---------------------------------------------------------------------------
def test_register_diff_added_removed_and_changed_field_by_field(lib, demo):
    new = demo[demo["deployment_id"] != "DEP-004"].copy()
    new.loc[new["deployment_id"] == "DEP-002", "annual_spend_usd"] = 1.0
    new.loc[new["deployment_id"] == "DEP-002", "owner"] = "=cmd|' /C calc'!A0"
    extra = demo[demo["deployment_id"] == "DEP-001"].assign(deployment_id="DEP-NEW")
    new = pd.concat([new, extra], ignore_index=True)
    d = register_diff(demo, new)
    assert d.added == ["DEP-NEW"] and d.removed == ["DEP-004"]
    assert {(c.deployment_id, c.column) for c in d.changed} == {("DEP-002", "annual_spend_usd"), ("DEP-002", "owner")}
    spend = next(c for c in d.changed if c.column == "annual_spend_usd")
    assert spend.after == "$1.00" and spend.before != spend.after
    assert d.unchanged == len(demo) - 2
    assert register_diff(demo, demo.sample(frac=1, random_state=1)).is_empty  # row order is not a change
    assert register_hash(demo) != register_hash(new)


def test_answers_survive_a_new_version_and_removed_ones_are_archived_and_restorable():
    answers = {"A": {"eval_suite": "yes"}, "B": {"rto_hours": 4.0}}
    kept, archive = carry_answers(answers, {}, ["A", "C"], version=2)
    assert kept == {"A": {"eval_suite": "yes"}}
    assert archive["B"].answers == {"rto_hours": 4.0} and archive["B"].register_version == 2
    back, rest = restore_answers(kept, archive, "B")
    assert back["B"] == {"rto_hours": 4.0} and rest == {}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inventories(min_size=1, max_size=8), st.data())
def test_no_answer_is_ever_lost_across_versions(lib, records, data):
    """Whatever the new version keeps or drops, every answer is either kept or archived."""
    frame = frame_of(lib, records)
    ids = frame["deployment_id"].tolist()
    answers = {d: {"eval_suite": "yes"} for d in data.draw(st.lists(st.sampled_from(ids), unique=True))}
    keep = data.draw(st.lists(st.sampled_from(ids), unique=True))
    kept, archive = carry_answers(answers, {}, keep, version=2)
    assert set(kept) | set(archive) == set(answers)
    assert not set(kept) & set(archive)
    diff = register_diff(frame, frame[frame["deployment_id"].isin(keep)])
    assert set(diff.removed) == set(ids) - set(keep) and not diff.changed


# --- value of information --------------------------------------------------------------------------
def test_value_of_information_ranks_unanswered_questions_that_can_move_the_picture(lib, demo):
    answers = {"DEP-001": {"exit_plan_exists": "tested"}}
    voi = value_of_information(demo, answers, lib)
    assert not ((voi["deployment_id"] == "DEP-001") & (voi["question_id"] == "exit_plan_exists")).any()
    assert not voi["question_id"].isin([q.id for q in lib.questions.values() if q.record_only]).any()
    assert (voi["score_range"] >= 0).all() and (voi["loss_range_usd"] >= -1e-6).all()
    # rating changes first, then the largest loss range
    flips = voi["rating_changes"].to_numpy()
    assert (np.diff(flips.astype(int)) <= 0).all()
    within = voi[voi["rating_changes"]]["loss_range_usd"].to_numpy()
    assert (np.diff(within) <= 1e-9).all()
    # answering the top question with its best answer moves that deployment's score by the range shown
    top = voi.iloc[0]
    from risk_models.engine.value_of_information import best_answer
    q = lib.questions[top["question_id"]]
    better = {**answers, top["deployment_id"]: {**answers.get(top["deployment_id"], {}),
                                                q.id: best_answer(q, lib.scenarios.as_of,
                                                                  lib.scoring.dimension_weights)}}
    t = score(demo, better, lib).table.set_index("deployment_id")
    assert t.at[top["deployment_id"], "score"] == pytest.approx(top["score_best"])


def test_completion_by_group(lib, demo):
    answers = {"DEP-001": {q: normalise_answer(lib.questions[q], lib.questions[q].default if lib.questions[q].default is not None else "2026-01-01")
                           for q in lib.questions}}
    comp = completion(demo, answers, lib.questions, "business_unit").set_index("group")
    bu = demo.set_index("deployment_id").at["DEP-001", "business_unit"]
    assert comp.at[bu, "fully_answered"] == 1 and comp.at[bu, "answered"] == len(lib.questions)
    assert comp["completion_pct"].between(0, 100).all()


def test_record_only_answers_are_reported_with_their_labels(lib):
    from risk_models.questionnaire.report_answers import deployment_answers
    out = deployment_answers(lib.questions, {"certifications": ["iso_27001", "soc2_type2"], "ai_act_role": "deployer",
                                             "exit_last_tested": dt.date(2026, 3, 1)})
    assert out["certifications"] == {"answer": ["iso_27001", "soc2_type2"], "shown": "ISO/IEC 27001; SOC 2 Type II",
                                     "record_only": True}
    assert out["ai_act_role"]["shown"] == "Deployer" and out["exit_last_tested"]["answer"] == "2026-03-01"
    assert list(out) == [q for q in lib.questions if q in out]  # questionnaire order
