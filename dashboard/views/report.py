"""Report & export: downloads of the assessment (JSON report, CSV of deployments with scores).
Files are built when the button is pressed, so this page stays fast for large inventories."""

import pandas as pd
import streamlit as st

from dashboard import state

st.title("Report & export")
lib = state.library()
a = state.assessment()
frame, table = a.frame, a.residual.table
st.caption(f"{len(frame):,} deployments · scenario library as of {lib.scenarios.as_of:%d %b %Y} · "
           f"files are named {state.download_name('<ext>')}")
c = st.columns(2)
c[0].download_button("JSON report", state.report_download("json"), state.download_name("json"), "application/json",
                     icon=":material/data_object:", help="The full report of `assess`: scores, drivers, fallbacks, "
                     "exit plans, concentration, simulation, heatmap")
c[1].download_button("CSV of deployments with scores", state.report_download("csv"), state.download_name("csv"),
                     "text/csv", icon=":material/table:", help="One row per deployment; formula-like text is neutralised")
st.info("The PDF summary and the XLSX workbook come with the report issue; JSON and CSV are complete now.")
preview = pd.concat([frame[["deployment_id", "name", "business_unit", "channel", "model"]],
                     table[["score", "rating", "likelihood", "impact"]]], axis=1)
preview["expected loss"] = a.simulation.expected_by_deployment
st.dataframe(preview, hide_index=True, width="stretch", column_config={
    "score": st.column_config.NumberColumn(format="%.1f"),
    "expected loss": st.column_config.NumberColumn(format="$%.0f")})
