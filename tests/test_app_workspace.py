"""The workspace lives on the server: a new session (a refresh, another tab) sees what the last one left, the
first upload names the organisation, two sessions never overwrite each other silently, and every change is
in the audit trail under a person's name."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from risk_models.storage import audit
from risk_models.storage.db import make_engine
from risk_models.storage.workspace import list_workspaces
from tests.test_app import goto, start

CSV = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
       "A1,Claims bot,aoai,gpt-4o,1000,high,internal\n"
       "B1,Summariser,openai,gpt-4o,500,low,public\n")
OUTCOME = "musk_appeal_affirmed"


def first_upload(at: AppTest, filename: str = "acme_bad_rows.csv", name: str | None = None) -> AppTest:
    goto(at, "inventory")
    at.file_uploader(key="inventory_upload").upload(filename, CSV.encode(), "text/csv").run()
    if name is not None:
        at.text_input(key="new_workspace_name").set_value(name)
    at.button(key="new_workspace_create").click().run()
    assert not at.exception, at.exception
    return at


def test_the_first_upload_asks_for_the_organisation_and_starts_its_own_workspace():
    at = goto(start(), "inventory")
    assert any("Demo organisation" in i.value for i in at.info)  # what the tool is for, and that this is a demo
    at.file_uploader(key="inventory_upload").upload("acme_bad_rows.csv", CSV.encode(), "text/csv").run()
    assert at.text_input(key="new_workspace_name").value == "Acme bad rows"  # suggested from the file name
    assert len(at.session_state["inventory"].frame) == 61  # nothing replaced before the user confirms
    at.text_input(key="new_workspace_name").set_value("Acme Bank plc")
    at.button(key="new_workspace_create").click().run()
    ss = at.session_state
    assert ss["workspace_name"] == "Acme Bank plc" and sorted(ss["inventory"].frame["deployment_id"]) == ["A1", "B1"]
    assert ss["answers"] == {} and ss["profile"].name == "Acme Bank plc"
    assert "history" not in ss  # undo cannot bring the demo's rows into the new workspace
    assert not any("Demo organisation" in i.value for i in at.info)
    assert [c.value for c in at.sidebar.caption if c.value.startswith("Workspace:")] == ["Workspace: **Acme Bank plc**"]
    goto(at, "report")
    assert any("ai-vendor-risk-acme-bank-plc-" in c.value for c in at.caption)  # download names, no Settings visit
    listed = {w.name: w.is_demo for w in list_workspaces(make_engine())}
    assert listed == {"Demo organisation (Example Bank plc)": True, "Acme Bank plc": False}  # the demo stays


def test_a_new_session_finds_the_workspace_as_it_was_left():
    at = first_upload(start(), name="Acme")
    at.session_state["answers"] = {"A1": {"eval_suite": "yes"}}
    at.session_state["probabilities"] = {OUTCOME: 0.5}
    at.session_state["whatif_plan"] = {"A1": ["abstraction_gateway"]}
    at.run()
    assert not at.exception, at.exception
    again = start()  # a refresh: a new session of the same server and database
    ss = again.session_state
    assert ss["workspace_name"] == "Acme"
    assert sorted(ss["inventory"].frame["deployment_id"]) == ["A1", "B1"]
    assert ss["answers"] == {"A1": {"eval_suite": "yes"}}
    assert ss["probabilities"] == {OUTCOME: 0.5}
    assert ss["whatif_plan"] == {"A1": ["abstraction_gateway"]}
    assert ss["register"]["version"] == 1 and ss["source"] == "Uploaded file acme_bad_rows.csv"


def test_two_sessions_see_each_others_changes_and_a_stale_edit_is_told_not_saved():
    one, two = start(), start()
    one.session_state["probabilities"] = {OUTCOME: 0.5}
    one.run()
    two.run()
    assert two.session_state["probabilities"] == {OUTCOME: 0.5}  # the other tab's change, on its next run
    one.session_state["probabilities"] = {OUTCOME: 0.6}  # both edit from the same version …
    two.session_state["probabilities"] = {OUTCOME: 0.7}
    two.run()  # … two saves first
    one.run()
    assert one.session_state["probabilities"] == {OUTCOME: 0.7}  # one sees two's value …
    told = " ".join(w.value for w in one.warning)
    assert "Scenario probabilities was changed by" in told and "your change to it was not saved" in told  # … and is told
    assert start().session_state["probabilities"] == {OUTCOME: 0.7}


def test_every_change_is_audited_under_a_persons_name_never_root(tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))  # an audit trail of this test's own
    at = first_upload(start(), name="Acme")
    at.session_state["answers"] = {"A1": {"eval_suite": "yes"}}
    at.session_state["probabilities"] = {OUTCOME: 0.5}
    at.run()
    goto(at, "settings")
    at.text_input(key="local_name_input").set_value("Ann Analyst").run()
    at.session_state["probabilities"] = {OUTCOME: 0.4}
    at.run()
    rows = [e for e in audit.entries(make_engine()) if e.entity != "workspace"]
    assert {(e.action, e.entity) for e in rows} >= {("upload", "register"), ("edit", "answers"),
                                                      ("edit", "probabilities")}
    assert all(e.actor != "root" for e in audit.entries(make_engine()))
    last = [e for e in rows if e.entity == "probabilities"][-1]
    assert last.actor == "Ann Analyst" and last.before == {OUTCOME: 0.5} and last.after == {OUTCOME: 0.4}
    answers = next(e for e in rows if e.entity == "answers")
    assert answers.before == {"A1": None} and answers.after == {"A1": {"eval_suite": "yes"}}
    assert audit.verify(make_engine())[1] is None
    # the Audit page: before -> after as people read it (labels, not ids or JSON), filterable by deployment
    goto(at, "audit")
    table = at.dataframe[0].value
    answered = table[table["What"] == "Answers"].iloc[0]
    assert answered["After"] == "A1: Is there an automated evaluation suite for this use case?: yes"
    assert "{" not in " ".join(table["Before"]) + " ".join(table["After"])
    at.text_input(key="audit_which").set_value("A1").run()
    assert set(at.dataframe[0].value["What"]) == {"Answers"}


def test_workspaces_are_listed_opened_renamed_copied_and_archived_in_settings():
    at = first_upload(start(), name="Acme")
    goto(at, "settings")
    table = next(d.value for d in at.dataframe if "Workspace" in d.value.columns)
    assert set(table["Workspace"]) == {"Acme  (open here)", "Demo organisation (Example Bank plc)"}
    demo = next(w for w in list_workspaces(make_engine()) if w.is_demo)
    at.selectbox(key="ws_chosen").set_value(demo.id).run()
    at.button(key="ws_open").click().run()
    assert at.session_state["workspace_name"] == demo.name and len(at.session_state["inventory"].frame) == 61
    acme = next(w for w in list_workspaces(make_engine()) if w.name == "Acme")
    at.selectbox(key="ws_chosen").set_value(acme.id).run()
    at.text_input(key=f"ws_rename_{acme.id}").set_value("Acme Group")
    next(b for b in at.button if b.label == "Rename").click().run()
    at.button(key="ws_copy").click().run()
    at.button(key="ws_archive").click().run()
    names = {w.name for w in list_workspaces(make_engine())}
    assert names == {demo.name, "Acme Group (copy)"}  # archived: hidden from the list, not deleted
    assert "Acme Group" in {w.name for w in list_workspaces(make_engine(), include_archived=True)}


def test_a_reopened_save_brings_back_providers_contracts_and_the_plan():
    import base64

    from tests.conftest import ROOT
    demo = ROOT / "config" / "demo"
    files = {k: {"name": f"{k}.csv", "data": base64.b64encode((demo / f"{k}.csv").read_bytes()).decode()}
             for k in ("providers", "contracts")}
    at = first_upload(start(), name="Acme")
    at.session_state["provider_files"] = files
    at.session_state["whatif_plan"] = {"A1": ["abstraction_gateway"]}
    goto(at, "history")
    at.text_input[0].set_value("with plan")
    next(b for b in at.button if b.label == "Save").click().run()
    at.session_state["provider_files"] = None
    at.session_state["whatif_plan"] = {}
    at.run()
    next(b for b in at.button if b.label == "Open in the dashboard").click().run()
    shown = " ".join(m.value for m in at.markdown)
    assert "Providers and contracts: none → providers.csv, contracts.csv" in shown
    assert "What-if plan: 0 → 1 deployment(s)" in shown
    at.button(key="hist_reopen_confirm").click().run()
    assert at.session_state["whatif_plan"] == {"A1": ["abstraction_gateway"]}
    assert at.session_state["provider_files"] == files
    goto(at, "providers")
    assert not at.exception and any(m.label == "Contracts" for m in at.metric)


def test_the_audit_download_is_the_readable_table_with_hostile_text_neutralised():
    data = audit.csv_bytes(["Entry", "Before", "After"], [[1, "—", '=HYPERLINK("x")'], [2, "A1: yes", "@cmd"]])
    text = data.decode("utf-8-sig")
    assert text.splitlines() == ["Entry,Before,After", "1,—,\"'=HYPERLINK(\"\"x\"\")\"", "2,A1: yes,'@cmd"]


def test_without_a_database_the_app_still_works_and_says_the_work_stays_in_the_tab(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////proc/no-such-dir/app.sqlite")  # cannot be created
    at = start()
    assert any("workspace database is not available" in e.value for e in at.error)
    assert len(at.session_state["inventory"].frame) == 61  # the demo, in this tab
    goto(at, "questionnaire")
    assert not at.exception


def test_an_audit_entry_after_switching_workspaces_starts_from_the_opened_one(tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    at = first_upload(start(), name="Acme")
    at.session_state["probabilities"] = {OUTCOME: 0.5}  # Acme's own edit
    at.run()
    goto(at, "settings")
    demo = next(w for w in list_workspaces(make_engine()) if w.is_demo)
    at.selectbox(key="ws_chosen").set_value(demo.id).run()
    at.button(key="ws_open").click().run()
    at.session_state["probabilities"] = {OUTCOME: 0.2}
    at.run()
    last = [e for e in audit.entries(make_engine()) if e.entity == "probabilities"][-1]
    assert last.entity_id == demo.name and last.before == {OUTCOME: None} and last.after == {OUTCOME: 0.2}
