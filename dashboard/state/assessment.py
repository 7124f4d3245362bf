"""Cached engine calls: the current assessment (keyed on inventory + answers + scenario
probabilities + pack + settings), the server's demo warm-up, a pack's effect, what-if results."""

from __future__ import annotations

import streamlit as st

from dashboard.state.answers import answers, probabilities
from dashboard.state.library import _library_for, _library_with_pack, library, pack_key, settings_key
from dashboard.state.session import (
    ASSESSMENT_KEY,
    INVENTORY_KEY,
    SEED,
    TRIALS,
    _assessment_key_of,
    _digest,
    current_session,
)
from dashboard.state.workspace import demo_inputs, ensure_loaded, inventory
from risk_models.config.domain import DIMENSIONS
from risk_models.config.loader import Library
from risk_models.config.schema import ScenariosFile
from risk_models.engine.assessment import Assessment, assess
from risk_models.engine.pack_effect import effect_of
from risk_models.engine.sensitivity import sensitivity
from risk_models.engine.simulation import COMPONENTS
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.fallbacks.whatif import whatif
from risk_models.inventory.read import ImportResult
from risk_models.questionnaire.answers import AnswerMap, answers_to_jsonable
from risk_models.report.methodology import COMPONENT_LABELS
from risk_models.scenarios.pack import pack_hash


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


def pack_effect(sf: ScenariosFile) -> dict:
    """What switching to `sf` would do to the current portfolio (before = what the pages show now,
    after = the new pack's default probabilities)."""
    before = assessment()
    after = _assessment("|".join([current_session()[INVENTORY_KEY], _digest(answers_to_jsonable(answers())),
                                  _digest({}), pack_hash(sf)]),
                        inventory(), answers(), {}, _library_with_pack(pack_hash(sf), sf))
    from risk_models.report.cases import case_updates
    return effect_of(before, after) | {"case_updates": case_updates(before, after)}


@st.cache_resource(show_spinner="Scoring and simulating…", max_entries=6)
def _assessment(key: str, _result: ImportResult, _answers: AnswerMap, _probs: dict[str, float],
                _lib: Library) -> Assessment:
    # cache_resource (not cache_data): the result is read-only and copying 20,000 rows of
    # tensors on every rerun would cost more than the assessment itself. The key names the pack.
    return assess(_result, _answers, _lib, _probs, trials=TRIALS, seed=SEED)


def warm_demo() -> Assessment:
    """Server start (dashboard/serve.py, a background thread): the demo's library and assessment into
    the process-wide caches under the keys a new session computes, so the first visitor reuses them.
    Thread-safe: cache_resource computes a key once and other callers (a visitor arriving meanwhile)
    wait for that value instead of computing their own."""
    demo = demo_inputs()
    lib = _library_for(None, demo.profile, None)
    return _assessment(demo.assessment_key(), demo.result, demo.answers, {}, lib)


def assessment_key(probs: dict[str, float] | None = None) -> str:
    """Cache key: inventory + answers + scenario probabilities."""
    ensure_loaded()
    p = probabilities() if probs is None else probs
    return _assessment_key_of(current_session()[INVENTORY_KEY], answers(), p, pack_key(), settings_key())


def assessment(probs: dict[str, float] | None = None) -> Assessment:
    """The current assessment (or a variant with other probabilities, e.g. a stress test)."""
    p = probabilities() if probs is None else probs
    key = assessment_key(p)
    if probs is None:
        current_session()[ASSESSMENT_KEY] = key  # what the pages show now (read by tests and exports)
    return _assessment(key, inventory(), answers(), p, library())


@st.cache_resource(show_spinner="Recomputing with the chosen fallbacks…", max_entries=8)
def _whatif(key: str, plan_key: str, _a: Assessment, _plan: dict[str, list[str]]) -> dict:
    return whatif(_a, recommendations_of(_a), _plan)


def whatif_result(plan: dict[str, list[str]]) -> dict:
    """Before/after of applying `plan` to the current assessment (WhatIfError for bad plans)."""
    return _whatif(assessment_key(), _digest(plan), assessment(), plan)


def loss_breakdown(i: int) -> dict[str, float]:
    """Expected annual loss of deployment i by component (human labels, USD)."""
    comp = assessment().simulation.components
    return {COMPONENT_LABELS[COMPONENTS[d]].capitalize(): float(comp[i, k]) for k, d in enumerate(DIMENSIONS)}


@st.cache_data(show_spinner="Moving every assumption ±50 %…", max_entries=8)
def _sensitivity(key: str, _a: Assessment) -> dict:
    # keyed by the assessment key (inventory, answers, probabilities, pack, settings): closed form only
    return sensitivity(_a.frame, _a.answers, _a.lib, _a.probabilities, _a.residual)


def sensitivity_result() -> dict:
    """The tornado of the current assessment (risk_models.engine.sensitivity)."""
    return _sensitivity(assessment_key(), assessment())
