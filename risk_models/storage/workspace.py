"""Workspaces kept on the server: all of a user's work (inventory, answers, scenario probabilities,
settings, …) as named parts of a workspace row, so a browser refresh, a second tab, a server restart
or another machine on the same database all see the same state.

Each part is one row holding zlib-compressed canonical JSON and a version number. A write names the
version it was based on (`expected_version`; None = "this part must not exist yet"); the write is one
conditional UPDATE … WHERE version = expected (or an INSERT of a new part), so of two processes
writing from the same version exactly one wins and the other gets a `WorkspaceConflict` naming who
changed the part and when. Writers lock the workspace row first (every write also sets the
workspace's updated_at/updated_by), so writes to one workspace run one at a time — on SQLite this
also takes the write lock before anything is read. Lock order: a workspace row, then the audit head
(never the other way round, so two writers cannot deadlock on PostgreSQL). `write_parts` changes
several parts all or nothing, and optional audit entries commit in the same transaction as the
change they describe. An archived workspace can still be written (archiving only hides it).

Payloads must be JSON values that survive a round trip unchanged (str keys, finite numbers, lists
not tuples, no dates): anything else is a TypeError naming the part, never a silent conversion."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    false,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from risk_models.storage import audit
from risk_models.storage.errors import StorageError

metadata = MetaData()
workspaces = Table(
    "workspaces", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("is_demo", Boolean, nullable=False, server_default=false()),
    Column("archived", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
)
workspace_parts = Table(
    "workspace_parts", metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(40), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # zlib-compressed canonical JSON
    Column("version", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("workspace_id", "name", name="pk_workspace_parts"),
)

# what a part holds, in words for people (conflict messages)
PART_LABELS = {"register": "The inventory", "answers": "Answers", "probabilities": "Scenario probabilities",
               "assumptions": "Loss assumptions", "profile": "The organisation profile", "providers": "Providers",
               "contracts": "Contracts", "plan": "The what-if plan", "settings": "Settings"}
MAX_PART_BYTES = 64 * 1024 * 1024  # one part, compressed
MAX_NAME = 200
PART_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")
AUDIT_KEYS = frozenset({"action", "entity", "entity_id", "before", "after", "reason"})
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}  # direction overrides: spoofing


class WorkspaceInfo(BaseModel):
    id: int
    name: str
    is_demo: bool
    archived: bool
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str


class Part(BaseModel):
    name: str
    payload: Any
    version: int
    updated_by: str
    updated_at: dt.datetime


def part_label(name: str) -> str:
    return PART_LABELS.get(name, name)


def _clock(t: dt.datetime, now: dt.datetime | None = None) -> str:
    """"10:42 UTC" today, "2026-05-01 10:42 UTC" another day."""
    t = _aware(t)
    now = now or dt.datetime.now(dt.UTC)
    return f"{t:%H:%M} UTC" if t.date() == now.date() else f"{t:%Y-%m-%d %H:%M} UTC"


class WorkspaceConflict(StorageError):
    """Someone else changed the part since it was read (or created it first): nothing was written."""

    def __init__(self, part: str, expected_version: int | None, found_version: int | None,
                 updated_by: str | None, updated_at: dt.datetime | None, workspace_id: int | None = None) -> None:
        self.part, self.expected_version, self.found_version = part, expected_version, found_version
        self.updated_by, self.updated_at, self.workspace_id = updated_by, _aware(updated_at), workspace_id
        label = part_label(part)
        if found_version is None:  # a version was expected but the part was never saved
            message = f"{label} has not been saved in this workspace yet — reload to see it"
        else:
            when = f" at {_clock(self.updated_at)}" if self.updated_at is not None else ""
            message = f"{label} was changed by {updated_by or 'someone'}{when} — reload to see it"
        super().__init__(message)


# --- checks and encoding ---------------------------------------------------------------------------
def _aware(t: Any) -> Any:
    return t.replace(tzinfo=dt.UTC) if isinstance(t, dt.datetime) and t.tzinfo is None else t  # SQLite: naive UTC


def _clean_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"a workspace name must be text, not {type(name).__name__}")
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise ValueError(f"a workspace name must be 1 to {MAX_NAME} characters (got {len(name)} after removing "
                         "spaces at the ends)")
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI), None)
    if bad is not None:
        raise ValueError(f"a workspace name must not contain control characters (found U+{ord(bad):04X}); "
                         "use plain text")
    return name


def _clean_actor(actor: str) -> str:
    if not isinstance(actor, str):
        raise TypeError(f"the actor must be a user name (text), not {type(actor).__name__}")
    if not actor.strip() or "\x00" in actor or len(actor) > 200:
        raise ValueError("the actor (who makes the change) must be a user name of 1 to 200 characters, without NUL")
    return actor


def _check_part_name(name: str) -> str:
    if not isinstance(name, str) or not PART_NAME.fullmatch(name):
        raise ValueError(f"part name {name!r}: use 1 to 40 letters, digits, '_', '.', ':' or '-', starting with "
                         "a letter or digit")
    return name


def _check_version(part: str, expected_version: int | None) -> None:
    if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)
                                         or expected_version < 1):
        raise ValueError(f"{part_label(part)}: expected_version must be None (a new part) or a version number "
                         f"≥ 1, not {expected_version!r}")


def _json_problem(value: Any, path: str = "") -> str | None:
    """Where `value` is not a JSON value that reads back unchanged (None if it is)."""
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if v is None or isinstance(v, (str, bool, int)):
            continue
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                return f"{p or 'the value'} is {v!r} (JSON has no NaN or infinity; use None)"
            continue
        if isinstance(v, list):
            stack.extend((x, f"{p}[{i}]") for i, x in enumerate(v))
            continue
        if isinstance(v, dict):
            for k, x in v.items():
                if not isinstance(k, str):
                    return f"{p or 'the value'} has the key {k!r} of type {type(k).__name__} (JSON keys are text)"
                stack.append((x, f"{p}[{k!r}]"))
            continue
        return f"{p or 'the value'} is a {type(v).__name__} (not a JSON value; convert it, e.g. a date to text)"
    return None


def encode(part: str, payload: Any) -> tuple[bytes, Any]:
    """(compressed canonical JSON, the payload as it reads back). TypeError naming the part when the
    payload is not JSON that reads back unchanged; StorageError when it is too large."""
    try:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        raw = text.encode("utf-8")
        back = json.loads(text)
        same = back == payload
    except (TypeError, ValueError, RecursionError) as exc:
        problem = _json_problem(payload) or str(exc)
        raise TypeError(f"{part_label(part)} ({part}) cannot be stored: {problem}") from None
    if not same:
        problem = _json_problem(payload) or "it does not read back unchanged as JSON"
        raise TypeError(f"{part_label(part)} ({part}) cannot be stored: {problem}")
    blob = zlib.compress(raw, 6)
    if len(blob) > MAX_PART_BYTES:
        raise StorageError(f"{part_label(part)} ({part}) is too large to store: {len(blob) / 2**20:.1f} MiB "
                           f"compressed, the limit is {MAX_PART_BYTES / 2**20:.0f} MiB; split or reduce it")
    return blob, back


def decode(part: str, blob: bytes, workspace_id: int) -> Any:
    try:
        return json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError, TypeError) as exc:
        raise StorageError(f"{part_label(part)} ({part}) of workspace {workspace_id} is damaged and cannot be read "
                           f"({type(exc).__name__}); the other parts are unaffected") from None


def _check_audit_entries(entries: list[dict] | None) -> list[dict]:
    out = []
    for e in entries or []:
        if not isinstance(e, Mapping):
            raise TypeError(f"an audit entry must be a dict with keys {sorted(AUDIT_KEYS)}, not {type(e).__name__}")
        unknown = set(e) - AUDIT_KEYS
        if unknown:
            raise ValueError(f"audit entry keys {sorted(unknown)} unknown; allowed: {sorted(AUDIT_KEYS)}")
        if not e.get("action") or not e.get("entity"):
            raise ValueError("an audit entry needs an action and an entity")
        for key in ("before", "after"):
            if e.get(key) is not None and _json_problem(e[key]):
                raise TypeError(f"audit entry {key}: {_json_problem(e[key])}")
        out.append({"entity_id": "", "before": None, "after": None, "reason": "", **e})
    return out


def _append(conn: Connection, actor: str, entries: list[dict], at: dt.datetime) -> None:
    for e in entries:
        audit.append(conn, actor, e["action"], e["entity"], str(e["entity_id"]), before=e["before"],
                     after=e["after"], reason=e["reason"], at=at)


# --- database helpers ------------------------------------------------------------------------------
_T = TypeVar("_T")


@contextmanager
def _db(what: str) -> Iterator[None]:
    """Driver errors as one StorageError in plain words (our own errors pass through)."""
    try:
        yield
    except SQLAlchemyError as exc:
        detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
        raise StorageError(f"{what} failed: {detail}") from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _info(r: Any) -> WorkspaceInfo:
    return WorkspaceInfo(id=r["id"], name=r["name"], is_demo=bool(r["is_demo"]), archived=bool(r["archived"]),
                         created_at=_aware(r["created_at"]), created_by=r["created_by"],
                         updated_at=_aware(r["updated_at"]), updated_by=r["updated_by"])


def _missing(workspace_id: int) -> KeyError:
    return KeyError(f"no workspace with id {workspace_id} (deleted, or another database)")


def _get(conn: Connection, workspace_id: int) -> WorkspaceInfo:
    r = conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).mappings().first()
    if r is None:
        raise _missing(workspace_id)
    return _info(r)


def _touch(conn: Connection, workspace_id: int, actor: str, now: dt.datetime, **values: Any) -> None:
    """The first statement of every change: sets updated_at/by and locks the workspace row (PostgreSQL
    row lock; SQLite write lock before any read, so no stale snapshot). Writers of one workspace queue here."""
    done = conn.execute(update(workspaces).where(workspaces.c.id == workspace_id)
                        .values(updated_at=now, updated_by=actor, **values)).rowcount
    if done != 1:
        raise _missing(workspace_id)


def _run(engine: Engine, what: str, fn: Callable[[Connection], _T]) -> _T:
    with _db(what), engine.begin() as conn:
        return fn(conn)


# --- workspaces ------------------------------------------------------------------------------------
def create_workspace(engine: Engine, name: str, actor: str, is_demo: bool = False,
                     parts: dict[str, Any] | None = None, audit_entries: list[dict] | None = None) -> WorkspaceInfo:
    """A new workspace with `parts` at version 1, its audit entry and `audit_entries`: one transaction."""
    name, actor = _clean_name(name), _clean_actor(actor)
    encoded = {_check_part_name(k): encode(k, v)[0] for k, v in (parts or {}).items()}
    extra = _check_audit_entries(audit_entries)
    now = _now()

    def tx(conn: Connection) -> WorkspaceInfo:
        new_id = int(conn.execute(insert(workspaces).values(
            name=name, is_demo=bool(is_demo), archived=False, created_at=now, created_by=actor, updated_at=now,
            updated_by=actor)).inserted_primary_key[0])
        for part, blob in encoded.items():
            conn.execute(insert(workspace_parts).values(workspace_id=new_id, name=part, payload=blob, version=1,
                                                        updated_by=actor, updated_at=now))
        _append(conn, actor, [{"action": "create", "entity": "workspace", "entity_id": name, "before": None,
                               "after": {"name": name, "is_demo": bool(is_demo)}, "reason": ""}, *extra], now)
        return _get(conn, new_id)

    return _run(engine, "creating the workspace", tx)


def list_workspaces(engine: Engine, include_archived: bool = False) -> list[WorkspaceInfo]:
    """Most recently updated first."""
    q = select(workspaces).order_by(workspaces.c.updated_at.desc(), workspaces.c.id.desc())
    if not include_archived:
        q = q.where(workspaces.c.archived == false())
    with _db("listing workspaces"), engine.connect() as conn:
        return [_info(r) for r in conn.execute(q).mappings()]


def get_workspace(engine: Engine, workspace_id: int) -> WorkspaceInfo:
    with _db("reading the workspace"), engine.connect() as conn:
        return _get(conn, workspace_id)


def rename_workspace(engine: Engine, workspace_id: int, name: str, actor: str,
                     audit_entries: list[dict] | None = None) -> WorkspaceInfo:
    name, actor = _clean_name(name), _clean_actor(actor)
    extra = _check_audit_entries(audit_entries)
    now = _now()

    def tx(conn: Connection) -> WorkspaceInfo:
        _touch(conn, workspace_id, actor, now)  # lock the row first, then read what it was
        before = conn.execute(select(workspaces.c.name).where(workspaces.c.id == workspace_id)).scalar()
        conn.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(name=name))
        _append(conn, actor, [{"action": "rename", "entity": "workspace", "entity_id": name,
                               "before": {"name": before}, "after": {"name": name}, "reason": ""}, *extra], now)
        return _get(conn, workspace_id)

    return _run(engine, "renaming the workspace", tx)


def set_archived(engine: Engine, workspace_id: int, archived: bool, actor: str,
                 audit_entries: list[dict] | None = None) -> WorkspaceInfo:
    """Archive (hide from the list) or restore a workspace; its parts are kept either way."""
    actor = _clean_actor(actor)
    extra = _check_audit_entries(audit_entries)
    now = _now()

    def tx(conn: Connection) -> WorkspaceInfo:
        _touch(conn, workspace_id, actor, now)  # lock the row first, then read what it was
        r = conn.execute(select(workspaces.c.name, workspaces.c.archived).where(workspaces.c.id == workspace_id)
                         ).one()
        conn.execute(update(workspaces).where(workspaces.c.id == workspace_id).values(archived=bool(archived)))
        _append(conn, actor, [{"action": "archive" if archived else "restore", "entity": "workspace",
                               "entity_id": r.name, "before": {"archived": bool(r.archived)},
                               "after": {"archived": bool(archived)}, "reason": ""}, *extra], now)
        return _get(conn, workspace_id)

    return _run(engine, "archiving the workspace", tx)


def copy_workspace(engine: Engine, workspace_id: int, name: str, actor: str,
                   audit_entries: list[dict] | None = None) -> WorkspaceInfo:
    """A copy (e.g. to try something out): every part at version 1, copied inside the database."""
    name, actor = _clean_name(name), _clean_actor(actor)
    extra = _check_audit_entries(audit_entries)
    now = _now()

    def tx(conn: Connection) -> WorkspaceInfo:
        audit.lock(conn)  # a write before the first read (SQLite: no stale snapshot)
        source = _get(conn, workspace_id)
        new_id = int(conn.execute(insert(workspaces).values(
            name=name, is_demo=source.is_demo, archived=False, created_at=now, created_by=actor, updated_at=now,
            updated_by=actor)).inserted_primary_key[0])
        p = workspace_parts.c
        conn.execute(insert(workspace_parts).from_select(
            ["workspace_id", "name", "payload", "version", "updated_by", "updated_at"],
            select(literal(new_id, Integer), p.name, p.payload, literal(1, Integer), literal(actor, String),
                   literal(now, DateTime(timezone=True))).where(p.workspace_id == workspace_id)))
        _append(conn, actor, [{"action": "create", "entity": "workspace", "entity_id": name, "before": None,
                               "after": {"name": name, "is_demo": source.is_demo, "copied_from": source.name},
                               "reason": ""}, *extra], now)
        return _get(conn, new_id)

    return _run(engine, "copying the workspace", tx)


# --- parts -----------------------------------------------------------------------------------------
def part_versions(engine: Engine, workspace_id: int) -> dict[str, int]:
    """{part: version}, one query (cheap enough to poll on every rerun). KeyError if no such workspace."""
    p = workspace_parts.c
    q = (select(workspaces.c.id, p.name, p.version).select_from(
        workspaces.outerjoin(workspace_parts, p.workspace_id == workspaces.c.id)).where(workspaces.c.id == workspace_id))
    with _db("reading the workspace"), engine.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        raise _missing(workspace_id)
    return {r.name: int(r.version) for r in rows if r.name is not None}


def read_parts(engine: Engine, workspace_id: int, names: Iterable[str] | None = None) -> dict[str, Part]:
    """The parts (all, or those named that exist). KeyError if no such workspace."""
    if isinstance(names, str):
        raise TypeError("names: give a list of part names, not one string")
    wanted = None if names is None else list(names)
    q = select(workspace_parts).where(workspace_parts.c.workspace_id == workspace_id)
    if wanted is not None:
        if not wanted:
            get_workspace(engine, workspace_id)
            return {}
        q = q.where(workspace_parts.c.name.in_(wanted))
    with _db("reading the workspace"), engine.connect() as conn:
        rows = conn.execute(q.order_by(workspace_parts.c.name)).mappings().all()
        if not rows:
            _get(conn, workspace_id)
    return {r["name"]: Part(name=r["name"], payload=decode(r["name"], r["payload"], workspace_id),
                            version=r["version"], updated_by=r["updated_by"], updated_at=_aware(r["updated_at"]))
            for r in rows}


def write_part(engine: Engine, workspace_id: int, name: str, payload: Any, actor: str,
               expected_version: int | None, audit_entries: list[dict] | None = None) -> Part:
    """Store one part if it is still at `expected_version` (None: it must not exist yet); otherwise
    WorkspaceConflict and nothing is written. On success: version + 1, the workspace's updated_at/by
    set and `audit_entries` appended, all in one transaction."""
    return write_parts(engine, workspace_id, {name: (payload, expected_version)}, actor, audit_entries)[name]


def write_parts(engine: Engine, workspace_id: int, changes: Mapping[str, tuple[Any, int | None]], actor: str,
                audit_entries: list[dict] | None = None) -> dict[str, Part]:
    """Several parts all or nothing ({name: (payload, expected_version)}): one conflict writes none."""
    actor = _clean_actor(actor)
    if not changes:
        raise ValueError("write_parts: no parts given")
    encoded: dict[str, tuple[bytes, Any, int | None]] = {}
    for name, change in changes.items():
        _check_part_name(name)
        if not isinstance(change, tuple) or len(change) != 2:
            raise TypeError(f"write_parts: {name!r} must map to (payload, expected_version)")
        payload, expected = change
        _check_version(name, expected)
        blob, back = encode(name, payload)  # CPU work before the transaction: the lock is held briefly
        encoded[name] = (blob, back, expected)
    extra = _check_audit_entries(audit_entries)
    now = _now()
    p = workspace_parts.c

    def conflict(conn: Connection, name: str, expected: int | None) -> WorkspaceConflict:
        cur = conn.execute(select(p.version, p.updated_by, p.updated_at)
                           .where(p.workspace_id == workspace_id, p.name == name)).first()
        return WorkspaceConflict(name, expected, None if cur is None else cur.version,
                                 None if cur is None else cur.updated_by, None if cur is None else cur.updated_at,
                                 workspace_id)

    def tx(conn: Connection) -> dict[str, Part]:
        _touch(conn, workspace_id, actor, now)  # first: the lock, and KeyError for a missing workspace
        out = {}
        for name, (blob, back, expected) in encoded.items():
            if expected is None:
                exists = conn.execute(select(p.version).where(p.workspace_id == workspace_id, p.name == name)
                                      ).first()
                if exists is not None:
                    raise conflict(conn, name, expected)
                conn.execute(insert(workspace_parts).values(workspace_id=workspace_id, name=name, payload=blob,
                                                            version=1, updated_by=actor, updated_at=now))
                version = 1
            else:
                # compare-and-set in one statement: of two writers from the same version one matches
                done = conn.execute(update(workspace_parts)
                                    .where(p.workspace_id == workspace_id, p.name == name, p.version == expected)
                                    .values(payload=blob, version=p.version + 1, updated_by=actor,
                                            updated_at=now)).rowcount
                if done != 1:
                    raise conflict(conn, name, expected)
                version = expected + 1
            out[name] = Part(name=name, payload=back, version=version, updated_by=actor, updated_at=now)
        _append(conn, actor, extra, now)
        return out

    return _run(engine, "saving the workspace", tx)
