"""Inventory export in the import formats (CSV, XLSX, JSON) so users can edit and re-import.

Text cells are formula-neutralised (see `escape_text`) and the importer reverses that, so an
export re-imports unchanged.
"""

from __future__ import annotations

import io
import json

import pandas as pd

from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.inventory.read import TEXT_COLUMNS, escape_text

_ESCAPED = (*TEXT_COLUMNS, "deployment_id", "model")


def inventory_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Validated frame -> inventory columns as text (money as plain numbers, bool as yes/no)."""
    out = pd.DataFrame(index=frame.index)
    for c in INVENTORY_COLUMNS:
        col = frame[c]
        if c in ("annual_spend_usd", "committed_spend_usd"):
            out[c] = col.map(repr)
        elif c == "abstraction_layer":
            out[c] = col.map({True: "yes", False: "no"})
        elif c == "contract_end":
            out[c] = col.map(lambda d: d.isoformat() if pd.notna(d) else "")
        else:
            out[c] = col.astype(str)
    return out.reset_index(drop=True)


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    out = inventory_text_frame(frame)
    for c in _ESCAPED:
        out[c] = escape_text(out[c])
    return out


def export_csv(frame: pd.DataFrame) -> bytes:
    # CRLF (RFC 4180) as the line end makes the csv writer quote every cell holding a CR or an LF;
    # with "\n" alone a CR went out unquoted and readers started a new row at it (a formula row).
    return _escaped(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def export_xlsx(frame: pd.DataFrame) -> bytes:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # only here: the JSON report imports this module

    out = _escaped(frame)
    for c in _ESCAPED:  # XLSX cannot hold most control characters: U+FFFD marks them (CSV/JSON keep them)
        out[c] = out[c].str.replace(ILLEGAL_CHARACTERS_RE, "\ufffd", regex=True)
    for c in ("annual_spend_usd", "committed_spend_usd"):
        out[c] = frame[c].astype(float).to_numpy()  # numbers stay numbers in the workbook
    buf = io.BytesIO()
    # Strings are written as text cells: openpyxl only makes a formula of a leading '=',
    # which escape_text has already neutralised.
    out.to_excel(buf, index=False, sheet_name="Inventory", engine="openpyxl")
    return buf.getvalue()


def export_json(frame: pd.DataFrame) -> bytes:
    records = inventory_text_frame(frame).to_dict("records")
    return json.dumps(records, ensure_ascii=False, indent=1).encode("utf-8")
