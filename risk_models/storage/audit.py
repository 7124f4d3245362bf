"""The audit trail: an append-only table of every change (who, when in UTC, what, before → after,
reason), each entry carrying the hash of the previous one.

`append` runs inside the caller's transaction, so a change and its audit entry commit together or
not at all. Appenders first lock the single `audit_head` row (a row lock on PostgreSQL, the write
lock on SQLite), so two app processes never fork the chain. `verify` recomputes every hash and
compares the end of the chain with `audit_head`: an edited, inserted or deleted entry — the newest
ones included — is reported, naming the first broken entry."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Connection, Engine

GENESIS = "0" * 64
metadata = MetaData()
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False), Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False), Column("entity", String(40), nullable=False),
    Column("entity_id", String(400), nullable=False), Column("before", Text), Column("after", Text),
    Column("reason", Text, nullable=False), Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True), Column("entries", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# what a change is about, in words for people (the Audit page and the CSV)
ENTITY_LABELS = {"assessment": "Saved assessment", "answer": "Answer", "register_row": "Register row",
                 "scenario_probability": "Scenario probability", "assumption": "Loss assumption",
                 "role": "Role", "status": "Review status"}
ACTION_LABELS = {"create": "created", "update": "changed", "delete": "deleted", "import": "imported",
                 "submit": "submitted", "approve": "approved", "return": "returned", "grant": "roles set"}


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any = None
    after: Any = None
    reason: str = ""
    prev_hash: str
    hash: str


class ChainBreak(BaseModel):
    """The first entry whose stored hash or link does not match: `entry_id` None = entries missing at the end."""

    entry_id: int | None
    message: str


def _utc(t: dt.datetime) -> dt.datetime:
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)  # SQLite returns naive UTC


def _canon(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                                 default=str)


def entry_hash(prev_hash: str, at: dt.datetime, actor: str, action: str, entity: str, entity_id: str,
               before: str | None, after: str | None, reason: str) -> str:
    """sha256 over the previous hash and every field of the entry: editing any field, or removing,
    inserting or reordering entries, breaks the link to the next one."""
    body = json.dumps([prev_hash, _utc(at).isoformat(timespec="microseconds"), actor, action, entity, entity_id,
                       before, after, reason], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def lock(conn: Connection) -> None:
    """Take the audit lock at the start of a read-then-write transaction: writers run one at a time
    (PostgreSQL row lock; SQLite write lock taken before any read, so no stale snapshot)."""
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(entries=audit_head.c.entries))


def append(conn: Connection, actor: str, action: str, entity: str, entity_id: str = "", before: Any = None,
           after: Any = None, reason: str = "", at: dt.datetime | None = None) -> int:
    """Add one entry in the caller's transaction; returns its id."""
    for what, text in (("actor", actor), ("reason", reason), ("entity id", entity_id)):
        if "\x00" in text:  # PostgreSQL refuses NUL in text: one rule for both databases
            raise ValueError(f"the audit {what} contains a NUL character (\\x00)")
    # lock the head first: the next appender waits here until this transaction ends (no forked chain)
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(entries=audit_head.c.entries + 1))
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar() or GENESIS
    at = _utc(at or dt.datetime.now(dt.UTC))
    b, a = _canon(before), _canon(after)
    actor, entity_id = actor[:200], entity_id[:400]
    h = entry_hash(prev, at, actor, action, entity, entity_id, b, a, reason)
    new_id = conn.execute(insert(audit_log).values(
        at=at, actor=actor, action=action, entity=entity, entity_id=entity_id, before=b, after=a, reason=reason,
        prev_hash=prev, hash=h)).inserted_primary_key[0]
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(last_hash=h))
    return int(new_id)


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(id=r["id"], at=_utc(r["at"]), actor=r["actor"], action=r["action"], entity=r["entity"],
                      entity_id=r["entity_id"], before=None if r["before"] is None else json.loads(r["before"]),
                      after=None if r["after"] is None else json.loads(r["after"]), reason=r["reason"],
                      prev_hash=r["prev_hash"], hash=r["hash"])


def verify(engine: Engine, batch: int = 5000) -> tuple[int, ChainBreak | None]:
    """(entries checked, first break or None). Reads in batches: memory stays flat for long trails."""
    prev, count, last_id = GENESIS, 0, 0
    with engine.connect() as conn:
        head = conn.execute(select(audit_head.c.entries, audit_head.c.last_hash)).first()
        while True:
            rows = conn.execute(select(audit_log).where(audit_log.c.id > last_id).order_by(audit_log.c.id)
                                .limit(batch)).mappings().all()
            if not rows:
                break
            for r in rows:
                if r["prev_hash"] != prev:
                    return count, ChainBreak(entry_id=r["id"], message=(
                        f"audit entry {r['id']} does not follow the entry before it: an entry before it was "
                        "deleted, inserted or edited"))
                expected = entry_hash(prev, r["at"], r["actor"], r["action"], r["entity"], r["entity_id"],
                                      r["before"], r["after"], r["reason"])
                if r["hash"] != expected:
                    return count, ChainBreak(entry_id=r["id"], message=(
                        f"audit entry {r['id']} was changed after it was written (its content no longer "
                        "matches its hash)"))
                prev, count, last_id = r["hash"], count + 1, r["id"]
    if head is None:
        return count, ChainBreak(entry_id=None, message="the audit head row is missing (deleted by hand)")
    if head.last_hash != prev or head.entries != count:
        return count, ChainBreak(entry_id=None, message=(
            f"the trail ends after {count} entries but {head.entries} were written: entries at the end "
            "were deleted or changed"))
    return count, None


def entries(engine: Engine, since: dt.datetime | None = None, until: dt.datetime | None = None,
            actor: str | None = None, entity: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries oldest first, filtered by time (UTC), user and kind of entity."""
    q = select(audit_log).order_by(audit_log.c.id)
    if since is not None:
        q = q.where(audit_log.c.at >= _utc(since))
    if until is not None:
        q = q.where(audit_log.c.at < _utc(until))
    if actor:
        q = q.where(audit_log.c.actor == actor)
    if entity:
        q = q.where(audit_log.c.entity == entity)
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [_entry(r) for r in conn.execute(q).mappings()]


def actors(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.actor).distinct().order_by(audit_log.c.actor)).scalars())


def _cell(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else _canon(value) or ""
    # spreadsheet formula injection: a cell starting with = + - @ (or a tab/CR) is shown as text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = ["Entry", "When (UTC)", "User", "Action", "What", "Which", "Before", "After", "Reason", "Hash"]


def to_csv(rows: list[AuditEntry]) -> bytes:
    """CSV for people (UTF-8 with BOM so spreadsheets read unicode): labels, not codes; hostile text neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for e in rows:
        w.writerow([e.id, e.at.strftime("%Y-%m-%d %H:%M:%S"), _cell(e.actor),
                    ACTION_LABELS.get(e.action, e.action), ENTITY_LABELS.get(e.entity, e.entity),
                    _cell(e.entity_id), _cell(e.before), _cell(e.after), _cell(e.reason), e.hash])
    return ("\ufeff" + buf.getvalue()).encode()
