"""Overview: KPIs, the 5x5 matrix, top exposures with their drivers, concentration, rejected rows."""

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts
from dashboard.components.columns import DRIVER_ROW_PX, driver_lines, money, money_table, share_bar
from dashboard.state import auth
from dashboard.state.session import CHARTS_PRELOAD_TICK, CHARTS_PRELOADED, SOURCE
from risk_models.auth.roles import Permission
from risk_models.config.labels import human, label_maps
from risk_models.config.palette import interval_text, short_usd
from risk_models.engine.assessment import drivers_of
from risk_models.engine.concentration import concentration
from risk_models.engine.lenses import LENSES, lens_split
from risk_models.io.escape import md_escape

session = state.current_session()
lib = state.library()
a = state.assessment()
result, frame, table = a.inventory, a.frame, a.residual.table
summary = a.simulation.summary(frame)

st.title("AI vendor-risk overview")
pack_name, age = state.pack_status()
st.caption(f"{md_escape(session[SOURCE])} · scenario library {md_escape(pack_name)} as of "
           f"{lib.scenarios.as_of:%d %b %Y} ({age.text()}; {lib.scenarios.horizon_months}-month horizon) · "
           f"{summary['trials']:,} simulated years")
state.show_pack_age_banner()
state.show_probability_banner()
labels = label_maps(lib)

spend = frame["annual_spend_usd"].sum()



hi_crit = int(table["rating"].isin(["high", "critical"]).sum())
# two rows of three: figures stay whole at 1024 px as well as on a wide screen
c = [*st.columns(3), *st.columns(3)]
c[0].metric("Deployments (valid)", f"{len(frame):,}")
c[1].metric("Annual AI spend", short_usd(spend), help=f"${spend:,.0f}")
c[2].metric("High or critical", f"{hi_crit:,}", help="Rating from the 5x5 likelihood x impact matrix")
c[3].metric("Expected annual loss", short_usd(summary["expected_annual_loss_usd"]),
            help=f"${summary['expected_annual_loss_usd']:,.0f} a year, averaged over the simulated years")
c[4].metric("VaR 95 (annual)", short_usd(summary["var95_usd"]),
            help=f"${summary['var95_usd']:,.0f}: the loss exceeded in 1 simulated year out of 20")
c[5].metric("Rejected rows", f"{len(result.rejected_lines):,}")
interval_slot = st.empty()  # filled at the end of the page: the figures do not wait for the intervals (~0.5 s)


def show_intervals() -> None:
    intervals = a.intervals
    if intervals:
        interval_slot.caption(
            f"Expected loss {short_usd(summary['expected_annual_loss_usd'])} "
            f"({interval_text(intervals['expected_annual_loss_usd'])}); VaR 95 {short_usd(summary['var95_usd'])} "
            f"({interval_text(intervals['var95_usd'])}). The intervals come from the uncertainty of the outcomes' "
            "probabilities and severities (ranges by confidence, Settings), not only from sampling noise.")


# the two lenses: what the litigation and regulation in the supply chain carries, beside everyday operations
split = lens_split(a)
lens_loss = {k: float(v.sum()) for k, v in split.loss.items()}
lc = st.columns(3)
lc[0].metric("Litigation & regulatory", short_usd(lens_loss["litigation_regulatory"]),
             help=f"${lens_loss['litigation_regulatory']:,.0f} a year of the expected loss comes from the scenario "
                  "pack's cases and rules (the Cases page lists them one by one)")
lc[1].metric("Operational baseline", short_usd(lens_loss["operational"]),
             help=f"${lens_loss['operational']:,.0f} a year from outages, price and quota changes, model retirements "
                  "and vendor failure")
lc[2].caption("The two add up to the expected annual loss.")

if result.errors:
    st.error(f"{len(result.rejected_lines) or len(frame) or 1} row(s) were rejected and are not assessed — "
             "they are listed here and can be fixed on the Inventory page.")
    st.dataframe(state.errors_frame(result), hide_index=True, width="stretch")

left, right = st.columns([1, 1])
with left:
    st.subheader("Risk matrix")
    # static HTML, not plotly: the first page a visitor sees does not wait for plotly.js (see charts)
    st.html(charts.risk_matrix_html(table, frame["name"].where(frame["name"] != "", frame["deployment_id"]),
                                    lib.scoring.rating_bounds))
    st.caption("Hover a cell for its deployments; the Heatmaps page lists them and filters the matrix.")
with right:
    st.subheader("Share of spend by channel")
    shares = (frame.groupby("channel")["annual_spend_usd"].sum() / max(spend, 1)).sort_values(ascending=False)
    spend_table = pd.DataFrame({"Channel": [human("channel", c, labels) for c in shares.index],
                                "Share of spend": shares.to_numpy()})
    st.dataframe(spend_table, hide_index=True, width="stretch",
                 column_config={"Share of spend": share_bar()})
    st.subheader("Concentration")
    conc = concentration(frame, lib)
    rows = [{"By": human("axis", axis), "HHI (spend)": f"{v['spend']['hhi']:,.0f}", "Band": v["spend"]["band"],
             "Largest": f"{human(axis, v['spend']['top'], labels)} ({v['spend']['top_share']:.0f}%)"}
            for axis, v in conc.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("HHI bands (2023 US Merger Guidelines): < 1,000 unconcentrated, 1,000–1,800 moderate, > 1,800 high.")

st.subheader("Top 10 exposed deployments")
RANK_BY = {"Score": None, **{label: k for k, label in LENSES.items()}}
rank_by = st.segmented_control("Rank by", list(RANK_BY), default="Score", key="overview_rank_by") or "Score"
lens = RANK_BY[rank_by]
# a lens ranks by the expected loss it carries (the column the table shows for it)
order = table["score"] if lens is None else pd.Series(split.loss[lens], index=table.index)
top = table.loc[order.sort_values(ascending=False, kind="stable").index].head(10)
rows = []
for i, d in zip(top.index, drivers_of(a, [int(i) for i in top.index]), strict=True):
    top_out = [x for x in d if x["kind"] == "outcome"][:3]
    rows.append({"Deployment": frame.at[i, "deployment_id"], "Name": frame.at[i, "name"],
                 "Channel": human("channel", frame.at[i, "channel"], labels), "Score": table.at[i, "score"],
                 "Rating": table.at[i, "rating"],
                 "Top drivers": driver_lines(top_out),
                 "Expected loss / yr": a.simulation.expected_by_deployment[i],
                 "Litigation & regulatory / yr": split.loss["litigation_regulatory"][i],
                 "Operational / yr": split.loss["operational"][i]})
money_col = money()
money_table(pd.DataFrame(rows), hide_index=True, width="stretch", row_height=DRIVER_ROW_PX,
             height=DRIVER_ROW_PX * len(rows) + 38, column_config={  # all ten rows, no scrolling inside
    "Deployment": st.column_config.TextColumn(pinned=True),  # in view when a narrow window scrolls to the drivers
    "Top drivers": st.column_config.TextColumn(width="large"),
    "Score": st.column_config.ProgressColumn(format="%.1f", min_value=0, max_value=100),
    "Expected loss / yr": money_col, "Litigation & regulatory / yr": money_col, "Operational / yr": money_col})

if auth.can(Permission.edit_inventory):  # no link to a page the role does not have (it would be an error)
    st.page_link("views/inventory.py", label="Load your own inventory", icon=":material/upload:")

show_intervals()

# plotly.js (4.7 MB, 2-4 s of browser CPU on this machine) loads while the user reads this page, so the
# first switch to a page with charts does not wait for it: an invisible chart, drawn by a rerun one
# second after this page (loading it at once would hold up this page's own tables).
if session.get(CHARTS_PRELOADED):
    with st.container(key="plotly_preload"):
        st.html("<style>.st-key-plotly_preload { display: none; }</style>")
        st.plotly_chart(charts.preload_figure(), key="plotly_preload_chart")
else:
    session[CHARTS_PRELOAD_TICK] = False

    @st.fragment(run_every=1.0)
    def _preload_charts_soon() -> None:
        if session[CHARTS_PRELOAD_TICK]:  # the timed rerun, a second after the page was drawn
            session[CHARTS_PRELOADED] = True
            st.rerun()
        session[CHARTS_PRELOAD_TICK] = True

    _preload_charts_soon()
