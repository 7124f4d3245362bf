"""Providers & contracts: per provider its contracts, deployments, spend and exposure; contracts
ending or past their notice date; the supply chain; reviews overdue or due soon; and the DORA
register of information (validation report, EBA xBRL-CSV package and XLSX downloads)."""

import dataclasses
import datetime as dt
import hashlib
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.components.columns import money, money_table, percent, share_bar
from dashboard.state.reviews import current_review_dates
from risk_models.dora.chain import supply_chain
from risk_models.dora.package import NAMINGS, human_frame, package_name, write_eba_csv, write_xlsx
from risk_models.dora.review import STATUS_LABELS, due, review_schedule
from risk_models.dora.roi import build_register
from risk_models.dora.spec import load_review_policy, load_roi_spec
from risk_models.inventory.read import InventoryFileError, normalise_header, read_table
from risk_models.io.escape import md_escape
from risk_models.providers.ctpp import CTPP_LABELS, load_ctpp
from risk_models.providers.draft import HEADERS, draft_book, template_csv, template_xlsx, value_lists
from risk_models.providers.records import (
    CONTRACT_COLUMNS,
    PROVIDER_COLUMNS,
    ProviderBook,
    country_name,
    load_book,
    refused_cells,
)
from risk_models.providers.summary import CONTRACT_STATUS, contract_status, ctpp_share, provider_summary


@st.cache_resource(show_spinner=False, max_entries=4)
def _demo_book(key: str, _lib) -> ProviderBook:
    """Read once per configuration (`key`), not on every run of the page."""
    book = load_book(state.DEMO_DIR / "providers.csv", state.DEMO_DIR / "contracts.csv", _lib,
                     load_roi_spec().lists["ict_service_type"])
    # the bundled files' comment lines say what the caption below says; "line 2 is a comment" is noise here
    return dataclasses.replace(book, notices=["Demo providers and contracts: every LEI is fictitious (prefix DEMO00, "
                                              "valid ISO 17442 check digits); load your own files above."])


@st.cache_resource(show_spinner="Reading providers and contracts…", max_entries=4)
def _loaded_book(key: str, _files: tuple[tuple[bytes, str], tuple[bytes, str]], _lib) -> ProviderBook:
    return load_book(_files[0], _files[1], _lib, load_roi_spec().lists["ict_service_type"])


def _book() -> ProviderBook | None:
    """The workspace's providers and contracts (kept with the workspace); the demo's in the demo workspace."""
    files = state.provider_files()
    if files is None:
        return _demo_book(state.settings_key() + state.pack_key(), state.library()) if state.workspace_is_demo() \
            else None
    key = hashlib.sha256(files[0][0] + b"\0" + files[1][0]).hexdigest()[:16] + state.settings_key()
    return _loaded_book(key, files, state.library())


@st.cache_resource(show_spinner="Building the register of information…", max_entries=4)
def _register(key: str, _a, _book: ProviderBook, ref: dt.date):
    return build_register(_a, _book, load_roi_spec(), ref)


def _book_key(book: ProviderBook) -> str:
    text = book.providers.to_json() + book.contracts.to_json(default_handler=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


st.title("Providers & contracts")
lib = state.library()
a = state.assessment()
book = _book()

with st.expander("Load providers and contracts (CSV, XLSX or JSON)", expanded=book is None):
    st.caption("Providers: provider_id, name, lei, country, parent, type (cloud / model vendor / reseller), "
               "designated_critical, vendor. Contracts: contract_ref, provider_id, start, end, notice_period_days, "
               "annual_spend, committed_spend, currency, governing_law, termination_rights, exit_assistance, "
               "ict_service_type (S01–S19), last_audit, deployments (deployment ids separated by ;).")
    st.caption("Start from the files drafted from the inventory: one provider per company behind a channel or a "
               "model, one contract per contracted provider with its deployments; human headers, the value lists as "
               "drop-downs. Complete the blank cells (LEI, country, dates, amounts, ICT service type) and load them.")
    spec_ = load_roi_spec()
    drafts = draft_book(a.frame, lib, lib.profile.dora.currency if lib.profile.dora else "EUR")
    d = st.columns(2)
    d[0].download_button("Drafted providers (XLSX)", lambda: template_xlsx(drafts[0], spec_.lists["ict_service_type"],
                                                                            "Providers"),
                         "providers.xlsx", key="draft_providers", icon=":material/download:")
    d[1].download_button("Drafted contracts (XLSX)", lambda: template_xlsx(drafts[1], spec_.lists["ict_service_type"],
                                                                            "Contracts"),
                         "contracts.xlsx", key="draft_contracts", icon=":material/download:")
    c = st.columns(2)
    up_p = c[0].file_uploader("Providers file", type=["csv", "xlsx", "json"], key="providers_upload")
    up_c = c[1].file_uploader("Contracts file", type=["csv", "xlsx", "json"], key="contracts_upload")
    if up_p is not None and up_c is not None:
        try:
            new = load_book((up_p.getvalue(), up_p.name), (up_c.getvalue(), up_c.name), lib,
                            load_roi_spec().lists["ict_service_type"])
        except InventoryFileError as exc:
            st.error(md_escape(exc))
        else:
            before = (0, 0) if book is None else (len(book.providers), len(book.contracts))
            st.info(f"Replaces {before[0]} providers and {before[1]} contracts with {len(new.providers)} providers and "
                    f"{len(new.contracts)} contracts ({len(new.errors)} rejected cells).")
            if st.button("Replace providers and contracts", type="primary", key="providers_confirm"):
                state.set_provider_files((up_p.getvalue(), up_p.name), (up_c.getvalue(), up_c.name))
                st.rerun()



def _marked(frame: pd.DataFrame, errors, file: str):
    """The edited rows with every refused cell marked (row = file line - 2: line 1 is the header)."""
    bad = refused_cells(errors, file)

    def colour(col: pd.Series) -> list[str]:
        return ["background-color: #f8d7da; color: #721c24; font-weight: bold" if (i, col.name) in bad else ""
                for i in range(len(col))]
    return frame.reset_index(drop=True).style.apply(colour, axis=0)


with st.expander("Edit providers and contracts in the app", expanded=False):
    st.caption("Draft the rows from the inventory (or start from the files loaded), edit them here, check the cells "
               "the register refuses (marked in red: LEI check digits, dates, value lists), then use them.")
    if st.button("Draft from the inventory", key="draft_edit", icon=":material/edit_note:"):
        src = state.provider_files()
        if src is None and book is not None:  # the demo workspace's bundled files
            src = tuple((Path(state.DEMO_DIR / n).read_bytes(), n) for n in ("providers.csv", "contracts.csv"))
        if src is None:
            st.session_state["edit_frames"] = draft_book(
                a.frame, lib, lib.profile.dora.currency if lib.profile.dora else "EUR")
        else:  # the loaded files as written (raw text), in the files' columns
            frames = []
            for (data, name), cols in zip(src, (PROVIDER_COLUMNS, CONTRACT_COLUMNS), strict=True):
                raw, _ = read_table(data, name)
                raw.columns = normalise_header(list(raw.columns))
                first = raw.iloc[:, 0].astype(str).str.lstrip() if len(raw.columns) else pd.Series(dtype=str)
                raw = raw[~first.str.startswith("#")]  # the files' comment rows (as the register reads them)
                frames.append(raw.reindex(columns=list(cols), fill_value="").astype(object).fillna(""))
            st.session_state["edit_frames"] = tuple(frames)
    if "edit_frames" in st.session_state:
        lists = value_lists(load_roi_spec().lists["ict_service_type"])
        ep = st.data_editor(st.session_state["edit_frames"][0].astype(str).replace({"nan": "", "None": "", "NaT": ""}),
                            key="providers_editor", num_rows="dynamic", hide_index=True, width="stretch",
                            column_config={c: HEADERS[c] for c in PROVIDER_COLUMNS} | {
                                "type": st.column_config.SelectboxColumn("Type", options=lists["type"]),
                                "designated_critical": st.column_config.SelectboxColumn(
                                    "Designated critical", options=lists["designated_critical"])})
        ec = st.data_editor(st.session_state["edit_frames"][1].astype(str).replace({"nan": "", "None": "", "NaT": ""}),
                            key="contracts_editor", num_rows="dynamic", hide_index=True, width="stretch",
                            column_config={c: HEADERS[c] for c in CONTRACT_COLUMNS})
        pb, cb = template_csv(ep), template_csv(ec)
        trial = load_book((pb, "providers.csv"), (cb, "contracts.csv"), lib, load_roi_spec().lists["ict_service_type"])
        if trial.errors:
            st.error(f"{len(trial.errors)} cell(s) refused: the rows with a refused cell stay out of the register "
                     "until fixed.")
            shown = [(ep, "providers.csv", PROVIDER_COLUMNS, "edited_providers_marked"),
                     (ec, "contracts.csv", CONTRACT_COLUMNS, "edited_contracts_marked")]
            for frame, file, cols, key in shown:
                if any(e.file == file for e in trial.errors):
                    st.dataframe(_marked(frame, trial.errors, file), hide_index=True, width="stretch", key=key,
                                 column_config={c: HEADERS[c] for c in cols})
            st.dataframe(pd.DataFrame([{"File": e.file, "Row": (e.line or 2) - 1, "Key": e.key, "Column": HEADERS.get(
                e.column or "", e.column), "Value": e.value, "Problem": e.message} for e in trial.errors]),
                hide_index=True, width="stretch", key="edit_errors")
        before = (0, 0) if book is None else (len(book.providers), len(book.contracts))
        st.info(f"Using these replaces {before[0]} providers and {before[1]} contracts with {len(trial.providers)} "
                f"providers and {len(trial.contracts)} contracts ({len(trial.errors)} refused cells).")
        if st.button("Use these providers and contracts", type="primary", key="edit_confirm"):
            state.set_provider_files((pb, "providers.csv"), (cb, "contracts.csv"))
            st.rerun()

if book is None:
    st.info("No providers or contracts yet: load both files above to see providers, contracts and the register.")
    st.stop()

for n in book.notices:
    st.caption(md_escape(n))
if book.errors:
    st.error(f"{len(book.errors)} rejected cell(s): these providers or contracts are left out until fixed.")
    st.dataframe(pd.DataFrame([e.model_dump() for e in book.errors]).rename(columns=str.capitalize),
                 hide_index=True, width="stretch")

ref = lib.reference_date
chain = supply_chain(a, book)
summary = provider_summary(a, book, chain, ref)
status = contract_status(book, ref)
linked = set(book.links["deployment_id"])
unlinked = [d for d in a.frame["deployment_id"] if d not in linked]
c = st.columns(4)
c[0].metric("Providers", len(summary))
c[1].metric("Contracts", len(book.contracts))
c[2].metric("Deployments under a contract", f"{len(a.frame) - len(unlinked)} of {len(a.frame)}")
c[3].metric("Contracts to act on", int(status["status"].isin(["ended", "past_notice", "ending_soon"]).sum()))

st.subheader("Providers")
money_table(summary.drop(columns=["provider_id"]), hide_index=True, width="stretch", column_config={
    "provider": "Provider", "type": "Type", "designated_critical": st.column_config.CheckboxColumn(
        "Designated critical (providers file)"), "ctpp": "CTPP (ESAs' list)", "country": "Country",
    "contracts": "Contracts", "deployments": "Deployments",
    "critical_deployments": st.column_config.NumberColumn("Critical or high deployments"),
    "fourth_party_deployments": st.column_config.NumberColumn("As fourth party", help="Deployments where this "
                                                              "provider is the model vendor or cloud behind another"),
    "ai_spend_usd": money("AI spend"),
    "share_of_ai_spend": share_bar("Share of AI spend"),
    "worst_rating": "Worst rating", "max_score": st.column_config.NumberColumn("Highest score", format="%.1f"),
    "questionnaire_coverage": percent("Questionnaire answered"),
    "contracts_to_act_on": "Contracts ending or past notice"})

ctpp_list = load_ctpp()
share = ctpp_share(summary)
st.caption(f"Critical ICT third-party providers designated by the ESAs (list of {ctpp_list.as_of:%d %b %Y}, updated "
           f"yearly) and their groups carry {share['spend_share']:.0%} of the AI spend and "
           f"{share['critical']} of the {share['critical_total']} deployments of critical or high criticality under "
           "a contract.")

st.subheader("Contracts")
names = {p["provider_id"]: p["name"] for p in book.providers.to_dict("records")}
contracts = status.assign(provider=status["provider_id"].map(names), status=status["status"].map(CONTRACT_STATUS))
st.dataframe(contracts[["contract_ref", "provider", "start", "end", "notice_by", "status", "annual_spend", "currency",
                        "deployments"]], hide_index=True, width="stretch", column_config={
    "contract_ref": "Contract", "provider": "Provider", "start": st.column_config.DateColumn("Start", format="D MMM YYYY"),
    "end": st.column_config.DateColumn("End", format="D MMM YYYY"),
    "notice_by": st.column_config.DateColumn("Give notice by", format="D MMM YYYY"), "status": "Status",
    "annual_spend": st.column_config.NumberColumn("Annual spend", format="localized", step=1), "currency": "Currency",
    "deployments": "Deployments"})
st.caption(f"Status as of {ref:%d %b %Y} (the profile's reporting date, else the scenario library's date).")
if unlinked:
    st.warning(f"{len(unlinked)} deployment(s) link to no contract and are not in the register: "
               f"{md_escape(', '.join(unlinked[:30]))}{' …' if len(unlinked) > 30 else ''}")

st.subheader("Supply chain")
labels = {c_: ch.display_name for c_, ch in lib.channels.channels.items()}
chain_view = chain.merge(a.frame[["deployment_id", "name", "channel", "model"]], on="deployment_id")
chain_view = chain_view.assign(ctpp=chain_view["ctpp"].map(CTPP_LABELS),
                               provider=chain_view["provider_id"].map(names).fillna(
    chain_view["vendor"].map(lib.vendor_label) + " (no provider record)"), channel=chain_view["channel"].map(labels),
                               country=chain_view["country"].map(country_name))
st.dataframe(chain_view[["deployment_id", "name", "channel", "model", "contract_ref", "rank", "role", "provider",
                         "ctpp", "region", "country"]],
             hide_index=True, width="stretch", column_config={
    "deployment_id": "Deployment", "name": "Name", "channel": "Channel", "model": "Model", "contract_ref": "Contract",
    "rank": "Rank", "role": "Role", "provider": "Provider", "ctpp": "CTPP (ESAs' list)", "region": "Region",
    "country": "Country"})
st.caption("Rank 1 is the contracted provider; the channel's operator (when the contract is with a reseller), the "
           "cloud the channel runs on and the model vendor behind it rank below, as in register template B_05.02.")

st.subheader("Reviews overdue or due within 30 days")
policy = load_review_policy()
dates, problem = current_review_dates()
if problem:
    st.caption(f"Saved reviews not read: {md_escape(problem)}")
sched = review_schedule(a.frame, a.residual.table["rating"], dates, policy, lib.reference_date)
due_rows = due(sched, policy.due_soon_days)
st.caption("Interval by rating: " + ", ".join(f"{k} {v} months" for k, v in policy.interval_months.items())
           + ". Saving an assessment (History) records a review of every deployment in it.")
st.dataframe(due_rows.assign(status=due_rows["status"].map(STATUS_LABELS))[
    ["deployment_id", "name", "business_unit", "rating", "last_reviewed", "next_review", "status"]],
    hide_index=True, width="stretch", column_config={
        "deployment_id": "Deployment", "name": "Name", "business_unit": "Business unit", "rating": "Rating",
        "last_reviewed": st.column_config.DateColumn("Last reviewed", format="D MMM YYYY"),
        "next_review": st.column_config.DateColumn("Next review", format="D MMM YYYY"), "status": "Status"})

st.subheader("DORA register of information")
spec = load_roi_spec()
reg_ref = lib.profile.reporting_date or dt.date(lib.reference_date.year - 1, 12, 31)
reg = _register(f"{state.assessment_key()}|{_book_key(book)}|{reg_ref}", a, book, reg_ref)
st.caption(f"{md_escape(spec.regulation)}; EBA DORA taxonomy {spec.taxonomy.version}. Reference date "
           f"{reg.reference_date:%d %b %Y}. Rows: " + ", ".join(f"{k} {len(v)}" for k, v in reg.templates.items()))
if reg.findings:
    st.warning(f"Validation report: {len(reg.findings)} finding(s) — missing mandatory values (each names the question "
               "or file that fills it), contradictions between sources, deployments without a contract, broken "
               "references. The register files only what the firm said; the tool's own analysis is a suggestion.")
    found = pd.DataFrame([f.model_dump() for f in reg.findings])
    # a finding on the whole template: an empty cell (Streamlit writes "None" for a missing number)
    found["row"] = [str(int(r)) if pd.notna(r) else "" for r in found["row"]]
    st.dataframe(found.rename(columns={"template": "Template", "row": "Row", "key": "Key", "column": "Column",
                                       "label": "Field", "kind": "Problem", "rule": "EBA rule", "message": "Message"}),
                 hide_index=True, width="stretch")
else:
    st.success("Validation report: no missing mandatory field and no broken reference.")
if len(reg.templates["B_07.01"]):
    with st.expander("Suggested by the tool's fallback analysis (never filed)"):
        sug = human_frame("B_07.01", reg.suggested["B_07.01"].reindex(
            columns=list(spec.templates["B_07.01"].columns), fill_value=""), spec)
        filed = human_frame("B_07.01", reg.templates["B_07.01"], spec)
        keep = [c for c in sug.columns if c.split(" ")[0] in reg.suggested["B_07.01"].columns]
        side = pd.concat([filed.iloc[:, [0]], filed[keep].add_prefix("Filed: "), sug[keep].add_prefix("Suggested: ")],
                         axis=1)
        # the field's words first, its EBA code after them: "Filed: Existence of an exit plan (c0080)"
        side.columns = [re.sub(r"^((?:Filed|Suggested): )?(c\d{4}) (.+)$", r"\1\3 (\2)", c) for c in side.columns]
        st.dataframe(side, hide_index=True, width="stretch")
naming = st.segmented_control(
    "File name", list(NAMINGS), format_func=NAMINGS.get, default="eba", key="roi_naming",
    help="The package's file and top-folder name. NBB OneGate: LEI_<LEI>.<IND|CON>_NBB_DOR_DORA_ROI, the name an "
         "open-source GRC tool writes for NBB filings (its maintainers report them accepted); no NBB document stating "
         "it could be checked: confirm it with the NBB before a first filing. Other supervisors (BaFin among them) "
         "want the EBA filing rules' name.") or "eba"
name = package_name(reg, spec, naming=naming)
c = st.columns(2)
c[0].download_button("Register (EBA xBRL-CSV package)", lambda: write_eba_csv(reg, spec, root=name), f"{name}.zip",
                     "application/zip", icon=":material/folder_zip:", type="primary", key="roi_zip")
c[1].download_button("Register (XLSX for people)", lambda: write_xlsx(reg, spec), f"{name}.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/grid_on:",
                     key="roi_xlsx")
