"""Cases: the litigation and regulatory exposure case by case — which deployments each case reaches and
through which path, what it carries and what its adverse outcome would cost, the way out, and the dates
to watch (a calendar file for the team's calendars)."""

from urllib.parse import urlparse

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components import charts
from dashboard.components.columns import money, money_delta, money_table, percent
from dashboard.state import cases as case_state
from dashboard.state.session import CASE_OPEN, CASE_STRESSED
from risk_models.io.escape import md_escape
from risk_models.report.cases import CaseRecord

session = state.current_session()
lib = state.library()
a = state.assessment()
today = lib.reference_date

st.title("Cases")
st.caption(f"The scenario pack's cases and rules as of {lib.scenarios.as_of:%d %b %Y}; dates counted from "
           f"{today:%d %b %Y}. Expected loss is the share of the annual expected loss each case carries; "
           "“if adverse” is the change when its most costly outcome happens.")
records = case_state.cases()
money_col = money()


def _next(c: CaseRecord) -> str:
    m = c.next_milestone
    return f"{m.date:%d %b %Y}: {m.label}{' (expected)' if m.expected else ''}" if m else "No date announced"


overview = pd.DataFrame([{
    "Case": c.label, "Court or authority": c.forum, "Reference": c.reference or "—", "Next date": _next(c),
    "Deployments reached": len(c.reached), "Expected loss / yr": c.expected_loss_usd,
    "Change if adverse / yr": c.loss_if_adverse_usd,
    "Best way out": c.best_option.label if c.best_option else "—"} for c in records])
money_table(overview, hide_index=True, width="stretch", column_config={
    "Expected loss / yr": money_col, "Change if adverse / yr": money_col})

st.subheader("Open a case")
by_id = {c.event_id: c for c in records}
event_id = st.selectbox("Case", list(by_id), format_func=lambda e: by_id[e].label, key=CASE_OPEN.name)
case = by_id[event_id]
left, right = st.columns([3, 2])
with left:
    st.markdown(f"**{md_escape(case.forum)}**" + (f" · {md_escape(case.reference)}" if case.reference else ""))
    when = f" (as of {case.status_as_of:%d %b %Y})" if case.status_as_of else ""
    st.markdown(f"Status{when}: {md_escape(case.status)}")
    st.markdown("**Timeline**")
    if case.milestones:
        st.dataframe(pd.DataFrame([{
            "Date": m.date, "Step": m.label + (" (expected)" if m.expected else ""),
            "Passed": "yes" if m.date < today else "", "What to re-assess": m.reassess, "Source": m.source.url}
            for m in case.milestones]), hide_index=True, width="stretch", column_config={
            "Date": st.column_config.DateColumn(format="D MMM YYYY"),
            "Source": st.column_config.LinkColumn(display_text=r"https?://(?:www\.)?([^/]+)")})
    else:
        st.caption("No date announced.")
with right:
    st.markdown("**Outcomes**")
    st.dataframe(pd.DataFrame([{"Outcome": o.label, "Probability": o.probability,
                                "Most costly": "yes" if o.id == case.adverse_outcome else ""}
                               for o in case.outcomes]), hide_index=True, width="stretch",
                 column_config={"Probability": percent()})

st.markdown(f"**Reaches {len(case.reached)} deployment(s)** — expected loss ${case.expected_loss_usd:,.0f} a year"
            + (f"; best way out: {md_escape(case.best_option.label)} (removes ${case.best_option.loss_removed_usd:,.0f}"
               f" a year over {case.best_option.deployments} deployment(s))" if case.best_option else ""))
if case.reached:
    money_table(pd.DataFrame([{"Deployment": r.deployment_id, "Name": r.name, "Path (vendor → channel → cloud)": r.path,
                                "Expected loss / yr": r.expected_loss_usd, "Change if adverse / yr": r.loss_if_adverse_usd}
                               for r in case.reached]), hide_index=True, width="stretch",
                 column_config={"Expected loss / yr": money_col, "Change if adverse / yr": money_col})

if case.adverse_outcome:
    adverse = next(o for o in case.outcomes if o.id == case.adverse_outcome)
    if st.button(f"Stress this case: “{adverse.label}” happens", icon=":material/bolt:", key="case_stress_btn"):
        session[CASE_STRESSED] = case.adverse_outcome
    if session.get(CASE_STRESSED) == case.adverse_outcome:
        d = case_state.case_stress(case.adverse_outcome)["portfolio"]
        el, var95, hc = d["expected_annual_loss_usd"], d["var95_usd"], d["high_or_critical"]
        m = st.columns(3)
        m[0].metric("Expected annual loss", f"${el['after']:,.0f}", money_delta(el["delta"]), delta_color="inverse",
                    help=f"before: ${el['before']:,.0f}")
        m[1].metric("VaR 95 (annual)", f"${var95['after']:,.0f}", money_delta(var95["delta"]), delta_color="inverse",
                    help=f"before: ${var95['before']:,.0f}")
        m[2].metric("High or critical", f"{hc['after']}", f"{hc['after'] - hc['before']:+d}", delta_color="inverse",
                    help=f"before: {hc['before']}")
        names = a.frame["name"].where(a.frame["name"] != "", a.frame["deployment_id"])
        b, s = st.columns(2)
        with b:
            st.markdown("**Before**")
            st.html(charts.risk_matrix_html(a.residual.table, names, lib.scoring.rating_bounds))
        with s:
            st.markdown("**If it happens**")
            st.html(charts.risk_matrix_html(case_state.stressed_table(case.adverse_outcome), names,
                                            lib.scoring.rating_bounds))
else:
    st.caption("No outcome of this case raises a loss: nothing to stress.")

st.markdown("**Sources**")
# a table, not Markdown links: a pack's text and URLs are shown as text, the link opens only the URL itself
st.dataframe(pd.DataFrame([{"Date": src.date, "Title": src.title, "Site": urlparse(src.url).netloc, "Link": src.url}
                           for src in case.sources]), hide_index=True, width="stretch", column_config={
    "Date": st.column_config.DateColumn(format="D MMM YYYY"),
    "Link": st.column_config.LinkColumn(display_text="open")})

st.subheader("Dates to watch")
within = st.select_slider("Window", [30, 60, 90, 180, 365], value=90, format_func=lambda d: f"next {d} days",
                          key="case_watch_days")
items = case_state.dates_to_watch(within)
if items:
    st.dataframe(pd.DataFrame([{"Date": w.date, "What": w.kind, "Detail": w.title, "What to re-assess": w.reassess}
                               for w in items]), hide_index=True, width="stretch",
                 column_config={"Date": st.column_config.DateColumn(format="D MMM YYYY")})
else:
    st.caption(f"Nothing dated in the next {within} days.")
st.download_button("Download the dates (iCalendar .ics)", lambda: case_state.calendar_file(within),
                   file_name=state.download_name("ics", f"dates-to-watch-{within}d"), mime="text/calendar",
                   icon=":material/calendar_month:", on_click="ignore")
