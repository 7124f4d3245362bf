"""Inventory: upload, templates, an editable table with typed columns, rejected rows with line,
column, value and message (editable until they validate), undo."""

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import rejected_editor
from dashboard.components.columns import money
from dashboard.state.session import (
    EDITOR_VERSION,
    HISTORY,
    LOADED_UPLOAD,
    NEW_WORKSPACE,
    SOURCE,
    UNDO_NOTE,
    UPLOAD_ERROR,
    UPLOAD_NOTICES,
)
from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.inventory.export import export_csv, export_xlsx
from risk_models.inventory.read import ENUMS, FEATURES, InventoryFileError
from risk_models.inventory.template import template_csv, template_xlsx
from risk_models.inventory.versions import FIELD_LABELS
from risk_models.io.escape import md_escape

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
st.title("Inventory")
session = state.current_session()
lib = state.library()


def register_diff_panel(p: dict) -> None:
    """What the new version changes, and a confirmation before it replaces the current one."""
    d = p["diff"]
    reg = state.register_info()
    with st.container(border=True, key="register_diff"):
        st.markdown(f"**New version of the register from {md_escape(p['name'])}** (current: version "
                    f"{reg['version']}): {md_escape(d.summary())}; the file has {p['valid']} valid and "
                    f"{p['rejected']} rejected rows.")
        if d.added:
            st.markdown("Added: " + md_escape(", ".join(d.added)))
        if d.removed:
            own = state.own_answers()
            with_answers = [x for x in d.removed if own.get(x)]
            st.markdown("Removed: " + md_escape(", ".join(d.removed)))
            if with_answers:
                st.warning("Answers of removed deployments are archived (listed on the Questionnaire page and "
                           "restorable), not deleted: " + md_escape(", ".join(with_answers)))
        if d.changed:
            names = {k: ch.display_name for k, ch in lib.channels.channels.items()}
            st.dataframe(pd.DataFrame(d.rows_for_people(names)), hide_index=True, width="stretch",
                         key="register_diff_changes")
        st.caption("Answers, notes and what-if choices of deployments that stay are kept; scenario "
                   "probabilities and the organisation profile are not touched.")
        b = st.columns(2)
        if b[0].button("Replace with the new version", type="primary", key="register_confirm"):
            state.confirm_upload()
            st.rerun()
        if b[1].button("Keep the current version", key="register_cancel"):
            state.cancel_upload()
            st.rerun()

def new_workspace_panel(p: dict) -> None:
    """The first upload over the demo: the organisation's name, then a workspace of its own."""
    with st.container(border=True, key="new_workspace"):
        st.markdown(f"**Start your own workspace from {md_escape(p['name'])}** ({len(p['raw'])} rows). The demo "
                    "organisation stays as it is; Settings lists both workspaces.")
        org = st.text_input("Organisation name (shown on reports and in file names)",
                            value=state.suggested_name(p["name"]), max_chars=200, key="new_workspace_name")
        b = st.columns(2)
        if b[0].button("Create the workspace", type="primary", key="new_workspace_create"):
            try:
                state.start_workspace(p["raw"], p["name"], org)
            except ValueError as exc:
                st.error(md_escape(exc))
                return
            session.pop(NEW_WORKSPACE, None)
            st.rerun()
        if b[1].button("Cancel", key="new_workspace_cancel"):
            session.pop(NEW_WORKSPACE, None)
            st.rerun()


with st.container(border=True):
    st.subheader("Load your own inventory")
    st.caption(f"CSV (comma, semicolon or tab; UTF-8), XLSX or JSON, up to {state.MAX_UPLOAD_MB} MB. "
               "Rows with problems are listed with line, column and value — never dropped silently.")
    up = st.file_uploader("Inventory file", type=["csv", "txt", "tsv", "xlsx", "json"], key="inventory_upload")
    if up is not None and session.get(LOADED_UPLOAD) != (up.name, up.size, up.file_id):
        session[LOADED_UPLOAD] = (up.name, up.size, up.file_id)
        try:
            raw_up = state.read_upload(up.getvalue(), up.name)
            if state.workspace_is_demo():  # the demo is sample data: the first upload starts a workspace
                session[NEW_WORKSPACE] = {"raw": raw_up, "name": up.name}
            else:  # a new version of the user's register: diff first, replace on confirmation
                state.stage_upload(raw_up, up.name)
        except InventoryFileError as exc:
            session[UPLOAD_ERROR] = f"{up.name}: {exc}"
        else:
            session.pop(UPLOAD_ERROR, None)
    if session.get(UPLOAD_ERROR):
        st.error(md_escape(session[UPLOAD_ERROR]) + " — the previous inventory is still loaded.")
    for notice in session.get(UPLOAD_NOTICES) or []:
        st.info(md_escape(notice))
    if session.get(NEW_WORKSPACE):
        new_workspace_panel(session[NEW_WORKSPACE])
    if state.pending_upload():
        register_diff_panel(state.pending_upload())
    c = [st.container(horizontal=True, key="inventory_actions")] * 4  # buttons wrap on narrow windows
    c[0].download_button("Empty template (CSV)", template_csv(lib), "ai-vendor-risk-inventory-template.csv", "text/csv")
    c[1].download_button("Empty template (XLSX)", template_xlsx(lib), "ai-vendor-risk-inventory-template.xlsx", XLSX_MIME)
    if c[2].button("Undo last edit", disabled=not session.get(HISTORY), icon=":material/undo:"):
        session[UNDO_NOTE] = state.undo()
        st.rerun()
    if session.get(UNDO_NOTE):
        st.success(f"Undone: {md_escape(session.pop(UNDO_NOTE))}", icon=":material/undo:")
    if state.workspace_is_demo():
        if c[3].button("Reset the demo organisation", help="Back to the demo's own inventory and answers"):
            state.reset_to_demo()
            st.rerun()
    elif c[3].button("Open the demo organisation", help="Your workspace stays as it is (Settings lists both)"):
        state.open_demo()
        st.rerun()

result = state.inventory()
ver = session[EDITOR_VERSION]
st.markdown(f"**{result.total_rows}** rows · **{len(result.frame)}** valid · **{len(result.rejected_lines)}** "
            f"rejected — source: {md_escape(session[SOURCE])}")

if result.comment_lines:
    st.caption("Comment rows skipped (deployment_id starting with '# '): lines "
               + ", ".join(map(str, result.comment_lines)))
fixing = rejected_editor.session(result)  # the rows being fixed (None when no row is rejected)
fix = None
if fixing is not None:
    if result.errors:
        st.error("Rejected rows — fix the values below (or in your file) and they are re-validated at once:")
    else:
        st.success("Every rejected row is fixed — they are valid deployments now, listed below.")
    if result.errors:  # (an empty grid once every row is fixed: gone)
        # a height that never shrinks while rows are fixed: the editor below must not move under the cursor
        st.dataframe(state.errors_frame(result), hide_index=True, width="stretch",
                     key=f"errors_{ver}", height=35 * (fixing["error_rows"] + 1) + 3)
    fix = rejected_editor.render(result, fixing)

warnings = state.plausibility(result)
if warnings:
    st.warning(f"{len(warnings)} row(s) look implausible — they are kept and assessed; check them:",
               icon=":material/help:")
    st.dataframe(state.errors_frame(result, warnings), hide_index=True,
                 width="stretch", key=f"warnings_{ver}")

st.subheader("Deployments")
st.caption("Edit cells, add rows at the bottom, select rows and press Delete to remove them. "
           "Every edit is re-validated; invalid rows move to the list above. Undo reverts the last edit.")
view = result.frame.reset_index(drop=True)  # a 0..n-1 index: any other one is shown (blank header) when rows can be added
view["contract_end"] = pd.to_datetime(view["contract_end"])
edited = st.data_editor(
    view, key=f"inventory_editor_{ver}", num_rows="dynamic", hide_index=True, width="stretch",
    disabled=["model_vendor", "jurisdiction", "line"],
    column_order=[*INVENTORY_COLUMNS, "model_vendor", "jurisdiction", "line"],
    column_config={
        "deployment_id": st.column_config.TextColumn("Deployment ID", required=True),
        "channel": st.column_config.SelectboxColumn(FIELD_LABELS["channel"], options=list(lib.channels.channels),
                                                    required=True, format_func=lib.channel_label),
        "annual_spend_usd": money(FIELD_LABELS["annual_spend_usd"], min_value=0,
                                                         required=True),
        "committed_spend_usd": money(FIELD_LABELS["committed_spend_usd"], min_value=0),
        "criticality": st.column_config.SelectboxColumn("Criticality", options=list(ENUMS["criticality"]), required=True),
        "data_sensitivity": st.column_config.SelectboxColumn("Data sensitivity", options=list(ENUMS["data_sensitivity"]),
                                                             required=True),
        "fallback_status": st.column_config.SelectboxColumn("Fallback status", options=list(ENUMS["fallback_status"])),
        "contract_end": st.column_config.DateColumn("Contract end", format="YYYY-MM-DD"),
        "abstraction_layer": st.column_config.CheckboxColumn("Abstraction layer"),
        "proprietary_features": st.column_config.TextColumn("Proprietary features", help="';'-separated: " + ", ".join(FEATURES)),
        "line": st.column_config.NumberColumn("Line in file", format="%d",
                                               help="The row's line in the uploaded file (the header is line 1)"),
        **{c: st.column_config.TextColumn(FIELD_LABELS[c]) for c in ("name", "business_unit", "use_case", "owner",
                                                                     "model", "region")},
        "model_vendor": st.column_config.TextColumn("Model vendor"),
        "jurisdiction": st.column_config.TextColumn("Jurisdiction"),
    })


def _changed(key: str) -> bool:
    delta = session.edits(key)
    return bool(delta.get("edited_rows") or delta.get("added_rows") or delta.get("deleted_rows"))


if _changed(f"inventory_editor_{ver}"):
    state.apply_edits(edited, state.rejected_raw() if fix is None else fix.still_rejected(edited["line"]))
    st.rerun()
if fix is not None and fix.dirty:  # a fix in the rejected rows: written at once, the rows stay in place
    rejected_editor.commit(edited, fix)
    st.rerun()

c = st.columns(3)
valid = result.frame  # files are built on click (an XLSX of 20,000 rows takes seconds)
c[0].download_button("Download valid rows (CSV)", lambda: export_csv(valid), state.download_name("csv", "inventory"),
                     "text/csv")
c[1].download_button("Download valid rows (XLSX)", lambda: export_xlsx(valid),
                     state.download_name("xlsx", "inventory"), XLSX_MIME)

with st.expander(f"Register version {state.register_info()['version']} — history of versions"):
    st.dataframe(pd.DataFrame(state.register_versions()).rename(columns={
        "version": "Version", "at": "When", "source": "Source", "changes": "Changes"}),
        hide_index=True, width="stretch", key="register_versions")
