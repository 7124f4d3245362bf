"""History: save the current assessment, list, reopen, delete (with confirmation), compare two,
and the trend of portfolio figures over saved assessments."""

import datetime as dt
import os

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import state
from dashboard.components.columns import money_delta, percent
from dashboard.state import auth
from dashboard.state.session import HIST_ERROR, HIST_REOPEN, HIST_SURE, REVIEW_DONE, REVIEW_ERROR
from risk_models.auth.roles import Permission, PermissionDenied
from risk_models.io.escape import md_escape
from risk_models.storage import repository as repo
from risk_models.storage import team
from risk_models.storage.db import StorageError


def _answer_text(value: object) -> str:
    if value is None:
        return "—"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


st.title("History")
session = state.current_session()
try:
    engine = state.storage()
except StorageError as exc:
    st.error(f"The assessment database is not available: {md_escape(state.problem_text(exc))}. The administrator "
             "finds the details in the server log.")
    st.stop()
st.caption("Saved in the organisation's shared database." if "DATABASE_URL" in os.environ else
           "Saved in the database on this computer (your user data folder).")

actor = auth.actor()
if actor.can(Permission.save_draft):
    with st.form("save_form", clear_on_submit=True):
        st.subheader("Save the current assessment")
        c = st.columns([2, 2, 1])
        label = c[0].text_input("Label", placeholder=f"{state.org_name()} {dt.date.today():%Y-%m-%d}")
        if auth.team_mode():  # the author is who is signed in, not free text
            c[1].text_input("Author", value=actor.name, disabled=True)
            author = actor.name
        else:
            author = c[1].text_input("Author", value=state.actor_name())
        if c[2].form_submit_button("Save", type="primary"):
            name = label.strip() or f"{state.org_name()} {dt.date.today():%Y-%m-%d}"
            try:
                new_id = repo.save_assessment(engine, state.assessment(), name, author.strip(), state.org_name(),
                                             register=state.register_info(), actor=actor,
                                             workspace=state.workspace_extras())
            except (StorageError, PermissionDenied) as exc:  # e.g. a NUL character in the label
                st.error(f"Not saved: {md_escape(exc)}")
            else:
                st.toast(f"Saved as assessment {new_id}")

def reopen_panel(pick: int) -> None:
    """What reopening replaces in the workspace, then the replacement on confirmation."""
    try:
        saved = repo.load(engine, pick)
        changes = state.reopen_changes(saved)
    except StorageError as exc:  # a damaged row: say which, the others stay usable
        st.error(md_escape(exc))
        return
    with st.container(border=True, key="hist_reopen_panel"):
        st.markdown(f"**Reopening {md_escape(names[pick])} replaces this workspace's:**")
        st.markdown("\n".join(f"- {md_escape(c)}" for c in changes))
        st.caption("Save the current assessment first to keep it; the audit trail records the replacement.")
        b = st.columns(2)
        if b[0].button("Replace with the saved assessment", type="primary", key="hist_reopen_confirm"):
            state.open_saved(saved)
            session.pop(HIST_REOPEN, None)
            st.success(f"Opened {md_escape(names[pick])}: every page now shows it.")
        if b[1].button("Keep the workspace as it is", key="hist_reopen_cancel"):
            session.pop(HIST_REOPEN, None)
            st.rerun()


rows = repo.list_assessments(engine)
if not rows:
    st.info("No saved assessments yet. Save the current one above; reassess quarterly and compare.")
    st.stop()
table = pd.DataFrame(rows)
st.subheader("Saved assessments")


def _when(col: str) -> pd.Series:
    return pd.to_datetime(table[col], utc=True, format="ISO8601").dt.strftime("%d %b %Y %H:%M").fillna("")


listing = pd.DataFrame({
    "#": table["id"], "Label": table["label"], "Author": table["author"], "Saved (UTC)": _when("created_at"),
    "Status": table["status"].map(team.STATUS_LABELS).fillna(table["status"]),
    "Submitted by": table["submitted_by"].fillna(""), "Submitted (UTC)": _when("submitted_at"),
    "Reviewed by": table["reviewed_by"].fillna(""), "Reviewed (UTC)": _when("reviewed_at"),
    "Review comment": table["review_comment"].fillna(""),
    "Deployments": table["deployments"], "High or critical": table["high_or_critical"],
    "Expected annual loss": table["expected_annual_loss_usd"].map("${:,.0f}".format),
    "VaR 95": table["var95_usd"].map("${:,.0f}".format), "Content hash": table["content_hash"].str[:12] + "…"})
st.dataframe(listing, hide_index=True, width="stretch")
names = {r["id"]: f"#{r['id']} {r['label']} ({r['created_at'][:16].replace('T', ' ')})" for r in rows}
ids = list(names)
n = len(ids)  # in the widget keys: after a save or delete the pickers start from the newest again

c = st.columns(2)
with c[0]:
    pick = st.selectbox("Assessment", ids, index=len(ids) - 1, format_func=names.get, key=f"hist_pick_{n}")
    if st.button("Open in the dashboard", icon=":material/open_in_browser:"):
        session[HIST_REOPEN] = pick
    if session.get(HIST_REOPEN) == pick:
        reopen_panel(pick)
with c[1]:
    if actor.can(Permission.delete):
        victim = st.selectbox("Delete", ids, index=len(ids) - 1, format_func=names.get, key=f"hist_delete_{n}")
        sure = st.checkbox("I understand that deleting cannot be undone", key=HIST_SURE.name)

        def _delete(assessment_id: int) -> None:
            try:
                repo.delete_assessment(engine, assessment_id, actor=actor)
            except (StorageError, PermissionDenied) as exc:  # approved assessments are kept
                session[HIST_ERROR] = str(exc)
            session[HIST_SURE] = False  # the next deletion needs a new confirmation

        st.button("Delete", disabled=not sure, icon=":material/delete:", on_click=_delete, args=(victim,))
        if session.get(HIST_ERROR):
            st.error(md_escape(session.pop(HIST_ERROR)))

if actor.can(Permission.submit) or actor.can(Permission.review):
    st.subheader("Review")
    by_id = {r["id"]: r for r in rows}
    rid = st.selectbox("Assessment to review", ids, index=len(ids) - 1, format_func=names.get, key=f"review_{n}")
    r = by_id[rid]
    status = team.STATUS_LABELS.get(r["status"], r["status"])
    who = (f" · submitted by {r['submitted_by']}" if r["submitted_by"] else "") + (
        f" · reviewed by {r['reviewed_by']}" if r["reviewed_by"] else "")
    st.markdown(md_escape(f"Status: {status}{who}") + (f"  \nComment: {md_escape(r['review_comment'])}"
                                                      if r["review_comment"] else ""))
    comment = st.text_input("Comment (required to return)", key=f"review_comment_{n}")
    b = st.columns(3)

    def _review(fn, assessment_id: int, text: str) -> None:
        try:
            fn(engine, actor, assessment_id, text)
        except (StorageError, PermissionDenied, KeyError) as exc:
            session[REVIEW_ERROR] = str(exc.args[0] if isinstance(exc, KeyError) else exc)
        else:
            session[REVIEW_DONE] = f"Assessment {assessment_id}: done"

    if actor.can(Permission.submit):
        b[0].button("Submit for approval", key="review_submit", on_click=_review,
                    args=(team.submit, rid, comment), disabled=r["status"] not in ("draft", "returned"))
    if actor.can(Permission.review):
        b[1].button("Approve", type="primary", key="review_approve", on_click=_review,
                    args=(team.approve, rid, comment), disabled=r["status"] != "submitted")
        b[2].button("Return for changes", key="review_return", on_click=_review,
                    args=(team.return_for_changes, rid, comment), disabled=r["status"] != "submitted")
    if session.get(REVIEW_ERROR):
        st.error(md_escape(session.pop(REVIEW_ERROR)))
    elif session.get(REVIEW_DONE):
        st.success(md_escape(session.pop(REVIEW_DONE)))

if len(rows) >= 2:
    st.subheader("Trend")
    trend = table.assign(created=pd.to_datetime(table["created_at"]))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=trend["created"], y=trend["expected_annual_loss_usd"], name="expected annual loss",
                             mode="lines+markers", line={"color": "#d7301f"}))
    fig.add_trace(go.Scatter(x=trend["created"], y=trend["var95_usd"], name="VaR 95", mode="lines+markers",
                             line={"color": "#7f0000", "dash": "dot"}))
    fig.add_trace(go.Bar(x=trend["created"], y=trend["high_or_critical"], name="high or critical", yaxis="y2",
                         marker_color="#fdd49e", opacity=0.6))
    fig.update_layout(height=360, yaxis={"title": "USD", "tickformat": "$,.0f"},
                      margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis2={"title": "deployments", "overlaying": "y", "side": "right", "tickformat": ",d",
                              "dtick": max(1, int(trend["high_or_critical"].max()) // 5 or 1), "rangemode": "tozero"},
                      legend={"orientation": "h"})
    st.plotly_chart(fig, key="hist_trend")

    st.subheader("Compare two assessments")
    c = st.columns(2)
    a_id = c[0].selectbox("From", ids, index=len(ids) - 2, format_func=names.get, key=f"cmp_from_{n}")
    b_id = c[1].selectbox("To", ids, index=len(ids) - 1, format_func=names.get, key=f"cmp_to_{n}")
    try:
        d = repo.diff(repo.load(engine, a_id), repo.load(engine, b_id))
    except StorageError as exc:
        st.error(md_escape(exc))
        st.stop()
    m = st.columns(4)
    for col, (label, key) in zip(m, (("Expected annual loss", "expected_annual_loss_usd"), ("VaR 95", "var95_usd"),
                                      ("VaR 99", "var99_usd")), strict=False):
        v = d["portfolio"][key]
        col.metric(label, f"${v['after']:,.0f}", money_delta(v['delta']), delta_color="inverse")
    m[3].metric("Deployments added / removed", f"{len(d['added'])} / {len(d['removed'])}")
    st.markdown("**Changed deployments** (score, rating or heatmap cell)")
    changed = pd.DataFrame(d["changed"], columns=["deployment_id", "name", "score_before", "score_after", "score_delta",
                                                  "rating_before", "rating_after", "cell_before", "cell_after",
                                                  "expected_loss_delta_usd"])
    st.dataframe(pd.DataFrame({
        "Deployment": changed["deployment_id"], "Name": changed["name"], "Score before": changed["score_before"],
        "Score after": changed["score_after"], "Change": changed["score_delta"],
        "Rating before": changed["rating_before"], "Rating after": changed["rating_after"],
        "Cell before": changed["cell_before"].map(lambda c: f"L{c[0]} × I{c[1]}"),
        "Cell after": changed["cell_after"].map(lambda c: f"L{c[0]} × I{c[1]}"),
        "Expected loss change": changed["expected_loss_delta_usd"].map(
            lambda x: f"{'+' if x > 0 else '−' if x < 0 else ''}${abs(x):,.0f}")}),
        hide_index=True, width="stretch", key="cmp_changed",
        column_config={k: st.column_config.NumberColumn(format="%.1f") for k in ("Score before", "Score after",
                                                                                 "Change")})
    lib = state.library()
    answers = pd.DataFrame(d["answer_changes"], columns=["deployment_id", "question_id", "before", "after"])
    question = {q: lib.questions[q].text if q in lib.questions else q for q in answers["question_id"].unique()}
    st.markdown("**Answer changes**")
    st.dataframe(pd.DataFrame({"Deployment": answers["deployment_id"], "Question": answers["question_id"].map(question),
                               "Before": answers["before"].map(_answer_text), "After": answers["after"].map(_answer_text)}),
                 hide_index=True, width="stretch", key="cmp_answers",
                 column_config={"Question": st.column_config.TextColumn(width="large")})
    cols = st.columns(2)
    cols[0].markdown("**Scenario probability changes**")
    scen = pd.DataFrame(d["scenario_changes"], columns=["outcome_id", "label", "before", "after"])
    cols[0].dataframe(pd.DataFrame({"Outcome": scen["label"], "Before": scen["before"], "After": scen["after"]}),
                      hide_index=True, width="stretch", key="cmp_scen",
                      column_config={k: percent() for k in ("Before", "After")})
    cols[1].markdown("**Heatmap movement** (deployments per cell)")
    heat = pd.DataFrame(d["heatmap"], columns=["likelihood", "impact", "before", "after", "delta"])
    cols[1].dataframe(pd.DataFrame({"Cell": [f"L{r.likelihood} × I{r.impact}" for r in heat.itertuples()],
                                    "Before": heat["before"], "After": heat["after"], "Change": heat["delta"]}),
                      hide_index=True, width="stretch", key="cmp_heat")
    if d["added"] or d["removed"]:
        st.write(md_escape("Added: " + (", ".join(d["added"]) or "—") + " · Removed: " + (", ".join(d["removed"]) or "—")))
