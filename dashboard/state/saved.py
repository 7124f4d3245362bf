"""Reopening a saved assessment: its inputs into the session (results are recomputed,
deterministically), with the scenario pack it was saved with when that pack still fits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.state.library import base_library, library, set_assumptions, use_pack
from dashboard.state.session import (
    ANSWERS,
    HISTORY,
    LINE,
    ORG,
    ORG_NAME,
    PACK_NOTE,
    PROBABILITIES,
    PROFILE,
    PROFILE_IS_DEMO,
    PROVIDER_FILES,
    SCOPED_ANSWERS,
    UPLOAD_NOTICES,
    WHATIF_PLAN,
    current_session,
)
from dashboard.state.workspace import inventory, set_raw
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
    ss = current_session()
    ss.pop(HISTORY, None)
    set_raw(raw, f"Saved assessment #{saved.id} {saved.label!r}", keep_history=False, new_register=True)
    # the saved answers are the effective ones: reopened as the deployments' own answers
    ss[ANSWERS], ss[SCOPED_ANSWERS], ss[PROBABILITIES] = saved_answers, ScopedAnswers(), probs
    ss[ORG] = ss[ORG_NAME] = saved.results.get("organisation") or saved.label
    ss[UPLOAD_NOTICES] = []
    profile, assumptions = repo.saved_settings(saved)
    if profile is not None:
        ss[PROFILE], ss[PROFILE_IS_DEMO] = profile, False
    set_assumptions(assumptions, audited=False)
    extras = saved.results.get("workspace") or {}  # saves made before workspaces have none
    ss[PROVIDER_FILES] = extras.get("providers")
    ss[WHATIF_PLAN] = extras.get("plan") or {}


def workspace_extras() -> dict:
    """What a save keeps of the workspace beyond the assessment's inputs (reopening restores it)."""
    ss = current_session()
    return {"providers": ss.get(PROVIDER_FILES), "plan": ss.get(WHATIF_PLAN, {})}


def reopen_changes(saved: repo.Saved) -> list[str]:
    """What reopening `saved` would change in the workspace, in words (shown before anything is replaced)."""
    from risk_models.inventory.versions import register_diff
    from risk_models.storage import repository as repo
    ss = current_session()
    saved_inv, saved_answers, probs = repo.reopen(saved, library())
    out = [f"Inventory: {register_diff(inventory().frame, saved_inv.frame).summary()} "
           f"({len(inventory().frame)} → {len(saved_inv.frame)} deployments)"]
    own = ss.get(ANSWERS, {})
    changed = sorted(d for d in own.keys() | saved_answers.keys() if own.get(d) != saved_answers.get(d))
    out.append(f"Answers: {len(changed)} deployment(s) change" + (f" ({', '.join(changed[:8])}"
                                                                   f"{' …' if len(changed) > 8 else ''})" if changed else ""))
    now_probs = ss.get(PROBABILITIES, {})
    moved = sorted(o for o in now_probs.keys() | probs.keys() if now_probs.get(o) != probs.get(o))
    out.append(f"Scenario probabilities: {len(moved)} changed from the defaults differ" if moved
               else "Scenario probabilities: the same")
    extras = saved.results.get("workspace") or {}
    files = lambda f: ", ".join(v["name"] for v in (f or {}).values()) or "none"  # noqa: E731
    out.append(f"Providers and contracts: {files(ss.get(PROVIDER_FILES))} → {files(extras.get('providers'))}")
    plan = extras.get("plan") or {}
    out.append(f"What-if plan: {len(ss.get(WHATIF_PLAN, {}))} → {len(plan)} deployment(s) with chosen options")
    return out


def _restore_pack(saved: repo.Saved) -> None:
    data = saved.payloads["scenarios"].get("library")
    ss = current_session()
    try:
        sf = load_scenarios(Path("saved scenario library"), set(base_library().channels.channels),
                            set(base_library().models.vendors), data) if data else None
    except ConfigError:
        sf = None  # the saved pack names channels or vendors this configuration no longer has
    if sf is None:
        ss[PACK_NOTE] = (f"Saved assessment #{saved.id}'s scenario library could not be restored; "
                         "the current pack is used.")
        return
    ss.pop(PACK_NOTE, None)
    use_pack(sf, f"saved assessment #{saved.id}")
