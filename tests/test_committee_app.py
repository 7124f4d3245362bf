"""Issue 14 in the app (AppTest): channel names instead of ids, a refused probability edit is put back
with the reason, the probability banner, undo says what it undid, the what-if table reads as a
table for people, the exit-plan download has no escape backslashes, the logo is saved with the profile."""

from __future__ import annotations

import json

from test_app import goto, start

from risk_models.fallbacks.recommend import recommendations_of
from risk_models.io.escape import md_file_escape


def test_overview_names_channels_and_says_when_probabilities_differ():
    at = start()
    shares = at.dataframe[0].value
    assert "Azure OpenAI" in list(shares["Channel"]) and "azure_openai" not in list(shares["Channel"])
    assert "Largest" in at.dataframe[1].value.columns
    assert not any("differ from the library defaults" in w.value for w in at.warning)
    goto(at, "scenarios")
    ver = at.session_state["scenario_version"]
    at.session_state[f"scenario_editor_{ver}"] = {"edited_rows": {1: {"probability": 0.0}}, "added_rows": [],
                                                  "deleted_rows": []}
    at.run()
    goto(at, "overview")
    assert any("differ from the library defaults" in w.value for w in at.warning)


def test_a_refused_probability_edit_is_put_back_and_says_why():
    at = goto(start(), "scenarios")
    ver = at.session_state["scenario_version"]
    at.session_state[f"scenario_editor_{ver}"] = {"edited_rows": {0: {"probability": 0.9}}, "added_rows": [],
                                                  "deleted_rows": []}
    at.run()
    assert any("put back to its previous value" in e.value and "sum to" in e.value for e in at.error)
    assert at.session_state["scenario_version"] == ver + 1  # a new editor: the cell shows the value in use
    assert at.session_state["probabilities"] == {}


def test_undo_says_what_it_undid():
    at = goto(start(), "inventory")
    ver = at.session_state["editor_version"]
    at.session_state[f"inventory_editor_{ver}"] = {"edited_rows": {0: {"criticality": "low"}}, "added_rows": [],
                                                   "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.label == "Undo last edit").click().run()
    note = next(s.value for s in at.success if s.value.startswith("Undone"))
    assert "DEP-001 criticality back to" in note


def test_whatif_table_and_exit_plan_download_read_as_documents():
    at = goto(start(), "fallbacks")
    next(b for b in at.button if b.label.startswith("Apply the top recommendation")).click().run()
    changes = at.dataframe[1].value
    assert {"Deployment", "Options applied", "Channel after", "Expected loss after"} <= set(changes.columns)
    assert not any("_" in c for c in changes.columns)
    from risk_models.fallbacks.exit_plan import exit_plan, exit_plan_markdown
    from tests.test_committee_pdf import demo_assessment
    demo = demo_assessment(trials=500)
    md = exit_plan_markdown(exit_plan(demo, recommendations_of(demo), 0), md_file_escape)  # what the download holds
    assert "\\_" not in md and "\\$" not in md and "$" in md


def test_md_file_escape_keeps_dollars_and_words_but_not_markup():
    assert md_file_escape("azure_openai costs $15,500") == "azure_openai costs $15,500"
    assert md_file_escape("[x](http://evil) <b> _emph_") == "\\[x\\](http://evil) \\<b\\> \\_emph\\_"


def test_logo_is_saved_with_the_profile_and_shown_in_settings():
    import io

    from PIL import Image

    from risk_models.config.profile import encode_logo
    buf = io.BytesIO()
    Image.new("RGB", (30, 10), (0, 90, 160)).save(buf, "PNG")
    at = goto(start(), "settings")
    assert not at.get("image")
    at.session_state["profile"] = at.session_state["profile"].model_copy(update={"logo": encode_logo(buf.getvalue())})
    at.run()
    assert at.get("image")  # the logo the PDF's title page will carry
    assert json.loads(at.session_state["profile"].model_dump_json())["logo"]


def test_sidebar_names_the_uploaded_file_on_the_run_of_the_upload():
    from test_app import upload
    at = goto(start(), "inventory")
    upload(at, "acme_inventory.csv", "deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                                     "A1,Bot,aoai,gpt-4o,100,low,public\n")
    shown = [c.value for c in at.sidebar.caption if c.value.startswith("Data:")]
    assert shown == ["Data: Uploaded file acme\\_inventory.csv"]
