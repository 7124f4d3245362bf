"""AppTest: the questionnaire at portfolio scale and register versions, as an analyst uses them."""

from __future__ import annotations

from risk_models.storage import repository as repo
from tests.test_app import goto, metric, start, upload

HEADER = "deployment_id,name,business_unit,owner,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
V1 = HEADER + ("A1,Chatbot,Retail,Ann,Azure OpenAI,gpt-4o,1000,high,internal\n"
               "A2,Summariser,Retail,Ann,Azure OpenAI,gpt-4o,2000,medium,internal\n"
               "B1,Search,Ops,Bob,Bedrock,claude-sonnet-4-5,500,low,public\n")
V2 = HEADER + ("A1,Chatbot,Retail,Ann,Azure OpenAI,gpt-4o,1000,high,internal\n"
               "B1,Search,Ops,Bob,Bedrock,claude-sonnet-4-5,900,low,public\n")


def _answered(at) -> str:
    return metric(at, "Questions answered (all deployments)")


def test_answers_are_kept_when_switching_deployment_and_counts_update_at_once():
    at = goto(start(), "questionnaire")
    before = _answered(at)
    at.selectbox(key="q_deployment").set_value("DEP-002").run()
    at.radio(key="q_DEP-002_exit_plan_exists").set_value("documented").run()
    assert not at.exception
    assert _answered(at) != before  # the count moved on the same run, no save button
    assert int(_answered(at).split(" / ")[0].replace(",", "")) == int(before.split(" / ")[0].replace(",", "")) + 1
    assert any(c.value.startswith("Answered 1 of") for c in at.caption)
    at.selectbox(key="q_deployment").set_value("DEP-003").run()
    at.selectbox(key="q_deployment").set_value("DEP-002").run()
    assert at.radio(key="q_DEP-002_exit_plan_exists").value == "documented"
    assert at.session_state["answers"]["DEP-002"] == {"exit_plan_exists": "documented"}


def test_not_answered_says_which_default_is_assumed():
    at = goto(start(), "questionnaire")
    radio = at.radio(key="q_DEP-001_exit_plan_exists")
    at.selectbox(key="q_deployment").set_value("DEP-003").run()
    radio = at.radio(key="q_DEP-003_audit_rights")
    assert radio.value == "(not answered)"
    shown = radio.proto.options[0]
    assert "assumed None / unknown (the conservative default)" in shown


def test_bulk_answer_one_question_for_every_azure_openai_deployment():
    at = goto(start(), "questionnaire")
    at.multiselect(key="bulk_channel").set_value(["azure_openai"]).run()
    at.selectbox(key="bulk_question").set_value("eval_suite").run()
    at.selectbox(key="bulk_value_eval_suite").set_value("yes").run()
    inv = at.session_state["inventory"].frame
    before = {d: dict(v) for d, v in at.session_state["answers"].items()}
    azure = set(inv.loc[inv["channel"] == "azure_openai", "deployment_id"])
    already = {d for d in azure if at.session_state["answers"].get(d, {}).get("eval_suite") == "yes"}
    assert already  # the demo answers some: those do not count as changes
    assert f"**{len(azure) - len(already)} answer(s) change**" in [m.value for m in at.markdown]
    apply = at.button(key="bulk_apply")
    assert apply.label == f"Apply to {len(azure)}"
    apply.click().run()
    assert not at.exception
    answers = at.session_state["answers"]
    assert all(answers[d]["eval_suite"] == "yes" for d in azure)
    assert all(answers.get(d) == before.get(d) for d in set(inv["deployment_id"]) - azure)
    assert answers["DEP-001"]["exit_plan_exists"] == "none"  # other answers untouched


def test_provider_answer_is_inherited_shown_with_its_source_and_overridable():
    at = goto(start(), "questionnaire")
    at.selectbox(key="scope_value_channel").set_value("azure_openai").run()
    at.selectbox(key="scope_question").set_value("audit_rights").run()
    at.selectbox(key="scope_answer_channel_azure_openai_audit_rights").set_value("own_only").run()
    at.button(key="scope_save").click().run()
    assert not at.exception
    radio = at.radio(key="q_DEP-001_audit_rights")  # DEP-001 runs on Azure OpenAI
    assert radio.value == "(not answered)"
    assert "inherited" in radio.proto.options[0] and "provider Azure OpenAI" in radio.proto.options[0]
    radio.set_value("full_with_supervisor").run()  # its own answer wins
    assert at.session_state["answers"]["DEP-001"]["audit_rights"] == "full_with_supervisor"


def test_new_version_shows_the_diff_and_keeps_answers_archives_removed_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    at = goto(start(), "inventory")
    upload(at, "v1.csv", V1)  # over the demo: the user's own register starts at version 1
    at.session_state["probabilities"] = {"musk_appeal_affirmed": 0.5}
    goto(at, "questionnaire")
    at.multiselect(key="bulk_channel").set_value(["azure_openai"]).run()
    at.selectbox(key="bulk_question").set_value("eval_suite").run()
    at.selectbox(key="bulk_value_eval_suite").set_value("yes").run()
    at.button(key="bulk_apply").click().run()
    assert set(at.session_state["answers"]) == {"A1", "A2"}
    goto(at, "inventory")
    at.file_uploader(key="inventory_upload").upload("v2.csv", V2.encode(), "text/csv").run()
    assert not at.exception
    # nothing replaced yet: the diff is shown and waits for confirmation
    assert len(at.session_state["inventory"].frame) == 3
    text = " ".join(m.value for m in at.markdown)
    assert "0 added, 1 removed, 1 changed (1 fields)" in text and "Removed: A2" in text
    assert any("archived" in w.value and "A2" in w.value for w in at.warning)
    changes = next(d.value for d in at.dataframe if list(d.value.columns) == ["Deployment", "Field", "Before", "After"])
    assert list(changes.iloc[0]) == ["B1", "Annual spend (USD)", "$500", "$900"]  # whole dollars (#29)
    at.button(key="register_confirm").click().run()
    assert not at.exception
    ss = at.session_state
    assert list(ss["inventory"].frame["deployment_id"]) == ["A1", "B1"]
    assert ss["answers"] == {"A1": {"eval_suite": "yes"}}
    assert ss["archived_answers"]["A2"].answers == {"eval_suite": "yes"}
    assert ss["probabilities"] == {"musk_appeal_affirmed": 0.5}  # scenario overrides survive
    assert ss["register"]["version"] == 2
    goto(at, "history")
    at.text_input[0].set_value("after v2")
    next(b for b in at.button if b.label == "Save").click().run()
    from risk_models.storage.db import make_engine
    saved = repo.load(make_engine(), repo.list_assessments(make_engine())[0]["id"])
    assert repo.register_of(saved)["version"] == 2
    # the archive is listed on the questionnaire page; A2 is restorable once it is back
    goto(at, "questionnaire")
    assert at.button(key="restore_A2").disabled


def test_cancelling_a_new_version_keeps_the_current_one():
    at = goto(start(), "inventory")
    upload(at, "v1.csv", V1)
    at.file_uploader(key="inventory_upload").upload("v2.csv", V2.encode(), "text/csv").run()
    at.button(key="register_cancel").click().run()
    assert len(at.session_state["inventory"].frame) == 3 and "pending_upload" not in at.session_state


def test_returned_workbook_upload_shows_refused_cells_and_the_diff_then_applies(lib):
    import io

    import openpyxl

    from risk_models.inventory.read import import_inventory
    from risk_models.questionnaire.workbook import FIRST_ROW, KEY_ROW, SHEET, workbook_bytes
    from risk_models.storage.signing import signing_key
    from tests.conftest import DEMO_INVENTORY
    frame = import_inventory(DEMO_INVENTORY, lib).frame
    # sealed with this installation's key, as the app's download is (rows answer only for themselves)
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(frame[frame["deployment_id"].isin(["DEP-002", "DEP-003"])],
                                                          {}, lib, seal_key=signing_key())))
    ws = wb[SHEET]
    cols = {c.value: c.column for c in ws[KEY_ROW]}
    ws.cell(FIRST_ROW, cols["audit_rights"]).value = "Ours only (reports / certificates, no supervisor access)"
    ws.cell(FIRST_ROW + 1, cols["users_affected"]).value = "Martians"
    buf = io.BytesIO()
    wb.save(buf)
    at = goto(start(), "questionnaire")
    at.file_uploader(key="xlsx_upload").upload("back.xlsx", buf.getvalue(),
                                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").run()
    assert not at.exception
    assert any("1 cell(s) refused" in e.value for e in at.error)
    errors = next(d.value for d in at.dataframe if "Problem" in d.value.columns)
    assert list(errors["Question"]) == ["Who is affected if the deployment stops?"]
    assert "allowed: One team" in errors["Problem"][0]
    assert "**1 answer(s) change**" in [m.value for m in at.markdown]
    assert "audit_rights" not in at.session_state["answers"].get("DEP-002", {})  # not before confirming
    at.button(key="xlsx_apply").click().run()
    assert at.session_state["answers"]["DEP-002"]["audit_rights"] == "own_only"
