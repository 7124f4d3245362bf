"""The session object, constants and cache keys shared by the state modules (the lowest of them:
imports no other).

`current_session()` is the only way into the browser session's state (st.session_state): every
entry is named once below, with the type of its value. Also here: where the demo organisation
lives, the simulation's trials and seed, the raw table's line column, and the digests the cached
engine calls are keyed on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import streamlit as st

from risk_models.inventory.read import DEFAULT_MAX_BYTES
from risk_models.questionnaire.answers import AnswerMap, answers_to_jsonable

if TYPE_CHECKING:
    import pandas as pd

    from risk_models.auth.roles import Actor
    from risk_models.config.profile import OrgProfile
    from risk_models.config.schema import AssumptionsFile
    from risk_models.inventory.read import ImportResult
    from risk_models.inventory.versions import ArchivedAnswers
    from risk_models.questionnaire.scoped import ScopedAnswers

DEMO_DIR = Path(__file__).resolve().parents[2] / "config" / "demo"  # dashboard/state/ -> the repository
DEMO_NAME = "Demo organisation (Example Bank plc)"
MAX_UPLOAD_MB = DEFAULT_MAX_BYTES // (1024 * 1024)
TRIALS, SEED = 10_000, 0
UNDO_DEPTH = 20
LINE = "_source_line"  # original file line of each raw row (not a user column name)

T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True)
class Key(Generic[T]):
    """One entry of the session's state: its name, and the type of its value (`Key[int]`)."""

    name: str


_ABSENT: Any = object()


class Session:
    """The browser session's state, read and written by typed keys. The semantics are st.session_state's
    own, which the pages rely on: `s[k]` raises KeyError for an absent entry, `get` and `pop` take a
    default, `setdefault` stores it. Widgets keep their `key=` strings; the entries the code also reads
    or writes have a Key below, passed to the widget as `key=KEY.name`."""

    def __getitem__(self, key: Key[T]) -> T:
        return st.session_state[key.name]

    def __setitem__(self, key: Key[T], value: T) -> None:
        st.session_state[key.name] = value

    def __contains__(self, key: Key[Any]) -> bool:
        return key.name in st.session_state

    @overload
    def get(self, key: Key[T]) -> T | None: ...
    @overload
    def get(self, key: Key[T], default: D) -> T | D: ...
    def get(self, key, default=None):
        return st.session_state.get(key.name, default)

    @overload
    def pop(self, key: Key[T]) -> T: ...
    @overload
    def pop(self, key: Key[T], default: D) -> T | D: ...
    def pop(self, key, default=_ABSENT):
        if default is _ABSENT:
            return st.session_state.pop(key.name)
        return st.session_state.pop(key.name, default)

    def setdefault(self, key: Key[T], default: T) -> T:
        return st.session_state.setdefault(key.name, default)

    def widget(self, key: str) -> Any:
        """The value of the widget with this `key=` (None before it is drawn)."""
        return st.session_state.get(key)

    def edits(self, key: str) -> dict:
        """The edits a st.data_editor with this `key=` holds ({} before any)."""
        return st.session_state.get(key) or {}

    def forget_widgets(self, prefix: str, keep: Collection[str] = ()) -> None:
        """Drop the state of the widgets whose key starts with `prefix`: drawn again, they show the
        values the page gives them instead of what the user last picked."""
        for name in [k for k in st.session_state if str(k).startswith(prefix) and k not in keep]:
            del st.session_state[name]


_SESSION = Session()


def current_session() -> Session:
    """The session of the script run calling (Streamlit resolves st.session_state per run)."""
    return _SESSION


# --- the entries: the register (workspace) -------------------------------------------------------
RAW: Key[pd.DataFrame] = Key("raw")  # every row the user gave us, as text, with its LINE: the source of truth
INVENTORY: Key[ImportResult] = Key("inventory")  # RAW validated
INVENTORY_KEY: Key[str] = Key("inventory_key")  # digest of RAW, part of the assessment's cache key
EDITOR_VERSION: Key[int] = Key("editor_version")  # +1 on every register change: new Inventory editor keys
SOURCE: Key[str] = Key("source")  # where the register came from, in words
HISTORY: Key[list[pd.DataFrame]] = Key("history")  # earlier RAWs, newest first (undo)
REGISTER: Key[dict] = Key("register")  # {version, hash, source, versions}
ARCHIVED_ANSWERS: Key[dict[str, ArchivedAnswers]] = Key("archived_answers")  # of removed deployments
ARCHIVED_WHATIF: Key[dict[str, list[str]]] = Key("archived_whatif")  # what-if choices of removed deployments
PENDING_UPLOAD: Key[dict] = Key("pending_upload")  # a new version waiting for confirmation, with its diff
UPLOAD_NOTICES: Key[list[str]] = Key("upload_notices")
ORG: Key[str] = Key("org")  # the organisation in download file names
ORG_NAME: Key[str] = Key("org_name")

# --- the workspace in the database (state/persist.py) --------------------------------------------
WORKSPACE: Key[int] = Key("workspace_id")  # the workspace this tab shows
WORKSPACE_NAME: Key[str] = Key("workspace_name")
WORKSPACE_IS_DEMO: Key[bool] = Key("workspace_is_demo")
WORKSPACE_SYNCED: Key[dict[str, tuple[str, int | None]]] = Key("workspace_synced")  # part -> (fingerprint, version)
WORKSPACE_SAVED: Key[dict[str, Any]] = Key("workspace_saved")  # part -> what the audit trail last recorded
WORKSPACE_NOTICES: Key[list[str]] = Key("workspace_notices")  # conflicts and the like, shown on the next run
LOCAL_NAME: Key[str] = Key("local_name")  # single-user mode: who the audit trail names (Settings)
PROVIDER_FILES: Key[dict | None] = Key("provider_files")  # {providers|contracts: {name, data (base64)}}

# --- configuration (library) ---------------------------------------------------------------------
SCENARIO_PACK: Key[dict] = Key("scenario_pack")  # {sf, hash, source} of a confirmed pack; absent: built-in
SCENARIO_VERSION: Key[int] = Key("scenario_version")  # +1 rebuilds the Scenarios page's editor
PACK_NOTE: Key[str] = Key("pack_note")  # why a reopened assessment's pack was not restored
PROFILE: Key[OrgProfile] = Key("profile")
PROFILE_IS_DEMO: Key[bool] = Key("profile_is_demo")
ASSUMPTIONS: Key[AssumptionsFile] = Key("assumptions")  # absent: the configured defaults
ASSUMPTIONS_VERSION: Key[int] = Key("assumptions_version")  # +1 rebuilds the Settings page's editor

# --- answers, probabilities, the what-if plan, the assessment shown, who is signed in -------------
ANSWERS: Key[AnswerMap] = Key("answers")  # the deployments' own answers
SCOPED_ANSWERS: Key[ScopedAnswers] = Key("scoped_answers")  # per provider and model vendor
PROBABILITIES: Key[dict[str, float]] = Key("probabilities")  # changed from the library defaults
ANSWER_VERSIONS: Key[dict[str, int]] = Key("answer_versions")  # team mode: the shared versions last seen
ANSWER_CONFLICTS: Key[list[str]] = Key("answer_conflicts")  # team mode: told on the next run
WHATIF_PLAN: Key[dict[str, list[str]]] = Key("whatif_plan")  # deployment -> fallback options chosen
ASSESSMENT_KEY: Key[str] = Key("assessment_key")  # what the pages show now (read by tests and exports)
ACTOR: Key[Actor] = Key("actor")  # team mode

# --- the pages' own entries ----------------------------------------------------------------------
LOADED_UPLOAD: Key[tuple[str, int, str]] = Key("loaded_upload")  # Inventory: the upload read (once)
NEW_WORKSPACE: Key[dict] = Key("new_workspace")  # Inventory: a first upload over the demo, waiting for a name
UPLOAD_ERROR: Key[str] = Key("upload_error")
UNDO_NOTE: Key[str | None] = Key("undo_note")  # what the last undo did, in words
REJECTED_FIXING: Key[dict] = Key("rejected_fixing")  # the rows the rejected-rows editor shows while they are fixed
DISCOVERY: Key[dict] = Key("discovery")  # the proposal waiting for confirmation
DISCOVERY_DONE: Key[str] = Key("discovery_done")  # what was added
DISCOVERY_ERROR: Key[str] = Key("discovery_error")
DISCOVERY_UNPLACED: Key[pd.DataFrame] = Key("discovery_unplaced")  # billing rows no deployment took
# Questionnaire: the guard against answers written to the wrong deployment (see views/questionnaire.py)
Q_CURRENT: Key[str] = Key("q_current_deployment")  # the deployment being answered
Q_PICKER: Key[str] = Key("q_deployment")  # widget: the id, or a label the browser sent back
Q_STEMS: Key[dict[str, str]] = Key("q_deployment_stems")  # deployment label without its count -> id
Q_SHOWN: Key[str] = Key("q_shown_deployment")  # whose answer widgets the page holds
Q_SAVE_ERROR: Key[str] = Key("q_save_error")
XLSX_LOADED: Key[tuple[str, ...]] = Key("xlsx_loaded")  # the returned workbooks read (once)
XLSX_PENDING: Key[dict] = Key("xlsx_pending")  # their answers, waiting for confirmation
ANSWERS_LOADED: Key[str] = Key("answers_loaded")  # the answers file read (once)
ANSWERS_PENDING: Key[dict] = Key("answers_pending")
ANSWERS_UPLOAD_ERROR: Key[str | None] = Key("answers_upload_error")
ANSWERS_UPLOAD_REJECTED: Key[list[dict]] = Key("answers_upload_rejected")
SCENARIO_REFUSED: Key[list[str]] = Key("scenario_refused")  # why the last probability edit was put back
PACK_UPLOAD_VERSION: Key[int] = Key("pack_upload_version")  # +1 empties the pack uploader
PACK_REVERT: Key[bool] = Key("pack_revert")  # the user asked for the built-in pack back
HIST_ERROR: Key[str] = Key("hist_error")
HIST_SURE: Key[bool] = Key("hist_sure")  # widget: the deletion's confirmation
HIST_REOPEN: Key[int] = Key("hist_reopen")  # History: the saved assessment whose reopening waits for confirmation
REVIEW_ERROR: Key[str] = Key("review_error")
REVIEW_DONE: Key[str] = Key("review_done")
HM_CELL: Key[tuple[int, int]] = Key("hm_cell")  # widget: the heatmap cell listed
HM_CLICKED: Key[tuple[int, int]] = Key("hm_clicked")  # the cell last clicked on the chart
CHARTS_PRELOADED: Key[bool] = Key("charts_preloaded")  # Overview: plotly.js is in the browser
CHARTS_PRELOAD_TICK: Key[bool] = Key("charts_preload_tick")


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _assessment_key_of(inventory_key: str, answers: AnswerMap, probs: dict[str, float], pack: str,
                       settings: str) -> str:
    return "|".join([inventory_key, _digest(answers_to_jsonable(answers)), _digest(probs), pack, settings])
CASE_OPEN: Key[str] = Key("case_open")  # widget: the case opened on the Cases page (event id)
CASE_STRESSED: Key[str] = Key("case_stressed")  # the outcome whose stress the Cases page shows
INTRO_DISMISSED: Key[bool] = Key("intro_dismissed")  # the first visit's explanation was hidden
