"""Session state and cached engine calls shared by the pages (presentation only: every number
comes from risk_models).

The source of truth for the inventory is a text table of every row the user gave us (valid and
rejected, with their original line numbers); the validated ImportResult is derived from it, so an
edit anywhere re-validates everything and no row can get lost. Assessments are cached on a hash of
inventory + answers + scenario probabilities.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from risk_models.config.domain import DIMENSIONS, INVENTORY_COLUMNS
from risk_models.config.labels import label_maps
from risk_models.config.loader import (
    ConfigError,
    Library,
    load_library,
    load_profile,
    load_scenarios,
    with_assumptions,
    with_profile,
    with_scenario_pack,
)
from risk_models.config.profile import OrgProfile
from risk_models.config.schema import AssumptionsFile, ScenariosFile
from risk_models.engine.assessment import Assessment, assess
from risk_models.engine.pack_effect import effect_of
from risk_models.engine.simulation import COMPONENTS
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.fallbacks.whatif import whatif
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.inventory.read import (
    DEFAULT_MAX_BYTES,
    EXTRA_FIELDS,
    ImportResult,
    normalise_header,
    read_table,
    unescape_text,
    validate_table,
)
from risk_models.inventory.versions import (
    FIELD_LABELS,
    ArchivedAnswers,
    RegisterDiff,
    carry_answers,
    register_diff,
    register_hash,
    restore_answers,
)
from risk_models.io.escape import md_escape
from risk_models.questionnaire.answers import AnswerMap, answers_to_jsonable, read_answers_file, validate_answers
from risk_models.questionnaire.scoped import ScopedAnswers, resolve_answers
from risk_models.report.methodology import COMPONENT_LABELS
from risk_models.report.render import render_export
from risk_models.scenarios.pack import (
    LibrarySettings,
    PackAge,
    load_settings,
    pack_age,
    pack_hash,
    pack_label,
    pack_record,
    parse_pack,
)

if TYPE_CHECKING:
    from risk_models.storage import repository as repo

# Exports (reportlab, openpyxl) and saved assessments (SQLAlchemy, Alembic: ~0.6 s of imports) are
# imported where they are used, not here: the first page needs neither. The server's warm-up imports
# them after the demo's assessment (dashboard/serve.py), so the pages that use them do not wait either.

DEMO_DIR = Path(__file__).resolve().parent.parent / "config" / "demo"
DEMO_NAME = "Demo organisation (Example Bank plc)"
MAX_UPLOAD_MB = DEFAULT_MAX_BYTES // (1024 * 1024)
TRIALS, SEED = 10_000, 0
UNDO_DEPTH = 20
LINE = "_source_line"  # original file line of each raw row (not a user column name)


@st.cache_resource
def base_library() -> Library:
    """The configuration with the built-in scenario pack (config/scenarios.yaml)."""
    return load_library()


@st.cache_resource(max_entries=8)
def _library_with_pack(pack_key: str, _sf: ScenariosFile) -> Library:
    return with_scenario_pack(base_library(), _sf)


def library() -> Library:
    """The configuration with the session's scenario pack (an uploaded one, once confirmed), and the
    session's organisation profile and loss assumptions (Settings page)."""
    ss = st.session_state
    return _library_for(ss.get("scenario_pack"), ss.get("profile"), ss.get("assumptions"))


def _library_for(pack: dict | None, profile: OrgProfile | None, assumptions: AssumptionsFile | None) -> Library:
    """library() for explicit settings (the server's warm-up has no session)."""
    lib = _library_with_pack(pack["hash"], pack["sf"]) if pack else base_library()
    if profile is None and assumptions is None:
        return lib
    return _library_with_settings(f"{pack['hash'] if pack else 'built-in'}|{_settings_digest(profile, assumptions)}",
                                  lib, profile, assumptions)


@st.cache_resource(max_entries=16)
def _library_with_settings(key: str, _lib: Library, _profile: OrgProfile | None,
                           _assumptions: AssumptionsFile | None) -> Library:
    lib = with_profile(_lib, _profile) if _profile is not None else _lib
    return with_assumptions(lib, _assumptions) if _assumptions is not None else lib


def settings_key() -> str:
    """Digest of the session's organisation profile and loss assumptions (part of every cache key)."""
    return _settings_digest(st.session_state.get("profile"), st.session_state.get("assumptions"))


def _settings_digest(profile: OrgProfile | None, assumptions: AssumptionsFile | None) -> str:
    return _digest([profile.model_dump(mode="json") if profile else None,
                    assumptions.model_dump(mode="json") if assumptions else None])


def set_profile(profile: OrgProfile) -> None:
    st.session_state["profile"] = profile
    st.session_state["profile_is_demo"] = False
    if profile.name:
        st.session_state.update(org_name=profile.name, org=profile.name)


def set_assumptions(assumptions: AssumptionsFile | None, audited: bool = True) -> None:
    """None = back to the configured defaults (config/assumptions.yaml). `audited=False`: loading a
    saved assessment's own assumptions is not an edit (anyone who may read may open one)."""
    if audited and _team_mode():
        from risk_models.auth.roles import Permission
        old = st.session_state.get("assumptions")
        before = old.model_dump(mode="json") if old is not None else "configured defaults"
        after = assumptions.model_dump(mode="json") if assumptions is not None else "configured defaults"
        if before != after:
            audit_change("assumption", "loss assumptions", before, after, Permission.edit_assumptions)
    st.session_state["assumptions_version"] = st.session_state.get("assumptions_version", 0) + 1
    if assumptions is None:
        st.session_state.pop("assumptions", None)
    else:
        st.session_state["assumptions"] = assumptions


def pack_key() -> str:
    pack = st.session_state.get("scenario_pack")
    return pack["hash"] if pack else "built-in"


def pack_status() -> tuple[str, PackAge]:
    """Label and age of the pack in use, e.g. ('ai-vendor-risk-core 2026.11.25', 24 days old)."""
    sc = library().scenarios
    return pack_label(sc), pack_age(sc, max_age_days=_settings().max_age_days)


@st.cache_resource
def _settings() -> LibrarySettings:
    return load_settings()


def show_pack_age_banner() -> None:
    """Overview and Scenarios: how old the scenario library is; a warning past the configured limit."""
    label, age = pack_status()
    if age.warning():
        st.warning(f"**Scenario library {md_escape(label)}:** {md_escape(age.warning())} "
                   "A current pack can be loaded on the Scenarios page.", icon=":material/history:")


def changed_probabilities() -> dict[str, tuple[float, float]]:
    """Outcomes whose probability differs from the scenario library default: id -> (default, used)."""
    defaults = {o.id: o.probability for e in library().scenarios.events for o in e.outcomes}
    return {o: (defaults[o], p) for o, p in probabilities().items() if o in defaults and abs(p - defaults[o]) > 1e-12}


def show_probability_banner() -> None:
    """Overview and Report: every figure uses edited probabilities — say so."""
    changed = changed_probabilities()
    if changed:
        st.warning(f"**Scenario probabilities differ from the library defaults** for {len(changed)} outcome(s); every "
                   "figure and report uses the edited values. Review or reset them on the Scenarios page.",
                   icon=":material/tune:")


def read_pack(data: bytes, filename: str) -> ScenariosFile:
    """An uploaded pack, validated against the configured channels and vendors (ConfigError otherwise)."""
    return parse_pack(data, filename, base_library())


def use_pack(sf: ScenariosFile, source: str) -> None:
    """Switch the session to `sf` (the built-in pack clears the override). Probability edits refer to
    the old pack's outcomes, so they are reset; the caller has shown the diff and asked to confirm."""
    ss = st.session_state
    builtin = base_library().scenarios
    if pack_hash(sf) == pack_hash(builtin):
        ss.pop("scenario_pack", None)
    else:
        ss["scenario_pack"] = {"sf": sf, "hash": pack_hash(sf), "source": source}
    ss["probabilities"] = {}
    ss["scenario_version"] = ss.get("scenario_version", 0) + 1


def pack_effect(sf: ScenariosFile) -> dict:
    """What switching to `sf` would do to the current portfolio (before = what the pages show now,
    after = the new pack's default probabilities)."""
    before = assessment()
    after = _assessment("|".join([st.session_state["inventory_key"], _digest(answers_to_jsonable(answers())),
                                  _digest({}), pack_hash(sf)]),
                        inventory(), answers(), {}, _library_with_pack(pack_hash(sf), sf))
    return effect_of(before, after)


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


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


def _inventory_key(raw: pd.DataFrame) -> str:
    return _digest(pd.util.hash_pandas_object(raw.astype(str), index=False).sum().item())


@st.cache_resource(show_spinner="Scoring and simulating…", max_entries=6)
def _assessment(key: str, _result: ImportResult, _answers: AnswerMap, _probs: dict[str, float],
                _lib: Library) -> Assessment:
    # cache_resource (not cache_data): the result is read-only and copying 20,000 rows of
    # tensors on every rerun would cost more than the assessment itself. The key names the pack.
    return assess(_result, _answers, _lib, _probs, trials=TRIALS, seed=SEED)


@st.cache_resource(show_spinner="Building the report…", max_entries=4)
def _report(key: str, org: str, _a: Assessment) -> dict:
    from risk_models.report.json_report import report
    rep = report(_a, org)
    rep["labels"] = label_maps(_a.lib)  # human names in every export meant for people
    rep["scenario_library"]["pack"] = pack_record(_a.lib.scenarios, max_age_days=_settings().max_age_days)
    rep["reviews"] = _reviews(_a)  # the PDF's reviews section (register/review.py)
    return rep


def _reviews(a: Assessment) -> dict:
    from dashboard.reviews import current_review_dates
    from risk_models.dora.review import review_block
    from risk_models.dora.spec import load_review_policy
    return review_block(a.frame, a.residual.table["rating"], current_review_dates()[0], load_review_policy(),
                        dt.date.today())


# --- session ----------------------------------------------------------------------------------
def set_raw(raw: pd.DataFrame, source: str | None = None, keep_history: bool = True,
            new_register: bool = False, restore_archived: bool = False, validated: ImportResult | None = None) -> None:
    """Make `raw` the current register version. Answers and what-if choices of deployments
    still present are kept; those of removed deployments are archived (restorable), never
    dropped. new_register=True starts a new register at version 1 (demo, reopened save).
    `validated`: `raw` already validated with this session's library (the shared demo)."""
    ss = st.session_state
    if keep_history and "raw" in ss:
        ss["history"] = ([ss["raw"]] + ss.get("history", []))[:UNDO_DEPTH]
    old = ss.get("inventory")
    ss["raw"] = raw
    ss["inventory"] = result = validated if validated is not None else _validate(raw)
    ss["inventory_key"] = _inventory_key(raw)
    ss["editor_version"] = ss.get("editor_version", 0) + 1
    if source:
        ss["source"] = source
    reg = ss.get("register")
    if new_register or reg is None or old is None:
        ss["register"] = {"version": 1, "hash": register_hash(result.frame), "source": ss.get("source", ""),
                          "versions": [_version_entry(1, ss.get("source", ""), None)]}
        ss["archived_answers"] = {}
        return
    ids = result.frame["deployment_id"].astype(str).tolist()
    diff = register_diff(old.frame, result.frame)
    if _team_mode():
        _audit_register(diff)
    new_hash = register_hash(result.frame)
    if new_hash == reg["hash"]:
        return  # same register content (e.g. a rejected row edited): no new version
    version = reg["version"] + 1
    answers, archive = carry_answers(ss.get("answers", {}), ss.get("archived_answers", {}), ids, version)
    if restore_archived:  # undo brings rows back: their archived answers come back with them
        for dep in [d for d in archive if d in set(ids)]:
            answers, archive = restore_answers(answers, archive, dep)
    plan = ss.get("whatif_plan", {})
    ss["whatif_plan"] = {d: v for d, v in plan.items() if d in set(ids)}
    ss["archived_whatif"] = {**ss.get("archived_whatif", {}), **{d: v for d, v in plan.items() if d not in set(ids)}}
    ss["answers"], ss["archived_answers"] = answers, archive
    ss["register"] = {"version": version, "hash": new_hash, "source": ss.get("source", ""),
                      "versions": [*reg["versions"], _version_entry(version, ss.get("source", ""), diff)]}


def _version_entry(version: int, source: str, diff: RegisterDiff | None) -> dict:
    return {"version": version, "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "source": source,
            "changes": diff.summary() if diff is not None else "new register"}


def register_info() -> dict:
    """{version, hash, source} of the current register (stored with saved assessments)."""
    ensure_loaded()
    reg = st.session_state["register"]
    return {"version": reg["version"], "hash": reg["hash"], "source": reg["source"]}


def register_versions() -> list[dict]:
    ensure_loaded()
    return list(st.session_state["register"]["versions"])


def archived_answers() -> dict[str, ArchivedAnswers]:
    ensure_loaded()
    return st.session_state.get("archived_answers", {})


def restore_archived(deployment_id: str) -> None:
    ss = st.session_state
    ss["answers"], ss["archived_answers"] = restore_answers(ss["answers"], ss["archived_answers"], deployment_id)


def is_demo() -> bool:
    ensure_loaded()
    return st.session_state.get("source") == DEMO_NAME


def stage_upload(raw: pd.DataFrame, filename: str) -> RegisterDiff:
    """A new version waiting for confirmation: the diff against the current register."""
    new = _validate(raw)
    diff = register_diff(inventory().frame, new.frame)
    st.session_state["pending_upload"] = {"raw": raw, "name": filename, "diff": diff,
                                          "valid": len(new.frame), "rejected": len(new.rejected_lines)}
    return diff


def pending_upload() -> dict | None:
    return st.session_state.get("pending_upload")


def confirm_upload() -> None:
    p = st.session_state.pop("pending_upload")
    set_raw(p["raw"], f"Uploaded file {p['name']}")


def cancel_upload() -> None:
    st.session_state.pop("pending_upload", None)


def undo() -> str | None:
    """Go back one edit; returns what was undone in words (None when there is nothing to undo)."""
    ss = st.session_state
    if not ss.get("history"):
        return None
    previous, ss["history"] = ss["history"][0], ss["history"][1:]
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

    def assessment_key(self) -> str:
        """The key a session that has just loaded the demo computes (assessment_key())."""
        return _assessment_key_of(_inventory_key(self.raw), self.answers, {}, "built-in",
                                  _settings_digest(self.profile, None))


@st.cache_resource(show_spinner=False)
def demo_inputs() -> DemoInputs:
    """Read and validated once per server process: every new session starts on the demo (read-only
    here; sessions get their own copies of what they edit)."""
    lib = base_library()
    raw = _read_raw((DEMO_DIR / "inventory.csv").read_bytes(), "inventory.csv")
    answers, _ = validate_answers(read_answers_file(DEMO_DIR / "answers.yaml"), lib.questions)
    return DemoInputs(raw, _validate(raw, lib), answers, load_profile(DEMO_DIR / "profile.yaml", lib.regimes))


def warm_demo() -> Assessment:
    """Server start (dashboard/serve.py, a background thread): the demo's library and assessment into
    the process-wide caches under the keys a new session computes, so the first visitor reuses them.
    Thread-safe: cache_resource computes a key once and other callers (a visitor arriving meanwhile)
    wait for that value instead of computing their own."""
    demo = demo_inputs()
    lib = _library_for(None, demo.profile, None)
    return _assessment(demo.assessment_key(), demo.result, demo.answers, {}, lib)


def _load_demo() -> None:
    demo = demo_inputs()
    # the shared validation holds for the built-in configuration; a session back from another
    # scenario pack or settings (Reset to demo) validates against its own library
    shared = library() is base_library()
    st.session_state.pop("history", None)
    st.session_state.pop("pending_upload", None)
    set_raw(demo.raw.copy(), DEMO_NAME, keep_history=False, new_register=True,
            validated=demo.result if shared else None)
    answers = copy.deepcopy(demo.answers) if shared else validate_answers(
        read_answers_file(DEMO_DIR / "answers.yaml"), library().questions)[0]
    st.session_state.update(answers=answers, scoped_answers=ScopedAnswers(), probabilities={}, org="example-bank",
                            org_name=demo.profile.name, profile=demo.profile, profile_is_demo=True,
                            upload_notices=[])


def ensure_loaded() -> None:
    """First visit: the demo organisation, so a newcomer sees a full dashboard at once."""
    if "inventory" not in st.session_state:
        _load_demo()


def reset_to_demo() -> None:
    _load_demo()


def load_upload(raw: pd.DataFrame, filename: str) -> None:
    """The first upload over the demo organisation starts the user's own register (the demo's
    sample answers do not follow it); probabilities and the organisation profile stay."""
    st.session_state.pop("pending_upload", None)
    set_raw(raw, f"Uploaded file {filename}", new_register=True)
    st.session_state.update(answers={}, scoped_answers=ScopedAnswers(), whatif_plan={},
                            org=Path(filename).stem, org_name=Path(filename).stem,
                            upload_notices=[f"{filename}: {n}" for n in raw.attrs.get("notices", [])])


def inventory() -> ImportResult:
    ensure_loaded()
    return st.session_state["inventory"]


def own_answers() -> AnswerMap:
    """Answers given for each deployment itself (what the questionnaire form edits)."""
    ensure_loaded()
    return st.session_state["answers"]


def scoped_answers() -> ScopedAnswers:
    ensure_loaded()
    return st.session_state.setdefault("scoped_answers", ScopedAnswers())


def set_scoped_answers(new: ScopedAnswers) -> None:
    st.session_state["scoped_answers"] = new


def resolved() -> tuple[AnswerMap, dict[str, dict[str, str]]]:
    """Effective answers (own answers over provider and model-vendor answers) and their sources."""
    return resolve_answers(inventory().frame, scoped_answers(), own_answers())


def answers() -> AnswerMap:
    """The effective answers the engine scores (own answers win over inherited ones)."""
    ensure_loaded()
    sc = scoped_answers()
    if not (sc.channel or sc.model_vendor):
        return st.session_state["answers"]
    return resolved()[0]


def set_answers(new: AnswerMap) -> None:
    if _team_mode():
        new = _share_answers(st.session_state.get("answers", {}), new)
    st.session_state["answers"] = new


# --- team mode: answers shared between users and app processes ----------------------------------
def _team_mode() -> bool:
    from dashboard import auth
    return auth.team_mode()


def _share_answers(old: AnswerMap, new: AnswerMap) -> AnswerMap:
    """Store each deployment whose answers changed, checked against the version this session last
    saw; when another user saved in between, their answers stay and the user is told (no silent
    overwrite either way)."""
    from dashboard import auth
    from risk_models.storage.team import AnswerConflict, save_answers
    versions = st.session_state.setdefault("answer_versions", {})
    merged = dict(new)
    for dep in sorted(old.keys() | new.keys()):
        if old.get(dep) == new.get(dep):
            continue
        raw = answers_to_jsonable({dep: new.get(dep, {})}).get(dep, {})
        try:
            rec = save_answers(storage(), auth.actor(), dep, raw, versions.get(dep, 0))
        except AnswerConflict as exc:
            theirs, _ = validate_answers({dep: exc.current.answers}, library().questions)
            merged[dep] = theirs.get(dep, {})
            versions[dep] = exc.current.version
            st.session_state.setdefault("answer_conflicts", []).append(
                f"{exc}. Their answers where they differ from yours: "
                + _answer_differences(raw, exc.current.answers) + ".")
        else:
            versions[dep] = rec.version
    return merged


def _answer_text(q, value) -> str:
    """An answer as people read it: option labels, Yes/No, "not answered" (never raw ids)."""
    if value is None or value == []:
        return "not answered"
    labels = {o.value: o.label for o in q.options} if q is not None else {}
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def _answer_differences(mine: dict, theirs: dict) -> str:
    questions = library().questions
    diffs = [f"{questions[q].text if q in questions else q} → {_answer_text(questions.get(q), theirs.get(q))}"
             for q in sorted(mine.keys() | theirs.keys()) if mine.get(q) != theirs.get(q)]
    return "; ".join(diffs) or "none (the same values)"


def sync_shared_answers() -> None:
    """Team mode, every run: answers another user or app process saved replace this session's
    (a change saved in one process is seen in the other on rerun)."""
    from risk_models.storage.team import shared_answers
    ensure_loaded()
    versions = st.session_state.setdefault("answer_versions", {})
    deps = set(inventory().frame["deployment_id"])
    fresh = {dep: rec for dep, rec in shared_answers(storage()).items()
             if dep in deps and rec.version != versions.get(dep)}
    if not fresh:
        return
    valid, _ = validate_answers({dep: rec.answers for dep, rec in fresh.items()}, library().questions)
    answers = dict(st.session_state["answers"])
    for dep, rec in fresh.items():
        answers[dep] = valid.get(dep, {})
        versions[dep] = rec.version
    st.session_state["answers"] = answers


def answer_conflicts() -> list[str]:
    return st.session_state.pop("answer_conflicts", [])


def set_probabilities(new: dict[str, float]) -> None:
    """Scenario probabilities changed from the library defaults ({} = all defaults)."""
    if _team_mode():
        from risk_models.auth.roles import Permission
        old = st.session_state.get("probabilities", {})
        for outcome in sorted(old.keys() | new.keys()):
            if old.get(outcome) != new.get(outcome):
                audit_change("scenario_probability", outcome, old.get(outcome, "default"),
                             new.get(outcome, "default"), Permission.edit_scenarios)
    st.session_state["probabilities"] = new


def audit_change(entity: str, entity_id: str, before, after, permission) -> None:
    """Team mode: check the signed-in user may make this change and record it in the audit trail
    (refused changes raise PermissionDenied before the session is touched)."""
    from dashboard import auth
    from risk_models.storage.team import record_change
    record_change(storage(), auth.actor(), entity, entity_id, before, after, permission)


AUDIT_ROWS_MAX = 500  # a larger re-upload is audited as one entry with the diff summary


def _audit_register(diff: RegisterDiff) -> None:
    from dashboard import auth
    from risk_models.auth.roles import Permission
    from risk_models.storage.team import record_changes
    changes = ([("register_row", dep, None, "added") for dep in diff.added]
               + [("register_row", dep, "present", "removed") for dep in diff.removed]
               + [("register_row", c.deployment_id, {c.column: c.before}, {c.column: c.after}) for c in diff.changed])
    if len(changes) > AUDIT_ROWS_MAX:
        changes = [("register_row", f"{len(changes)} changes", None, diff.summary())]
    if changes:
        record_changes(storage(), auth.actor(), Permission.edit_inventory, changes)


def probabilities() -> dict[str, float]:
    ensure_loaded()
    return st.session_state["probabilities"]


def assessment_key(probs: dict[str, float] | None = None) -> str:
    """Cache key: inventory + answers + scenario probabilities."""
    ensure_loaded()
    p = probabilities() if probs is None else probs
    return _assessment_key_of(st.session_state["inventory_key"], answers(), p, pack_key(), settings_key())


def _assessment_key_of(inventory_key: str, answers: AnswerMap, probs: dict[str, float], pack: str,
                       settings: str) -> str:
    return "|".join([inventory_key, _digest(answers_to_jsonable(answers)), _digest(probs), pack, settings])


def assessment(probs: dict[str, float] | None = None) -> Assessment:
    """The current assessment (or a variant with other probabilities, e.g. a stress test)."""
    p = probabilities() if probs is None else probs
    key = assessment_key(p)
    if probs is None:
        st.session_state["assessment_key"] = key  # what the pages show now (read by tests and exports)
    return _assessment(key, inventory(), answers(), p, library())


@st.cache_resource(show_spinner=False, max_entries=8)
def _report_bytes(key: str, org: str, kind: str, compare_id: int | None, plan_key: str, _a: Assessment,
                  _diff: dict | None, _plan: dict[str, list[str]] | None, review: dict | None = None) -> bytes:
    rep = _report(key, org, _a)
    if review:  # who submitted and approved it (team mode), on the title page
        rep = rep | {"review": review}
    if _plan:  # the what-if plan of the Fallbacks page: a Plan section in the PDF and Markdown
        from risk_models.report.plan import plan_record
        rep = rep | {"plan": plan_record(_a, recommendations_of(_a), _plan, _whatif(key, plan_key, _a, _plan))}
    if kind.startswith("pdf"):
        return render_export("pdf", rep, kind.removeprefix("pdf-"), _diff)
    return render_export(kind, rep)


# Exports that failed, by (assessment key, kind): the download runs on Streamlit's download thread,
# which cannot draw on the page, so the Report page shows these on its next run.
EXPORT_FAILURES: dict[tuple[str, str], str] = {}
_LOG = logging.getLogger(__name__)


def _guarded(key: str, kind: str, build):
    def run() -> bytes:
        try:
            data = build()
        except Exception as exc:
            _LOG.exception("building the %s export failed", kind)  # details in the server log
            EXPORT_FAILURES[(key, kind)] = f"{type(exc).__name__}: {str(exc)[:300]}"
            raise
        EXPORT_FAILURES.pop((key, kind), None)
        return data
    return run


def export_failures() -> dict[str, str]:
    """Exports of the current assessment that failed since they were last built, kind -> message."""
    key = assessment_key()
    return {kind: msg for (k, kind), msg in EXPORT_FAILURES.items() if k == key}


def report_download(kind: str, compare_with: repo.Saved | None = None, plan: dict[str, list[str]] | None = None,
                    review: dict | None = None):
    """A callable for st.download_button: files are built only when someone downloads them
    (the JSON of 20,000 deployments is 100+ MB), on Streamlit's download thread. `plan`: a what-if
    plan to include (PDF and Markdown get a Plan section)."""
    from risk_models.storage import repository as repo
    key, a, org = assessment_key(), assessment(), org_name()
    diff = None
    if compare_with is not None:
        current = repo.Saved(0, "current", "", dt.datetime.now(dt.UTC), "", repo.snapshot(a, org))
        diff = repo.diff(compare_with, current)
    plan = plan if plan and (kind == "md" or kind.startswith("pdf")) else None
    review = review if kind.startswith("pdf") else None
    return _guarded(key, kind, lambda: _report_bytes(key, org, kind, compare_with.id if compare_with else None,
                                                     _digest(plan or {}), a, diff, plan, review))


def saved_context() -> tuple[repo.Saved | None, dict]:
    """(the saved assessment reports compare with — the last approved one, else the most recent one
    whose figures differ from what the pages show now —, the review of the saved assessment with
    these figures, for the PDF's title page); see risk_models.report.changes."""
    from risk_models.storage import repository as repo
    rows = repo.list_assessments(storage())
    if not rows:
        return None, {"status": "not saved"}
    # the review columns are part of the key: an approval elsewhere must show on the next run
    return _baseline(assessment_key(), tuple((r["id"], r["content_hash"], r.get("status"), r.get("reviewed_at"))
                                             for r in rows), org_name(), assessment())


@st.cache_resource(show_spinner="Finding the assessment to compare with…", max_entries=4)
def _baseline(key: str, saved_ids: tuple, org: str, _a: Assessment) -> tuple[repo.Saved | None, dict]:
    from risk_models.report.changes import comparison_baseline as baseline_of
    from risk_models.report.changes import review_of
    from risk_models.storage import repository as repo
    engine, saved = storage(), []
    for assessment_id, *_ in saved_ids:
        try:
            saved.append(repo.load(engine, assessment_id))
        except repo.DamagedAssessment:  # listed on the History page; the others still count
            continue
    current = repo.Saved(0, "current", "", dt.datetime.now(dt.UTC), "", repo.snapshot(_a, org))
    return baseline_of(saved, current), review_of(saved, current)


# --- saved assessments --------------------------------------------------------------------------
@st.cache_resource(show_spinner="Opening the database…")
def _engine(url: str):
    from risk_models.storage.db import make_engine
    return make_engine(url)


def storage():
    """The database engine, or StorageError with a plain message (bad or unreachable URL)."""
    from risk_models.storage.db import database_url
    return _engine(database_url())


def open_saved(saved: repo.Saved) -> None:
    """Load a saved assessment's inputs into the session (results are recomputed, deterministically),
    with the scenario pack it was saved with when that pack still fits today's configuration."""
    from risk_models.storage import repository as repo
    _restore_pack(saved)
    _, saved_answers, probs = repo.reopen(saved, library())
    raw = pd.DataFrame(saved.payloads["inventory"]["rows"]).astype(str)
    raw[LINE] = saved.payloads["inventory"]["lines"] or []
    st.session_state.pop("history", None)
    set_raw(raw, f"Saved assessment #{saved.id} {saved.label!r}", keep_history=False, new_register=True)
    org = saved.results.get("organisation") or saved.label
    # the saved answers are the effective ones: reopened as the deployments' own answers
    st.session_state.update(answers=saved_answers, scoped_answers=ScopedAnswers(), probabilities=probs,
                            org=org, org_name=org, upload_notices=[])
    profile, assumptions = repo.saved_settings(saved)
    if profile is not None:
        st.session_state.update(profile=profile, profile_is_demo=False)
    set_assumptions(assumptions, audited=False)


def _restore_pack(saved: repo.Saved) -> None:
    data = saved.payloads["scenarios"].get("library")
    ss = st.session_state
    try:
        sf = load_scenarios(Path("saved scenario library"), set(base_library().channels.channels),
                            set(base_library().models.vendors), data) if data else None
    except ConfigError:
        sf = None  # the saved pack names channels or vendors this configuration no longer has
    if sf is None:
        ss["pack_note"] = (f"Saved assessment #{saved.id}'s scenario library could not be restored; "
                           "the current pack is used.")
        return
    ss.pop("pack_note", None)
    use_pack(sf, f"saved assessment #{saved.id}")


def org_name() -> str:
    """The organisation reports name: the profile's name (Settings), else the source's name."""
    ensure_loaded()
    ss = st.session_state
    profile = ss.get("profile")
    # the demo's own profile does not name a user's uploaded inventory (Settings does, once saved)
    demo_profile_on_own_data = ss.get("profile_is_demo") and ss.get("source") != DEMO_NAME
    named = profile is not None and profile.name and not demo_profile_on_own_data
    return (profile.name if named else None) or ss.get("org_name") or "Organisation"


@st.cache_resource(show_spinner="Recomputing with the chosen fallbacks…", max_entries=8)
def _whatif(key: str, plan_key: str, _a: Assessment, _plan: dict[str, list[str]]) -> dict:
    return whatif(_a, recommendations_of(_a), _plan)


def whatif_result(plan: dict[str, list[str]]) -> dict:
    """Before/after of applying `plan` to the current assessment (WhatIfError for bad plans)."""
    return _whatif(assessment_key(), _digest(plan), assessment(), plan)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def download_name(ext: str, part: str | None = None) -> str:
    """ai-vendor-risk-<org>-<date>[-<part>].<ext>"""
    ensure_loaded()
    org = _slug(st.session_state.get("org", "")) or "organisation"
    extra = f"-{_slug(part)}" if part and _slug(part) else ""
    return f"ai-vendor-risk-{org}-{dt.date.today().isoformat()}{extra}.{ext}"


# --- editing ----------------------------------------------------------------------------------
def rejected_raw() -> pd.DataFrame:
    """The rejected rows as the user wrote them (text), with their lines."""
    raw, res = st.session_state["raw"], inventory()
    if any(e.line == 1 for e in res.errors):  # a missing column rejects every row
        return raw
    return raw[raw[LINE].isin(set(res.rejected_lines))]


def apply_edits(valid_edited: pd.DataFrame, rejected_edited: pd.DataFrame) -> None:
    """Rebuild the raw table from the (typed) valid-rows editor and the (text) rejected-rows
    editor, then re-validate. New rows get line numbers after the last one."""
    raw = st.session_state["raw"]
    text = _typed_to_text(valid_edited)
    text[LINE] = valid_edited["line"].to_numpy()
    rejected = rejected_edited.reindex(columns=[*INVENTORY_COLUMNS, *_extra(rejected_edited), LINE])
    combined = pd.concat([text, rejected], ignore_index=True)
    next_line = int(pd.to_numeric(raw[LINE], errors="coerce").max()) + 1 if len(raw) else 2
    missing = pd.to_numeric(combined[LINE], errors="coerce").isna()
    combined.loc[missing, LINE] = range(next_line, next_line + int(missing.sum()))
    combined[LINE] = combined[LINE].astype(int)
    combined = combined.sort_values(LINE, kind="stable").reset_index(drop=True)
    set_raw(combined.fillna("").astype({c: str for c in INVENTORY_COLUMNS if c in combined}
                                       | {c: str for c in _extra(combined)}))


def _extra(frame: pd.DataFrame) -> list[str]:
    """The surplus-cells column of rows longer than their header, while any row still has one."""
    return [EXTRA_FIELDS] if EXTRA_FIELDS in frame.columns else []


def _typed_to_text(df: pd.DataFrame) -> pd.DataFrame:
    """Typed editor rows -> the literal text an inventory file would hold (blank = missing)."""
    out = pd.DataFrame(index=df.index)
    for c in INVENTORY_COLUMNS:
        col = df[c] if c in df.columns else pd.Series("", index=df.index)
        if c in ("annual_spend_usd", "committed_spend_usd"):
            out[c] = col.map(lambda x: "" if pd.isna(x) else repr(float(x)))
        elif c == "contract_end":
            out[c] = col.map(lambda d: d.isoformat()[:10] if pd.notna(d) and d != "" else "")
        elif c == "abstraction_layer":
            out[c] = col.map(lambda b: "yes" if (pd.notna(b) and bool(b)) else "no")
        else:
            out[c] = col.map(lambda v: "" if pd.isna(v) else str(v))
    return out


ERROR_HEADERS = {"line": "Line", "deployment_id": "Deployment", "column": "Column", "value": "Value",
                 "message": "Message"}


# the column a problem is in, as the template names it (the error tables and the rejected-rows editor)
ERROR_COLUMN_LABELS = FIELD_LABELS | {"deployment_id": "Deployment ID", EXTRA_FIELDS: "Cells beyond the header"}


def errors_frame(result: ImportResult, errors: list | None = None) -> pd.DataFrame:
    """Rejected rows or warnings with human headers; the column named as the template names it."""
    out = pd.DataFrame([e.model_dump() for e in (result.errors if errors is None else errors)],
                       columns=["line", "deployment_id", "column", "value", "message"])
    out["column"] = out["column"].map(lambda c: ERROR_COLUMN_LABELS.get(c, c) if isinstance(c, str) else c)
    return out.rename(columns=ERROR_HEADERS)


def loss_breakdown(i: int) -> dict[str, float]:
    """Expected annual loss of deployment i by component (human labels, USD)."""
    comp = assessment().simulation.components
    return {COMPONENT_LABELS[COMPONENTS[d]].capitalize(): float(comp[i, k]) for k, d in enumerate(DIMENSIONS)}


def plausibility(result: ImportResult) -> list:
    """Warnings for valid rows that are probably wrong (model not offered there, closed model
    self-hosted, cloud channel with an on-premises region)."""
    return plausibility_warnings(result.frame, library())
