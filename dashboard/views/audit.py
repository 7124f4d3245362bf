"""Audit: every change, who made it and when (UTC), before → after; filter by user, kind and date;
check the hash chain; download as CSV. Shown to approvers and admins."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.state import auth
from risk_models.auth.roles import Permission
from risk_models.io.escape import md_escape
from risk_models.storage import audit
from risk_models.storage.db import StorageError

st.title("Audit trail")
if not auth.can(Permission.review):  # the page list hides it too; a crafted URL still gets nothing
    st.error("The audit trail is shown to approvers and admins.")
    st.stop()
try:
    engine = state.storage()
except StorageError as exc:
    st.error(f"The assessment database is not available: {md_escape(exc)}")
    st.stop()

c = st.columns(4)
users = ["Everyone", *audit.actors(engine)]
who = c[0].selectbox("User", users, key="audit_user")
kinds = {"": "Everything", **audit.ENTITY_LABELS}
kind = c[1].selectbox("What", list(kinds), format_func=kinds.get, key="audit_entity")
today = dt.datetime.now(dt.UTC).date()
since = c[2].date_input("From (UTC)", value=today - dt.timedelta(days=90), key="audit_since")
until = c[3].date_input("To (UTC, inclusive)", value=today, key="audit_until")

rows = audit.entries(engine, since=dt.datetime.combine(since, dt.time(), dt.UTC),
                     until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC),
                     actor=None if who == "Everyone" else who, entity=kind or None)


def _text(value) -> str:
    return "" if value is None else value if isinstance(value, str) else audit._canon(value) or ""


table = pd.DataFrame([{"Entry": e.id, "When (UTC)": e.at.strftime("%Y-%m-%d %H:%M:%S"), "User": e.actor,
                       "Action": audit.ACTION_LABELS.get(e.action, e.action),
                       "What": audit.ENTITY_LABELS.get(e.entity, e.entity), "Which": e.entity_id,
                       "Before": _text(e.before), "After": _text(e.after), "Reason": e.reason} for e in rows],
                     columns=["Entry", "When (UTC)", "User", "Action", "What", "Which", "Before", "After", "Reason"])
st.caption(f"{len(table)} entries")
st.dataframe(table, hide_index=True, width="stretch", key="audit_table")
b = st.columns(2)
b[0].download_button("Download CSV", audit.to_csv(rows), file_name=f"audit-{since}-{until}.csv", mime="text/csv",
                     icon=":material/download:")
if b[1].button("Check the hash chain", icon=":material/verified:"):
    count, brk = audit.verify(engine)
    if brk is None:
        st.success(f"Intact: {count} entries, every hash matches.")
    else:
        st.error(md_escape(f"Broken after {count} good entries: {brk.message}"))
