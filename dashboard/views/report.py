"""Report & export: PDF summary, XLSX, CSV, JSON and Markdown of the current assessment.
Files are built when the button is pressed, so this page stays fast for large inventories."""

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components.columns import money, money_table
from dashboard.state.session import WHATIF_PLAN
from risk_models.config.labels import label_maps
from risk_models.config.palette import run_cost_usd
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.io.escape import md_escape
from risk_models.storage.db import StorageError

st.title("Report & export")
lib = state.library()
a = state.assessment()
frame, table = a.frame, a.residual.table
st.caption(f"{len(frame):,} deployments · scenario library as of {lib.scenarios.as_of:%d %b %Y} · "
           f"files are named {md_escape(state.download_name('<ext>'))}")
state.show_probability_banner()
c = st.columns(3)
paper = c[0].radio("PDF paper size", ["A4", "Letter"], horizontal=True, key="paper")
previous = None
try:
    baseline, review = state.saved_context()
except StorageError:
    baseline, review = None, None
if baseline is not None and c[1].checkbox(
        f"Include changes since {md_escape(baseline.label)} ({baseline.created_at:%d %b %Y})", value=True,
        key="pdf_compare", help="The last approved saved assessment, else the most recent saved one whose figures "
        "differ from these (an identical save would show every change as zero)"):
    previous = baseline
plan = state.current_session().get(WHATIF_PLAN) or {}
use_plan = bool(plan) and c[2].checkbox(f"Include the what-if plan ({sum(map(len, plan.values()))} option(s))",
                                        value=True, key="pdf_plan",
                                        help="Adds a Plan section: before/after matrix, loss, VaR, concentration "
                                        "and the actions with effort and cost (Fallbacks & what-if page)")
c = [st.container(horizontal=True, key="report_downloads")] * 5  # buttons wrap on narrow windows
c[0].download_button("PDF summary", state.report_download(f"pdf-{paper.lower()}", previous,
                                                                   plan if use_plan else None, review),
                     state.download_name("pdf"),
                     "application/pdf", icon=":material/picture_as_pdf:", type="primary",
                     help="Executive summary for a risk committee: heatmap, concentration, high/critical deployments, "
                     "scenario assumptions, exit plans, appendix")
c[1].download_button("XLSX workbook", state.report_download("xlsx"), state.download_name("xlsx"),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/grid_on:")
c[2].download_button("CSV", state.report_download("csv"), state.download_name("csv"), "text/csv",
                     icon=":material/table:", help="One row per deployment; formula-like text is neutralised")
c[3].download_button("JSON report", state.report_download("json"), state.download_name("json"), "application/json",
                     icon=":material/data_object:", help="The full report of `assess`")
c[4].download_button("Markdown", state.report_download("md", plan=plan if use_plan else None), state.download_name("md"), "text/markdown",
                     icon=":material/description:")
for kind, message in state.export_failures().items():  # a failed download is never silent
    st.error(f"The {kind.split('-')[0].upper()} export failed: {md_escape(message)}. The other files are not "
             "affected; please report this with the server log.")
st.subheader("Decisions asked of the committee")
rec = recommendations_of(a)
decisions = [(i, rec.record(k, i)) for i, k in rec.decisions()]
if decisions:
    money_table(pd.DataFrame({
        "Deployment": [f"{frame['deployment_id'].iat[i]} — {frame['name'].iat[i]}" for i, _ in decisions],
        "Exit to approve": [r["label"] for _, r in decisions],
        "Loss avoided / yr": [r["expected_loss_reduction_usd"] for _, r in decisions],
        "One-off cost": [r["one_off_cost_usd"] for _, r in decisions],
        "Effort (person-weeks)": [f"{r['effort_weeks'][0]:g}–{r['effort_weeks'][1]:g}" for _, r in decisions],
        "Loss avoided per $1 spent once": [r["loss_avoided_per_usd"] for _, r in decisions],
        "Run cost change / yr": [run_cost_usd(r["run_cost_delta_usd"]) for _, r in decisions]}),
        hide_index=True, width="stretch", key="committee_decisions", column_config={
            "Loss avoided / yr": money(),
            "One-off cost": money(),
            "Loss avoided per $1 spent once": st.column_config.NumberColumn(format="%.2f")})
    st.caption("The exits (another channel, model or vendor) that avoid the most expected loss a year per dollar "
               "spent once (one-off cost and effort), as in the PDF. The run-cost change, from list prices per model "
               "and channel, is its own column and never added in; “unknown” where no price is listed.")
else:
    st.caption("No exit lowers the expected loss of any deployment: no decision is needed.")

labels = label_maps(lib)
preview = pd.DataFrame({"Deployment": frame["deployment_id"], "Name": frame["name"],
                        "Business unit": frame["business_unit"],
                        "Channel": frame["channel"].map(labels["channel"]).fillna(frame["channel"]), "Model": frame["model"],
                        "Score": table["score"], "Rating": table["rating"], "Likelihood": table["likelihood"],
                        "Impact": table["impact"], "Expected loss / yr": a.simulation.expected_by_deployment})
money_table(preview, hide_index=True, width="stretch", column_config={
    "Score": st.column_config.NumberColumn(format="%.1f"),
    "Expected loss / yr": money()})
