"""Register versions: what a new inventory (upload, edit or import) changes against the current
one — deployments added, removed, and changed field by field — and what happens to the answers
keyed by deployment_id (kept for every deployment still present, archived for removed ones).

Pure and vectorised: the frames are aligned on deployment_id and compared column by column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.config.palette import usd
from risk_models.questionnaire.answers import AnswerMap

COMPARED = [c for c in INVENTORY_COLUMNS if c != "deployment_id"]
FIELD_LABELS = {
    "name": "Name", "business_unit": "Business unit", "use_case": "Use case", "owner": "Owner",
    "channel": "Provider (channel)", "model": "Model", "region": "Region", "annual_spend_usd": "Annual spend (USD)",
    "criticality": "Criticality", "data_sensitivity": "Data sensitivity", "contract_end": "Contract end",
    "committed_spend_usd": "Committed spend (USD)", "fallback_status": "Fallback status",
    "proprietary_features": "Proprietary features", "abstraction_layer": "Abstraction layer",
}


class FieldChange(BaseModel):
    deployment_id: str
    column: str
    before: str
    after: str


class RegisterDiff(BaseModel):
    added: list[str]
    removed: list[str]
    changed: list[FieldChange]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def rows_for_people(self, channel_names: dict[str, str] | None = None) -> list[dict[str, str]]:
        """Changed fields with human field names and channel display names (never raw ids)."""
        names = channel_names or {}
        return [{"Deployment": c.deployment_id, "Field": FIELD_LABELS.get(c.column, c.column),
                 **dict(zip(("Before", "After"), _shown(c, names), strict=True))} for c in self.changed]

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.removed)} removed, "
                f"{len({c.deployment_id for c in self.changed})} changed ({len(self.changed)} fields), "
                f"{self.unchanged} unchanged")


MONEY = ("annual_spend_usd", "committed_spend_usd")


def _shown(c: FieldChange, channel_names: dict[str, str]) -> tuple[str, str]:
    """Before and after as people read them: channel names; money in whole dollars (with its cents only when
    the change is smaller than a dollar, so that before and after never read the same)."""
    if c.column == "channel":
        return channel_names.get(c.before, c.before), channel_names.get(c.after, c.after)
    if c.column in MONEY and c.before and c.after:
        a, b = (float(x.replace("$", "").replace(",", "")) for x in (c.before, c.after))
        if round(a) != round(b):
            return usd(a), usd(b)
    return c.before, c.after


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Comparable text of each inventory column (dates as ISO, money without float noise)."""
    out = pd.DataFrame(index=frame.index)
    for c in COMPARED:
        col = frame[c] if c in frame.columns else pd.Series("", index=frame.index)
        if c in MONEY:
            num = pd.to_numeric(col, errors="coerce")
            out[c] = num.map(lambda x: "" if pd.isna(x) else f"${x:,.2f}")
        elif c == "contract_end":
            out[c] = pd.to_datetime(col, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
        elif c == "abstraction_layer":
            out[c] = col.map(lambda b: "yes" if (pd.notna(b) and str(b).casefold() in ("true", "yes", "1")) else "no")
        else:
            out[c] = col.astype(object).where(col.notna(), "").astype(str)
    return out


def register_diff(old: pd.DataFrame, new: pd.DataFrame) -> RegisterDiff:
    """Diff two validated inventory frames (deployment_id unique in each)."""
    old_ids = old["deployment_id"].astype(str)
    new_ids = new["deployment_id"].astype(str)
    added = new_ids[~new_ids.isin(set(old_ids))].tolist()
    removed = old_ids[~old_ids.isin(set(new_ids))].tolist()
    a = _text(old).set_axis(old_ids.to_numpy())
    b = _text(new).set_axis(new_ids.to_numpy())
    common = a.index.intersection(b.index, sort=False)
    a, b = a.loc[common], b.loc[common]
    diff = a.to_numpy() != b.to_numpy()  # (rows, columns)
    rows, cols = np.nonzero(diff)
    changed = [FieldChange(deployment_id=str(common[r]), column=COMPARED[c],
                           before=str(a.iat[r, c]), after=str(b.iat[r, c])) for r, c in zip(rows, cols, strict=True)]
    unchanged = int((~diff.any(axis=1)).sum()) if len(common) else 0
    return RegisterDiff(added=added, removed=removed, changed=changed, unchanged=unchanged)


class ArchivedAnswers(BaseModel):
    """Answers of a deployment that left the register; restorable if it comes back."""

    deployment_id: str
    answers: dict[str, Any]
    archived_at: dt.datetime
    register_version: int


def carry_answers(answers: AnswerMap, archive: dict[str, ArchivedAnswers], new_ids: list[str],
                  version: int, now: dt.datetime | None = None) -> tuple[AnswerMap, dict[str, ArchivedAnswers]]:
    """Answers of deployments still present stay; those of removed deployments move to the
    archive (never dropped). Archived answers of a deployment that returns are NOT restored
    automatically: the app lists them and the user restores them."""
    keep = set(new_ids)
    now = now or dt.datetime.now(dt.UTC)
    kept = {d: per for d, per in answers.items() if d in keep}
    out = dict(archive)
    for d, per in answers.items():
        if d not in keep and per:
            out[d] = ArchivedAnswers(deployment_id=d, answers=dict(per), archived_at=now, register_version=version)
    return kept, out


def restore_answers(answers: AnswerMap, archive: dict[str, ArchivedAnswers],
                    deployment_id: str) -> tuple[AnswerMap, dict[str, ArchivedAnswers]]:
    """Put archived answers back (current answers of the same questions win)."""
    item = archive[deployment_id]
    out = dict(answers)
    out[deployment_id] = {**item.answers, **answers.get(deployment_id, {})}
    rest = {k: v for k, v in archive.items() if k != deployment_id}
    return out, rest


def register_hash(frame: pd.DataFrame) -> str:
    """Content hash of a register (the comparable text of every column, in row order)."""
    text = _text(frame)
    text.insert(0, "deployment_id", frame["deployment_id"].astype(str).to_numpy())
    h = pd.util.hash_pandas_object(text, index=False).to_numpy()
    return hashlib.sha256(h.tobytes()).hexdigest()[:16]
