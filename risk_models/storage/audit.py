"""The audit trail: an append-only table of every change (who, when in UTC, what, before → after,
reason), each entry carrying the hash of the previous one.

`append` runs inside the caller's transaction, so a change and its audit entry commit together or
not at all. Appenders first lock the single `audit_head` row (a row lock on PostgreSQL, the write
lock on SQLite), so two app processes never fork the chain. `verify` recomputes every hash and
compares the end of the chain with `audit_head`: an edited, inserted or deleted entry — the newest
ones included — is reported, naming the first broken entry.

On PostgreSQL (migration 0005) the app's login writes no audit row itself: `append` calls the owner
role's SECURITY DEFINER function, which hashes the entry in SQL exactly as `entry_hash` does and seals
it with an HMAC under a key the app's login cannot read; `verify` then also checks the seals, in the
database (`seals`). SQLite keeps the unkeyed chain (one user, one file).

Rows are read defensively: the time is read as text and parsed here (a hand-edited `at` such as
'garbage' must not crash the reader), every column is checked for its type, and a row the database
driver cannot read at all is read column by column. `verify` reports such a row as broken; `entries`
shows it with what could be read and says what could not (`AuditEntry.problem`)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from risk_models.storage.errors import StorageError

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
    # PostgreSQL (migration 0005): HMAC-SHA256 of `hash` under a key only the owner role can read
    Column("mac", String(64)),
)
audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True), Column("entries", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# what a change is about, in words for people (the Audit page and the CSV)
ENTITY_LABELS = {"assessment": "Saved assessment", "answer": "Answer", "register_row": "Register row",
                 "scenario_probability": "Scenario probability", "assumption": "Loss assumption",
                 "role": "Role", "status": "Review status", "workspace": "Workspace",
                 # workspace parts (the app's dashboard/state/persist.py)
                 "register": "Inventory register", "answers": "Answers", "probabilities": "Scenario probabilities",
                 "settings": "Settings (profile, assumptions, scenario pack)", "providers": "Providers and contracts",
                 "plan": "What-if plan"}
ACTION_LABELS = {"create": "created", "update": "changed", "delete": "deleted", "import": "imported",
                 "submit": "submitted", "approve": "approved", "return": "returned", "grant": "roles set",
                 "rename": "renamed", "archive": "archived", "restore": "restored", "upload": "uploaded",
                 "edit": "edited"}
UNREADABLE_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)  # `AuditEntry.at` of an entry whose time cannot be read


class AuditEntry(BaseModel):
    """One entry as read. A damaged entry (edited by hand) is still listed: `problem` says what cannot
    be read; an unreadable time is `UNREADABLE_TIME` in `at` and its stored text in `at_text`."""

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
    at_text: str | None = None
    problem: str | None = None

    @property
    def when(self) -> str:
        """The time for people: "2026-05-01 10:42:07", or the stored text of a time that cannot be read."""
        if self.at_text is not None:
            return f"unreadable time: {_quote(self.at_text)}"
        return self.at.strftime("%Y-%m-%d %H:%M:%S")


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


def by_owner_functions(conn: Connection) -> bool:
    """PostgreSQL: the audit trail, review status and roles are written by the owner role's SECURITY DEFINER
    functions (migration 0005), never by the app's login directly. SQLite: directly (one user, one file)."""
    return conn.dialect.name == "postgresql"


def lock(conn: Connection) -> None:
    """Take the audit lock at the start of a read-then-write transaction: writers run one at a time
    (PostgreSQL row lock, taken by a function of the owner role since the app's login may not write the
    head; SQLite write lock taken before any read, so no stale snapshot)."""
    if by_owner_functions(conn):
        conn.execute(text("SELECT avr_audit_lock()"))
        return
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(entries=audit_head.c.entries))


def append(conn: Connection, actor: str, action: str, entity: str, entity_id: str = "", before: Any = None,
           after: Any = None, reason: str = "", at: dt.datetime | None = None) -> int:
    """Add one entry in the caller's transaction; returns its id."""
    for what, value in (("actor", actor), ("reason", reason), ("entity id", entity_id)):
        if "\x00" in value:  # PostgreSQL refuses NUL in text: one rule for both databases
            raise ValueError(f"the audit {what} contains a NUL character (\\x00)")
    at = _utc(at or dt.datetime.now(dt.UTC))
    b, a = _canon(before), _canon(after)
    actor, entity_id = actor[:200], entity_id[:400]
    if by_owner_functions(conn):
        # the owner's function writes the entry (the app's login may not insert into audit_log): it hashes
        # the entry as `entry_hash` does and seals it with the key the app's login cannot read
        return int(conn.execute(text("SELECT avr_audit_append(:actor, :action, :entity, :entity_id, :before, :after, "
                                     ":reason, :at)"),
                                {"actor": actor, "action": action, "entity": entity, "entity_id": entity_id,
                                 "before": b, "after": a, "reason": reason, "at": at}).scalar())
    # lock the head first: the next appender waits here until this transaction ends (no forked chain)
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(entries=audit_head.c.entries + 1))
    prev = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar() or GENESIS
    h = entry_hash(prev, at, actor, action, entity, entity_id, b, a, reason)
    new_id = conn.execute(insert(audit_log).values(
        at=at, actor=actor, action=action, entity=entity, entity_id=entity_id, before=b, after=a, reason=reason,
        prev_hash=prev, hash=h)).inserted_primary_key[0]
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(last_hash=h))
    return int(new_id)


# --- reading stored rows defensively ---------------------------------------------------------------
_FIELDS = ("actor", "action", "entity", "entity_id", "before", "after", "reason", "prev_hash", "hash")
_NULLABLE = frozenset({"before", "after"})
_WORDS = {"at": "time", "entity_id": "entity id", "before": "before value", "after": "after value",
          "prev_hash": "previous hash"}  # columns named in messages
# what reading a hand-edited row can raise: driver errors (undecodable text), result processors
_READ_ERRORS = (SQLAlchemyError, ValueError, TypeError, OverflowError)


def _quote(text: str, limit: int = 40) -> str:
    """A stored value inside a one-line message: quoted, control characters escaped, cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _at_text(conn: Connection) -> ColumnElement:
    """The stored time as text, whatever it holds (SQLAlchemy's DateTime reader crashes on a hand-edited
    'garbage' in SQLite). PostgreSQL: one fixed UTC form whatever the session's DateStyle and TimeZone."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", audit_log.c.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
    return cast(audit_log.c.at, String)


def parse_time(text: Any) -> dt.datetime | None:
    """A stored time (text) as an aware UTC datetime; None when it is not an ISO date and time."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        return None
    try:
        return _utc(dt.datetime.fromisoformat(text.strip()))
    except (ValueError, OverflowError):
        return None


class _Row:
    """One stored row as read: values by column, and what could not be read."""

    def __init__(self, entry_id: int, values: dict[str, Any], unreadable: list[str]) -> None:
        self.id, self.values, self.at = entry_id, values, parse_time(values.get("at"))
        self.problems = [f"its {_WORDS.get(c, c)} cannot be read" for c in unreadable]
        if "at" not in unreadable and self.at is None:
            raw = values.get("at")
            self.problems.append("its time is empty (NULL)" if raw is None else
                                 f"its time {_quote(str(raw))} is not a date and time")
        for c in _FIELDS:
            v = values.get(c)
            if c in unreadable:
                continue
            if v is None and c not in _NULLABLE:
                self.problems.append(f"its {_WORDS.get(c, c)} is empty (NULL)")
            elif v is not None and not isinstance(v, str):
                self.problems.append(f"its {_WORDS.get(c, c)} is not text")

    def text(self, column: str) -> str:
        v = self.values.get(column)
        return "" if v is None else v if isinstance(v, str) else str(v)


def _recover(conn: Connection) -> None:
    with contextlib.suppress(SQLAlchemyError):
        conn.rollback()  # PostgreSQL: a failed statement aborts the transaction


def _read_rows(conn: Connection, conditions: list[Any], ids: list[int]) -> list[_Row]:
    cols = [audit_log.c.id, _at_text(conn).label("at"), *(audit_log.c[k] for k in _FIELDS)]
    wanted = set(ids)
    try:
        rows = conn.execute(select(*cols).where(*conditions, audit_log.c.id >= ids[0], audit_log.c.id <= ids[-1])
                            .order_by(audit_log.c.id)).all()
        return [_Row(r[0], dict(zip(("at", *_FIELDS), r[1:], strict=True)), []) for r in rows if r[0] in wanted]
    except _READ_ERRORS:
        _recover(conn)
    out = []  # one row cannot be read as a whole: read row by row, and a failing row column by column
    for i in ids:
        try:
            r = conn.execute(select(*cols).where(audit_log.c.id == i)).first()
            if r is not None:
                out.append(_Row(r[0], dict(zip(("at", *_FIELDS), r[1:], strict=True)), []))
            continue
        except _READ_ERRORS:
            _recover(conn)
        # the id alone is always readable: if even this fails the database is the problem (→ StorageError)
        conn.execute(select(audit_log.c.id).where(audit_log.c.id == i)).scalar()
        values, unreadable = {}, []
        for col in cols[1:]:
            try:
                values[col.name] = conn.execute(select(col).where(audit_log.c.id == i)).scalar()
            except _READ_ERRORS:
                _recover(conn)
                values[col.name] = None
                unreadable.append(col.name)
        out.append(_Row(i, values, unreadable))
    return out


def _stored_rows(conn: Connection, conditions: list[Any] | None = None, limit: int | None = None,
                 batch: int = 5000) -> Iterator[_Row]:
    """Rows oldest first, in batches (memory stays flat for long trails)."""
    conditions = list(conditions or [])
    last_id: int | None = None
    left = limit
    while left is None or left > 0:
        q = select(audit_log.c.id).where(*conditions)
        if last_id is not None:
            q = q.where(audit_log.c.id > last_id)
        ids = [int(i) for i in conn.execute(q.order_by(audit_log.c.id)
                                            .limit(batch if left is None else min(batch, left))).scalars()]
        if not ids:
            return
        yield from _read_rows(conn, conditions, ids)
        last_id = ids[-1]
        if left is not None:
            left -= len(ids)


def _json_or_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # edited by hand into something that is not JSON: shown as stored


def _entry(r: _Row) -> AuditEntry:
    return AuditEntry(id=r.id, at=r.at or UNREADABLE_TIME, actor=r.text("actor"), action=r.text("action"),
                      entity=r.text("entity"), entity_id=r.text("entity_id"),
                      before=_json_or_text(r.values.get("before")), after=_json_or_text(r.values.get("after")),
                      reason=r.text("reason"), prev_hash=r.text("prev_hash"), hash=r.text("hash"),
                      at_text=None if r.at is not None else r.text("at"),
                      problem="; ".join(r.problems) or None)


def parse_anchor(text: str) -> tuple[int, str]:
    """COUNT:HASH as `history audit anchor` printed it; ValueError naming what is wrong."""
    count, sep, h = text.strip().partition(":")
    if not sep or not count.isdigit() or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise ValueError(f"{text!r} is not an anchor; expected COUNT:HASH as `history audit anchor` prints it "
                         "(e.g. 14:3f2a…, 64 hexadecimal digits)")
    return int(count), h


def verify(engine: Engine, batch: int = 5000, anchor: tuple[int, str] | None = None) -> tuple[int, ChainBreak | None]:
    """(entries checked, first break or None). Reads in batches: memory stays flat for long trails.
    A row that cannot be read (a hand-edited column of any kind) is a break naming that entry.
    `anchor` (count, hash), kept outside the database: the trail must still hold that many entries and
    its entry number `count` must still have that hash — a trail rewritten or truncated consistently
    (chain and head recomputed) fails here."""
    prev, count = GENESIS, 0
    anchored = anchor is not None and anchor[0] == 0 and anchor[1] == GENESIS
    try:
        with engine.connect() as conn:
            try:
                head = conn.execute(select(audit_head.c.entries, audit_head.c.last_hash)).first()
            except _READ_ERRORS:
                _recover(conn)
                return 0, ChainBreak(entry_id=None, message="the audit head row cannot be read (edited by hand)")
            for r in _stored_rows(conn, batch=batch):
                if r.problems:
                    return count, ChainBreak(entry_id=r.id, message=(
                        f"audit entry {r.id} was changed after it was written: {'; '.join(r.problems)}"))
                v = r.values
                if v["prev_hash"] != prev:
                    return count, ChainBreak(entry_id=r.id, message=(
                        f"audit entry {r.id} does not follow the entry before it: an entry before it was "
                        "deleted, inserted or edited"))
                expected = entry_hash(prev, r.at, v["actor"], v["action"], v["entity"], v["entity_id"],
                                      v["before"], v["after"], v["reason"])
                if v["hash"] != expected:
                    return count, ChainBreak(entry_id=r.id, message=(
                        f"audit entry {r.id} was changed after it was written (its content no longer "
                        "matches its hash)"))
                prev, count = v["hash"], count + 1
                if anchor is not None and count == anchor[0]:
                    if prev != anchor[1]:
                        return count - 1, ChainBreak(entry_id=r.id, message=(
                            f"audit entry {r.id} (number {count}) is not the one the anchor {anchor[0]}:"
                            f"{anchor[1][:12]}… recorded: the trail was rewritten since the anchor was taken"))
                    anchored = True
    except SQLAlchemyError as exc:
        raise StorageError(f"reading the audit trail failed: {_first_line(exc)}") from None
    if head is None:
        return count, ChainBreak(entry_id=None, message="the audit head row is missing (deleted by hand)")
    if head.last_hash != prev or head.entries != count:
        written = head.entries if isinstance(head.entries, int) else _quote(str(head.entries))
        return count, ChainBreak(entry_id=None, message=(
            f"the trail ends after {count} entries but {written} were written: entries at the end "
            "were deleted or changed"))
    if anchor is not None and not anchored:
        return count, ChainBreak(entry_id=None, message=(
            f"the trail holds {count} entries but the anchor recorded {anchor[0]}: entries were deleted since "
            "the anchor was taken (the trail was truncated or replaced)"))
    sealed = seals(engine)
    if sealed is not None and sealed.first_bad is not None:
        return count, ChainBreak(entry_id=sealed.first_bad, message=(
            f"audit entry {sealed.first_bad} has no valid keyed seal (HMAC): it was written or re-chained by "
            "someone without the audit key, not through the database's audit functions"))
    return count, None


class Seals(BaseModel):
    """The keyed seals of a PostgreSQL trail (migration 0005), checked in the database by the owner's
    function: the key never leaves it. `keyed_after`: entries up to this id predate the key (unkeyed only)."""

    keyed: bool  # pgcrypto was available: entries after `keyed_after` carry an HMAC
    keyed_after: int
    sealed: int
    first_bad: int | None


def seal_summary(sealed: Seals | None) -> str:
    """What the keyed seals add to an intact chain, in words (CLI and Audit page)."""
    if sealed is None or not sealed.keyed:
        return ("unkeyed chain only: whoever can write the database directly can re-chain it, so keep anchors"
                + (" (SQLite: one user, one file)" if sealed is None else " (pgcrypto was not available)"))
    return (f"{sealed.sealed} entries' keyed seals (HMAC) match"
            + (f"; entries up to {sealed.keyed_after} predate the key (unkeyed chain only)" if sealed.keyed_after
               else ""))


def seals(engine: Engine) -> Seals | None:
    """The seal check of a PostgreSQL trail; None on SQLite (no key the user cannot read: unkeyed chain only)."""
    if engine.dialect.name != "postgresql":
        return None
    try:
        with engine.connect() as conn:
            r = conn.execute(text("SELECT keyed, keyed_after, sealed, first_bad FROM avr_audit_seals()")).one()
    except SQLAlchemyError as exc:
        raise StorageError(f"checking the audit trail's keyed seals failed: {_first_line(exc)}") from None
    return Seals(keyed=bool(r.keyed), keyed_after=int(r.keyed_after or 0), sealed=int(r.sealed or 0),
                 first_bad=r.first_bad)


def current_anchor(engine: Engine) -> str:
    """COUNT:HASH of the trail's end, to keep outside the database (a ticket, a log, an e-mail); StorageError
    when the trail does not verify (an anchor of a broken trail would vouch for it)."""
    count, brk = verify(engine)
    if brk is not None:
        raise StorageError(f"no anchor: the audit trail is broken after {count} good entries: {brk.message}")
    with engine.connect() as conn:
        last = conn.execute(select(audit_head.c.last_hash)).scalar()
    return f"{count}:{last if count else GENESIS}"


def _first_line(exc: SQLAlchemyError) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]


def entries(engine: Engine, since: dt.datetime | None = None, until: dt.datetime | None = None,
            actor: str | None = None, entity: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries oldest first, filtered by time (UTC), user and kind of entity. An entry edited by hand
    into something unreadable is listed with what could be read (`problem` says what could not)."""
    conditions: list[Any] = []
    if since is not None:
        conditions.append(audit_log.c.at >= _utc(since))
    if until is not None:
        conditions.append(audit_log.c.at < _utc(until))
    if actor:
        conditions.append(audit_log.c.actor == actor)
    if entity:
        conditions.append(audit_log.c.entity == entity)
    try:
        with engine.connect() as conn:
            return [_entry(r) for r in _stored_rows(conn, conditions, limit=limit or None)]
    except SQLAlchemyError as exc:
        raise StorageError(f"reading the audit trail failed: {_first_line(exc)}") from None


def actors(engine: Engine) -> list[str]:
    try:
        with engine.connect() as conn:
            names = list(conn.execute(select(audit_log.c.actor).distinct().order_by(audit_log.c.actor)).scalars())
    except _READ_ERRORS:  # an actor edited by hand into unreadable text: the readable ones
        names = sorted({e.actor for e in entries(engine)})
    return [n if isinstance(n, str) else str(n) for n in names if n is not None]


def _cell(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else _canon(value) or ""
    # spreadsheet formula injection: a cell starting with = + - @ (or a tab/CR) is shown as text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = ["Entry", "When (UTC)", "User", "Action", "What", "Which", "Before", "After", "Reason", "Hash"]


def csv_bytes(header: list[str], rows: list[list]) -> bytes:
    """CSV for people: UTF-8 with BOM (spreadsheets read unicode), CRLF, hostile text neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows([[v if isinstance(v, int | float) else _cell(v) for v in r] for r in rows])
    return ("\ufeff" + buf.getvalue()).encode()


def to_csv(rows: list[AuditEntry]) -> bytes:
    """CSV for people (UTF-8 with BOM so spreadsheets read unicode): labels, not codes; hostile text neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for e in rows:
        w.writerow([e.id, _cell(e.when), _cell(e.actor),
                    ACTION_LABELS.get(e.action, e.action), ENTITY_LABELS.get(e.entity, e.entity),
                    _cell(e.entity_id), _cell(e.before), _cell(e.after), _cell(e.reason), e.hash])
    return ("\ufeff" + buf.getvalue()).encode()
