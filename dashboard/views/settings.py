"""Settings: the organisation profile (who is assessed, which regimes apply) and the loss
assumptions (every value with its basis). Both are saved with an assessment and printed in reports."""

import datetime as dt

import streamlit as st

from dashboard import state
from dashboard.components.workspaces import local_name_panel, workspaces_panel
from dashboard.state.session import ASSUMPTIONS_VERSION
from risk_models.config.assumptions import AssumptionsError, assumptions_frame, assumptions_from_frame
from risk_models.config.domain import Jurisdiction
from risk_models.config.profile import (
    DEFAULT_IMPACT_USD,
    IMPACT_LEVELS,
    OrgProfile,
    RiskAppetite,
    encode_logo,
    logo_kind,
)
from risk_models.io.escape import md_escape

JURISDICTIONS = {"us": "United States", "eu": "European Union / EEA", "uk": "United Kingdom", "apac": "Asia-Pacific",
                 "other": "Other", "on_prem": "On-premises"}

st.title("Settings")
workspaces_panel()
local_name_panel()
lib = state.library()
base = state.base_library()
profile = lib.profile
regimes = {k: r.label for k, r in lib.regimes.regimes.items()}

st.subheader("Organisation profile")
st.caption("Regulatory outcomes (DORA findings, the EU AI Act, data-transfer rulings) follow the regimes of the "
           "regulated entity, whatever region the data sits in; the region decides data residency only.")
with st.form("profile_form"):
    name = st.text_input("Organisation name", value=profile.name, max_chars=200)
    prepared = st.text_input("Prepared by", value=profile.prepared_by, max_chars=200)
    use_date = st.checkbox("Set the assessment date (otherwise today)", value=profile.reporting_date is not None,
                           help="Contracts, notice periods, exit tests, review cadence and the register are "
                                "measured against it")
    when = st.date_input("Assessment date", value=profile.reporting_date or dt.date.today(),
                         min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31), format="YYYY-MM-DD")
    jur = st.multiselect("Jurisdictions of the regulated entity", list(JURISDICTIONS)[:5],
                         default=[j.value for j in profile.jurisdictions], format_func=JURISDICTIONS.get)
    reg = st.multiselect("Regulatory regimes", list(regimes), default=profile.regimes, format_func=regimes.get)
    st.markdown("**Risk appetite** — the loss (USD, in a year in which something material happens) at which a "
                "deployment's impact becomes minor, moderate, major and severe. The first amount is also the "
                "materiality threshold. Defaults: an organisation assumption; replace them with your board's "
                "appetite statement.")
    cols = st.columns(len(IMPACT_LEVELS))
    appetite = [c.number_input(f"{lvl.capitalize()} from (USD)", min_value=1.0, max_value=1e10, step=1000.0,
                               value=float(v), format="%.0f", key=f"appetite_{lvl}")
                for c, lvl, v in zip(cols, IMPACT_LEVELS, profile.risk_appetite.impact_usd, strict=True)]
    logo_file = st.file_uploader("Logo for the report's title page (PNG or JPEG, at most 512 KB)", type=["png", "jpg",
                                                                                                      "jpeg"],
                                 key="profile_logo")
    drop_logo = bool(profile.logo) and st.checkbox("Remove the current logo", key="profile_logo_remove")
    if st.form_submit_button("Save profile", type="primary"):
        try:
            logo = encode_logo(logo_file.getvalue()) if logo_file is not None else ("" if drop_logo else profile.logo)
            new = OrgProfile(name=name, prepared_by=prepared, reporting_date=when if use_date else None,
                             jurisdictions=[Jurisdiction(j) for j in jur], regimes=reg, logo=logo,
                             dora=profile.dora,  # the register's entity block is edited in the YAML
                             risk_appetite=RiskAppetite(impact_usd=tuple(appetite),
                                                        basis=profile.risk_appetite.basis))
        except ValueError as exc:
            st.error(f"Profile not saved: {md_escape(str(exc))}")
        else:
            state.set_profile(new)
            st.toast("Profile saved: every page is re-assessed with it.")
            st.rerun()

st.caption("Risk appetite in use: " + ", ".join(
    f"{lvl} from ${v:,.0f}" for lvl, v in zip(IMPACT_LEVELS, profile.risk_appetite.impact_usd, strict=True))
    + " (stated defaults: " + ", ".join(f"${v:,.0f}" for v in DEFAULT_IMPACT_USD) + ").")
if profile.logo:
    try:  # a profile saved before logos were checked may hold one that does not decode
        logo_kind(profile.logo_bytes())
        st.image(profile.logo_bytes(), caption="Logo on the report's title page", width=160)
    except ValueError as exc:
        st.warning(f"The saved logo is not shown and not printed: {md_escape(exc)}. Upload another one.")

st.subheader("Loss assumptions")
st.caption("Edit a value and apply: the assessment, the report and a saved assessment use it. Values marked "
           "*organisation assumption* are placeholders for your own business-impact analysis.")
current = lib.assumptions
frame = assumptions_frame(current)
editor_version = state.current_session().get(ASSUMPTIONS_VERSION, 0)  # new assumptions: a new editor shows them
edited = st.data_editor(
    frame, key=f"assumptions_editor_{editor_version}", hide_index=True, width="stretch",
    disabled=["Parameter", "Level", "Basis", "Note"], column_order=["Parameter", "Level", "Value", "Basis", "Note"],
    # amounts and factors share the column: the browser's own number format (9,000 and 0.35, not 9000.00)
    column_config={"Value": st.column_config.NumberColumn("Value", min_value=0.0, max_value=1e9, format="localized"),
                   "Note": st.column_config.TextColumn("Note", width="large")})
left, right = st.columns(2)
if left.button("Apply assumptions", type="primary"):
    try:
        state.set_assumptions(assumptions_from_frame(current, edited))
    except AssumptionsError as exc:
        st.error(f"Not applied: {md_escape(str(exc))}")
    else:
        st.toast("Assumptions applied.")
        st.rerun()
changed = current.model_dump() != base.assumptions.model_dump()
if right.button("Back to the configured defaults", disabled=not changed):
    state.set_assumptions(None)
    st.rerun()
if changed:
    st.info("These assumptions differ from the configured defaults.")
