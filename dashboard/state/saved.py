"""Reopening a saved assessment: its inputs into the session (results are recomputed,
deterministically), with the scenario pack it was saved with when that pack still fits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from dashboard.state.library import base_library, library, set_assumptions, use_pack
from dashboard.state.session import LINE
from dashboard.state.workspace import set_raw
from risk_models.config.loader import ConfigError, load_scenarios
from risk_models.questionnaire.scoped import ScopedAnswers

if TYPE_CHECKING:
    from risk_models.storage import repository as repo

# Saved assessments (SQLAlchemy, Alembic: ~0.6 s of imports) are imported where they are used, not
# here: the first page needs none. The server's warm-up imports them (dashboard/serve.py).


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
