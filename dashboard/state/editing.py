"""The Inventory page's editing helpers: the raw table rebuilt from the edited valid and rejected
rows (then re-validated), problem tables with human headers, plausibility warnings."""

from __future__ import annotations

import pandas as pd

from dashboard.state.library import library
from dashboard.state.session import LINE, RAW, current_session
from dashboard.state.workspace import inventory, set_raw
from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.inventory.read import EXTRA_FIELDS, ImportResult
from risk_models.inventory.versions import FIELD_LABELS


def rejected_raw() -> pd.DataFrame:
    """The rejected rows as the user wrote them (text), with their lines."""
    raw, res = current_session()[RAW], inventory()
    if any(e.line == 1 for e in res.errors):  # a missing column rejects every row
        return raw
    return raw[raw[LINE].isin(set(res.rejected_lines))]


def apply_edits(valid_edited: pd.DataFrame, rejected_edited: pd.DataFrame) -> None:
    """Rebuild the raw table from the (typed) valid-rows editor and the (text) rejected-rows
    editor, then re-validate. New rows get line numbers after the last one."""
    raw = current_session()[RAW]
    text = _typed_to_text(valid_edited)
    text[LINE] = valid_edited["line"].to_numpy()
    rejected = rejected_edited.reindex(columns=[*INVENTORY_COLUMNS, *_extra(rejected_edited), LINE])
    combined = pd.concat([text, rejected], ignore_index=True)
    next_line = int(pd.to_numeric(raw[LINE], errors="coerce").max()) + 1 if len(raw) else 2
    missing = pd.to_numeric(combined[LINE], errors="coerce").isna()
    combined.loc[missing, LINE] = range(next_line, next_line + int(missing.sum()))
    combined[LINE] = combined[LINE].astype(int)
    combined = combined.sort_values(LINE, kind="stable").reset_index(drop=True)
    set_raw(combined.fillna("").astype({c: str for c in INVENTORY_COLUMNS if c in combined}
                                       | {c: str for c in _extra(combined)}))


def _extra(frame: pd.DataFrame) -> list[str]:
    """The surplus-cells column of rows longer than their header, while any row still has one."""
    return [EXTRA_FIELDS] if EXTRA_FIELDS in frame.columns else []


def _typed_to_text(df: pd.DataFrame) -> pd.DataFrame:
    """Typed editor rows -> the literal text an inventory file would hold (blank = missing)."""
    out = pd.DataFrame(index=df.index)
    for c in INVENTORY_COLUMNS:
        col = df[c] if c in df.columns else pd.Series("", index=df.index)
        if c in ("annual_spend_usd", "committed_spend_usd"):
            out[c] = col.map(lambda x: "" if pd.isna(x) else repr(float(x)))
        elif c == "contract_end":
            out[c] = col.map(lambda d: d.isoformat()[:10] if pd.notna(d) and d != "" else "")
        elif c == "abstraction_layer":
            out[c] = col.map(lambda b: "yes" if (pd.notna(b) and bool(b)) else "no")
        else:
            out[c] = col.map(lambda v: "" if pd.isna(v) else str(v))
    return out


ERROR_HEADERS = {"line": "Line", "deployment_id": "Deployment", "column": "Column", "value": "Value",
                 "message": "Message"}


# the column a problem is in, as the template names it (the error tables and the rejected-rows editor)
ERROR_COLUMN_LABELS = FIELD_LABELS | {"deployment_id": "Deployment ID", EXTRA_FIELDS: "Cells beyond the header"}


def errors_frame(result: ImportResult, errors: list | None = None) -> pd.DataFrame:
    """Rejected rows or warnings with human headers; the column named as the template names it."""
    out = pd.DataFrame([e.model_dump() for e in (result.errors if errors is None else errors)],
                       columns=["line", "deployment_id", "column", "value", "message"])
    out["column"] = out["column"].map(lambda c: ERROR_COLUMN_LABELS.get(c, c) if isinstance(c, str) else c)
    return out.rename(columns=ERROR_HEADERS)


def plausibility(result: ImportResult) -> list:
    """Warnings for valid rows that are probably wrong (model not offered there, closed model
    self-hosted, cloud channel with an on-premises region)."""
    return plausibility_warnings(result.frame, library())
