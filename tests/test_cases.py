"""Case watch: the two lenses add up, every case of the pack is listed with its dates and exposure,
stressing a case equals `assess --stress`, and the dates to watch are a calendar file people can import."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from icalendar import Calendar

from risk_models.engine.assessment import assess
from risk_models.engine.lenses import LENSES, event_outcomes, expected_loss_of, lens_split
from risk_models.inventory.read import ImportResult, import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from risk_models.report.calendar import calendar_bytes
from risk_models.report.cases import case_records, milestone_items, stress_case, watch_dates
from risk_models.report.json_report import stress_delta
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY
from tests.engine_data import frame_of, inventories


@pytest.fixture(scope="module")
def demo(lib):
    res = import_inventory(DEMO_INVENTORY, lib)
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    return assess(res, answers, lib, trials=2_000)


def test_the_two_lenses_add_up_to_the_total_on_the_demo(demo):
    split = lens_split(demo)
    total = demo.simulation.expected_by_deployment
    np.testing.assert_allclose(split.loss["litigation_regulatory"] + split.loss["operational"], total, rtol=1e-9,
                               atol=1e-6)
    np.testing.assert_allclose(split.score["litigation_regulatory"] + split.score["operational"],
                               demo.residual.table["score"].to_numpy(), atol=0.02)
    assert all(split.loss[k].sum() > 0 for k in LENSES)  # the demo is exposed through both


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inventories(1, 8))
def test_cases_partition_the_litigation_lens(lib, records):
    """Property: the expected loss of the pack's events, case by case, adds up to the litigation &
    regulatory lens, and both lenses to the deployment's expected loss."""
    a = assess(ImportResult(frame_of(lib, records), [], []), {}, lib, trials=200)
    split = lens_split(a)
    by_case = sum(expected_loss_of(a, event_outcomes(a, e.id)) for e in lib.scenarios.events)
    np.testing.assert_allclose(by_case, split.loss["litigation_regulatory"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(split.loss["litigation_regulatory"] + split.loss["operational"],
                               a.simulation.expected_by_deployment, rtol=1e-9, atol=1e-6)


def test_every_case_of_the_pack_is_listed_with_sources_dates_and_exposure(demo):
    cases = case_records(demo)
    assert {c.event_id for c in cases} == {e.id for e in demo.lib.scenarios.events}
    assert [c.expected_loss_usd for c in cases] == sorted((c.expected_loss_usd for c in cases), reverse=True)
    for c in cases:
        assert c.sources
        assert c.next_milestone is None or c.next_milestone.date >= demo.lib.reference_date
        assert all(r.expected_loss_usd >= 0 for r in c.reached)
        assert c.loss_if_adverse_usd >= 0 or c.adverse_outcome is None
    top = cases[0]
    assert top.reached and top.adverse_outcome and top.best_option and top.best_option.loss_removed_usd > 0
    assert " → " in top.reached[0].path


def test_stressing_a_case_equals_assess_stress(demo, tmp_path):
    out = tmp_path / "stress.json"
    r = run_cli("assess", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--trials", "2000",
                 "--stress", "musk_appeal_reversed", "--json", str(out))
    assert r.returncode == 0, r.stderr
    cli = json.loads(out.read_text())["stress"]
    page = stress_delta(demo, stress_case(demo, "musk_appeal_reversed"), ["musk_appeal_reversed"])
    assert page == cli


def test_the_calendar_holds_every_milestone_and_notice_deadline_in_the_window(demo):
    start = demo.lib.reference_date
    items = watch_dates(demo, 365)
    kinds = {w.kind for w in items}
    assert "Contract notice deadline" in kinds and "Contract ends" in kinds
    assert all(start <= w.date <= start + dt.timedelta(days=365) for w in items)
    assert [w.date for w in items] == sorted(w.date for w in items)
    cal = Calendar.from_ical(calendar_bytes(items, "Demo Bank"))
    events = cal.walk("VEVENT")
    assert len(events) == len(items)
    got = sorted((e.decoded("dtstart"), str(e.get("summary"))) for e in events)
    assert got == sorted((w.date, f"{w.kind}: {w.title}") for w in items)
    assert len({str(e.get("uid")) for e in events}) == len(events)  # stable, distinct UIDs
    assert all("What to re-assess" in str(e.get("description")) for e in events)


def test_milestones_come_from_the_pack(lib):
    far = lib.reference_date + dt.timedelta(days=3650)
    items = milestone_items(lib, dt.date(2000, 1, 1), far)
    expected = sum(len(e.case.milestones) for e in lib.scenarios.events if e.case)
    assert len(items) == expected


def test_cases_cli_list_show_and_calendar(tmp_path):
    r = run_cli("cases", "list", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--trials", "500")
    assert r.returncode == 0, r.stderr
    assert "cases (scenario pack as of" in r.stdout
    r = run_cli("cases", "show", "musk_v_openai_appeal", str(DEMO_INVENTORY), "--trials", "500")
    assert r.returncode == 0, r.stderr
    assert "Stress musk_appeal_reversed" in r.stdout and "Sources:" in r.stdout
    r = run_cli("cases", "show", "no_such_case", str(DEMO_INVENTORY), "--trials", "500")
    assert r.returncode == 2 and "no case 'no_such_case'" in r.stderr and "Traceback" not in r.stderr
    ics = tmp_path / "watch.ics"
    r = run_cli("cases", "calendar", str(ics), "--within", "180", "--inventory", str(DEMO_INVENTORY))
    assert r.returncode == 0, r.stderr
    cal = Calendar.from_ical(ics.read_bytes())
    assert len(cal.walk("VEVENT")) >= 1
    r = run_cli("cases", "calendar", str(ics), "--within", "0")
    assert r.returncode == 2 and "--within 0" in r.stderr


def test_the_pdf_has_the_lenses_and_a_cases_section(tmp_path):
    import subprocess
    pdf = tmp_path / "r.pdf"
    r = run_cli("assess", DEMO_INVENTORY, "--answers", DEMO_ANSWERS, "--trials", "500", "--pdf", pdf)
    assert r.returncode == 0, r.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "comes from litigation and regulation" in " ".join(text.split())
    assert "Cases and dates to watch" in text and "Best way out" in text
    for e in ("Musk v. Altman", "GEMA v OpenAI"):
        assert e in text


def _updated_pack(lib):
    """The shipped pack with Musk v. OpenAI's status, a dated step and a probability changed."""
    data = lib.scenarios.model_dump(mode="json", exclude_none=True)
    musk = next(e for e in data["events"] if e["id"] == "musk_v_openai_appeal")
    src = {"title": "Ninth Circuit docket", "url": "https://www.ca9.uscourts.gov/", "date": "2026-12-01"}
    musk["case"] = {"kind": "litigation", "forum": "US Court of Appeals for the Ninth Circuit", "status": "briefing",
                    "status_as_of": "2026-12-01",
                    "milestones": [{"date": "2027-03-01", "label": "Oral argument", "kind": "hearing", "source": src}]}
    next(o for o in musk["outcomes"] if o["id"] == "musk_appeal_reversed")["probability"] = 0.25
    return data


def test_a_case_update_lists_what_moved_and_its_portfolio_effect(lib, demo):
    from risk_models.config.loader import with_scenario_pack
    from risk_models.config.schema import ScenariosFile
    from risk_models.report.cases import case_update_note, case_updates
    sf = ScenariosFile.model_validate(_updated_pack(lib))
    after = assess(demo.inventory, demo.answers, with_scenario_pack(lib, sf), trials=500)
    updates = case_updates(demo, after)
    assert [u["event_id"] for u in updates] == ["musk_v_openai_appeal"]  # nothing else moved
    u = updates[0]
    assert "status: briefing" in u["changes"] and "new date 01 Mar 2027: Oral argument" in u["changes"]
    assert any("12% → 25%" in c for c in u["changes"])
    assert u["delta_usd"] > 0 and u["expected_loss_after_usd"] > u["expected_loss_before_usd"]
    note = case_update_note(updates, "old", "new")
    assert note.startswith("Case update (old → new):") and "Musk v. Altman" in note and "+$" in note


def test_the_app_shows_the_case_update_before_a_pack_is_used(lib):
    import yaml
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file("../dashboard/app.py", default_timeout=180).run()
    at.switch_page("views/scenarios.py").run()
    data = _updated_pack(lib)
    at.file_uploader(key="pack_upload_0").upload("new.yaml", yaml.safe_dump(data, allow_unicode=True).encode(),
                                                 "application/yaml").run()
    assert not at.exception, at.exception
    update = next(d.value for d in at.dataframe if "What changed" in d.value.columns)
    assert list(update["Case"]) == ["Musk v. Altman / OpenAI & Microsoft — Ninth Circuit appeal"]
    assert any("Case update (" in c.value for c in at.code)


def test_model_retirement_dates_the_firm_recorded_are_dates_to_watch(demo):
    import dataclasses
    when = demo.lib.reference_date + dt.timedelta(days=40)
    answers = {d: dict(v) for d, v in demo.answers.items()}
    for dep in ("DEP-001", "DEP-002"):
        answers.setdefault(dep, {})["model_retirement_date"] = when
    a = dataclasses.replace(demo, answers=answers)
    items = [w for w in watch_dates(a, 90) if w.kind == "Model retirement"]
    models = dict(zip(a.frame["deployment_id"], a.frame["model"], strict=True))
    expected = {models["DEP-001"], models["DEP-002"]}
    assert {w.title.split(" retired")[0] for w in items} == expected and all(w.date == when for w in items)
    assert sorted(d for w in items for d in w.deployments) == ["DEP-001", "DEP-002"]
    assert not [w for w in watch_dates(a, 30) if w.kind == "Model retirement"]  # outside the window
