"""Report & export: downloads of the assessment (JSON report, CSV of deployments with scores)."""

import streamlit as st

from dashboard import state
from risk_models.exports import deployments_table

st.title("Report & export")
rep = state.current_report()
st.caption(f"{len(rep['deployments'])} deployments · scenario library as of {rep['scenario_library']['as_of']} · "
           f"files are named {state.download_name('<ext>')}")
c = st.columns(2)
c[0].download_button("JSON report", state.report_bytes("json"), state.download_name("json"), "application/json",
                     icon=":material/data_object:")
c[1].download_button("CSV of deployments with scores", state.report_bytes("csv"), state.download_name("csv"),
                     "text/csv", icon=":material/table:")
st.info("The PDF summary and the XLSX workbook come with the report issue; JSON and CSV are complete now.")
st.dataframe(deployments_table(rep), hide_index=True, width="stretch")
