"""Risk model v3 (issue 25, parts 1 and 2): a fallback does the same job, and feasibility follows the
availability table. Properties over random deployments drawn from the configuration's own models,
channels and regions; regressions for the probes of an independent bank's model committee."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.config.loader import ConfigError, load_library
from risk_models.engine.score import score
from risk_models.fallbacks.recommend import coded_columns, infeasibility, recommend, recommendations_of, switch_targets
from risk_models.fallbacks.target_state import apply_option
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.inventory.tasks import task_kinds
from tests.engine_data import deployment, frame_of
from tests.test_config import _broken_copy

LIB = load_library()
# every model name the configuration knows: the task rules' examples and the options' targets
MODELS = sorted({e for t in LIB.models.tasks for e in t.examples}
                | {m for o in LIB.fallbacks.options for m in o.after.models.values()})
CHANNELS = sorted(LIB.channels.channels)
REGIONS = sorted({c for cloud in LIB.regions.clouds.values() for c in cloud} | set(LIB.regions.generic)
                 | {"on-prem", "free text site", ""})
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def config_inventories(draw) -> tuple[list[dict], np.ndarray]:
    """Up to 8 deployments on the configuration's channels, models and regions, and per deployment
    whether its data may leave its region."""
    n = draw(st.integers(1, 8))
    recs = [draw(deployment(i)) | {"channel": draw(st.sampled_from(CHANNELS)), "model": draw(st.sampled_from(MODELS)),
                                   "region": draw(st.sampled_from(REGIONS))} for i in range(n)]
    return recs, np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


def _feasible_targets(lib, recs, may_leave):
    """Per option: the inventory, its feasible rows and their state after the option."""
    f = frame_of(lib, recs)
    coded = coded_columns(f, lib)
    answers = {r["deployment_id"]: {"data_may_leave_region": "yes" if m else "no"}
               for r, m in zip(recs, may_leave, strict=True)}
    for o in lib.fallbacks.options:
        ok = np.flatnonzero([not r for r in infeasibility(f, may_leave, lib, o, coded)])
        if len(ok):
            sub = f.iloc[ok].reset_index(drop=True)
            yield o, sub, apply_option(sub, answers, o, lib)[0], \
                switch_targets(lib, o, coded).model[ok] if o.is_switch else None


@SETTINGS
@given(config_inventories())
def test_no_feasible_option_changes_a_deployments_task_kind(data):
    recs, may_leave = data
    for o, before, after, target in _feasible_targets(LIB, recs, may_leave):
        kinds = task_kinds(before["model"], LIB).tolist()
        assert task_kinds(after["model"], LIB).tolist() == kinds, o.id
        if target is not None:  # the model the recommender names is the one the target state runs
            assert None not in target.tolist() and after["model"].tolist() == target.tolist(), o.id
            assert task_kinds(after["model"], LIB).tolist() == kinds


@SETTINGS
@given(config_inventories())
def test_the_target_state_of_every_feasible_option_raises_no_plausibility_warning(data):
    """A switch lands where the availability table offers its model, on a region of its cloud; a lever
    keeps the set-up, so it adds no warning the deployment did not have."""
    recs, may_leave = data
    for o, before, after, _ in _feasible_targets(LIB, recs, may_leave):
        warned = plausibility_warnings(after, LIB)
        if o.is_switch:
            assert warned == [], (o.id, [w.message for w in warned])
        else:
            assert {(w.deployment_id, w.message) for w in warned} <= \
                {(w.deployment_id, w.message) for w in plausibility_warnings(before, LIB)}


BASE = {"deployment_id": "X", "name": "x", "channel": "azure_openai", "model": "text-embedding-3-large",
        "region": "westeurope", "annual_spend_usd": 100000, "criticality": "high", "data_sensitivity": "internal"}


def _records(lib, rec: dict, answers=None) -> dict[str, dict]:
    f = frame_of(lib, [rec])
    r = recommend(f, answers or {}, lib, score(f, answers or {}, lib))
    return {x["option_id"]: x for x in r.records(0, lib)}


def test_an_embedding_deployment_gets_only_embedding_targets(lib):
    """Probe: the committee PDF replaced a text-embedding-3-large deployment by gpt-oss-120b (a chat model)."""
    recs = _records(lib, BASE)
    switches = {o.id for o in lib.fallbacks.options if o.is_switch}
    feasible = {k: r for k, r in recs.items() if r["feasible"] and k in switches}
    assert {"gemini_on_vertex", "titan_embeddings_on_bedrock", "openai_api_direct"} <= set(feasible)
    assert {lib.models.task_rule(r["target_model"]).task for r in feasible.values()} == {"embedding"}
    assert feasible["gemini_on_vertex"]["target_model"] == "gemini-embedding-001"
    for k in ("gpt_oss_cloud", "gpt_oss_self_hosted", "claude_on_bedrock", "claude_on_vertex"):
        assert not recs[k]["feasible"] and recs[k]["target_model"] is None
        assert "no embedding model on this option (it offers chat/completion models)" in recs[k]["reasons"]
    # the committee's DEP-018: an embedding deployment whose recommended exit was Gemini 2.5 Pro (chat)
    dep018 = BASE | {"region": "japaneast", "criticality": "low", "data_sensitivity": "regulated",
                     "proprietary_features": "assistants", "fallback_status": "documented"}
    f = frame_of(lib, [dep018])
    r = recommend(f, {}, lib, score(f, {}, lib))
    k = r.exit_target(0)
    assert k is not None and lib.models.task_rule(r.target_model[k, 0]).task == "embedding"
    # and a chat deployment never lands on an embedding model
    chat = _records(lib, BASE | {"model": "gpt-4o"})
    assert not chat["titan_embeddings_on_bedrock"]["feasible"]
    assert chat["gemini_on_vertex"]["target_model"] == "gemini-2.5-pro"


def test_demo_embedding_deployments_get_an_embedding_exit_and_chat_ones_a_chat_exit(small_assessment):
    """Every deployment of the demo exits to a model of its own task kind: the embedding deployments
    (DEP-007, -011, -015, -017, -023) to an embedding model, DEP-018 (gpt-5, a chat deployment in the demo)
    to a chat model."""
    demo = small_assessment
    rec = recommendations_of(demo)
    kinds = task_kinds(demo.frame["model"], demo.lib).tolist()
    ids = demo.frame["deployment_id"].tolist()
    embedding = [d for d, k in zip(ids, kinds, strict=True) if k == "embedding"]
    assert {"DEP-007", "DEP-011", "DEP-015", "DEP-017", "DEP-023"} <= set(embedding)
    for i, (dep, kind) in enumerate(zip(ids, kinds, strict=True)):
        k = rec.exit_target(i)
        if k is None:
            continue
        assert demo.lib.models.task_rule(rec.target_model[k, i]).task == kind, dep
    for dep in embedding:
        assert rec.exit_target(ids.index(dep)) is not None, dep
    i = ids.index("DEP-018")
    target = rec.target_model[rec.exit_target(i), i]  # which chat model depends on the ranking (loss per $)
    assert kinds[i] == "chat" and demo.lib.models.task_rule(target).task == "chat"


@pytest.mark.parametrize("model", ["gpt-4o", "o3-mini", "gpt-4.1"])
def test_same_openai_model_on_bedrock_needs_the_model_on_bedrock(lib, model):
    """Probe: 'Same OpenAI model on AWS Bedrock' was feasible for gpt-4o, o3-mini and gpt-4.1 while the
    availability table lists only GPT-5 models on Bedrock, in US regions."""
    rec = BASE | {"model": model, "region": "eastus2", "data_sensitivity": "confidential"}
    r = _records(lib, rec)["openai_on_bedrock"]
    assert not r["feasible"]
    assert f"{model} is not offered on AWS Bedrock per the availability table" \
        in r["reasons"]
    assert _records(lib, rec | {"model": "gpt-5"})["openai_on_bedrock"]["feasible"]


def test_region_codes_of_another_cloud_are_implausible(lib):
    recs = [BASE | {"deployment_id": "B", "channel": "AWS Bedrock", "model": "claude-sonnet-4-5",
                    "region": "westeurope"},
            BASE | {"deployment_id": "V", "channel": "Vertex AI", "model": "gemini-2.5-pro", "region": "eu-central-1"},
            BASE | {"deployment_id": "OK", "channel": "Vertex AI", "model": "gemini-2.5-pro", "region": "europe-west4"},
            BASE | {"deployment_id": "EU", "channel": "AWS Bedrock", "model": "claude-sonnet-4-5", "region": "eu"}]
    w = plausibility_warnings(frame_of(lib, recs), lib)
    assert [(x.deployment_id, x.column, x.value) for x in w] == [("B", "region", "westeurope"),
                                                                  ("V", "region", "eu-central-1")]
    assert "westeurope is a region code of Azure, not of AWS Bedrock (which uses AWS regions" in w[0].message
    assert "eu-central-1 is a region code of AWS, not of Google Vertex AI" in w[1].message


def test_a_switch_moves_to_the_target_clouds_region_in_the_same_country(lib):
    f = frame_of(lib, [BASE | {"model": "gpt-4o"}])
    gemini = next(o for o in lib.fallbacks.options if o.id == "gemini_on_vertex")
    after, _ = apply_option(f, {}, gemini, lib)
    assert (after["channel"].iat[0], after["model"].iat[0], after["region"].iat[0], after["jurisdiction"].iat[0]) \
        == ("google_vertex", "gemini-2.5-pro", "europe-west4", "eu")  # westeurope is in the Netherlands


def test_a_fine_tuned_deployment_shows_re_training_and_a_wider_capability_gap(lib):
    """The inventory marks a fine-tuned deployment with the proprietary feature fine_tuning."""
    plain = _records(lib, BASE | {"model": "gpt-4o"})
    tuned = _records(lib, BASE | {"model": "gpt-4o", "proprietary_features": "fine_tuning"})
    weeks = list(lib.fallbacks.feature_rebuild_weeks)
    for k in ("gemini_on_vertex", "openai_api_direct"):
        assert tuned[k]["feasible"] and tuned[k]["retraining_weeks"] == weeks and plain[k]["retraining_weeks"] == [0, 0]
        assert plain[k]["capability_gap"] == "low" and tuned[k]["capability_gap"] == "medium"
        # the re-training is in the effort
        assert tuned[k]["effort_weeks"] == [a + b for a, b in zip(plain[k]["effort_weeks"], weeks, strict=True)]
    # a lever moves nothing: no re-training, the option's own gap
    assert tuned["abstraction_gateway"]["retraining_weeks"] == [0, 0]
    assert tuned["abstraction_gateway"]["capability_gap"] == "low"
    # a target that takes in less than the current model (gpt-oss reads no images) is a wider gap too
    assert plain["gpt_oss_cloud"]["capability_gap"] == "high"


def test_a_target_model_of_another_task_kind_is_a_config_error(tmp_path):
    def mutate(data):
        o = next(o for o in data["options"] if o["id"] == "gemini_on_vertex")
        o["after"]["models"]["embedding"] = "gemini-2.5-pro"
    d = _broken_copy(tmp_path, "fallbacks.yaml", mutate)
    with pytest.raises(ConfigError, match=r"fallbacks.yaml: options\[\d+\] \(gemini_on_vertex\)\.after\.models\."
                                          r"embedding: model 'gemini-2.5-pro' is a chat model"):
        load_library(d)


def test_a_task_rule_example_classified_by_another_rule_is_a_config_error(tmp_path):
    def mutate(data):
        data["tasks"][0]["examples"].append("gpt-4o")
    d = _broken_copy(tmp_path, "models.yaml", mutate)
    with pytest.raises(ConfigError, match=r"models.yaml: tasks\[0\]\.examples: 'gpt-4o' is classified by tasks\[\d+\]"):
        load_library(d)
