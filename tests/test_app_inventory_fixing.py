"""Inventory page, fixing rejected rows (AppTest): the source line is shown and labelled, the bad cell
is marked where the user types, a fixed row stays where it was under the same editor, no table has
an unlabelled index column."""

from __future__ import annotations

import json

from streamlit.proto.Dataframe_pb2 import Dataframe as DataframeProto
from streamlit.testing.v1 import AppTest

from dashboard.components.rejected_editor import BAD, FIXED, GREEN, MARK, PROBLEM, RED
from dashboard.state import LINE
from tests.app_upload import upload_inventory

APP = "../dashboard/app.py"
HEAD = "deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
# line 1 header, 2 valid, 3 bad channel, 4 a comment row, 5 bad spend, 6 bad criticality
CSV = (HEAD + "A,ok,openai,gpt-4o,100,low,public\n"
       "B,=1+1,Azur OpenAI,gpt-4o,100,low,public\n"
       "# a comment row,,,,,,\n"
       "C,<script>alert(1)</script>,openai,gpt-4o,lots,low,public\n"
       "D,bad crit,openai,gpt-4o,100,extreme,public\n")


def inventory_with(csv: str, name: str = "mine.csv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/inventory.py").run()
    return upload_inventory(at, name, csv.encode())


def editor(at: AppTest):
    return next(d for d in at.dataframe if (d.key or "").startswith("rejected_editor_"))


def config(el) -> dict:
    return json.loads(el.proto.columns)


def edit(at: AppTest, key: str, rows: dict) -> None:
    """The widget state the browser sends: every edit since the editor appeared."""
    at.session_state[key] = {"edited_rows": rows, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception


def test_each_rejected_row_shows_its_line_in_the_file_labelled_and_hostile_text_as_written():
    at = inventory_with(CSV)
    ed = editor(at)
    rows = ed.value
    assert list(rows[LINE]) == [3, 5, 6]  # the comment row (line 4) counts as a line of the file
    assert config(ed)[LINE]["label"] == "Line in file"
    assert config(ed)[LINE].get("help")
    assert list(ed.proto.column_order)[:2] == [LINE, PROBLEM]  # the line first, then what is wrong
    assert list(rows["name"]) == ["=1+1", "<script>alert(1)</script>", "bad crit"]
    assert config(ed)["deployment_id"]["label"] == "Deployment ID"  # human headers, not column ids


def test_the_bad_cell_is_marked_next_to_it_and_the_marks_follow_the_fixes():
    at = inventory_with(CSV)
    ed = editor(at)
    rows, cfg, order = ed.value, config(ed), list(ed.proto.column_order)
    # a red "⚠ →" marker directly left of each bad cell, only in the rows where that cell is bad
    assert list(rows[MARK + "channel"]) == [BAD, "", ""]
    assert list(rows[MARK + "annual_spend_usd"]) == ["", BAD, ""]
    assert list(rows[MARK + "criticality"]) == ["", "", BAD]
    for col in ("channel", "annual_spend_usd", "criticality"):
        assert order[order.index(col) - 1] == MARK + col
        assert cfg[col]["label"].startswith("⚠ ")  # the header of a column holding a bad cell
    assert cfg["annual_spend_usd"]["help"] == "A value to fix on line(s) 5"
    assert not cfg["model"]["label"].startswith("⚠")
    assert rows[PROBLEM][1].startswith("⚠ Annual spend (USD): not a number")
    styles = ed.proto.arrow_data.styler.styles
    assert RED.split(": ")[1] in styles and GREEN.split(": ")[1] not in styles

    edit(at, ed.key, {1: {"annual_spend_usd": "200"}})  # fix line 5
    ed = editor(at)
    rows, cfg = ed.value, config(ed)
    assert list(rows[MARK + "annual_spend_usd"]) == ["", "", ""]
    assert cfg["annual_spend_usd"]["label"] == "Annual spend (USD)"
    assert rows[PROBLEM][1] == FIXED
    assert GREEN.split(": ")[1] in ed.proto.arrow_data.styler.styles


def test_a_fixed_row_stays_in_place_under_the_same_editor_and_undo_says_what_it_undid():
    at = inventory_with(CSV)
    ed = editor(at)
    key, element = ed.key, ed.proto.id
    # a new workspace starts without undo steps (undo never brings the demo back into it)
    undo_depth = len(at.session_state["history"]) if "history" in at.session_state else 0
    edit(at, key, {1: {"annual_spend_usd": "$200"}})  # fix the middle row (line 5)
    inv = at.session_state["inventory"]
    assert sorted(inv.frame["deployment_id"]) == ["A", "C"]  # written at once: it is a deployment now
    ed = editor(at)
    assert ed.key == key and ed.proto.id == element  # same widget: the cursor and pending edits survive
    assert list(ed.value[LINE]) == [3, 5, 6]  # nothing moved up into the fixed row's place
    assert list(ed.value[PROBLEM].str[:1]) == ["⚠", "✓", "⚠"]
    assert ed.value["annual_spend_usd"][1] == "$200"  # as typed

    # the browser keeps sending every edit of this editor; the next fix comes with the first one
    edit(at, key, {1: {"annual_spend_usd": "$200"}, 2: {"criticality": "High"}})
    inv = at.session_state["inventory"]
    assert sorted(inv.frame["deployment_id"]) == ["A", "C", "D"] and len(inv.frame) == 3  # C not doubled
    ed = editor(at)
    assert ed.key == key and list(ed.value[LINE]) == [3, 5, 6]
    assert list(ed.value[PROBLEM].str[:1]) == ["⚠", "✓", "✓"]
    at.run()  # a rerun without a new edit writes nothing
    assert len(at.session_state["history"]) == undo_depth + 2  # two fixes, two undo steps

    next(b for b in at.button if b.label == "Undo last edit").click().run()
    assert any("Undone:" in s.value and "1 deployment(s) removed again" in s.value for s in at.success)
    ed = editor(at)
    assert ed.key != key  # a new editor: the undone edit is not re-applied from the old one's state
    assert list(ed.value[LINE]) == [3, 6] and ed.value[PROBLEM][1].startswith("⚠ Criticality")

    next(b for b in at.button if b.label == "Undo last edit").click().run()
    assert list(editor(at).value[LINE]) == [3, 5, 6]


def test_hiding_fixed_rows_and_fixing_the_last_one():
    at = inventory_with(CSV)
    key = editor(at).key
    edit(at, key, {0: {"channel": "Azure OpenAI"}, 1: {"annual_spend_usd": "200"}, 2: {"criticality": "low"}})
    assert not at.session_state["inventory"].errors
    assert any("Every rejected row is fixed" in s.value for s in at.success)
    assert list(editor(at).value[PROBLEM]) == [FIXED] * 3  # still listed, in place, until hidden
    next(b for b in at.button if b.label == "Hide fixed rows").click().run()
    assert not any((d.key or "").startswith("rejected_editor_") for d in at.dataframe)
    assert sorted(at.session_state["inventory"].frame["deployment_id"]) == ["A", "B", "C", "D"]


def test_a_row_rejected_by_a_fix_is_added_at_the_end():
    # line 2 is rejected (bad channel); giving it the id of line 3 makes line 3 the duplicate
    csv = HEAD + "X,x,Azur OpenAI,gpt-4o,1,low,public\nZ,z,openai,gpt-4o,2,low,public\nY,y,openai,gpt-4o,3,nope,public\n"
    at = inventory_with(csv)
    ed = editor(at)
    assert list(ed.value[LINE]) == [2, 4]
    edit(at, ed.key, {0: {"channel": "openai", "deployment_id": "Z"}})
    ed = editor(at)
    assert list(ed.value[LINE]) == [2, 4, 3]  # the rows the user was looking at did not move
    assert ed.value[PROBLEM][0] == FIXED and ed.value[PROBLEM][2].startswith("⚠ Deployment ID")


def test_a_missing_column_marks_that_cell_in_every_row():
    at = inventory_with("deployment_id,model,annual_spend_usd,criticality,data_sensitivity\n"
                        "A,gpt-4o,10,low,public\nB,claude-sonnet-4-5,20,high,internal\n")
    ed = editor(at)
    assert list(ed.value[LINE]) == [2, 3] and list(ed.value[MARK + "channel"]) == [BAD, BAD]
    assert all(p.startswith("⚠ Provider (channel): missing required column") for p in ed.value[PROBLEM])
    edit(at, ed.key, {0: {"channel": "AOAI"}})
    ed = editor(at)
    assert list(ed.value[PROBLEM].str[:1]) == ["✓", "⚠"]
    assert sorted(at.session_state["inventory"].frame["deployment_id"]) == ["A"]


def test_no_table_on_the_inventory_page_has_an_unlabelled_index_column():
    implausible = CSV + "W,closed model self-hosted,self-hosted,gpt-4o,5,low,public\n"
    at = inventory_with(implausible)
    # a second version of the user's register waits for confirmation: its diff table is shown too
    v2 = implausible.replace("A,ok,openai,gpt-4o,100", "A,ok,openai,gpt-4o,150")
    at.file_uploader(key="inventory_upload").upload("v2.csv", v2.encode(), "text/csv").run()
    assert not at.exception, at.exception
    names = [d.key or ",".join(map(str, d.value.columns[:2])) for d in at.dataframe]
    # the version diff, the rejected cells, the rejected-rows editor, the implausible rows, the
    # Deployments editor and the history of versions
    assert [n.rstrip("_0123456789") for n in names] == [
        "Deployment,Field", "Line,Deployment", "rejected_editor", "Line,Deployment", "inventory_editor", "Version,When"]
    for name, d in zip(names, at.dataframe, strict=True):
        assert config(d).get("_index", {}).get("hidden") is True, name
        # an editor that can add rows shows an index that is not 0..n-1 (the user must fill it in for
        # a new row) whatever hide_index says: a blank-headed column
        if d.proto.editing_mode in (DataframeProto.EditingMode.DYNAMIC, DataframeProto.EditingMode.ADD_ONLY):
            assert list(d.value.index) == list(range(len(d.value))), name


def test_an_edit_in_the_deployments_table_keeps_fixed_and_rejected_rows_once():
    at = inventory_with(CSV)
    edit(at, editor(at).key, {1: {"annual_spend_usd": "200"}})  # C fixed, B and D still rejected
    ver = at.session_state["editor_version"]
    valid = at.session_state["inventory"].frame.reset_index(drop=True)
    row = int(valid.index[valid["deployment_id"] == "A"][0])
    edit(at, f"inventory_editor_{ver}", {row: {"criticality": "high"}})
    inv = at.session_state["inventory"]
    assert sorted(inv.frame["deployment_id"]) == ["A", "C"] and inv.rejected_lines == [3, 6]
    assert inv.frame.set_index("deployment_id").loc["A", "criticality"] == "high"
    assert list(editor(at).value[LINE]) == [3, 6]  # a change elsewhere starts the list afresh


def test_the_problem_stays_pinned_and_levels_are_picked_from_their_allowed_values():
    at = inventory_with(CSV)
    cfg = config(editor(at))
    assert cfg[PROBLEM].get("pinned") is True and cfg[LINE].get("pinned") is True  # in view when scrolled sideways
    for col, allowed in (("criticality", ["low", "medium", "high", "critical"]),
                         ("data_sensitivity", ["public", "internal", "confidential", "regulated"]),
                         ("fallback_status", ["none", "documented", "tested", "active"])):
        tc = cfg[col]["type_config"]
        values = [o if isinstance(o, str) else o["value"] for o in tc["options"]]
        assert tc["type"] == "selectbox" and values[:4] == allowed
    # a bad value is an option too (after the allowed ones): a drop-down cell draws only what it offers
    assert [o if isinstance(o, str) else o["value"] for o in cfg["criticality"]["type_config"]["options"]][4:] == \
        ["extreme"]
    assert editor(at).value["criticality"][2] == "extreme"
    channel = cfg["channel"]["type_config"]["options"]
    assert {"value": "azure_openai", "label": "Azure OpenAI"} in channel  # picked by name
    assert {"value": "Azur OpenAI", "label": "Azur OpenAI"} in channel


def test_once_every_row_is_fixed_the_empty_errors_grid_is_gone():
    at = inventory_with(HEAD + "A,ok,openai,gpt-4o,100,low,public\nB,x,openai,gpt-4o,100,extreme,public\n")
    assert len(at.dataframe) == 4  # errors, rejected rows, deployments, versions
    ed = editor(at)
    edit(at, ed.key, {0: {"criticality": "high"}})
    assert any("Every rejected row is fixed" in s.value for s in at.success)
    assert len(at.dataframe) == 3 and editor(at) is not None  # no empty errors grid above the fixed row
