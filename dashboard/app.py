"""Entry point: `streamlit run dashboard/app.py` (see `make run`)."""

import streamlit as st

from dashboard import state
from risk_models.markdown_text import md_escape

st.set_page_config(page_title="AI vendor risk", page_icon=":material/shield:", layout="wide")
state.ensure_loaded()

pages = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/inventory.py", title="Inventory", icon=":material/table:"),
    st.Page("views/discovery.py", title="Discovery", icon=":material/travel_explore:"),
    st.Page("views/questionnaire.py", title="Questionnaire", icon=":material/checklist:"),
    st.Page("views/scenarios.py", title="Scenarios", icon=":material/gavel:"),
    st.Page("views/heatmaps.py", title="Heatmaps", icon=":material/grid_on:"),
    st.Page("views/fallbacks.py", title="Fallbacks & what-if", icon=":material/alt_route:"),
    st.Page("views/providers.py", title="Providers & contracts", icon=":material/handshake:"),
    st.Page("views/report.py", title="Report & export", icon=":material/download:"),
    st.Page("views/history.py", title="History", icon=":material/history:"),
    st.Page("views/settings.py", title="Settings", icon=":material/tune:"),
]
nav = st.navigation(pages)
with st.sidebar:
    data_label = st.empty()


def show_source() -> None:
    data_label.caption(f"Data: {md_escape(st.session_state['source'])}")


show_source()
try:
    nav.run()
finally:
    show_source()  # a page may have just loaded another source (an upload): name it on this run already
