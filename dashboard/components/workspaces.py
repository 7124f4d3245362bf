"""Settings → Workspaces: every workspace on this server's database (a group and its subsidiaries, a test
copy, the demo), to open, rename, copy or archive; and, in single-user mode, the name the audit trail
records for you."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.state import auth
from dashboard.state.session import LOCAL_NAME, WORKSPACE
from risk_models.io.escape import md_escape


def _when(t) -> str:
    return f"{t:%d %b %Y %H:%M} UTC"


def workspaces_panel() -> None:
    st.subheader("Workspaces")
    st.caption("Everything done in a workspace — inventory, answers, probabilities, settings, providers, the plan — "
               "is kept on the server as it is made: a refresh, another tab or a restart shows the same state.")
    show_archived = st.toggle("Show archived workspaces", key="ws_show_archived")
    rows = state.workspaces(include_archived=show_archived)
    current = state.current_session().get(WORKSPACE)
    st.dataframe(pd.DataFrame([{"Workspace": w.name + ("  (open here)" if w.id == current else ""),
                                "Kind": "Demo" if w.is_demo else "Organisation",
                                "Last changed": _when(w.updated_at), "By": w.updated_by,
                                "Archived": "yes" if w.archived else ""} for w in rows]),
                 hide_index=True, width="stretch", key="ws_table")
    by_id = {w.id: w for w in rows}
    chosen = st.selectbox("Workspace", list(by_id), format_func=lambda i: by_id[i].name, key="ws_chosen",
                          index=list(by_id).index(current) if current in by_id else 0)
    if chosen is None:
        return
    w = by_id[chosen]
    c = st.columns([1, 1, 1, 2])
    if c[0].button("Open", disabled=chosen == current, key="ws_open", type="primary"):
        state.save()
        state.open_workspace(chosen)
        st.rerun()
    if c[1].button("Restore" if w.archived else "Archive", key="ws_archive", disabled=chosen == current,
                   help="Archived workspaces are hidden from this list, never deleted"):
        state.archive(chosen, not w.archived)
        st.rerun()
    if c[2].button("Copy", key="ws_copy", help="A copy to try changes on"):
        state.copy(chosen, f"{w.name} (copy)"[:200])
        st.rerun()
    with c[3].form("ws_rename_form", border=False):
        new = st.text_input("New name", value=w.name, max_chars=200, key=f"ws_rename_{chosen}")
        if st.form_submit_button("Rename"):
            try:
                state.rename(chosen, new)
            except ValueError as exc:
                st.error(md_escape(exc))
            else:
                st.rerun()


def local_name_panel() -> None:
    """Single-user mode: the name on audit entries (team mode names the signed-in user)."""
    if auth.team_mode():
        return
    ss = state.current_session()
    name = st.text_input("Your name in the audit trail", value=state.actor_name(), max_chars=200,
                         help="Default: your operating-system account's full name", key="local_name_input")
    if name.strip() and name.strip() != state.actor_name():
        ss[LOCAL_NAME] = name.strip()
        st.toast(f"Changes are now recorded as {md_escape(name.strip())}.")
