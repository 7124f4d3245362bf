"""Entry point: `streamlit run dashboard/app.py` (see `make run`)."""

import streamlit as st

from dashboard import state
from dashboard.state import auth
from dashboard.state.session import INTRO_DISMISSED, SOURCE
from risk_models.auth.roles import Permission
from risk_models.io.escape import md_escape
from risk_models.storage.errors import StorageError

st.set_page_config(page_title="AI vendor risk", page_icon=":material/shield:", layout="wide")
auth.require_sign_in()  # team mode only; single-user mode has no sign-in
try:
    state.sync()  # this tab's workspace as the database holds it (another tab or user may have changed it)
except StorageError as exc:  # no database: the app still works, the work lives in this tab only
    state.ensure_loaded()
    st.error(f"The workspace database is not available ({md_escape(state.problem_text(exc))}): your work is kept in "
             "this browser tab only until it is back. The administrator finds the details in the server log.",
             icon=":material/cloud_off:")
for message in state.notices():
    st.warning(md_escape(message), icon=":material/sync_problem:")
if auth.team_mode():
    state.sync_shared_answers()
    for message in state.answer_conflicts():
        st.warning(md_escape(message), icon=":material/group:")

# pages a user may not act on are not offered (the storage calls check the role again)
pages = [
    (None, st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True)),
    (Permission.edit_inventory, st.Page("views/inventory.py", title="Inventory", icon=":material/table:")),
    (Permission.edit_inventory, st.Page("views/discovery.py", title="Discovery", icon=":material/travel_explore:")),
    (Permission.edit_answers, st.Page("views/questionnaire.py", title="Questionnaire", icon=":material/checklist:")),
    (Permission.edit_scenarios, st.Page("views/scenarios.py", title="Scenarios", icon=":material/gavel:")),
    (None, st.Page("views/cases.py", title="Cases", icon=":material/balance:")),
    (None, st.Page("views/heatmaps.py", title="Heatmaps", icon=":material/grid_on:")),
    (None, st.Page("views/fallbacks.py", title="Fallbacks & what-if", icon=":material/alt_route:")),
    (None, st.Page("views/providers.py", title="Providers & contracts", icon=":material/handshake:")),
    (None, st.Page("views/report.py", title="Report & export", icon=":material/download:")),
    (None, st.Page("views/history.py", title="History", icon=":material/history:")),
    (Permission.edit_assumptions, st.Page("views/settings.py", title="Settings", icon=":material/tune:")),
    (Permission.review, st.Page("views/audit.py", title="Audit", icon=":material/policy:")),
]
# expanded: every page listed (collapsed, Streamlit hides all but the first 10 behind "View more")
nav = st.navigation([page for need, page in pages if need is None or auth.can(need)], expanded=True)
with st.sidebar:
    workspace_label, data_label = st.empty(), st.empty()
    auth.sidebar()


def show_source() -> None:
    workspace_label.caption(f"Workspace: **{md_escape(state.workspace_name())}**")
    data_label.caption(f"Data: {md_escape(state.current_session()[SOURCE])}")


def demo_banner() -> None:
    """What the tool is for and the three steps of a first visit, on every page of the demo workspace,
    until the visitor dismisses it (then one line says it is the demo)."""
    if not state.workspace_is_demo():
        return
    session = state.current_session()
    if session.get(INTRO_DISMISSED):
        st.caption("Demo organisation — sample data. Upload your inventory on the Inventory page to start your own "
                   "workspace." if auth.can(Permission.edit_inventory) else "Demo organisation — sample data.")
        return
    text = ("**Demo organisation** — sample data showing what the tool does: which AI deployments are exposed "
            "to litigation, contract and regulatory outcomes, what it could cost, and the fallback for each.")
    with st.container(key="intro"):
        if not auth.can(Permission.edit_inventory):
            st.info(text, icon=":material/science:")
        else:
            st.info(text + " Three steps to your own assessment:", icon=":material/science:")
            steps = [st.container(horizontal=True, key="intro_steps")] * 4  # wraps on a narrow window, never cut
            steps[0].page_link("views/inventory.py", label="1. Upload your inventory", icon=":material/upload:")
            steps[1].page_link("views/questionnaire.py", label="2. Answer what matters most",
                               icon=":material/checklist:")
            steps[2].page_link("views/report.py", label="3. Export the committee pack", icon=":material/download:")
            if steps[3].button("Hide this", key="intro_dismiss", type="tertiary", icon=":material/close:"):
                session[INTRO_DISMISSED] = True
                st.rerun()


show_source()
demo_banner()
try:
    nav.run()
finally:
    state.save()  # what the page changed, in the workspace (also when it reruns or stops early)
    show_source()  # a page may have just loaded another source (an upload): name it on this run already
