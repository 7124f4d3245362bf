"""Empty inventory templates (CSV with a '#' help row, XLSX with a 'Columns' help sheet)."""

from __future__ import annotations

import csv
import io

from risk_models.config.domain import INVENTORY_COLUMNS, REQUIRED_COLUMNS
from risk_models.config.loader import Library
from risk_models.inventory.read import ENUMS, FEATURES


def column_help(lib: Library) -> dict[str, str]:
    channels = ", ".join(lib.channels.channels)
    return {
        "deployment_id": "Unique id of the deployment (required); a repeated id is rejected",
        "name": "Display name (free text)",
        "business_unit": "Owning business unit (free text)",
        "use_case": "What it is used for (free text)",
        "owner": "Accountable owner (free text)",
        "channel": f"How the model is reached (required): {channels} or an alias such as 'AOAI', 'Bedrock'",
        "model": "Model name (required), e.g. gpt-4o, claude-sonnet-4-5, llama-3.1-70b",
        "region": "Cloud region or site, e.g. westeurope, us-east-1, on-prem-frankfurt",
        "annual_spend_usd": "Annual spend in USD (required), e.g. 54500 or $54,500",
        "criticality": f"Required: {', '.join(ENUMS['criticality'])}",
        "data_sensitivity": f"Required: {', '.join(ENUMS['data_sensitivity'])}",
        "contract_end": "Contract end date YYYY-MM-DD, blank if none",
        "committed_spend_usd": "Remaining committed/prepaid spend lost on exit, USD; blank = 0",
        "fallback_status": f"{', '.join(ENUMS['fallback_status'])} (blank = none)",
        "proprietary_features": f"';'-separated: {', '.join(FEATURES)}",
        "abstraction_layer": "yes/no: a gateway or SDK layer that can switch providers",
    }


def template_csv(lib: Library) -> bytes:
    helps = column_help(lib)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(INVENTORY_COLUMNS)
    w.writerow(["# " + helps[INVENTORY_COLUMNS[0]], *(helps[c] for c in INVENTORY_COLUMNS[1:])])
    return buf.getvalue().encode("utf-8")


def template_xlsx(lib: Library) -> bytes:
    from openpyxl import Workbook  # only here: every CLI command imports this module
    from openpyxl.styles import Font

    helps = column_help(lib)
    wb = Workbook()
    ws = wb.active
    ws.title = "Inventory"
    ws.append(list(INVENTORY_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = max(14, len(str(cell.value)) + 2)
    ws.freeze_panes = "A2"
    info = wb.create_sheet("Columns")
    info.append(["column", "required", "meaning and allowed values"])
    for c in INVENTORY_COLUMNS:
        info.append([c, "yes" if c in REQUIRED_COLUMNS else "no", helps[c]])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["C"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
