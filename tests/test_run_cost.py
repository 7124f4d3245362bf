"""Issue 25 §3: the recommended exit never raises the expected loss; cost is not risk. Run cost comes from
the price table (unknown where no price is listed), risk and cost stay apart in the ranking, and a
regulatory requirement is shown as one."""

from __future__ import annotations

import copy
import dataclasses
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.config.loader import load_profile, with_profile
from risk_models.config.profile import OrgProfile
from risk_models.config.schema import PricesFile
from risk_models.engine.assessment import assess
from risk_models.fallbacks.exit_plan import exit_plan, exit_plan_markdown
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.fallbacks.run_cost import run_cost_deltas
from risk_models.inventory.read import ImportResult, import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT
from tests.engine_data import frame_of, inventories

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# outcomes that hit the switches' targets, not every current set-up: raising them makes switches riskier
TARGET_OUTCOMES = ["provider_outage_openai_api", "provider_outage_aws_bedrock", "provider_outage_google_vertex",
                   "provider_outage_self_hosted", "price_quota_change_aws_bedrock", "price_quota_change_google_vertex",
                   "model_retirement_google", "model_retirement_anthropic", "model_retirement_openai_open_weights",
                   "model_retirement_meta", "provider_outage_azure_openai", "model_retirement_openai"]
DEP_013 = {"deployment_id": "DEP-013", "name": "Translation service", "channel": "azure_openai", "model": "gpt-4o-mini",
           "region": "swedencentral", "annual_spend_usd": 25400, "criticality": "medium", "data_sensitivity": "public",
           "fallback_status": "documented", "committed_spend_usd": 0, "abstraction_layer": True,
           "proprietary_features": "assistants"}
# the bank's case: its own channel's outages and model retirements rare, every target's frequent
BANK_PROBABILITIES = {"provider_outage_azure_openai": 0.0, "price_quota_change_azure_openai": 0.0,
                      "model_retirement_openai": 0.0, "msft_openai_pricing_shift": 0.0} | {
    k: 0.95 for k in ["provider_outage_openai_api", "provider_outage_aws_bedrock", "provider_outage_google_vertex",
                      "provider_outage_self_hosted", "price_quota_change_openai_api", "price_quota_change_aws_bedrock",
                      "price_quota_change_google_vertex", "model_retirement_google", "model_retirement_anthropic",
                      "model_retirement_openai_open_weights", "model_retirement_meta"]}


def _assess(lib, records, answers=None, probabilities=None):
    return assess(ImportResult(frame_of(lib, records)), answers or {}, lib, probabilities, trials=200, seed=1)


probabilities = st.dictionaries(st.sampled_from(TARGET_OUTCOMES), st.floats(0, 0.95), max_size=len(TARGET_OUTCOMES))


# --- properties ---------------------------------------------------------------------------------
@SETTINGS
@given(inventories(max_size=8), probabilities)
def test_the_recommended_exit_and_every_exit_plan_target_lower_the_expected_loss(lib, records, probs):
    a = _assess(lib, records, probabilities=probs)
    r = recommendations_of(a)
    exits, least_bad = r.exit_targets(), r.least_bad_switches()
    for i in range(len(a.frame)):
        k = int(exits[i])
        if k >= 0:
            assert r.options[k].is_switch and r.feasible()[k, i] and r.loss_avoided[k, i] > 0
            assert least_bad[i] < 0
        elif least_bad[i] >= 0:  # no switch lowers the loss: the least-bad one is the one raising it least
            switches = [j for j, o in enumerate(r.options) if o.is_switch and r.feasible()[j, i]]
            assert all(round(r.loss_avoided[j, i], 2) <= 0 for j in switches)
            assert r.loss_avoided[least_bad[i], i] == max(r.loss_avoided[j, i] for j in switches)
        plan = exit_plan(a, r, i)
        tgt = plan["target_option"]
        assert tgt is None or tgt["expected_loss_reduction_usd"] > 0
        assert (plan["least_bad_option"] is None) or tgt is None
    for i, k in r.decisions(n=len(a.frame)):  # the committee's decisions are exit targets
        assert r.loss_avoided[k, i] > 0 and exits[i] == k


@SETTINGS
@given(inventories(max_size=8), probabilities, st.data())
def test_the_ranking_never_uses_the_run_cost_change(lib, records, probs, data):
    a = _assess(lib, records, probabilities=probs)
    r = recommendations_of(a)
    shape = r.run_cost_delta.shape
    other = np.array(data.draw(st.lists(st.one_of(st.floats(-1e9, 1e9), st.just(float("nan"))),
                                        min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))).reshape(shape)
    s = dataclasses.replace(r, run_cost_delta=other, _cache={})
    assert (s._order == r._order).all()
    assert (s.exit_targets() == r.exit_targets()).all() and (s.least_bad_switches() == r.least_bad_switches()).all()
    assert s.decisions(10) == r.decisions(10)
    for i in range(len(a.frame)):
        assert s.top(i) == r.top(i) and s.supporting(i) == r.supporting(i)
        assert [x["costs_more_than_it_saves"] for x in s.records(i)] == [x["costs_more_than_it_saves"]
                                                                          for x in r.records(i)]


@SETTINGS
@given(inventories(max_size=8), st.data())
def test_an_option_without_a_listed_price_has_an_unknown_cost_change_and_is_ranked_on_risk_alone(lib, records,
                                                                                                 data):
    keep = data.draw(st.sets(st.integers(0, len(lib.prices.prices) - 1)))
    fewer = PricesFile.model_validate(lib.prices.model_dump() | {
        "prices": [p.model_dump() for k, p in enumerate(lib.prices.prices) if k in keep]})
    lib_fewer = dataclasses.replace(lib, prices=fewer)
    a = _assess(lib, records)
    full, part = recommendations_of(a), recommendations_of(_assess(lib_fewer, records))
    table = fewer.table()
    for k, o in enumerate(part.options):
        if not o.is_switch:
            continue
        for i in range(len(a.frame)):
            cur = table.get((a.frame["channel"].iat[i], a.frame["model"].iat[i].casefold()))
            tgt = table.get((o.target_channel, (o.after.model or a.frame["model"].iat[i]).casefold()))
            if cur is None or tgt is None:
                assert np.isnan(part.run_cost_delta[k, i])
    assert (part._order == full._order).all()  # prices never move an option up or down
    for i in range(len(a.frame)):
        for x in part.records(i):
            k = [o.id for o in part.options].index(x["option_id"])
            assert (x["run_cost_delta_usd"] is None) == bool(np.isnan(part.run_cost_delta[k, i])) == x["run_cost_unknown"]


# --- the price table ----------------------------------------------------------------------------
def test_run_cost_prices_the_spend_mix_at_the_targets_list_price(lib):
    rows = [{"deployment_id": "A", "channel": "azure_openai", "model": "gpt-4o", "region": "westeurope",
             "annual_spend_usd": 100_000},
            {"deployment_id": "B", "channel": "openai_api", "model": "text-embedding-3-large", "region": "us",
             "annual_spend_usd": 13_000},
            {"deployment_id": "C", "channel": "google_vertex", "model": "gemini-2.5-pro", "region": "europe-west4",
             "annual_spend_usd": 50_000}]
    frame = frame_of(lib, [x | {"criticality": "medium", "data_sensitivity": "internal"} for x in rows])
    opts = {o.id: o for o in lib.fallbacks.options}
    ks = ["gemini_on_vertex", "openai_api_direct", "gpt_oss_self_hosted", "abstraction_gateway"]
    d = run_cost_deltas(frame, lib, [opts[k] for k in ks])
    share = lib.prices.spend_mix.input_token_share.value
    # gpt-4o on Azure ($2.50 / $10) -> Gemini 2.5 Pro on Vertex ($1.25 / $10), 3 input tokens per output token
    assert d[0, 0] == pytest.approx(100_000 * ((share * 1.25 + (1 - share) * 10) / (share * 2.5 + (1 - share) * 10) - 1))
    assert d[0, 0] == pytest.approx(-21_428.57, abs=0.01)
    # an embedding model spends on input tokens only: the same tokens at Gemini's input price
    assert d[0, 1] == pytest.approx(13_000 * (1.25 / 0.13 - 1))
    assert d[0, 2] == 0.0  # already there at the same price
    assert d[1, 0] == 0.0  # Azure's list price is OpenAI's
    assert np.isnan(d[2]).all()  # self-hosted serving is priced per GPU-hour: not listed, unknown
    assert d[3] == pytest.approx(np.array([2_000, 260, 1_000]))  # a lever: its own running cost (assumption)


def test_every_price_carries_a_source_and_a_date_and_switches_carry_no_percentage(lib):
    assert lib.prices.prices and lib.prices.spend_mix.input_token_share.basis == "assumption"
    for p in lib.prices.prices:
        assert p.source.url.startswith("https://") and p.as_of <= lib.prices.as_of
    for o in lib.fallbacks.options:
        assert (o.run_cost_delta_pct is None) == o.is_switch


# --- regressions --------------------------------------------------------------------------------
def test_a_row_where_every_switch_raises_the_loss_keeps_the_way_back_and_names_the_least_bad_switch(lib):
    a = _assess(lib, [DEP_013], probabilities=BANK_PROBABILITIES)
    r = recommendations_of(a)
    switches = [x for x in r.records(0) if x["feasible"] and x["kind"].endswith("_switch")]
    assert switches and all(x["raises_expected_loss"] for x in switches)
    assert r.exit_target(0) is None and r.decisions() == []
    least = max(switches, key=lambda x: x["expected_loss_reduction_usd"])
    assert r.options[r.least_bad_switch(0)].id == least["option_id"] == "openai_api_direct"
    plan = exit_plan(a, r, 0)
    assert plan["target_option"] is None and plan["least_bad_option"]["option_id"] == "openai_api_direct"
    md = exit_plan_markdown(plan)
    assert "No exit reduces the loss; keep the documented way back." in md
    assert "Least-bad switch: **Same OpenAI model via the OpenAI API (direct)**" in md
    assert "raises the expected loss by $" in md
    assert any("no exit reduces the loss; keep the documented way back" in s for s in plan["steps"])


def test_document_and_test_the_exit_is_a_requirement_under_dora_not_a_loss_maker(lib):
    row = {"deployment_id": "X", "channel": "azure_openai", "model": "gpt-4o", "region": "westeurope",
           "annual_spend_usd": 5_000, "criticality": "high", "data_sensitivity": "internal"}
    dora = with_profile(lib, OrgProfile(regimes=["eu_dora"]))
    a = _assess(dora, [row, row | {"deployment_id": "Y", "criticality": "low"}])
    r = recommendations_of(a)
    x = next(f for f in r.records(0) if f["option_id"] == "document_and_test_exit")
    assert x["required"] and x["required_by"] == "DORA Art. 28(8)" and not x["costs_more_than_it_saves"]
    assert not x["repays_one_off"]  # on its return alone it would "cost more than it saves"
    assert r.records(0)[0]["option_id"] == "document_and_test_exit"  # a requirement comes first
    assert r.options[r.top(0)].id == "document_and_test_exit"
    low = next(f for f in r.records(1) if f["option_id"] == "document_and_test_exit")
    assert not low["required"] and low["costs_more_than_it_saves"]  # not a critical or important function
    us = _assess(with_profile(lib, OrgProfile(regimes=[])), [row])
    plain = next(f for f in recommendations_of(us).records(0) if f["option_id"] == "document_and_test_exit")
    assert not plain["required"] and plain["costs_more_than_it_saves"]


def test_the_method_worked_example_exits_match_the_engine(lib):
    text = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("| recommended exit (risk · cost, apart) |"))
    cells = [c.strip() for c in line.strip("|").split("|")[1:]]
    demo_lib = with_profile(lib, load_profile(ROOT / "config" / "demo" / "profile.yaml", lib.regimes))
    # the worked example's assessment date (its command's --as-of): contracts are measured against it
    as_of = __import__("datetime").date.fromisoformat(re.search(r"--as-of (\d{4}-\d\d-\d\d)", (ROOT / "docs" / "method.md").read_text(encoding="utf-8")).group(1))
    demo_lib = with_profile(demo_lib, demo_lib.profile.model_copy(update={"reporting_date": as_of}))
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), demo_lib.questions)
    a = assess(import_inventory(DEMO_INVENTORY, demo_lib), answers, demo_lib, trials=200, seed=0)
    r, ids = recommendations_of(a), list(a.frame["deployment_id"])
    for cell, dep in zip(cells, ("DEP-001", "DEP-061"), strict=True):
        x = r.record(r.exit_target(ids.index(dep)), ids.index(dep))
        assert cell.startswith(x["label"] + ":")
        money = [float(m.replace(",", "")) for m in re.findall(r"\$([\d,]+(?:\.\d+)?)", cell)]
        assert money[0] == round(x["expected_loss_reduction_usd"]) and money[1] == x["one_off_cost_usd"]
        run = re.search(r"run cost \*\*(.+?)\*\*", cell).group(1)
        assert run == ("unknown" if x["run_cost_delta_usd"] is None else
                       f"{'−' if x['run_cost_delta_usd'] < 0 else '+'}${abs(x['run_cost_delta_usd']):,.0f}")


# --- the app --------------------------------------------------------------------------------------
def test_the_app_shows_risk_and_run_cost_apart_and_the_committee_decisions():
    from test_app import goto, start
    at = goto(start(), "fallbacks")
    table = at.dataframe[0].value  # the ranked options of the deployment shown
    assert "net_annual_value_usd" not in table.columns
    assert {"run cost", "expected_loss_reduction_usd", "loss_avoided_per_usd"} <= set(table.columns)
    runs = table["run cost"].tolist()
    assert "unknown" in runs and all(v == "unknown" or re.fullmatch(r"(\$0|[+−]\$[\d,]+)", v) for v in runs)
    assert any(m.value.startswith("**Recommended exit:**") and "run cost" in m.value for m in at.markdown)
    goto(at, "report")
    dec = next(d for d in at.dataframe if "Exit to approve" in d.value.columns).value
    assert len(dec) == 3 and "Run cost change / yr" in dec.columns and "Net value / yr" not in dec.columns
    per = dec["Loss avoided per $1 spent once"].tolist()
    assert per == sorted(per, reverse=True)


def test_a_bad_price_table_or_a_percentage_on_a_switch_is_a_config_error_naming_file_and_key(tmp_path):
    from test_config import _broken_copy

    from risk_models.config.loader import ConfigError, load_library

    def unknown_channel(data):
        data["prices"][0]["channel"] = "azure_oai"
    with pytest.raises(ConfigError, match=r"prices.yaml: prices\[0\].channel: unknown channel 'azure_oai'"):
        load_library(_broken_copy(tmp_path / "a", "prices.yaml", unknown_channel))

    def twice(data):
        data["prices"].append(copy.deepcopy(data["prices"][0]))
    with pytest.raises(ConfigError, match=r"prices.yaml.*listed twice"):
        load_library(_broken_copy(tmp_path / "b", "prices.yaml", twice))

    def flat_percentage(data):
        data["options"][2]["run_cost_delta_pct"] = -30
    with pytest.raises(ConfigError, match=r"fallbacks.yaml.*run-cost change comes from config/prices.yaml"):
        load_library(_broken_copy(tmp_path / "c", "fallbacks.yaml", flat_percentage))
