"""Scenario library packs: validation, diff (with the portfolio effect), age warnings in the CLI,
the PDF and the app, and the pack recorded with each saved assessment."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from risk_models.config.loader import ConfigError, load_scenarios
from risk_models.config.schema import ScenariosFile
from risk_models.engine.assessment import assess
from risk_models.inventory.read import import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from risk_models.report.json_report import report
from risk_models.report.pdf import render_pdf
from risk_models.scenarios.diff import diff_packs, has_changes
from risk_models.scenarios.pack import load_settings, pack_age, pack_hash, pack_record, parse_pack
from risk_models.scenarios.validate import validate_pack
from risk_models.storage import repository as repo
from risk_models.storage.db import make_engine
from tests.cli_run import CliResult, run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT

SHIPPED = ROOT / "config" / "scenarios.yaml"
PREVIOUS = ROOT / "tests" / "fixtures" / "scenarios_2026-11-01.yaml"  # the pack before the Nov 2026 review
APP = "../dashboard/app.py"


def run(*args: str, env: dict | None = None) -> CliResult:
    return run_cli(*args, env=env, cwd=ROOT)


def _pack(lib, path: Path) -> ScenariosFile:
    return load_scenarios(path, set(lib.channels.channels), set(lib.models.vendors))


def _write(tmp_path: Path, data: dict, name: str = "pack.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _shipped_raw() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


# --- validate -------------------------------------------------------------------------------------
def test_shipped_pack_validates(lib):
    assert validate_pack(SHIPPED, lib) == []
    sc = lib.scenarios
    assert sc.id and sc.version and sc.maintainer and sc.as_of >= dt.date(2026, 11, 1)
    p = run("library", "validate", str(SHIPPED))
    assert p.returncode == 0, p.stderr
    assert "valid scenario pack ai-vendor-risk-core" in p.stdout


def test_shipped_pack_keeps_every_previous_id(lib):
    """Saved assessments and tests refer to event and outcome ids: a review edits them in place."""
    old = _pack(lib, PREVIOUS)
    ids = lambda sf: {e.id for e in sf.events} | {o.id for e in sf.events for o in e.outcomes}  # noqa: E731
    assert ids(old) <= ids(lib.scenarios)


def test_shipped_pack_covers_the_november_2026_facts(lib):
    events = {e.id: e for e in lib.scenarios.events}
    for eid in ("eu_dma_cloud", "gema_v_openai", "openai_output_log_orders", "us_state_ai_laws",
                "dpf_latombe_appeal", "uk_cma_cloud", "msft_nvidia_anthropic"):
        assert eid in events, eid
    assert "42 O 14139/24" in events["gema_v_openai"].description
    assert "[2025] EWHC 2863 (Ch)" in events["copyright_other_vendors"].description
    assert "T-553/23" in events["dpf_latombe_appeal"].description
    for e in lib.scenarios.events:
        for s in e.sources:  # documents, not search-result pages, wherever one was found
            assert "courtlistener.com/?q=" not in s.url or "search of the docket" in s.title, (e.id, s.url)
        for o in e.outcomes:
            assert o.rationale.strip(), o.id


def test_shipped_pack_names_the_case_and_dates_of_every_event(lib):
    """Each event says where it runs, its status on the pack's date and its dated steps; a case with
    no future step says that no date was announced or could be confirmed."""
    sc = lib.scenarios
    for e in sc.events:
        assert e.case is not None, e.id
        assert e.case.status_as_of == sc.as_of, e.id
        for m in e.case.milestones:
            assert m.source.url.startswith("http") and m.source.date <= sc.as_of, (e.id, m.label)
        if not any(m.date > sc.as_of for m in e.case.milestones):
            status = e.case.status.lower()
            assert any(k in status for k in ("could not be confirmed", "announced", "no date")), e.id
        for s in e.sources + [m.source for m in e.case.milestones]:
            assert "[secondary]" not in s.title or s.title.startswith("[secondary] "), (e.id, s.title)


def test_shipped_pack_covers_the_december_2026_review(lib):
    events = {e.id: e for e in lib.scenarios.events}
    getty = events["copyright_other_vendors"]
    assert "[2025] EWHC 3343 (Ch)" in getty.description
    assert any(m.date == dt.date(2025, 12, 16) for m in getty.case.milestones)
    colorado = events["us_state_ai_laws"]
    assert "SB 26-189" in colorado.description
    assert any(m.date == dt.date(2027, 1, 1) and m.kind == "entry_into_force" for m in colorado.case.milestones)
    data_act = events["eu_data_act_switching"]
    assert any(m.date == dt.date(2027, 1, 12) for m in data_act.case.milestones)
    favourable = [r for o in data_act.outcomes for r in o.impacts if all(v < 0 for v in r.severity.values())]
    assert favourable and all("eu_gdpr" in r.match.regimes for r in favourable)
    dora = events["eu_dora_oversight"]
    assert any(m.date == dt.date(2026, 6, 3) for m in dora.case.milestones)


def test_three_problems_each_named_by_file_event_and_key(lib, tmp_path):
    data = _shipped_raw()
    data["events"][0]["outcomes"][0]["probability"] = 0.98  # musk: 0.98 + 0.12 + 0.10 = 1.20
    data["events"][1]["outcomes"][0]["impacts"][0]["match"]["vendors"] = ["openai", "acme_ai"]
    del data["events"][2]["sources"][0]["date"]
    path = _write(tmp_path, data)
    problems = validate_pack(path, lib)
    assert len(problems) == 3, problems
    assert all(p.startswith(f"{path}: event ") for p in problems)
    text = "\n".join(problems)
    assert "event 'musk_v_openai_appeal': events[0].outcomes: outcome probabilities sum to 1.20" in text
    assert ("event 'microsoft_openai_contract': events[1].outcomes[0].impacts[0].match.vendors: "
            "unknown vendor 'acme_ai'") in text
    assert "event 'openai_on_aws': events[2].sources[0].date: source has no date" in text
    p = run("library", "validate", str(path))
    assert p.returncode == 1 and "3 problem(s)" in p.stderr and "Traceback" not in p.stderr
    assert "acme_ai" in p.stderr and "sum to 1.20" in p.stderr and "source has no date" in p.stderr


def test_unknown_jurisdiction_feature_channel_duplicate_id_and_missing_metadata(lib, tmp_path):
    data = _shipped_raw()
    rule = data["events"][1]["outcomes"][1]["impacts"][1]["match"]
    rule["jurisdictions"], rule["features"], rule["channels"] = ["mars"], ["time_travel"], ["azure_openia"]
    data["events"][3]["outcomes"][0]["id"] = data["events"][0]["outcomes"][0]["id"]
    del data["maintainer"]
    text = "\n".join(validate_pack(_write(tmp_path, data), lib))
    assert "unknown jurisdiction 'mars'" in text and "unknown proprietary feature 'time_travel'" in text
    assert "unknown channel 'azure_openia'" in text
    assert "duplicate id 'musk_appeal_affirmed'" in text and "events[3].outcomes[0].id" in text
    assert "pack: maintainer: missing" in text


def test_unreadable_pack_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("events: [unclosed\n", encoding="utf-8")
    for args in (("library", "validate", str(bad)), ("library", "validate", str(tmp_path / "missing.yaml")),
                 ("library", "diff", str(PREVIOUS), str(bad))):
        p = run(*args)
        assert p.returncode == 2 and p.stderr.startswith("error:") and "Traceback" not in p.stderr, args


def test_old_unversioned_pack_still_loads(lib):
    old = _pack(lib, PREVIOUS)
    assert old.id is None and old.version is None and old.as_of == dt.date(2026, 11, 1)


def test_upload_parse_rejects_non_packs(lib):
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_pack(b"events: [", "x.yaml", lib)
    with pytest.raises(ConfigError, match="expected a scenario pack"):
        parse_pack(b"- just a list", "x.yaml", lib)
    assert parse_pack(SHIPPED.read_bytes(), "s.yaml", lib) == lib.scenarios


# --- hash and age ---------------------------------------------------------------------------------
def test_hash_ignores_formatting_but_not_content(lib, tmp_path):
    data = _shipped_raw()
    reformatted = _pack(lib, _write(tmp_path, data, "reformatted.yaml"))
    assert pack_hash(reformatted) == pack_hash(lib.scenarios)
    data["events"][0]["outcomes"][1]["probability"] = 0.13
    assert pack_hash(_pack(lib, _write(tmp_path, data, "edited.yaml"))) != pack_hash(lib.scenarios)


def test_age_warning_starts_after_the_limit():
    as_of = dt.date(2026, 1, 1)
    assert pack_age(as_of, as_of + dt.timedelta(days=90), 90).warning() is None
    warn = pack_age(as_of, as_of + dt.timedelta(days=91), 90).warning()
    assert warn and "91 days old" in warn and "limit is 90 days" in warn
    assert pack_age(as_of, as_of, 90).text() == "dated today"


def test_age_limit_comes_from_config(tmp_path, monkeypatch):
    assert load_settings().max_age_days == 90
    d = tmp_path / "cfg"
    shutil.copytree(ROOT / "config", d)
    (d / "library.yaml").write_text("max_age_days: 30\n", encoding="utf-8")
    assert load_settings(d).max_age_days == 30
    (d / "library.yaml").write_text("max_age_days: -3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"library.yaml: max_age_days"):
        load_settings(d)
    (d / "library.yaml").unlink()
    assert load_settings(d).max_age_days == 90  # missing file = default


# --- diff -----------------------------------------------------------------------------------------
def test_diff_previous_to_shipped_lists_the_changes(lib):
    d = diff_packs(_pack(lib, PREVIOUS), lib.scenarios, lib)
    added = {e["id"] for e in d["events_added"]}
    assert {"eu_dma_cloud", "gema_v_openai", "openai_output_log_orders", "dpf_latombe_appeal"} <= added
    assert d["events_removed"] == [] and d["outcomes_removed"] == []
    changed = {o["id"]: o for o in d["outcomes_changed"]}
    assert "probability 10% → 15%" in changed["copyright_openai_adverse"]["changes"]
    musk = next(e for e in d["events_changed"] if e["id"] == "musk_v_openai_appeal")
    assert musk["sources_removed"] and musk["sources_added"]
    assert {c["field"] for c in d["pack_changes"]} >= {"id", "version", "as_of"}
    dma = next(o for o in d["outcomes_added"] if o["id"] == "dma_cloud_designated")
    assert any("Azure OpenAI" in r for r in dma["impacts"])  # display names, not channel ids


def test_cli_diff_shows_changes_and_effect_on_the_demo(tmp_path):
    out = tmp_path / "diff.json"
    p = run("library", "diff", str(PREVIOUS), str(SHIPPED), "--inventory", str(DEMO_INVENTORY),
            "--answers", str(DEMO_ANSWERS), "--json", str(out), "--trials", "2000")
    assert p.returncode == 0, p.stderr
    for text in ("Events added (8):", "EU DMA — AWS and Azure as cloud gatekeepers", "EU Data Act — cloud switching rules",
                 "Outcomes changed",
                 "probability 10% → 15%", "Effect on the portfolio (61 deployments", "Expected annual loss: $",
                 "VaR 95: $", "Ratings moved:"):
        assert text in p.stdout, text
    d = json.loads(out.read_text())
    eff = d["effect"]
    assert eff["portfolio"]["expected_annual_loss_usd"]["after"] != eff["portfolio"]["expected_annual_loss_usd"]["before"]
    assert set(eff["portfolio"]) == {"expected_annual_loss_usd", "var95_usd"}
    assert eff["ratings_moved"] and all(m["rating_before"] != m["rating_after"] for m in eff["ratings_moved"])
    assert sum(v["before"] for v in eff["ratings"].values()) == sum(v["after"] for v in eff["ratings"].values()) == 61


def test_cli_diff_answers_without_inventory_is_a_usage_error():
    p = run("library", "diff", str(PREVIOUS), str(SHIPPED), "--answers", str(DEMO_ANSWERS))
    assert p.returncode == 2 and "--answers needs --inventory" in p.stderr


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_diff_reports_exactly_the_probabilities_that_changed(lib, data):
    raw = lib.scenarios.model_dump(mode="json")
    outcomes = [o for e in raw["events"] for o in e["outcomes"]]
    picked = data.draw(st.sets(st.sampled_from([o["id"] for o in outcomes]), max_size=5))
    for o in outcomes:
        if o["id"] in picked:
            o["probability"] = round(o["probability"] / 2, 4)  # halving keeps every event's sum <= 1
    new = ScenariosFile.model_validate(raw)
    d = diff_packs(lib.scenarios, new)
    really = picked - {o["id"] for o in outcomes if o["probability"] == 0}  # half of 0 is no change
    assert {o["id"] for o in d["outcomes_changed"]} == really
    assert has_changes(d) == bool(really) and d["events_added"] == d["events_removed"] == []
    assert not has_changes(diff_packs(new, new))


# --- age in the CLI and the PDF ---------------------------------------------------------------------
def _dated_copy(tmp_path: Path, as_of: dt.date) -> Path:
    data = _shipped_raw()
    data["as_of"] = as_of.isoformat()
    return _write(tmp_path, data, f"pack-{as_of}.yaml")


def test_cli_assess_warns_on_an_old_pack_only(tmp_path):
    old = _dated_copy(tmp_path, dt.date.today() - dt.timedelta(days=200))
    p = run("assess", str(DEMO_INVENTORY), "--scenarios", str(old), "--trials", "500")
    assert p.returncode == 0, p.stderr
    assert "200 days old; warning limit 90 days" in p.stdout
    assert "warning: The scenario library is 200 days old" in p.stderr
    fresh = _dated_copy(tmp_path, dt.date.today())
    p = run("assess", str(DEMO_INVENTORY), "--scenarios", str(fresh), "--trials", "500", "--json", "-")
    assert p.returncode == 0 and "warning: The scenario library" not in p.stderr and "dated today" in p.stderr
    assert json.loads(p.stdout)["scenario_pack"]["id"] == "ai-vendor-risk-core"


def test_pdf_says_how_old_the_pack_is_and_warns(lib, tmp_path):
    from tests.test_reports import _pdftotext

    res = import_inventory(DEMO_INVENTORY, lib)
    a = assess(res, {}, lib, trials=500)
    rep = report(a, "Example", dt.datetime(2027, 6, 1, tzinfo=dt.UTC))
    rep["scenario_library"]["pack"] = pack_record(lib.scenarios)
    text = " ".join(_pdftotext(render_pdf(rep), tmp_path, layout=False).split())
    days = (dt.date(2027, 6, 1) - lib.scenarios.as_of).days
    assert f"ai-vendor-risk-core {lib.scenarios.version}, as of {lib.scenarios.as_of} ({days} days old)" in text
    assert f"Warning: The scenario library is {days} days old" in text
    rep2 = report(a, "Example", dt.datetime.combine(lib.scenarios.as_of, dt.time(), dt.UTC))
    text2 = _pdftotext(render_pdf(rep2), tmp_path, layout=False)
    assert "dated today" in text2 and "Warning: The scenario library" not in text2


# --- saved assessments ------------------------------------------------------------------------------
def test_saved_assessment_records_the_pack_and_old_saves_still_load(lib, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    res = import_inventory(DEMO_INVENTORY, lib)
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    new_id = repo.save_assessment(engine, assess(res, answers, lib, trials=500), "with pack")
    saved = repo.load(engine, new_id)
    assert repo.saved_pack(saved) == {"id": "ai-vendor-risk-core", "version": lib.scenarios.version,
                                      "hash": pack_hash(lib.scenarios), "as_of": lib.scenarios.as_of.isoformat()}
    payloads = json.loads(json.dumps(saved.payloads))
    del payloads["scenarios"]["pack"]  # as written before packs were recorded
    old_id = repo.save_payloads(engine, payloads, "before packs")
    old = repo.load(engine, old_id)
    assert repo.saved_pack(old)["hash"] is None
    assert repo.reopen(old, lib)[0].frame.shape == res.frame.shape
    d = repo.diff(old, saved)
    assert d["scenario_pack"]["after"]["hash"] == pack_hash(lib.scenarios)
    p = run("history", "show", str(new_id), env={"DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite'}"})
    assert p.returncode == 0, p.stderr
    assert f"scenario library: ai-vendor-risk-core {lib.scenarios.version}, as of {lib.scenarios.as_of}" in p.stdout


# --- the app ------------------------------------------------------------------------------------------
def _scenarios_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/scenarios.py").run()
    assert not at.exception, at.exception
    return at


def test_app_upload_shows_diff_before_use_then_warns_when_old(tmp_path):
    at = _scenarios_page()
    assert not at.warning  # the shipped pack is current
    edited = {"musk_appeal_reversed": 0.0}
    at.session_state["probabilities"] = edited
    data = _shipped_raw()
    data.update(id="old-review", version="1", as_of="2025-01-15")
    data["events"][0]["outcomes"][1]["probability"] = 0.30
    hostile = "=1+1 <script>alert(1)</script> **bold** 🚨"
    data["events"][0]["outcomes"][2]["label"] = hostile
    at.file_uploader(key="pack_upload_0").upload("old.yaml", yaml.safe_dump(data).encode(), "application/yaml").run()
    assert not at.exception, at.exception
    # the diff and its effect come first; nothing is switched yet
    assert "scenario_pack" not in at.session_state and at.session_state["probabilities"] == edited
    labels = [m.label for m in at.metric]
    assert "Expected annual loss with this pack" in labels and "Ratings that would move" in labels
    diff_rows = next(d.value for d in at.dataframe if "change" in d.value.columns)
    assert any("12% → 30%" in str(p) for p in diff_rows["probability"])
    assert hostile in list(diff_rows["outcome"])  # shown as written (a dataframe cell, never markup)
    next(b for b in at.button if b.key == "pack_confirm").click().run()
    assert not at.exception, at.exception
    assert at.session_state["scenario_pack"]["sf"].id == "old-review" and at.session_state["probabilities"] == {}
    assert any("days old" in w.value and "old-review 1" in w.value for w in at.warning)
    at.switch_page("views/overview.py").run()
    assert any("The scenario library is" in w.value for w in at.warning)
    assert "old-review 1" in at.caption[0].value
    # back to the built-in pack: again shown first, then confirmed
    at.switch_page("views/scenarios.py").run()
    next(b for b in at.button if b.key == "pack_revert_button").click().run()
    assert "scenario_pack" in at.session_state
    next(b for b in at.button if b.key == "pack_confirm").click().run()
    assert "scenario_pack" not in at.session_state and not at.warning


def test_app_rejects_a_broken_pack_and_changes_nothing():
    at = _scenarios_page()
    data = _shipped_raw()
    data["events"][0]["outcomes"][0]["probability"] = 0.98
    data["events"][1]["outcomes"][0]["impacts"][0]["match"]["vendors"] = ["acme_ai"]
    at.file_uploader(key="pack_upload_0").upload("bad.yaml", yaml.safe_dump(data).encode(), "application/yaml").run()
    assert not at.exception, at.exception
    err = " ".join(e.value for e in at.error)
    assert "bad.yaml is not a usable scenario pack" in err and "acme\\_ai" in err and "sum to 1.20" in err
    assert "scenario_pack" not in at.session_state
    assert not any(b.key == "pack_confirm" for b in at.button)

