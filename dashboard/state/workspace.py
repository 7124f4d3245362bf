"""The session's inventory register and the demo organisation every session starts on.

The source of truth for the inventory is a text table of every row the user gave us (valid and
rejected, with their original line numbers); the validated ImportResult is derived from it, so an
edit anywhere re-validates everything and no row can get lost. A new register version keeps the
answers of deployments still present and archives those of removed ones (restorable); uploads wait
for confirmation; undo goes back one edit."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.state.audit import _audit_register, _team_mode
from dashboard.state.library import _settings_digest, base_library, library
from dashboard.state.session import (
    ANSWERS,
    ARCHIVED_ANSWERS,
    ARCHIVED_WHATIF,
    DEMO_DIR,
    DEMO_NAME,
    EDITOR_VERSION,
    HISTORY,
    INVENTORY,
    INVENTORY_KEY,
    LINE,
    ORG,
    ORG_NAME,
    PENDING_UPLOAD,
    PROBABILITIES,
    PROFILE,
    PROFILE_IS_DEMO,
    PROVIDER_FILES,
    RAW,
    REGISTER,
    SCOPED_ANSWERS,
    SOURCE,
    UNDO_DEPTH,
    UPLOAD_NOTICES,
    WHATIF_PLAN,
    _assessment_key_of,
    _digest,
    current_session,
)
from risk_models.config.loader import Library, load_profile
from risk_models.config.profile import OrgProfile
from risk_models.inventory.read import ImportResult, normalise_header, read_table, unescape_text, validate_table
from risk_models.inventory.versions import (
    FIELD_LABELS,
    ArchivedAnswers,
    RegisterDiff,
    carry_answers,
    register_diff,
    register_hash,
    restore_answers,
)
from risk_models.questionnaire.answers import AnswerMap, read_answers_file, validate_answers
from risk_models.questionnaire.scoped import ScopedAnswers


@st.cache_data(show_spinner="Reading file…", max_entries=8)
def read_upload(data: bytes, filename: str) -> pd.DataFrame:
    """Raw text table with the original line numbers in the LINE column (InventoryFileError
    propagates for whole-file problems)."""
    return _read_raw(data, filename)


def _read_raw(data: bytes, filename: str) -> pd.DataFrame:
    raw, lines = read_table(data, filename)  # two headers meaning one column: InventoryFileError, never a silent pick
    notices = list(raw.attrs.get("notices", []))
    if raw.attrs.get("format") in ("csv", "xlsx"):
        raw = raw.apply(unescape_text)  # keep literal values from here on (edits are literal too)
    raw = raw.copy()
    raw.columns = normalise_header(list(raw.columns))
    raw[LINE] = lines
    raw.attrs["notices"] = notices  # e.g. which XLSX sheet was read; shown on the Inventory page
    return raw


def _validate(raw: pd.DataFrame, lib: Library | None = None) -> ImportResult:
    cols = [c for c in raw.columns if c != LINE]
    return validate_table(raw[cols], raw[LINE].to_numpy(), lib or library())


def validates_like_base(lib: Library) -> bool:
    """A register validates with `lib` as with the built-in configuration: validation reads only the
    channels, models and regions, which a scenario pack, profile or assumptions never replace."""
    base = base_library()
    return lib.channels is base.channels and lib.models is base.models and lib.regions is base.regions


def _inventory_key(raw: pd.DataFrame) -> str:
    return _digest(pd.util.hash_pandas_object(raw.astype(str), index=False).sum().item())


def set_raw(raw: pd.DataFrame, source: str | None = None, keep_history: bool = True,
            new_register: bool = False, restore_archived: bool = False, validated: ImportResult | None = None,
            hashes: tuple[str, str] | None = None) -> None:
    """Make `raw` the current register version. Answers and what-if choices of deployments
    still present are kept; those of removed deployments are archived (restorable), never
    dropped. new_register=True starts a new register at version 1 (demo, reopened save).
    `validated`: `raw` already validated with this session's library (the shared demo); `hashes`: its
    (inventory key, register hash), already worked out (the shared demo's)."""
    ss = current_session()
    if keep_history and RAW in ss:
        ss[HISTORY] = ([ss[RAW]] + ss.get(HISTORY, []))[:UNDO_DEPTH]
    old = ss.get(INVENTORY)
    ss[RAW] = raw
    ss[INVENTORY] = result = validated if validated is not None else _validate(raw)
    key, reg_hash = hashes if hashes is not None else (_inventory_key(raw), None)
    ss[INVENTORY_KEY] = key
    ss[EDITOR_VERSION] = ss.get(EDITOR_VERSION, 0) + 1
    if source:
        ss[SOURCE] = source
    reg = ss.get(REGISTER)
    if new_register or reg is None or old is None:
        ss[REGISTER] = {"version": 1, "hash": reg_hash or register_hash(result.frame), "source": ss.get(SOURCE, ""),
                        "versions": [_version_entry(1, ss.get(SOURCE, ""), None)]}
        ss[ARCHIVED_ANSWERS] = {}
        return
    ids = result.frame["deployment_id"].astype(str).tolist()
    diff = register_diff(old.frame, result.frame)
    if _team_mode():
        _audit_register(diff)
    new_hash = register_hash(result.frame)
    if new_hash == reg["hash"]:
        return  # same register content (e.g. a rejected row edited): no new version
    version = reg["version"] + 1
    answers, archive = carry_answers(ss.get(ANSWERS, {}), ss.get(ARCHIVED_ANSWERS, {}), ids, version)
    if restore_archived:  # undo brings rows back: their archived answers come back with them
        for dep in [d for d in archive if d in set(ids)]:
            answers, archive = restore_answers(answers, archive, dep)
    plan = ss.get(WHATIF_PLAN, {})
    ss[WHATIF_PLAN] = {d: v for d, v in plan.items() if d in set(ids)}
    ss[ARCHIVED_WHATIF] = {**ss.get(ARCHIVED_WHATIF, {}), **{d: v for d, v in plan.items() if d not in set(ids)}}
    ss[ANSWERS], ss[ARCHIVED_ANSWERS] = answers, archive
    ss[REGISTER] = {"version": version, "hash": new_hash, "source": ss.get(SOURCE, ""),
                    "versions": [*reg["versions"], _version_entry(version, ss.get(SOURCE, ""), diff)]}


def _version_entry(version: int, source: str, diff: RegisterDiff | None) -> dict:
    return {"version": version, "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "source": source,
            "changes": diff.summary() if diff is not None else "new register"}


def register_info() -> dict:
    """{version, hash, source} of the current register (stored with saved assessments)."""
    ensure_loaded()
    reg = current_session()[REGISTER]
    return {"version": reg["version"], "hash": reg["hash"], "source": reg["source"]}


def register_versions() -> list[dict]:
    ensure_loaded()
    return list(current_session()[REGISTER]["versions"])


def archived_answers() -> dict[str, ArchivedAnswers]:
    ensure_loaded()
    return current_session().get(ARCHIVED_ANSWERS, {})


def restore_archived(deployment_id: str) -> None:
    ss = current_session()
    ss[ANSWERS], ss[ARCHIVED_ANSWERS] = restore_answers(ss[ANSWERS], ss[ARCHIVED_ANSWERS], deployment_id)


def is_demo() -> bool:
    ensure_loaded()
    return current_session().get(SOURCE) == DEMO_NAME


def stage_upload(raw: pd.DataFrame, filename: str) -> RegisterDiff:
    """A new version waiting for confirmation: the diff against the current register."""
    new = _validate(raw)
    diff = register_diff(inventory().frame, new.frame)
    current_session()[PENDING_UPLOAD] = {"raw": raw, "name": filename, "diff": diff,
                                         "valid": len(new.frame), "rejected": len(new.rejected_lines)}
    return diff


def pending_upload() -> dict | None:
    return current_session().get(PENDING_UPLOAD)


def confirm_upload() -> None:
    p = current_session().pop(PENDING_UPLOAD)
    set_raw(p["raw"], f"Uploaded file {p['name']}")


def cancel_upload() -> None:
    current_session().pop(PENDING_UPLOAD, None)


def undo() -> str | None:
    """Go back one edit; returns what was undone in words (None when there is nothing to undo)."""
    ss = current_session()
    if not ss.get(HISTORY):
        return None
    previous, ss[HISTORY] = ss[HISTORY][0], ss[HISTORY][1:]
    before = inventory()
    set_raw(previous, keep_history=False, restore_archived=True)
    after = inventory()
    diff = register_diff(before.frame, after.frame)
    rejected = len(after.rejected_lines) - len(before.rejected_lines)
    parts = [f"{len(diff.added)} deployment(s) back"] if diff.added else []
    parts += [f"{len(diff.removed)} deployment(s) removed again"] if diff.removed else []
    fields = [f"{c.deployment_id} {FIELD_LABELS.get(c.column, c.column).lower()} back to “{c.after or 'blank'}”"
              for c in diff.changed[:5]]
    parts += ["; ".join(fields) + (f" and {len(diff.changed) - 5} more" if len(diff.changed) > 5 else "")] \
        if fields else []
    parts += [f"{abs(rejected)} rejected row(s) {'back' if rejected > 0 else 'fewer'}"] if rejected else []
    return "; ".join(parts) or "the last edit (no field of a valid deployment changed)"


@dataclass(frozen=True)
class DemoInputs:
    """The demo organisation as read and validated against the built-in configuration."""

    raw: pd.DataFrame
    result: ImportResult
    answers: AnswerMap
    profile: OrgProfile

    @cached_property
    def hashes(self) -> tuple[str, str]:
        """(inventory key, register hash) of `raw`: worked out once per server, not on every new tab."""
        return _inventory_key(self.raw), register_hash(self.result.frame)

    def assessment_key(self) -> str:
        """The key a session that has just loaded the demo computes (assessment_key())."""
        return _assessment_key_of(self.hashes[0], self.answers, {}, "built-in", _settings_digest(self.profile, None))


@st.cache_resource(show_spinner=False)
def demo_inputs() -> DemoInputs:
    """Read and validated once per server process: every new session starts on the demo (read-only
    here; sessions get their own copies of what they edit)."""
    lib = base_library()
    raw = _read_raw((DEMO_DIR / "inventory.csv").read_bytes(), "inventory.csv")
    answers, _ = validate_answers(read_answers_file(DEMO_DIR / "answers.yaml"), lib.questions)
    return DemoInputs(raw, _validate(raw, lib), answers, load_profile(DEMO_DIR / "profile.yaml", lib.regimes))


def _load_demo() -> None:
    demo = demo_inputs()
    # the shared validation holds wherever validation reads the built-in channels, models and regions
    # (the demo's own profile included): a new session does not validate the demo again
    shared = validates_like_base(library())
    ss = current_session()
    ss.pop(HISTORY, None)
    ss.pop(PENDING_UPLOAD, None)
    set_raw(demo.raw.copy(), DEMO_NAME, keep_history=False, new_register=True,
            validated=demo.result if shared else None, hashes=demo.hashes if shared else None)
    ss[ANSWERS] = copy.deepcopy(demo.answers) if shared else validate_answers(
        read_answers_file(DEMO_DIR / "answers.yaml"), library().questions)[0]
    ss[SCOPED_ANSWERS], ss[PROBABILITIES], ss[WHATIF_PLAN] = ScopedAnswers(), {}, {}
    ss.pop(PROVIDER_FILES, None)  # the demo's own providers and contracts
    ss[ORG], ss[ORG_NAME] = "example-bank", demo.profile.name
    ss[PROFILE], ss[PROFILE_IS_DEMO] = demo.profile, True
    ss[UPLOAD_NOTICES] = []


def ensure_loaded() -> None:
    """First visit: the demo organisation, so a newcomer sees a full dashboard at once."""
    if INVENTORY not in current_session():
        _load_demo()


def reset_to_demo() -> None:
    _load_demo()


def load_upload(raw: pd.DataFrame, filename: str) -> None:
    """The first upload over the demo organisation starts the user's own register (the demo's
    sample answers do not follow it); probabilities and the organisation profile stay."""
    ss = current_session()
    ss.pop(PENDING_UPLOAD, None)
    set_raw(raw, f"Uploaded file {filename}", new_register=True)
    ss[ANSWERS], ss[SCOPED_ANSWERS], ss[WHATIF_PLAN] = {}, ScopedAnswers(), {}
    ss[ORG] = ss[ORG_NAME] = Path(filename).stem
    ss[UPLOAD_NOTICES] = [f"{filename}: {n}" for n in raw.attrs.get("notices", [])]


def inventory() -> ImportResult:
    ensure_loaded()
    return current_session()[INVENTORY]


def org_name() -> str:
    """The organisation reports name: the profile's name (Settings), else the source's name."""
    ensure_loaded()
    ss = current_session()
    profile = ss.get(PROFILE)
    # the demo's own profile does not name a user's uploaded inventory (Settings does, once saved)
    demo_profile_on_own_data = ss.get(PROFILE_IS_DEMO) and ss.get(SOURCE) != DEMO_NAME
    named = profile is not None and profile.name and not demo_profile_on_own_data
    return (profile.name if named else None) or ss.get(ORG_NAME) or "Organisation"
