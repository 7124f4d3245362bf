"""The configuration a session uses: the built-in library, its scenario pack (an uploaded one,
once confirmed) and its organisation profile and loss assumptions (Settings page), each cached
per server process."""

from __future__ import annotations

import streamlit as st

from dashboard.state.audit import _team_mode, audit_change
from dashboard.state.session import (
    ASSUMPTIONS,
    ASSUMPTIONS_VERSION,
    ORG,
    ORG_NAME,
    PROBABILITIES,
    PROFILE,
    PROFILE_IS_DEMO,
    SCENARIO_PACK,
    SCENARIO_VERSION,
    _digest,
    current_session,
)
from risk_models.config.loader import Library, load_library, with_assumptions, with_profile, with_scenario_pack
from risk_models.config.profile import OrgProfile
from risk_models.config.schema import AssumptionsFile, ScenariosFile
from risk_models.io.escape import md_escape
from risk_models.scenarios.pack import (
    LibrarySettings,
    PackAge,
    load_settings,
    pack_age,
    pack_hash,
    pack_label,
    parse_pack,
)


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
    ss = current_session()
    return _library_for(ss.get(SCENARIO_PACK), ss.get(PROFILE), ss.get(ASSUMPTIONS))


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
    ss = current_session()
    return _settings_digest(ss.get(PROFILE), ss.get(ASSUMPTIONS))


def _settings_digest(profile: OrgProfile | None, assumptions: AssumptionsFile | None) -> str:
    return _digest([profile.model_dump(mode="json") if profile else None,
                    assumptions.model_dump(mode="json") if assumptions else None])


def set_profile(profile: OrgProfile) -> None:
    ss = current_session()
    ss[PROFILE] = profile
    ss[PROFILE_IS_DEMO] = False
    if profile.name:
        ss[ORG_NAME] = ss[ORG] = profile.name


def set_assumptions(assumptions: AssumptionsFile | None, audited: bool = True) -> None:
    """None = back to the configured defaults (config/assumptions.yaml). `audited=False`: loading a
    saved assessment's own assumptions is not an edit (anyone who may read may open one)."""
    ss = current_session()
    if audited and _team_mode():
        from risk_models.auth.roles import Permission
        old = ss.get(ASSUMPTIONS)
        before = old.model_dump(mode="json") if old is not None else "configured defaults"
        after = assumptions.model_dump(mode="json") if assumptions is not None else "configured defaults"
        if before != after:
            audit_change("assumption", "loss assumptions", before, after, Permission.edit_assumptions)
    ss[ASSUMPTIONS_VERSION] = ss.get(ASSUMPTIONS_VERSION, 0) + 1
    if assumptions is None:
        ss.pop(ASSUMPTIONS, None)
    else:
        ss[ASSUMPTIONS] = assumptions


def pack_key() -> str:
    pack = current_session().get(SCENARIO_PACK)
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


def read_pack(data: bytes, filename: str) -> ScenariosFile:
    """An uploaded pack, validated against the configured channels and vendors (ConfigError otherwise)."""
    return parse_pack(data, filename, base_library())


def use_pack(sf: ScenariosFile, source: str) -> None:
    """Switch the session to `sf` (the built-in pack clears the override). Probability edits refer to
    the old pack's outcomes, so they are reset; the caller has shown the diff and asked to confirm."""
    ss = current_session()
    builtin = base_library().scenarios
    if pack_hash(sf) == pack_hash(builtin):
        ss.pop(SCENARIO_PACK, None)
    else:
        ss[SCENARIO_PACK] = {"sf": sf, "hash": pack_hash(sf), "source": source}
    ss[PROBABILITIES] = {}
    ss[SCENARIO_VERSION] = ss.get(SCENARIO_VERSION, 0) + 1
