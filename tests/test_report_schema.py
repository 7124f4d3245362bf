"""The JSON report's schema 4: record-oriented, catalogues once at the top, a published JSON Schema that
cannot go stale, and the Parquet tables for BI tools."""

from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest

from risk_models.cli.main import main
from risk_models.report.options import with_option_details
from risk_models.report.parquet import TABLES
from risk_models.report.schema import json_schema, with_fields
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT

SCHEMA_FILE = ROOT / "docs" / "report.schema.json"


@pytest.fixture(scope="module")
def cli_report(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "r.json"
    assert main(["assess", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--trials", "500",
                 "--stress", "msft_openai_dispute", "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_the_published_json_schema_and_its_tables_are_the_ones_the_models_give():
    stale = "is stale: regenerate with .venv/bin/python -m risk_models.report.schema"
    assert SCHEMA_FILE.read_text() == json_schema(), f"docs/report.schema.json {stale}"
    page = (ROOT / "docs" / "report-schema.md").read_text()
    assert with_fields(page) == page and "#### Deployment" in page, f"docs/report-schema.md {stale}"


def test_the_cli_report_validates_against_the_published_schema(cli_report):
    jsonschema.validate(cli_report, json.loads(SCHEMA_FILE.read_text()))
    broken = cli_report | {"deployments": [cli_report["deployments"][0] | {"rating": "severe"}]}
    with pytest.raises(jsonschema.ValidationError, match="severe"):
        jsonschema.validate(broken, json.loads(SCHEMA_FILE.read_text()))


def test_records_are_objects_and_every_id_they_name_is_in_a_catalogue(cli_report):
    cat = cli_report["catalogues"]
    outcome_ids = {o["id"] for o in cli_report["scenario_library"]["outcomes"]}
    used_texts: set[str] = set()
    for d in cli_report["deployments"]:
        assert [f["option_id"] for f in d["fallbacks"]] and all(isinstance(f, dict) for f in d["fallbacks"])
        assert sorted(f["option_id"] for f in d["fallbacks"]) == sorted(cat["options"])  # every option, once
        for f in d["fallbacks"]:
            assert ("reasons" in f) == (not f["feasible"])  # reasons say why an option is infeasible
            used_texts.update(f.get("reasons", ()))
        for x in d["drivers"]:
            assert x["id"] in cat["drivers"]
            if "text" in x:
                used_texts.add(x["text"])
        if "exit_plan" in d:
            plan = d["exit_plan"]
            assert {t["outcome_id"] for t in plan["trigger_events"]} <= outcome_ids
            assert plan["target_option"] in cat["options"]
            used_texts.update(plan["steps"] + plan["dependencies"])
    assert used_texts == set(cat["texts"])  # every sentence is used, none is missing
    assert len(set(cat["texts"].values())) == len(cat["texts"])  # each sentence once


def test_expanded_for_people_every_record_is_whole(cli_report):
    whole = with_option_details(cli_report)
    assert with_option_details(whole) is whole  # expanding twice changes nothing
    d = next(d for d in whole["deployments"] if d["deployment_id"] == "DEP-001")
    assert d["drivers"][0]["label"] == "Major outage or degradation: Azure OpenAI"
    assert all(f["label"] and "costs_more_than_it_saves" in f for f in d["fallbacks"])
    infeasible = next(f for f in d["fallbacks"] if not f["feasible"])
    assert infeasible["reasons"] and not infeasible["reasons"][0].startswith("t")
    plan = d["exit_plan"]
    assert plan["target_option"]["label"] and plan["current"]["channel_label"] == "Azure OpenAI"
    assert plan["steps"][-1].startswith("Contract: give notice (180 days)")
    assert plan["trigger_events"][0]["event"] and plan["test_plan"]["plan"]


def test_parquet_tables_hold_the_report(tmp_path, cli_report):
    out = tmp_path / "bi"
    assert main(["assess", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--trials", "500",
                 "--parquet", str(out)]) == 0
    tables = {t: pd.read_parquet(out / f"{t}.parquet") for t in TABLES}
    assert len(tables["deployments"]) == len(cli_report["deployments"]) == 61
    dep1 = tables["deployments"].set_index("deployment_id").loc["DEP-001"]
    assert dep1["channel_label"] == "Azure OpenAI" and dep1["score"] == cli_report["deployments"][0]["score"]
    fb = tables["fallbacks"]
    assert len(fb) == 61 * len(cli_report["catalogues"]["options"])
    first = fb[(fb["deployment_id"] == "DEP-001") & (fb["rank"] == 1)].iloc[0]
    expected = cli_report["deployments"][0]["fallbacks"][0]
    assert first["option_id"] == expected["option_id"] and first["loss_avoided_per_usd"] == expected["loss_avoided_per_usd"]
    assert first["run_cost_delta_usd"] == expected["run_cost_delta_usd"]
    # DEP-007, a fine-tuned text-embedding-3-large deployment: its Gemini target is the embedding model
    gemini = fb[(fb["deployment_id"] == "DEP-007") & (fb["option_id"] == "gemini_on_vertex")].iloc[0]
    assert (gemini["target_model"], gemini["capability_gap"], gemini["retraining_weeks_high"]) == \
        ("gemini-embedding-001", "medium", 3.0)
    steps = tables["exit_plan_steps"]
    assert set(steps["deployment_id"]) == {d["deployment_id"] for d in cli_report["deployments"] if "exit_plan" in d}
    drivers = tables["drivers"]
    assert drivers[drivers["deployment_id"] == "DEP-001"]["label"].iloc[0] == "Major outage or degradation: Azure OpenAI"


def test_parquet_into_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert main(["assess", str(DEMO_INVENTORY), "--trials", "500", "--parquet", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert "cannot write the Parquet tables" in err and "Traceback" not in err


def test_the_apps_exit_plans_and_option_records_are_the_reports(lib):
    """One builder: what the Fallbacks page shows for a deployment is what the report says of it."""
    from risk_models.engine.assessment import assess
    from risk_models.fallbacks.exit_plan import exit_plan
    from risk_models.fallbacks.recommend import recommendations_of
    from risk_models.inventory.read import import_inventory
    from risk_models.report.json_report import report
    a = assess(import_inventory(DEMO_INVENTORY, lib), {}, lib, trials=500)
    rec = recommendations_of(a)
    ids = list(a.frame["deployment_id"])
    whole = with_option_details(report(a))
    plans = 0
    for d in whole["deployments"]:
        i = ids.index(d["deployment_id"])
        assert rec.records(i) == d["fallbacks"], d["deployment_id"]
        if "exit_plan" in d:
            assert exit_plan(a, rec, i) == d["exit_plan"], d["deployment_id"]
            plans += 1
    assert plans > 10
