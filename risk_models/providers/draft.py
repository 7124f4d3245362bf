"""Providers and contracts drafted from the inventory, and the files to complete them in (CSV or XLSX
with human headers and the value lists as drop-downs), so nobody writes 25 snake_case columns by hand.

A draft holds what the inventory already knows — who is behind each channel (rank 1, contracted) and
the model vendor behind a cloud channel (rank 2, fourth party), which deployments each serves — and
leaves blank what only the firm knows (LEI, country, dates, amounts, service type): those stay
findings until filled, never guessed."""

from __future__ import annotations

import csv
import io

import pandas as pd

from risk_models.config.loader import Library
from risk_models.providers.records import (
    CODE_TYPES,
    CONTRACT_COLUMNS,
    CONTRACT_REQUIRED,
    NOT_A_PROVIDER,
    OPEN_WEIGHT_VENDORS,
    PROVIDER_COLUMNS,
    PROVIDER_REQUIRED,
    TERMINATION_REASONS,
    TERMINATION_RIGHTS,
)

CLOUD_NAMES = {"microsoft": "Microsoft", "aws": "Amazon Web Services", "google": "Google Cloud", "oci": "Oracle"}
HEADERS = {  # human headers; the readers normalise them back to the column names
    "provider_id": "Provider ID", "name": "Name", "lei": "LEI", "country": "Country", "parent": "Parent",
    "type": "Type", "designated_critical": "Designated critical", "vendor": "Vendor", "notes": "Notes",
    "code": "Other identification code", "code_type": "Type of other code",
    "contract_ref": "Contract ref", "start": "Start", "end": "End", "notice_period_days": "Notice period days",
    "provider_notice_period_days": "Provider notice period days", "annual_spend": "Annual spend",
    "committed_spend": "Committed spend", "currency": "Currency", "governing_law": "Governing law",
    "termination_rights": "Termination rights", "exit_assistance": "Exit assistance",
    "ict_service_type": "ICT service type", "last_audit": "Last audit", "deployments": "Deployments",
    "termination_reason": "Termination reason", "overarching_contract": "Overarching contract"}


def _pid(vendor: str) -> str:
    return vendor.upper().replace("_", "-")


def draft_book(frame: pd.DataFrame, lib: Library, currency: str = "EUR") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(providers, contracts) in the files' columns: one provider per company behind a channel or a
    model, one draft contract per contracted provider listing its deployments."""
    clouds = {c: ch.cloud_provider for c, ch in lib.channels.channels.items()}
    first = frame["channel"].map(clouds).fillna("other").astype(str)
    behind = frame["model_vendor"].astype(str)
    providers: dict[str, dict] = {}
    contracts: dict[str, list[str]] = {}
    for dep, c, m in zip(frame["deployment_id"], first, behind, strict=True):
        if c not in NOT_A_PROVIDER:
            contracts.setdefault(c, []).append(str(dep))
        for vendor, rank in ((c, 1), (m, 2)):
            if vendor in NOT_A_PROVIDER or vendor in OPEN_WEIGHT_VENDORS or (rank == 2 and vendor == c):
                continue
            p = providers.setdefault(vendor, {"rank1": 0, "rank2": 0})
            p[f"rank{rank}"] += 1
    prows = []
    for vendor, n in sorted(providers.items()):
        role = ", ".join(x for x in (f"contracted for {n['rank1']} deployment(s)" if n["rank1"] else "",
                                     f"behind {n['rank2']} deployment(s) as model vendor" if n["rank2"] else "") if x)
        label = CLOUD_NAMES.get(vendor) or lib.vendor_label(vendor)
        prows.append({"provider_id": _pid(vendor), "name": label, "lei": "", "country": "",
                      "parent": "", "type": "cloud" if vendor in CLOUD_NAMES else "model vendor",
                      "designated_critical": "", "vendor": label,
                      "notes": f"drafted from the inventory: {role}; give the contracting legal entity's name, LEI "
                               "and country", "code": "", "code_type": ""})
    crows = [{"contract_ref": f"DRAFT-{_pid(v)}", "provider_id": _pid(v), "start": "", "end": "",
              "notice_period_days": "", "provider_notice_period_days": "", "annual_spend": "", "committed_spend": "",
              "currency": currency, "governing_law": "", "termination_rights": "", "exit_assistance": "",
              "ict_service_type": "", "last_audit": "", "deployments": ";".join(deps), "termination_reason": "",
              "overarching_contract": ""}
             for v, deps in sorted(contracts.items())]
    return (pd.DataFrame(prows, columns=list(PROVIDER_COLUMNS)), pd.DataFrame(crows, columns=list(CONTRACT_COLUMNS)))


def template_csv(frame: pd.DataFrame) -> bytes:
    """A providers or contracts file with human headers (an empty frame = an empty template)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([HEADERS[c] for c in frame.columns])
    w.writerows(frame.fillna("").astype(str).to_numpy().tolist())
    return buf.getvalue().encode("utf-8")


def value_lists(service_types: dict[str, str]) -> dict[str, list[str]]:
    return {"type": ["cloud", "model vendor", "reseller"], "designated_critical": ["yes", "no"],
            "termination_rights": list(TERMINATION_RIGHTS.values()), "exit_assistance": ["yes", "no"],
            "ict_service_type": [f"{k.split(':')[1]} {v}"[:250] for k, v in service_types.items()],
            "termination_reason": list(TERMINATION_REASONS.values()), "code_type": list(CODE_TYPES.values())}


def template_xlsx(frame: pd.DataFrame, service_types: dict[str, str], title: str) -> bytes:
    """First sheet: the file (human headers, the value lists as drop-downs, required columns in bold);
    a 'Lists' sheet holds the lists."""
    from openpyxl import Workbook  # only here: the CLI imports this module
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append([HEADERS[c] for c in frame.columns])
    for r in frame.fillna("").astype(str).to_numpy().tolist():
        ws.append(["'" + v if v[:1] in "=+-@" else v for v in r])  # text stays text
    required = set(PROVIDER_REQUIRED) | set(CONTRACT_REQUIRED)
    for cell, col in zip(ws[1], frame.columns, strict=True):
        cell.font = Font(bold=col in required)
        ws.column_dimensions[cell.column_letter].width = max(14, len(str(cell.value)) + 2)
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("Lists")
    for j, (col, values) in enumerate(value_lists(service_types).items(), start=1):
        if col not in frame.columns:
            continue
        letter = lists.cell(1, j).column_letter
        lists.cell(1, j, HEADERS[col])
        for i, v in enumerate(values, start=2):
            lists.cell(i, j, v)
        target = ws.cell(1, list(frame.columns).index(col) + 1).column_letter
        dv = DataValidation(type="list", formula1=f"=Lists!${letter}$2:${letter}${len(values) + 1}",
                            allow_blank=True, showErrorMessage=True, errorTitle=HEADERS[col],
                            error=f"Choose one of the {HEADERS[col]} values (sheet Lists)")
        ws.add_data_validation(dv)
        dv.add(f"{target}2:{target}5000")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
