"""Scenarios page panel: load another scenario pack (or go back to the built-in one). The pack's
differences and their effect on the current portfolio are shown first; nothing changes until the
user confirms."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components.columns import money, money_table
from dashboard.state.session import PACK_REVERT, PACK_UPLOAD_VERSION, SCENARIO_PACK
from risk_models.config.loader import ConfigError
from risk_models.config.palette import usd
from risk_models.config.schema import ScenariosFile
from risk_models.io.escape import md_escape
from risk_models.report.cases import case_update_note
from risk_models.scenarios.diff import diff_packs, has_changes
from risk_models.scenarios.pack import pack_hash, pack_label
from risk_models.scenarios.validate import validate_pack_data


def _problems(data: bytes, name: str, exc: ConfigError) -> list[str]:
    """Every problem of a rejected upload (the loader stops at the first broken part)."""
    import yaml
    try:
        raw = yaml.safe_load(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return str(exc).splitlines()
    found = validate_pack_data(raw, name, state.base_library(), require_metadata=False)
    return found or str(exc).splitlines()


def _pending() -> tuple[ScenariosFile, str] | None:
    ss = state.current_session()
    ver = ss.setdefault(PACK_UPLOAD_VERSION, 0)
    up = st.file_uploader("Scenario pack (YAML)", type=["yaml", "yml"], key=f"pack_upload_{ver}",
                          help="A versioned scenario library: id, version, as_of, horizon_months, maintainer, "
                               "events (docs/scenario-library.md in the project).")
    if up is not None:
        data = up.getvalue()
        try:
            return state.read_pack(data, up.name), f"uploaded file {up.name}"
        except ConfigError as exc:
            problems = _problems(data, up.name, exc)
            st.error(f"{md_escape(up.name)} is not a usable scenario pack ({len(problems)} problem(s)); "
                     "nothing was changed:\n\n" + "\n".join(f"- {md_escape(p)}" for p in problems[:30]))
            return None
    if ss.get(PACK_REVERT):
        return state.base_library().scenarios, "built-in"
    return None


def _clear() -> None:
    ss = state.current_session()
    ss[PACK_UPLOAD_VERSION] = ss.get(PACK_UPLOAD_VERSION, 0) + 1
    ss.pop(PACK_REVERT, None)


def _show_diff(sf: ScenariosFile, source: str) -> None:
    current = state.library().scenarios
    d = diff_packs(current, sf, state.base_library())
    st.markdown(f"**{md_escape(pack_label(current))}** (as of {current.as_of:%d %b %Y}) → "
                f"**{md_escape(pack_label(sf))}** (as of {sf.as_of:%d %b %Y}), {md_escape(source)}")
    if pack_hash(sf) == pack_hash(current) or not has_changes(d):
        st.info("This pack is the same as the one in use; nothing would change.")
        if st.button("Close", key="pack_close"):
            _clear()
            st.rerun()
        return
    effect = state.pack_effect(sf)
    p = effect["portfolio"]
    c = st.columns(3)
    c[0].metric("Expected annual loss with this pack", usd(p["expected_annual_loss_usd"]["after"]),
                f"{p['expected_annual_loss_usd']['delta']:+,.0f}", delta_color="inverse")
    c[1].metric("VaR 95 with this pack", usd(p["var95_usd"]["after"]), f"{p['var95_usd']['delta']:+,.0f}",
                delta_color="inverse")
    c[2].metric("Ratings that would move", len(effect["ratings_moved"]))
    st.caption("Before = what the pages show now (including your probability edits); after = the new pack's "
               "default probabilities. Probability edits are reset when you switch packs.")
    rows = ([{"change": "event added", "event": e["label"], "outcome": "", "probability": "", "details": ""}
             for e in d["events_added"]]
            + [{"change": "event removed", "event": e["label"], "outcome": "", "probability": "", "details": ""}
               for e in d["events_removed"]]
            + [{"change": "event changed", "event": e["label"], "outcome": "", "probability": "",
                "details": "; ".join(e["changes"] + [f"source added: {s}" for s in e["sources_added"]]
                                     + [f"source removed: {s}" for s in e["sources_removed"]])}
               for e in d["events_changed"]]
            + [{"change": "outcome added", "event": _event_label(sf, r["event"]), "outcome": r["label"],
                "probability": f"{r['probability']:.0%}", "details": "; ".join(r["impacts"])}
               for r in d["outcomes_added"]]
            + [{"change": "outcome removed", "event": _event_label(current, r["event"]), "outcome": r["label"],
                "probability": f"{r['probability']:.0%}", "details": ""} for r in d["outcomes_removed"]]
            + [{"change": "outcome changed", "event": _event_label(sf, r["event"]), "outcome": r["label"],
                "probability": f"{r['probability_before']:.0%} → {r['probability_after']:.0%}",
                "details": "; ".join(r["changes"] + [f"now: {x}" for x in r["impacts_after"]])}
               for r in d["outcomes_changed"]])
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="pack_diff_table")
    if effect["ratings_moved"]:
        st.dataframe(pd.DataFrame([{"deployment": m["deployment_id"], "name": m["name"],
                                    "rating now": m["rating_before"], "rating with this pack": m["rating_after"],
                                    "score now": m["score_before"], "score with this pack": m["score_after"]}
                                   for m in effect["ratings_moved"]]),
                     hide_index=True, width="stretch", key="pack_moved_table",
                     column_config={c: st.column_config.NumberColumn(format="%.1f")
                                    for c in ("score now", "score with this pack")})
    _case_update(effect["case_updates"], pack_label(current), pack_label(sf))
    c = st.columns(2)
    if c[0].button(f"Use {pack_label(sf)}", type="primary", key="pack_confirm"):
        state.use_pack(sf, source)
        _clear()
        st.rerun()
    if c[1].button("Discard", key="pack_discard"):
        _clear()
        st.rerun()


def _event_label(sf: ScenariosFile, event_id: str) -> str:
    return next((e.label for e in sf.events if e.id == event_id), event_id)


def render() -> None:
    ss = state.current_session()
    custom = SCENARIO_PACK in ss
    with st.expander("Load another scenario pack", expanded=custom or bool(ss.get(PACK_REVERT))):
        st.caption("Upload a pack (YAML) to see what it changes and its effect on this portfolio before using it.")
        pending = _pending()
        if pending:
            _show_diff(*pending)
        elif custom and st.button("Back to the built-in pack…", key="pack_revert_button"):
            ss[PACK_REVERT] = True
            st.rerun()


def _case_update(updates: list[dict], old: str, new: str) -> None:
    """The cases whose status, dates or probabilities change, with the loss each carries before and after,
    and the same as text to paste into a committee note."""
    st.markdown("**Case update**")
    if not updates:
        st.caption("No case changes status, dates or probabilities.")
        return
    money_table(pd.DataFrame([{"Case": u["label"], "What changed": "; ".join(u["changes"]),
                                "Expected loss now": u["expected_loss_before_usd"],
                                "With this pack": u["expected_loss_after_usd"], "Change": u["delta_usd"]}
                               for u in updates]), hide_index=True, width="stretch", key="pack_case_update",
                 column_config={k: money()
                                for k in ("Expected loss now", "With this pack", "Change")})
    with st.expander("As text for a committee note"):
        st.code(case_update_note(updates, old, new), language=None, wrap_lines=True)
