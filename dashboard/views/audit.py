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
    st.error(f"The assessment database is not available: {md_escape(state.problem_text(exc))}")
    st.stop()

c = st.columns(6)
users = ["Everyone", *audit.actors(engine)]
who = c[0].selectbox("User", users, key="audit_user")
kinds = {"": "Everything", **audit.ENTITY_LABELS}
kind = c[1].selectbox("What", list(kinds), format_func=kinds.get, key="audit_entity")
actions = {"": "Any action", **audit.ACTION_LABELS}
action = c[2].selectbox("Action", list(actions), format_func=actions.get, key="audit_action")
which = c[3].text_input("Deployment or item", key="audit_which", placeholder="e.g. DEP-001")
today = dt.datetime.now(dt.UTC).date()
since = c[4].date_input("From (UTC)", value=today - dt.timedelta(days=90), key="audit_since")
until = c[5].date_input("To (UTC, inclusive)", value=today, key="audit_until")

rows = audit.entries(engine, since=dt.datetime.combine(since, dt.time(), dt.UTC),
                     until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC),
                     actor=None if who == "Everyone" else who, entity=kind or None)


def _labels() -> dict[str, str]:
    """Ids the entries name (questions, outcomes, fallback options) -> what people call them."""
    lib = state.library()
    out = {qid: q.text for qid, q in lib.questions.items()}
    out |= {o.id: o.label for e in lib.events for o in e.outcomes}
    out |= {o.id: o.label for o in lib.fallbacks.options}
    return out | {"is_demo": "Demo", "name": "Name", "archived": "Archived", "copied_from": "Copied from",
                  "changes": "Changes", "rows": "Rows", "source": "Source", "version": "Register version"}


LABELS = _labels()


def _text(value) -> str:
    """A before or after value as people read it: "DEP-001: Is there an automated evaluation suite …: yes", not
    JSON and not ids."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{LABELS.get(k, k)}: {_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, str):
        return LABELS.get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _about(e) -> str:
    return " ".join([e.entity_id, _text(e.before), _text(e.after)]).lower()


rows = [e for e in rows if (not action or e.action == action) and (not which or which.lower() in _about(e))]
table = pd.DataFrame([{"Entry": e.id, "When (UTC)": e.when, "User": e.actor,
                       "Action": audit.ACTION_LABELS.get(e.action, e.action),
                       "What": audit.ENTITY_LABELS.get(e.entity, e.entity), "Which": e.entity_id,
                       "Before": _text(e.before), "After": _text(e.after),
                       "Reason": e.reason or (e.problem or "")} for e in rows],
                     columns=["Entry", "When (UTC)", "User", "Action", "What", "Which", "Before", "After", "Reason"])
st.caption(f"{len(table)} entries")
st.dataframe(table, hide_index=True, width="stretch", key="audit_table")
b = st.columns(2)
# the download is what the table shows (labels, readable before -> after) plus each entry's hash
readable = audit.csv_bytes([*table.columns, "Hash"], [[*r, e.hash] for r, e in zip(table.itertuples(index=False), rows,
                                                                                    strict=True)])
b[0].download_button("Download CSV", readable, file_name=f"audit-{since}-{until}.csv", mime="text/csv",
                     icon=":material/download:")
if b[1].button("Check the hash chain", icon=":material/verified:"):
    from risk_models.storage.trail import state_problems
    count, brk = audit.verify(engine)
    problems = state_problems(engine) if brk is None else []
    if brk is not None:
        st.error(md_escape(f"Broken after {count} good entries: {brk.message}"))
    elif problems:
        st.error(f"The chain is intact ({count} entries), but {len(problems)} stored change(s) are not in it:\n\n"
                 + "\n".join(f"- {md_escape(x)}" for x in problems[:30]))
    else:
        st.success(f"Intact: {count} entries, every hash matches.")
        st.caption("Approvals, assessment contents and roles stored in the database all match the trail; "
                   + md_escape(audit.seal_summary(audit.seals(engine))) + ".")
        # the trail's end, to keep outside the database: `history audit verify --anchor` checks it later
        st.code(audit.current_anchor(engine), language=None)
        st.caption("Anchor: keep this line outside the database (a ticket, a log, an e-mail). "
                   "`history audit verify --anchor COUNT:HASH` fails if the trail was rewritten or truncated since.")
