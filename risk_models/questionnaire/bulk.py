"""Answer many deployments at once: select by filter, set one question, copy all answers.

Pure functions over the AnswerMap; each returns the new map and how many answers change, so the
app can say "N answers change" before the user confirms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd
from pydantic import BaseModel

from risk_models.questionnaire.answers import Answer, AnswerMap


class Selection(BaseModel):
    """Filters combined with AND; an empty list means 'any'."""

    model_vendor: list[str] = []
    channel: list[str] = []
    business_unit: list[str] = []
    owner: list[str] = []
    rating: list[str] = []
    contract_end_from: dt.date | None = None
    contract_end_to: dt.date | None = None
    deployment_ids: list[str] = []  # picked by hand


def select(frame: pd.DataFrame, sel: Selection, ratings: pd.Series | None = None) -> pd.Series:
    """Boolean mask over `frame` (vectorised); `ratings` aligned to frame rows when filtering by rating."""
    mask = pd.Series(True, index=frame.index)
    for col in ("model_vendor", "channel", "business_unit", "owner"):
        wanted = getattr(sel, col)
        if wanted:
            mask &= frame[col].astype(str).isin(wanted)
    if sel.rating:
        if ratings is None:
            raise ValueError("filtering by rating needs the ratings of the current assessment")
        mask &= pd.Series(ratings.to_numpy(), index=frame.index).isin(sel.rating)
    if sel.contract_end_from or sel.contract_end_to:
        end = pd.to_datetime(frame["contract_end"], errors="coerce")
        if sel.contract_end_from:
            mask &= end >= pd.Timestamp(sel.contract_end_from)
        if sel.contract_end_to:
            mask &= end <= pd.Timestamp(sel.contract_end_to)
    if sel.deployment_ids:
        mask &= frame["deployment_id"].astype(str).isin(sel.deployment_ids)
    return mask


def set_answer(answers: AnswerMap, deployment_ids: Iterable[str], question_id: str,
               value: Answer) -> tuple[AnswerMap, int]:
    """Give (or with value None, clear) one question's answer for every selected deployment.
    Returns the new map and the number of answers that actually change."""
    out = dict(answers)
    changed = 0
    for dep in deployment_ids:
        per = out.get(dep, {})
        if value is None:
            if question_id in per:
                per = {k: v for k, v in per.items() if k != question_id}
                changed += 1
        elif per.get(question_id) != value:
            per = {**per, question_id: value}
            changed += 1
        else:
            continue
        if per:
            out[dep] = per
        else:
            out.pop(dep, None)
    return out, changed


def copy_answers(answers: AnswerMap, source_id: str, target_ids: Sequence[str],
                 replace: bool = False) -> tuple[AnswerMap, int]:
    """Copy every answer of one deployment to the targets. replace=False keeps the targets'
    answers to questions the source has not answered; replace=True makes them identical."""
    src = answers.get(source_id, {})
    out = dict(answers)
    changed = 0
    for dep in target_ids:
        if dep == source_id:
            continue
        before = out.get(dep, {})
        after = dict(src) if replace else {**before, **src}
        changed += sum(1 for k in set(before) | set(after) if before.get(k) != after.get(k))
        if after:
            out[dep] = after
        else:
            out.pop(dep, None)
    return out, changed
