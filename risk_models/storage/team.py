"""Team mode in storage: the review workflow of saved assessments (four-eyes), the role table an
admin edits, and shared working answers with a version number so two users in two app processes
cannot silently overwrite each other. Every change checks the actor's role here, on the server,
and writes its audit entry in the same transaction."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert, select, text, update
from sqlalchemy.engine import Engine

from risk_models.auth.roles import Actor, Permission, Role, parse_roles, require, same_person
from risk_models.storage import audit
from risk_models.storage.db import StorageError
from risk_models.storage.repository import ImmutableAssessment, assessments

metadata = MetaData()
user_roles = Table(
    "user_roles", metadata,
    Column("username", String(200), primary_key=True), Column("roles", String(200), nullable=False),
    Column("updated_by", String(200), nullable=False), Column("updated_at", DateTime(timezone=True), nullable=False),
)
working_answers = Table(
    "working_answers", metadata,
    Column("deployment_id", String(400), primary_key=True), Column("answers", Text, nullable=False),
    Column("version", Integer, nullable=False), Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

team_mode = Table(
    "team_mode", metadata,
    Column("id", Integer, primary_key=True), Column("since", DateTime(timezone=True), nullable=False),
    Column("first_user", String(200), nullable=False),
)

STATUS_LABELS = {"draft": "Draft", "submitted": "Submitted", "approved": "Approved", "returned": "Returned"}


class ReviewError(StorageError):
    """A status change that the workflow does not allow (wrong state, four-eyes, missing comment)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else (t if t.tzinfo else t.replace(tzinfo=dt.UTC))


# --- review workflow ------------------------------------------------------------------------------
def _transition(engine: Engine, actor: Actor, assessment_id: int, action: str, comment: str = "") -> None:
    require(actor, Permission.submit if action == "submit" else Permission.review)  # before anything is read
    if "\x00" in comment:
        raise ReviewError("the comment contains a NUL character (\\x00); remove it")
    with engine.begin() as conn:
        audit.lock(conn)  # two reviewers deciding at once in two processes: one after the other
        q = select(assessments.c.id, assessments.c.status, assessments.c.submitted_by, assessments.c.submitted_sub,
                   assessments.c.label, assessments.c.content_hash).where(assessments.c.id == assessment_id)
        # PostgreSQL: the audit lock above serialises status changes, and the owner's function locks the row
        # (FOR UPDATE here would need the UPDATE privilege the app's login no longer has)
        r = conn.execute(q if audit.by_owner_functions(conn) else q.with_for_update()).first()
        if r is None:
            raise KeyError(f"no saved assessment with id {assessment_id}")
        status = r.status
        if status == "approved":
            raise ImmutableAssessment(f"assessment {assessment_id} is approved and cannot change; save a new "
                                      "version to change it")
        now = _now()
        if action == "submit":
            if status not in ("draft", "returned"):
                raise ReviewError(f"assessment {assessment_id} is {STATUS_LABELS[status].lower()}; only a draft or "
                                  "a returned assessment can be submitted")
            values = {"status": "submitted", "submitted_by": actor.name, "submitted_sub": actor.subject,
                      "submitted_at": now, "reviewed_by": None, "reviewed_sub": None, "reviewed_at": None,
                      "review_comment": None}
        else:
            if status != "submitted":
                raise ReviewError(f"assessment {assessment_id} is {STATUS_LABELS[status].lower()}; only a submitted "
                                  "assessment can be approved or returned")
            if same_person(r.submitted_by, r.submitted_sub, actor):
                raise ReviewError(f"{actor.name} submitted assessment {assessment_id} and cannot "
                                  f"{'approve' if action == 'approve' else 'return'} it: a second person must "
                                  "review it (four-eyes)")
            if action == "return" and not comment.strip():
                raise ReviewError("returning an assessment needs a comment saying what to change")
            values = {"status": "approved" if action == "approve" else "returned", "reviewed_by": actor.name,
                      "reviewed_sub": actor.subject, "reviewed_at": now, "review_comment": comment.strip() or None}
        if audit.by_owner_functions(conn):
            # the owner's function changes the status and writes the entry (the app's login may not update
            # the status); it checks the workflow and four-eyes again
            conn.execute(text("SELECT avr_review(:actor, :sub, :id, :action, :comment)"),
                         {"actor": actor.name, "sub": actor.subject, "id": assessment_id, "action": action,
                          "comment": comment.strip()})
            return
        conn.execute(update(assessments).where(assessments.c.id == assessment_id).values(**values))
        audit.append(conn, actor.name, action, "status", str(assessment_id), before={"status": status},
                     after={"status": values["status"], "label": r.label, "content_hash": r.content_hash},
                     reason=comment.strip(), at=now)


def submit(engine: Engine, actor: Actor, assessment_id: int, comment: str = "") -> None:
    _transition(engine, actor, assessment_id, "submit", comment)


def approve(engine: Engine, actor: Actor, assessment_id: int, comment: str = "") -> None:
    _transition(engine, actor, assessment_id, "approve", comment)


def return_for_changes(engine: Engine, actor: Actor, assessment_id: int, comment: str) -> None:
    _transition(engine, actor, assessment_id, "return", comment)


def last_approved_id(engine: Engine, before_id: int | None = None) -> int | None:
    """The newest approved assessment (older than `before_id` when given): the baseline for "changes since"."""
    q = select(assessments.c.id).where(assessments.c.status == "approved")
    if before_id is not None:
        q = q.where(assessments.c.id < before_id)
    with engine.connect() as conn:
        return conn.execute(q.order_by(assessments.c.reviewed_at.desc(), assessments.c.id.desc()).limit(1)).scalar()


# --- role table ----------------------------------------------------------------------------------
def stored_roles(engine: Engine, username: str) -> frozenset[Role]:
    with engine.connect() as conn:
        stored = conn.execute(select(user_roles.c.roles).where(user_roles.c.username == username)).scalar()
    return parse_roles(stored or "", f"stored roles of {username}")


def role_table(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(user_roles).order_by(user_roles.c.username)).mappings().all()
    return [{**r, "updated_at": _aware(r["updated_at"])} for r in rows]


def set_roles(engine: Engine, actor: Actor, username: str, roles: frozenset[Role], reason: str = "") -> None:
    """Admin only; an empty set removes the user's stored roles (IdP group roles still apply)."""
    require(actor, Permission.manage_roles)
    username = username.strip()
    if not username or "\x00" in username or len(username) > 200:
        raise ValueError("a user name must be 1 to 200 characters, without NUL")
    text_roles = ",".join(sorted(r.value for r in roles))
    with engine.begin() as conn:
        if audit.by_owner_functions(conn):  # the owner's function: the app's login may not write user_roles
            conn.execute(text("SELECT avr_set_roles(:actor, :username, :roles, :reason)"),
                         {"actor": actor.name, "username": username, "roles": text_roles, "reason": reason})
            return
        audit.lock(conn)
        before = conn.execute(select(user_roles.c.roles).where(user_roles.c.username == username)
                              .with_for_update()).scalar()
        if before is None:
            conn.execute(insert(user_roles).values(username=username, roles=text_roles, updated_by=actor.name,
                                                   updated_at=_now()))
        else:
            conn.execute(update(user_roles).where(user_roles.c.username == username)
                         .values(roles=text_roles, updated_by=actor.name, updated_at=_now()))
        audit.append(conn, actor.name, "grant", "role", username, before=before, after=text_roles, reason=reason)


# --- shared working answers (optimistic version check) -------------------------------------------
class AnswerRecord(BaseModel):
    deployment_id: str
    answers: dict[str, Any]
    version: int
    updated_by: str
    updated_at: dt.datetime


class AnswerConflict(StorageError):
    """Someone else saved this deployment's answers since they were read: nothing was overwritten."""

    def __init__(self, current: AnswerRecord, expected_version: int) -> None:
        self.current = current
        super().__init__(
            f"{current.updated_by} changed the answers of {current.deployment_id} at "
            f"{current.updated_at:%Y-%m-%d %H:%M:%S} UTC (version {current.version}; you edited version "
            f"{expected_version}); your change was not saved — review their values and apply yours again")


def _record(r: Any) -> AnswerRecord:
    return AnswerRecord(deployment_id=r["deployment_id"], answers=json.loads(r["answers"]), version=r["version"],
                        updated_by=r["updated_by"], updated_at=_aware(r["updated_at"]))


def shared_answers(engine: Engine) -> dict[str, AnswerRecord]:
    with engine.connect() as conn:
        return {r["deployment_id"]: _record(r) for r in conn.execute(select(working_answers)).mappings()}


def save_answers(engine: Engine, actor: Actor, deployment_id: str, answers: dict[str, Any],
                 expected_version: int, reason: str = "") -> AnswerRecord:
    """Store one deployment's answers if nobody changed them since `expected_version` (0 = never saved).
    The compare-and-set is one UPDATE … WHERE version = expected, so two processes cannot both win."""
    require(actor, Permission.edit_answers)
    payload = json.dumps(answers, sort_keys=True, ensure_ascii=False, default=str)
    now = _now()
    with engine.begin() as conn:
        audit.lock(conn)  # read-compare-write below runs alone: two processes cannot both win
        current = conn.execute(select(working_answers).where(working_answers.c.deployment_id == deployment_id)
                               ).mappings().first()
        before = json.loads(current["answers"]) if current else None
        if current is None:
            won = expected_version == 0
            if won:
                conn.execute(insert(working_answers).values(deployment_id=deployment_id, answers=payload, version=1,
                                                            updated_by=actor.name, updated_at=now))
        elif current["version"] != expected_version:
            won = False
        else:
            won = conn.execute(update(working_answers).where(working_answers.c.deployment_id == deployment_id,
                                                             working_answers.c.version == expected_version)
                               .values(answers=payload, version=working_answers.c.version + 1, updated_by=actor.name,
                                       updated_at=now)).rowcount == 1
        if not won:
            if current is None:
                raise ReviewError(f"the answers of {deployment_id} were never saved (version 0), not version "
                                  f"{expected_version}")
            raise AnswerConflict(_record(current), expected_version)
        changed = {q: v for q, v in answers.items() if (before or {}).get(q) != v}
        removed = {q: None for q in (before or {}) if q not in answers}
        audit.append(conn, actor.name, "update", "answer", deployment_id,
                     before={q: (before or {}).get(q) for q in {**changed, **removed}},
                     after={**changed, **removed}, reason=reason, at=now)
        row = conn.execute(select(working_answers).where(working_answers.c.deployment_id == deployment_id)
                           ).mappings().first()
    return _record(row)


def record_change(engine: Engine, actor: Actor, entity: str, entity_id: str, before: Any, after: Any,
                  permission: Permission, reason: str = "") -> None:
    """Audit a change the app keeps in the user's session (register row, scenario probability,
    assumption), after checking the actor may make it: a viewer's crafted request is refused here."""
    record_changes(engine, actor, permission, [(entity, entity_id, before, after)], reason)


def record_changes(engine: Engine, actor: Actor, permission: Permission,
                   changes: list[tuple[str, str, Any, Any]], reason: str = "") -> None:
    """Several (entity, entity_id, before, after) changes of one action: one check, one transaction."""
    require(actor, permission)
    with engine.begin() as conn:
        for entity, entity_id, before, after in changes:
            audit.append(conn, actor.name, "update", entity, entity_id, before=before, after=after, reason=reason)


# --- team mode, as the database knows it ---------------------------------------------------------
def mark_team_mode(engine: Engine, actor: Actor) -> None:
    """The app, after a sign-in in team mode: from now on the CLI writes nothing to this database (its
    `--user` would let anyone claim any identity). Once set, only the owner role can unset it."""
    with engine.begin() as conn:
        if audit.by_owner_functions(conn):
            conn.execute(text("SELECT avr_mark_team_mode(:u)"), {"u": actor.name})
        elif conn.execute(select(team_mode.c.id)).first() is None:
            conn.execute(insert(team_mode).values(id=1, since=_now(), first_user=actor.name[:200]))


def team_mode_since(engine: Engine) -> tuple[dt.datetime, str] | None:
    """(when, who) of the first team-mode sign-in on this database; None: never used in team mode."""
    with engine.connect() as conn:
        r = conn.execute(select(team_mode.c.since, team_mode.c.first_user)).first()
    return None if r is None else (_aware(r.since), r.first_user)
