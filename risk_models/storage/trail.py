"""The stored state checked against the audit trail: what the chain alone cannot show.

A direct write with the database login (`UPDATE assessments SET status='approved'`, an INSERT into
`user_roles`) leaves the chain intact. So `history audit verify` also checks that every approved
assessment has its approval entry, by the approver the row names (compared case-insensitively), and a
creation or import entry whose content hash is the row's; and that every stored role grant is the latest
grant entry of that user. One linear pass over the entries of these kinds."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from risk_models.storage.audit import audit_log
from risk_models.storage.errors import StorageError
from risk_models.storage.repository import assessments
from risk_models.storage.team import user_roles


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None


def state_problems(engine: Engine) -> list[str]:
    """Every approved assessment or role grant the trail does not account for, in words (empty: all do)."""
    created: dict[str, str | None] = {}  # assessment id -> content hash of its create/import entry
    approved_by: dict[str, tuple[str, Any]] = {}  # assessment id -> (actor, content hash) of its latest approval
    granted: dict[str, Any] = {}  # username -> roles of its latest grant entry
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(audit_log.c.entity, audit_log.c.entity_id, audit_log.c.action,
                                       audit_log.c.actor, audit_log.c.after)
                                .where(audit_log.c.entity.in_(("assessment", "status", "role")))
                                .order_by(audit_log.c.id))
            for entity, entity_id, action, actor, after in rows:
                if entity == "assessment" and action in ("create", "import"):
                    a = _json(after)
                    created[entity_id] = a.get("content_hash") if isinstance(a, dict) else None
                elif entity == "status" and action == "approve":
                    a = _json(after)
                    approved_by[entity_id] = (actor, a.get("content_hash") if isinstance(a, dict) else None)
                elif entity == "status":
                    approved_by.pop(entity_id, None)  # returned or re-submitted after an approval
                elif entity == "role" and action == "grant":
                    granted[entity_id] = _json(after)
            stored = conn.execute(select(assessments.c.id, assessments.c.status, assessments.c.reviewed_by,
                                         assessments.c.content_hash)).all()
            roles = conn.execute(select(user_roles.c.username, user_roles.c.roles)).all()
    except SQLAlchemyError as exc:
        raise StorageError(f"reading the stored state failed: {str(getattr(exc, 'orig', exc)).splitlines()[0]}") \
            from None
    problems = []
    for aid, status, reviewed_by, chash in stored:
        key = str(aid)
        if key not in created:
            problems.append(f"assessment {aid} has no creation or import entry in the audit trail")
        elif created[key] != chash:
            problems.append(f"assessment {aid}'s content hash is not the one its creation entry recorded: "
                            "its content was changed in the database")
        if status == "approved":
            if key not in approved_by:
                problems.append(f"assessment {aid} is approved but the audit trail has no approval of it: "
                                "the status was set in the database")
                continue
            who, approved_hash = approved_by[key]
            if (who or "").casefold() != (reviewed_by or "").casefold():
                problems.append(f"assessment {aid} names {reviewed_by!r} as approver but the trail records "
                                f"{who!r}")
            if approved_hash is not None and approved_hash != chash:  # entries before this check have none
                problems.append(f"assessment {aid}'s content hash is not the one its approval recorded")
    for username, text in roles:
        if username not in granted:
            problems.append(f"user {username!r} has stored roles ({text}) but the audit trail has no grant of them")
        elif granted[username] != text:
            problems.append(f"user {username!r} has stored roles ({text}) that differ from the last grant in the "
                            f"audit trail ({granted[username]})")
    return problems
