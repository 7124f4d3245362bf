"""Heatmaps: 5x5 matrix (click a cell to list its deployments), business unit x outcome, channel x
dimension, concentration, loss-exceedance curve; filters by business unit, channel, rating."""

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts
from dashboard.components.columns import DRIVER_ROW_PX, driver_lines
from dashboard.state.session import HM_CELL, HM_CLICKED
from risk_models.config.domain import DIMENSIONS
from risk_models.config.labels import human, label_maps, level_text
from risk_models.engine.assessment import drivers_of
from risk_models.engine.concentration import concentration
from risk_models.engine.score import RATINGS

st.title("Heatmaps")
session = state.current_session()
lib = state.library()
a = state.assessment()
frame, table = a.frame, a.residual.table

f = st.columns(3)
bus = f[0].multiselect("Business unit", sorted(frame["business_unit"].unique()), key="hm_bu", placeholder="all")
labels = label_maps(lib)
chs = f[1].multiselect("Channel", sorted(frame["channel"].unique()), key="hm_channel", placeholder="all",
                       format_func=lambda c: human("channel", c, labels))
rts = f[2].multiselect("Rating", list(RATINGS), key="hm_rating", placeholder="all")
mask = pd.Series(True, index=frame.index)
if bus:
    mask &= frame["business_unit"].isin(bus)
if chs:
    mask &= frame["channel"].isin(chs)
if rts:
    mask &= table["rating"].isin(rts)
sel = mask.to_numpy()
st.caption(f"{int(sel.sum()):,} of {len(frame):,} deployments shown")
if not sel.any():
    st.info("No deployment matches the filters.")
    st.stop()
names = frame["name"].where(frame["name"] != "", frame["deployment_id"])

left, right = st.columns([3, 2])  # the matrix wide enough for its level words at 1024 px
with left:
    st.subheader("Likelihood × impact")
    bands = lib.profile.risk_appetite.impact_usd
    st.caption("Likelihood: the annual chance that anything material reaches the deployment (1 below "
               f"{lib.scoring.likelihood_bounds[0]:.0%} … 5 from {lib.scoring.likelihood_bounds[-1]:.0%}). Impact: the "
               f"loss when it does, banded by the risk appetite (2 from ${bands[0]:,.0f}, 3 from ${bands[1]:,.0f}, "
               f"4 from ${bands[2]:,.0f}, 5 from ${bands[3]:,.0f}; Settings).")
    event = st.plotly_chart(charts.risk_matrix(table[sel], names[sel], lib.scoring.rating_bounds), key="hm_matrix",
                            on_select="rerun", selection_mode="points")
    points = (event.selection.points if event and event.selection else []) or []
    cells = [(int(p["y"]), int(p["x"])) for p in points if "x" in p and "y" in p]
    counts = table[sel].groupby(["likelihood", "impact"]).size()
    # worst cells first: the default listing is where the risk is
    options = sorted(((lik, imp) for lik in range(1, 6) for imp in range(1, 6) if counts.get((lik, imp), 0)),
                     key=lambda c: (-c[0] * c[1], -c[0]))
    if cells and cells[0] in options and session.get(HM_CLICKED) != cells[0]:
        # a new click on the chart picks the cell (the picker below stays usable without a mouse)
        session[HM_CLICKED] = session[HM_CELL] = cells[0]
    if session.get(HM_CELL) not in options:
        session.pop(HM_CELL, None)
with right:
    cell = st.selectbox("Deployments in cell", options, format_func=lambda c: f"likelihood {level_text('likelihood', c[0])} "
                        f"× impact {level_text('impact', c[1])} ({counts[c]})", key=HM_CELL.name)
    st.caption("Click a cell of the matrix or pick one here: its deployments are listed below the matrix, each "
               "with the outcomes that drive its score.")
# the cell's deployments across the page: the drivers need the width to be read in full
lik, imp = cell
members = [int(i) for i in frame.index[sel & (table["likelihood"] == lik).to_numpy() &
                                       (table["impact"] == imp).to_numpy()]]
st.subheader(f"Likelihood {level_text('likelihood', lik)} × impact {level_text('impact', imp)}: "
             f"{len(members)} deployment(s)")
rows = []
listed = sorted(members, key=lambda i: -table.at[i, "score"])[:200]
for i, d in zip(listed, drivers_of(a, listed), strict=True):
    outs = [x for x in d if x["kind"] == "outcome"][:3]
    rows.append({"Deployment": frame.at[i, "deployment_id"], "Name": frame.at[i, "name"],
                 "Score": table.at[i, "score"], "Rating": table.at[i, "rating"],
                 "Top drivers": driver_lines(outs)})
# rows tall enough for the drivers to wrap (Streamlit wraps text only in rows over 64 px): read in full
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", row_height=DRIVER_ROW_PX,
             height=min(560, DRIVER_ROW_PX * len(rows) + 38), column_config={
                 "Deployment": st.column_config.TextColumn(pinned=True),  # in view when scrolled to the drivers
                 "Score": st.column_config.NumberColumn(format="%.1f"),
                 "Top drivers": st.column_config.TextColumn(width="large")})

# The four portfolio charts in tabs drawn only when opened (lazy tabs): the page switch draws 2 plotly
# charts, not 5 (each costs the browser ~0.1-0.3 s); same figures, one click away.
views = st.tabs(["Business unit × outcome", "Channel × dimension", "Concentration", "Loss exceedance"],
                key="hm_view", on_change="rerun")
outs = a.residual.outcomes


def _outcome_label(j: int) -> str:
    """An outcome named with its event ("Appeal dismissed" alone does not say which case)."""
    event, label = str(outs.event_labels[j]), str(outs.labels[j])
    if event in label:
        return _cut(label, 70)
    return f"{_cut(event, 32)}: {_cut(label, 70 - min(len(event), 32) - 2)}"


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


if views[0].open:
    with views[0]:
        st.subheader("Business unit × outcome")
        points = pd.DataFrame(a.residual.outcome_points[sel], columns=a.residual.outcomes.labels)
        bu_out = points.groupby(frame["business_unit"][sel].to_numpy()).mean()
        bu_out.columns = range(bu_out.shape[1])
        bu_out = bu_out.loc[:, bu_out.abs().max() > 0.05].T  # outcomes as rows: long labels read better there
        full = [f"{outs.event_labels[j]}: {outs.labels[j]}" if str(outs.event_labels[j]) not in str(outs.labels[j])
                else str(outs.labels[j]) for j in bu_out.index]
        bu_out.index = [_outcome_label(j) for j in bu_out.index]
        st.plotly_chart(charts.matrix_heatmap(bu_out, "Average score points per deployment (outcome × business unit)",
                                              "points", row_names=full), key="hm_bu_outcome")
        st.caption("Long outcome names are shortened on the axis; hover a cell for the full name.")

if views[1].open:
    with views[1]:
        st.subheader("Channel × dimension")
        ch_dim = table.loc[sel, list(DIMENSIONS)].groupby(frame["channel"][sel].to_numpy()).mean()
        ch_dim.index = [human("channel", c, labels) for c in ch_dim.index]
        ch_dim.columns = [c.capitalize() for c in ch_dim.columns]
        st.plotly_chart(charts.matrix_heatmap(ch_dim, "Average dimension score (0-100)", "score"),
                        key="hm_channel_dim")

if views[2].open:
    with views[2]:
        st.subheader("Concentration")
        weight = st.radio("Weighted by", ["spend", "criticality"], horizontal=True, key="hm_weight")
        st.plotly_chart(charts.concentration_bars(concentration(frame[sel], lib), weight, labels), key="hm_conc")

if views[3].open:
    with views[3]:
        st.subheader("Loss exceedance (whole portfolio)")
        s = a.simulation.summary(frame)
        st.plotly_chart(charts.loss_exceedance(s["lec"], {"VaR 95": s["var95_usd"], "VaR 99": s["var99_usd"]}),
                        key="hm_lec")
        st.caption(f"Expected annual loss ${s['expected_annual_loss_usd']:,.0f}; VaR 90 ${s['var90_usd']:,.0f}, "
                   f"VaR 95 ${s['var95_usd']:,.0f}, VaR 99 ${s['var99_usd']:,.0f} ({s['trials']:,} simulated years).")
