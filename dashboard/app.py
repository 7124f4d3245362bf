"""Entry point: `streamlit run dashboard/app.py` (see `make run`)."""

import streamlit as st

from dashboard import state
from dashboard.state import auth
from risk_models.auth.roles import Permission
from risk_models.io.escape import md_escape

st.set_page_config(page_title="AI vendor risk", page_icon=":material/shield:", layout="wide")
auth.require_sign_in()  # team mode only; single-user mode has no sign-in
state.ensure_loaded()
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
    (None, st.Page("views/heatmaps.py", title="Heatmaps", icon=":material/grid_on:")),
    (None, st.Page("views/fallbacks.py", title="Fallbacks & what-if", icon=":material/alt_route:")),
    (None, st.Page("views/providers.py", title="Providers & contracts", icon=":material/handshake:")),
    (None, st.Page("views/report.py", title="Report & export", icon=":material/download:")),
    (None, st.Page("views/history.py", title="History", icon=":material/history:")),
    (Permission.edit_assumptions, st.Page("views/settings.py", title="Settings", icon=":material/tune:")),
    (Permission.review, st.Page("views/audit.py", title="Audit", icon=":material/policy:")),
]
nav = st.navigation([page for need, page in pages if need is None or auth.can(need)])
with st.sidebar:
    data_label = st.empty()
    auth.sidebar()


def show_source() -> None:
    data_label.caption(f"Data: {md_escape(st.session_state['source'])}")


show_source()
try:
    nav.run()
finally:
    show_source()  # a page may have just loaded another source (an upload): name it on this run already
