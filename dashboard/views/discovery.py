"""Discovery: draft deployments from a cloud billing export (FOCUS) or an ML-BOM (CycloneDX), shown as
proposed additions and spend/model updates, merged into the register only on confirmation."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.state.session import DISCOVERY, DISCOVERY_DONE, DISCOVERY_ERROR, DISCOVERY_UNPLACED, RAW
from risk_models.config.palette import usd
from risk_models.discovery.draft import NOTE, draft_frame, merge_into_raw
from risk_models.discovery.focus import FocusFileError, read_focus
from risk_models.discovery.mlbom import MlbomError, mlbom_draft, read_mlbom
from risk_models.discovery.rules import DiscoveryFile, load_discovery
from risk_models.discovery.summary import no_ai_message, summary_lines
from risk_models.io.escape import md_escape
from risk_models.io.safe_yaml import UnsafeInputError, load_user_yaml

st.title("Discovery")
session = state.current_session()
lib = state.library()


@st.cache_resource
def rules() -> DiscoveryFile:
    return load_discovery(channels=set(state.base_library().channels.channels))


disc = rules()
st.caption("Find AI deployments and their spend in what the clouds already export: the FOCUS billing export "
           "(AWS Data Exports, Azure Cost Management FocusCost, Google Cloud's BigQuery FOCUS export, OCI FOCUS "
           "cost reports) or a CycloneDX ML-BOM. Nothing changes until you confirm; deployments the file does "
           f"not mention stay as they are. Files up to {state.MAX_UPLOAD_MB} MB here; larger exports: "
           "`discover focus` on the command line.")


def _rates(text: str) -> dict[str, float] | None:
    if not text.strip():
        return None
    data = load_user_yaml(text)
    if not isinstance(data, dict) or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                                             for v in data.values()):
        raise ValueError("exchange rates: one line per currency, e.g. EUR: 1.08 (USD per unit)")
    return {str(k).upper(): float(v) for k, v in data.items()}


def _stage(draft: pd.DataFrame, update: tuple[str, ...], label: str, summary: list[str],
           unplaced: pd.DataFrame | None) -> None:
    merged, what = merge_into_raw(session[RAW], draft, state.LINE, update)
    state.stage_upload(merged, label)
    session.pop(DISCOVERY_DONE, None)
    session[DISCOVERY] = {"draft": draft, "what": what, "label": label, "summary": summary,
                          "unplaced": unplaced, "update": update}


tab_focus, tab_bom = st.tabs(["From cloud billing (FOCUS)", "From an ML-BOM (CycloneDX)"])
with tab_focus:
    c = st.columns(3)
    by = c[0].selectbox("Group charges into deployments by", ["tag", "resource", "subaccount"],
                        format_func={"tag": "a tag", "resource": "resource", "subaccount": "sub-account / project"}.get,
                        key="focus_key")
    tag = c[1].text_input("Tag name", "ai-deployment", key="focus_tag", disabled=by != "tag",
                          help="The tag whose value is the deployment id, e.g. ai-deployment: DEP-001")
    months = c[2].number_input("Last N billing months (0 = all)", 0, 120, 0, key="focus_months")
    rates_text = st.text_area("Exchange rates to USD for non-USD billing (optional)", "", key="focus_rates",
                              placeholder="EUR: 1.08\nGBP: 1.27", height=68)
    files = st.file_uploader("FOCUS export(s): CSV, CSV.GZ or Parquet", type=["csv", "gz", "parquet"],
                             accept_multiple_files=True, key="focus_upload")
    run = st.button("Read the billing export", type="primary", disabled=not files, key="focus_read")
    if run and files:
        session.pop(DISCOVERY_ERROR, None)
        try:
            with tempfile.TemporaryDirectory() as d:
                paths = []
                for f in files:
                    p = Path(d) / Path(f.name).name
                    p.write_bytes(f.getvalue())
                    paths.append(p)
                key = f"tag:{tag.strip()}" if by == "tag" else by
                imp = read_focus(paths, disc, key=key, months=int(months) or None, rates=_rates(rates_text))
        except (FocusFileError, ValueError, UnsafeInputError) as exc:
            session[DISCOVERY_ERROR] = str(exc)
            session.pop(DISCOVERY, None)
        else:
            if imp.ai_rows == 0 or imp.groups.empty:
                session[DISCOVERY_ERROR] = no_ai_message(imp) if imp.ai_rows == 0 else \
                    "no AI row could be placed; nothing changes. The reasons are listed below."
                session.pop(DISCOVERY, None)
            if imp.ai_rows:
                unplaced = pd.DataFrame([{"Reason": u.reason, "Rows": u.rows, "Examples": ", ".join(u.lines)}
                                         for u in imp.unplaced.values()])
                if imp.groups.empty:
                    session[DISCOVERY_UNPLACED] = unplaced
                else:
                    _stage(draft_frame(imp, disc, lib), ("annual_spend_usd",),
                           f"cloud billing {', '.join(f.name for f in files)}", summary_lines(imp, lib), unplaced)

with tab_bom:
    bom = st.file_uploader("CycloneDX 1.5 / 1.6 BOM (JSON)", type=["json", "cdx"], key="mlbom_upload")
    if st.button("Read the ML-BOM", type="primary", disabled=bom is None, key="mlbom_read") and bom is not None:
        session.pop(DISCOVERY_ERROR, None)
        try:
            models = read_mlbom(bom.getvalue(), bom.name, disc)
        except MlbomError as exc:
            session[DISCOVERY_ERROR] = str(exc)
            session.pop(DISCOVERY, None)
        else:
            if not models:
                session[DISCOVERY_ERROR] = f"{bom.name}: no machine-learning-model components; nothing changes."
            else:
                _stage(mlbom_draft(models, state.inventory().frame, disc, lib), ("model",), f"ML-BOM {bom.name}",
                       [f"{len(models)} machine-learning-model component(s) in {bom.name}"], None)

if session.get(DISCOVERY_ERROR):
    st.error(md_escape(session[DISCOVERY_ERROR]))
    if isinstance(session.get(DISCOVERY_UNPLACED), pd.DataFrame):
        st.dataframe(session.pop(DISCOVERY_UNPLACED), hide_index=True, width="stretch")

found = session.get(DISCOVERY)
if found and state.pending_upload():
    with st.container(border=True, key="discovery_proposal"):
        for line in found["summary"]:
            st.markdown(md_escape(line))
        what, draft = found["what"], found["draft"].set_index("deployment_id", drop=False)
        st.markdown(f"**{len(what['added'])} new deployment(s), {len(what['updated'])} update(s), "
                    f"{len(what['unchanged'])} unchanged — none removed.**")
        if what["added"]:
            new = draft.loc[what["added"]]
            st.subheader("Proposed new deployments")
            st.dataframe(pd.DataFrame({
                "Deployment": new["deployment_id"], "Name": new["name"],
                "Provider (channel)": new["channel"].map(lib.channel_label), "Model": new["model"],
                "Region": new["region"], "Annual spend": new["annual_spend_usd"].map(usd),
                "Criticality": new["criticality"], "Data sensitivity": new["data_sensitivity"], "Note": new[NOTE],
            }), hide_index=True, width="stretch", key="discovery_added")
            st.caption(f"Criticality and data sensitivity are defaults ({disc.defaults.criticality.value}, "
                       f"{disc.defaults.data_sensitivity.value}): review them on the Inventory page after adding.")
        changes = [c for c in state.pending_upload()["diff"].changed if c.column in found["update"]]
        if changes:
            st.subheader("Spend updates" if "annual_spend_usd" in found["update"] else "Model updates")
            rows = pd.DataFrame(state.pending_upload()["diff"].model_copy(update={"changed": changes}).rows_for_people(
                {k: ch.display_name for k, ch in lib.channels.channels.items()}))
            st.dataframe(rows.drop(columns=["Field"]), hide_index=True, width="stretch", key="discovery_changed")
        if isinstance(found.get("unplaced"), pd.DataFrame) and len(found["unplaced"]):
            st.warning(f"{int(found['unplaced']['Rows'].sum()):,} AI billing row(s) could not be placed and are "
                       "not in the proposal:")
            st.dataframe(found["unplaced"], hide_index=True, width="stretch", key="discovery_unplaced_rows")
        b = st.columns(2)
        if b[0].button("Add to the register", type="primary", key="discovery_confirm"):
            state.confirm_upload()
            session[DISCOVERY_DONE] = found["label"]
            session.pop(DISCOVERY, None)
            st.rerun()
        if b[1].button("Discard", key="discovery_cancel"):
            state.cancel_upload()
            session.pop(DISCOVERY, None)
            st.rerun()

if session.get(DISCOVERY_DONE):
    a = state.assessment()  # the register changed: this is the rerun assessment
    summary = a.simulation.summary(a.frame)
    st.success(f"Added from {md_escape(session[DISCOVERY_DONE])}: the register is now version "
               f"{state.register_info()['version']} with {len(a.frame):,} deployments; reassessed — expected "
               f"annual loss ${summary['expected_annual_loss_usd']:,.0f}.")
