"""The workspace on the server: every part of a user's work — the inventory register, answers, scenario
probabilities, settings (profile, loss assumptions, scenario pack), providers and contracts, the what-if
plan — is a part of a workspace row in the database (risk_models.storage.workspace), so a refresh, a
second tab, a server restart or another machine on the same database show the same state.

Each run of the app: `sync()` first (before the page) reads the parts' versions (one query); parts
another tab or user changed are loaded, and parts this session changed (in a callback) are written,
checked against the version they were based on. `save()` last (after the page, also when it reruns or
stops) writes what the page changed. A change is detected by a cheap fingerprint per part; a write
whose base version is no longer the stored one is refused by the database and the user is told who
changed it and when, and sees their version (nothing is overwritten silently). Undo history and
half-finished uploads stay in the tab."""

from __future__ import annotations

import base64
import getpass
import logging
import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.state import auth
from dashboard.state.library import base_library, library
from dashboard.state.session import (
    ANSWERS,
    ARCHIVED_ANSWERS,
    ARCHIVED_WHATIF,
    ASSUMPTIONS,
    ASSUMPTIONS_VERSION,
    DEMO_NAME,
    EDITOR_VERSION,
    HISTORY,
    INVENTORY,
    INVENTORY_KEY,
    LINE,
    LOCAL_NAME,
    ORG,
    ORG_NAME,
    PENDING_UPLOAD,
    PROBABILITIES,
    PROFILE,
    PROFILE_IS_DEMO,
    PROVIDER_FILES,
    RAW,
    REGISTER,
    SCENARIO_PACK,
    SCENARIO_VERSION,
    SCOPED_ANSWERS,
    SOURCE,
    WHATIF_PLAN,
    WORKSPACE,
    WORKSPACE_IS_DEMO,
    WORKSPACE_NAME,
    WORKSPACE_NOTICES,
    WORKSPACE_SAVED,
    WORKSPACE_SYNCED,
    _digest,
    current_session,
)
from dashboard.state.storage import storage
from dashboard.state.workspace import (
    _inventory_key,
    _load_demo,
    _validate,
    demo_inputs,
    load_upload,
    validates_like_base,
)
from risk_models.auth.roles import Permission
from risk_models.questionnaire.answers import answers_to_jsonable, validate_answers
from risk_models.questionnaire.scoped import ScopedAnswers, validate_scoped

_LOG = logging.getLogger(__name__)
WORKSPACE_PARAM = "workspace"  # ?workspace=<id> in the address: a refresh reopens the same workspace


@dataclass(frozen=True)
class PartSpec:
    """How one part goes between the session and the database."""

    name: str
    dump: Callable[[], Any]
    load: Callable[[Any], None]
    permission: Permission  # team mode: who may change it for everyone
    fingerprint: Callable[[], str] | None = None  # cheap change test (default: digest of the dump)

    def print(self) -> str:
        return self.fingerprint() if self.fingerprint else _digest(self.dump())


# --- the parts -------------------------------------------------------------------------------------
def _dump_register() -> dict:
    ss = current_session()
    raw = ss[RAW]
    cells = raw.drop(columns=[LINE]).astype(object).where(raw.drop(columns=[LINE]).notna(), None)
    return {"columns": [str(c) for c in cells.columns], "rows": cells.to_numpy().tolist(),
            "lines": [int(x) for x in raw[LINE].tolist()], "notices": list(raw.attrs.get("notices", [])),
            "source": ss.get(SOURCE, ""), "register": ss[REGISTER],
            "archived_answers": {d: a.model_dump(mode="json") for d, a in ss.get(ARCHIVED_ANSWERS, {}).items()},
            "archived_whatif": ss.get(ARCHIVED_WHATIF, {})}


def _register_print() -> str:
    ss = current_session()
    reg = ss[REGISTER]
    return "|".join([ss.get(INVENTORY_KEY, ""), str(reg["version"]), str(len(reg["versions"])), ss.get(SOURCE, ""),
                     _digest(sorted(ss.get(ARCHIVED_ANSWERS, {}))), _digest(ss.get(ARCHIVED_WHATIF, {}))])


def _load_register(p: dict) -> None:
    from risk_models.inventory.versions import ArchivedAnswers
    ss = current_session()
    raw = pd.DataFrame(p["rows"], columns=p["columns"], dtype=object).fillna("")
    raw[LINE] = p["lines"]
    raw.attrs["notices"] = p.get("notices", [])
    key = _inventory_key(raw)
    # the demo's register as stored (every restart of a demo workspace): its validation is shared, not redone
    demo = demo_inputs()
    same = validates_like_base(library()) and key == demo.hashes[0] and \
        list(raw.columns) == list(demo.raw.columns)
    ss[RAW], ss[INVENTORY], ss[INVENTORY_KEY] = raw, demo.result if same else _validate(raw), key
    ss[EDITOR_VERSION] = ss.get(EDITOR_VERSION, 0) + 1
    ss[SOURCE], ss[REGISTER] = p["source"], p["register"]
    ss[ARCHIVED_ANSWERS] = {d: ArchivedAnswers.model_validate(a) for d, a in p["archived_answers"].items()}
    ss[ARCHIVED_WHATIF] = p["archived_whatif"]
    ss.pop(HISTORY, None)  # undo steps of another version of the register would not apply
    ss.pop(PENDING_UPLOAD, None)


def _dump_answers() -> dict:
    ss = current_session()
    return {"own": answers_to_jsonable(ss.get(ANSWERS, {})),
            "scoped": ss.get(SCOPED_ANSWERS, ScopedAnswers()).jsonable()}


def _load_answers(p: dict) -> None:
    questions = library().questions
    ss = current_session()
    ss[ANSWERS] = validate_answers(p["own"], questions)[0]
    ss[SCOPED_ANSWERS] = validate_scoped(p["scoped"], questions)[0]


def _dump_settings(pack_dump: bool = True) -> dict:
    """`pack_dump=False`: a custom scenario pack by its hash only (the fingerprint taken on every run)."""
    ss = current_session()
    profile, assumptions, pack = ss.get(PROFILE), ss.get(ASSUMPTIONS), ss.get(SCENARIO_PACK)
    return {"profile": profile.model_dump(mode="json") if profile else None,
            "profile_is_demo": bool(ss.get(PROFILE_IS_DEMO)), "org": ss.get(ORG, ""), "org_name": ss.get(ORG_NAME, ""),
            "assumptions": assumptions.model_dump(mode="json") if assumptions else None,
            "pack": ({"sf": pack["sf"].model_dump(mode="json")} if pack_dump else {})
            | {"hash": pack["hash"], "source": pack["source"]} if pack else None,
            "local_name": ss.get(LOCAL_NAME, "")}


def _load_settings(p: dict) -> None:
    from risk_models.config.profile import OrgProfile
    from risk_models.config.schema import AssumptionsFile, ScenariosFile
    ss = current_session()
    before = _dump_settings(pack_dump=False)
    if p["profile"] is not None:
        ss[PROFILE] = OrgProfile.model_validate(p["profile"])
    ss[PROFILE_IS_DEMO], ss[ORG], ss[ORG_NAME] = p["profile_is_demo"], p["org"], p["org_name"]
    ss[LOCAL_NAME] = p.get("local_name", "")
    if p["assumptions"] is None:
        ss.pop(ASSUMPTIONS, None)
    else:
        ss[ASSUMPTIONS] = AssumptionsFile.model_validate(p["assumptions"])
    if p["pack"] is None:
        ss.pop(SCENARIO_PACK, None)
    else:
        ss[SCENARIO_PACK] = p["pack"] | {"sf": ScenariosFile.model_validate(p["pack"]["sf"])}
    # the Settings and Scenarios editors redraw with what was loaded (only then: their keys name a version)
    if before["assumptions"] != p["assumptions"]:
        ss[ASSUMPTIONS_VERSION] = ss.get(ASSUMPTIONS_VERSION, 0) + 1
    if (before["pack"] or {}).get("hash") != (p["pack"] or {}).get("hash"):
        ss[SCENARIO_VERSION] = ss.get(SCENARIO_VERSION, 0) + 1


def _setter(key) -> Callable[[Any], None]:
    def load(p: Any) -> None:
        current_session()[key] = p
    return load


def _getter(key, default) -> Callable[[], Any]:
    return lambda: current_session().get(key, default)


PARTS = (
    PartSpec("register", _dump_register, _load_register, Permission.edit_inventory, _register_print),
    PartSpec("answers", _dump_answers, _load_answers, Permission.edit_answers),
    PartSpec("probabilities", _getter(PROBABILITIES, {}), _setter(PROBABILITIES), Permission.edit_scenarios),
    PartSpec("settings", _dump_settings, _load_settings, Permission.edit_assumptions,
             lambda: _digest(_dump_settings(pack_dump=False))),
    PartSpec("providers", _getter(PROVIDER_FILES, None), _setter(PROVIDER_FILES), Permission.edit_inventory),
    PartSpec("plan", _getter(WHATIF_PLAN, {}), _setter(WHATIF_PLAN), Permission.edit_answers),
)


def _parts() -> tuple[PartSpec, ...]:
    # team mode shares answers deployment by deployment (storage.team, with their own versions)
    return tuple(p for p in PARTS if not (p.name == "answers" and auth.team_mode()))


# --- who is writing ----------------------------------------------------------------------------------
def os_user_name() -> str:
    """The OS user's full name (GECOS), else the login name; never "root" unasked."""
    try:
        login = getpass.getuser()
        full = pwd.getpwnam(login).pw_gecos.split(",")[0].strip()
    except (OSError, KeyError):
        login, full = os.environ.get("USER", ""), ""
    if full and full.lower() != "root":
        return full
    return login if login and login != "root" else "Local user"


def actor_name() -> str:
    """The signed-in user in team mode; else the local name set in Settings (default: the OS user)."""
    if auth.team_mode():
        return auth.actor().name
    return os.environ.get("AI_VENDOR_RISK_USER") or current_session().get(LOCAL_NAME) or os_user_name()


# --- which workspace this tab shows ------------------------------------------------------------------
def _info():
    from risk_models.storage.workspace import get_workspace
    return get_workspace(storage(), current_session()[WORKSPACE])


def workspace_name() -> str:
    return current_session().get(WORKSPACE_NAME, "")


def workspace_is_demo() -> bool:
    return bool(current_session().get(WORKSPACE_IS_DEMO))


def _remember(info) -> None:
    ss = current_session()
    ss[WORKSPACE], ss[WORKSPACE_NAME], ss[WORKSPACE_IS_DEMO] = info.id, info.name, info.is_demo
    st.query_params[WORKSPACE_PARAM] = str(info.id)


def _wanted() -> int | None:
    try:
        return int(st.query_params.get(WORKSPACE_PARAM, ""))
    except ValueError:
        return None


def _first_workspace():
    """The workspace in the address, else the one changed last, else a new demo workspace."""
    from risk_models.storage.workspace import create_workspace, get_workspace, list_workspaces
    engine = storage()
    wanted = _wanted()
    if wanted is not None:
        try:
            return get_workspace(engine, wanted)
        except KeyError:
            current_session().setdefault(WORKSPACE_NOTICES, []).append(
                f"Workspace {wanted} does not exist (any more); the most recent one is open instead.")
    found = list_workspaces(engine)
    if found:
        return found[0]
    _load_demo()
    return create_workspace(engine, DEMO_NAME, actor_name(), is_demo=True, parts=_dumps())


def _dumps() -> dict[str, Any]:
    return {p.name: p.dump() for p in _parts()}


def open_workspace(workspace_id: int | None = None) -> None:
    """Show workspace `workspace_id` (None: the one this tab shows, else the first) in this tab."""
    from risk_models.storage.workspace import get_workspace
    ss = current_session()
    info = get_workspace(storage(), workspace_id) if workspace_id is not None else _first_workspace()
    _load_demo()  # a known starting point: parts the workspace lacks keep the defaults
    _remember(info)
    ss[WORKSPACE_SYNCED], ss[WORKSPACE_SAVED] = {}, {}
    _pull(set(p.name for p in _parts()))


def _pull(names: set[str]) -> dict:
    """Load these parts from the database into the session; returns them as read (name -> Part)."""
    from risk_models.storage.workspace import read_parts
    ss = current_session()
    stored = read_parts(storage(), ss[WORKSPACE], names)
    synced = ss.setdefault(WORKSPACE_SYNCED, {})
    audited = ss.setdefault(WORKSPACE_SAVED, {})
    for spec in _parts():
        if spec.name in stored:
            spec.load(stored[spec.name].payload)
            synced[spec.name] = (spec.print(), stored[spec.name].version)
        elif spec.name in names:
            synced[spec.name] = (spec.print(), None)  # not stored yet: written on its first change
        if spec.name in names:  # the next audit entry's "before" is what was loaded, not another workspace's
            audited[spec.name] = _summary(spec.name)
    return stored


def sync() -> None:
    """Before the page: this tab's workspace as the database has it now, this tab's changes written."""
    from risk_models.storage.workspace import part_versions
    ss = current_session()
    if WORKSPACE not in ss or INVENTORY not in ss:
        open_workspace()
        return
    try:
        _info()
    except KeyError:  # deleted under this tab (a test database reset, an administrator): start afresh
        st.query_params.pop(WORKSPACE_PARAM, None)
        open_workspace()
        return
    stored = part_versions(storage(), ss[WORKSPACE])
    synced = ss.setdefault(WORKSPACE_SYNCED, {})
    newer = {p.name for p in _parts() if stored.get(p.name) != synced.get(p.name, (None, None))[1]}
    if newer:
        # changed here and there since this tab last saw it: theirs stays, and the user is told
        clashes = [p.name for p in _parts() if p.name in newer and p.print() != synced.get(p.name, ("", None))[0]]
        read = _pull(newer)
        for part in clashes:
            _tell_conflict(part, read.get(part))
    save()


def _tell_conflict(part: str, stored: Any) -> None:
    from risk_models.storage.workspace import part_label
    who = f" by {stored.updated_by} at {stored.updated_at:%H:%M} UTC" if stored else ""
    current_session().setdefault(WORKSPACE_NOTICES, []).append(
        f"{part_label(part)} was changed{who} while you were editing; your change to it was not saved and "
        "you now see theirs.")


def save() -> None:
    """Write every part this tab changed since it last synced (after the page, and before the next)."""
    from risk_models.storage.errors import StorageError
    from risk_models.storage.workspace import WorkspaceConflict, part_label, write_part
    ss = current_session()
    if WORKSPACE not in ss or INVENTORY not in ss:
        return
    synced = ss.setdefault(WORKSPACE_SYNCED, {})
    for spec in _parts():
        now = spec.print()
        before, version = synced.get(spec.name, (None, None))
        if now == before:
            continue
        if auth.team_mode() and not auth.can(spec.permission):
            continue  # the page did not offer it; the change stays in this tab
        try:
            part = write_part(storage(), ss[WORKSPACE], spec.name, spec.dump(), actor_name(), version,
                              audit_entries=_audit(spec.name, version))
        except WorkspaceConflict as exc:
            ss.setdefault(WORKSPACE_NOTICES, []).append(f"{exc} Your change to it was not saved.")
            _pull({spec.name})
        except (StorageError, TypeError) as exc:  # the database is away, or a value JSON cannot hold
            _LOG.exception("saving the workspace part %s failed", spec.name)
            ss.setdefault(WORKSPACE_NOTICES, []).append(
                f"{part_label(spec.name)} could not be saved on the server ({exc}); it is kept in this tab — "
                "try again, or download what you need.")
            synced[spec.name] = (now, version)  # told once, not on every run; the next change tries again
        else:
            synced[spec.name] = (now, part.version)


def notices() -> list[str]:
    return current_session().pop(WORKSPACE_NOTICES, [])


# --- the audit trail of workspace changes --------------------------------------------------------------
TEAM_AUDITED = {"register", "answers", "probabilities"}  # team mode audits these edit by edit (state.audit)


def _audit(part: str, version: int | None) -> list[dict]:
    """What changed in `part` since this tab last saved it, as before → after (only what changed)."""
    ss = current_session()
    saved = ss.setdefault(WORKSPACE_SAVED, {})
    if auth.team_mode() and part in TEAM_AUDITED:
        return []
    now = _summary(part)
    before, after = _changed(saved.get(part), now)
    saved[part] = now
    if version is None and part != "register":
        return []  # a new workspace's first state: its creation is audited
    action = "upload" if part == "register" and (before or {}).get("source") != (after or {}).get("source") else "edit"
    return [{"action": action, "entity": part, "entity_id": workspace_name(), "before": before, "after": after}]


def _summary(part: str) -> Any:
    """The part as the audit trail shows it: the register by version and its changes (not 20,000 rows)."""
    if part == "register":
        ss = current_session()
        reg = ss[REGISTER]
        return {"version": reg["version"], "source": ss.get(SOURCE, ""), "changes": reg["versions"][-1]["changes"],
                "rows": len(ss[RAW])}
    if part == "answers":
        p = _dump_answers()
        return p["own"] | {f"{scope}: {k}": v for scope, vals in p["scoped"].items() for k, v in vals.items()}
    if part == "settings":
        return _dump_settings(pack_dump=False)  # a scenario pack by its hash and source, not its whole text
    if part == "providers":
        files = current_session().get(PROVIDER_FILES) or {}
        return {k: v["name"] for k, v in files.items()}
    return next(p.dump() for p in PARTS if p.name == part)


def _changed(old: Any, new: Any) -> tuple[Any, Any]:
    """Only the keys that differ, for dicts; else the whole values."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return old, new
    keys = [k for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


# --- workspaces: start one from an upload, list, rename, archive, copy ----------------------------------
def suggested_name(filename: str) -> str:
    """A workspace name from a file name: "acme_inventory-2026.csv" -> "Acme inventory 2026"."""
    stem = Path(filename).stem.replace("_", " ").replace("-", " ").strip()
    return (stem[:1].upper() + stem[1:])[:200] or "My organisation"


def start_workspace(raw: pd.DataFrame, filename: str, name: str) -> None:
    """A new workspace named `name` from an uploaded inventory (the demo workspace stays as it was): no
    answers, default probabilities, the configured profile under the organisation's name."""
    from risk_models.storage.workspace import create_workspace
    save()  # the demo workspace keeps what was done to it
    ss = current_session()
    load_upload(raw, filename)
    ss.pop(HISTORY, None)  # undo must not bring the demo's rows into the new workspace
    base = base_library().profile
    ss[PROFILE], ss[PROFILE_IS_DEMO] = base.model_copy(update={"name": name}), False
    ss[ORG] = ss[ORG_NAME] = name
    ss[PROBABILITIES], ss[PROVIDER_FILES] = {}, None
    ss.pop(SCENARIO_PACK, None)
    ss.pop(ASSUMPTIONS, None)
    upload = {"action": "upload", "entity": "register", "entity_id": name, "before": None,
              "after": _summary("register")}
    info = create_workspace(storage(), name, actor_name(), parts=_dumps(), audit_entries=[upload])
    _remember(info)
    ss[WORKSPACE_SYNCED] = {p.name: (p.print(), 1) for p in _parts()}
    ss[WORKSPACE_SAVED] = {p.name: _summary(p.name) for p in _parts()}


def open_demo() -> None:
    """The demo workspace (a new one if it was archived or never made)."""
    from risk_models.storage.workspace import create_workspace
    save()
    demo = next((w for w in workspaces() if w.is_demo), None)
    if demo is None:
        _load_demo()
        demo = create_workspace(storage(), DEMO_NAME, actor_name(), is_demo=True, parts=_dumps())
    open_workspace(demo.id)


def workspaces(include_archived: bool = False):
    from risk_models.storage.workspace import list_workspaces
    return list_workspaces(storage(), include_archived)


def rename(workspace_id: int, name: str) -> None:
    from risk_models.storage.workspace import rename_workspace
    info = rename_workspace(storage(), workspace_id, name, actor_name())
    if workspace_id == current_session().get(WORKSPACE):
        _remember(info)


def archive(workspace_id: int, archived: bool = True) -> None:
    from risk_models.storage.workspace import set_archived
    set_archived(storage(), workspace_id, archived, actor_name())


def copy(workspace_id: int, name: str) -> int:
    from risk_models.storage.workspace import copy_workspace
    save()
    return copy_workspace(storage(), workspace_id, name, actor_name()).id


# --- providers and contracts: the files as loaded, read again when the workspace opens -------------------
def set_provider_files(providers: tuple[bytes, str], contracts: tuple[bytes, str]) -> None:
    current_session()[PROVIDER_FILES] = {
        kind: {"name": name, "data": base64.b64encode(data).decode("ascii")}
        for kind, (data, name) in (("providers", providers), ("contracts", contracts))}


def provider_files() -> tuple[tuple[bytes, str], tuple[bytes, str]] | None:
    """(providers, contracts) as (bytes, file name), or None when none were loaded in this workspace."""
    files = current_session().get(PROVIDER_FILES)
    if not files:
        return None
    p, c = ((base64.b64decode(files[k]["data"]), files[k]["name"]) for k in ("providers", "contracts"))
    return p, c
