"""What an answer to a question means: its one parser (a raw answer from a file or a form -> its
canonical value, or an AnswerError) and the per-dimension vulnerability factors it implies. The loader
checks the questionnaire with these; the questionnaire package reads answers with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from risk_models.config.domain import DIMENSIONS
from risk_models.config.schema import Question

Answer = str | float | list[str] | dt.date | None

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


class AnswerError(ValueError):
    """An answer does not fit its question."""


def _date_months(answer: Answer, ref: dt.date) -> float | None:
    if answer is None:
        return None
    assert isinstance(answer, dt.date)
    return max(0.0, (ref - answer).days / 30.4375)


def _band_factors(q: Question, x: float | None) -> dict[str, float]:
    band = q.bands[-1]
    if x is not None:
        band = next(b for b in q.bands if b.max is None or x <= b.max)
    return {d: band.factors.get(d, 1.0) for d in DIMENSIONS}


def answer_factors(q: Question, answer: Answer, ref: dt.date | None = None) -> dict[str, float]:
    """Multiplier per dimension for a normalised answer (1.0 = neutral)."""
    if q.type in ("number", "date"):
        x = _date_months(answer, ref or dt.date.today()) if q.type == "date" else answer
        return _band_factors(q, x)  # type: ignore[arg-type]
    chosen = answer if isinstance(answer, list) else [answer]
    out = {d: 1.0 for d in DIMENSIONS}
    picked = [o for o in q.options if o.value in chosen]
    for d in DIMENSIONS:
        vals = [o.factors.get(d, 1.0) for o in picked]
        # multi: the most demanding selected use governs the dimension
        out[d] = max(vals) if vals else 1.0
    return out


def _option_for(q: Question, text: str) -> str:
    key = text.strip().casefold()
    for o in q.options:
        if key in (o.value.casefold(), o.label.casefold()):
            return o.value
    allowed = ", ".join(o.value for o in q.options)
    raise AnswerError(f"not an option of {q.id}; allowed: {allowed}")


# The largest answer a number question takes, by unit: ten years of hours or days (an RTO of 1e308 hours was
# accepted and drove the arithmetic); other units (people, %) a billion.
NUMBER_MAX = {"hours": 87_660.0, "days": 3_653.0, "": 1e9}


def normalise_answer(q: Question, raw: Any) -> Answer:
    """Turn a raw answer (from a file or a form) into its canonical form, or raise AnswerError."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise AnswerError("blank answer; leave the question out to use the default")
    if q.type == "bool":
        if isinstance(raw, bool):
            return "yes" if raw else "no"
        key = str(raw).strip().casefold()
        if key in _TRUE | _FALSE:
            return "yes" if key in _TRUE else "no"
        labels = {o.label.casefold(): o.value for o in q.options}  # e.g. 'No / unknown' from a workbook
        if key in labels:
            return labels[key]
        raise AnswerError("expected yes or no")
    if q.type == "choice":
        return _option_for(q, str(raw))
    if q.type == "multi":
        items = raw if isinstance(raw, list) else str(raw).split(";")
        values = sorted({_option_for(q, str(i)) for i in items if str(i).strip()})
        if not values:
            raise AnswerError("choose at least one option")
        return values
    if q.type == "number":
        try:
            x = float(str(raw).replace(",", "").strip())
        except ValueError:
            raise AnswerError(f"expected a number of {q.unit or 'units'}") from None
        top = NUMBER_MAX.get(q.unit or "", NUMBER_MAX[""])
        if not np.isfinite(x) or x < 0 or x > top:
            raise AnswerError(f"expected a number of {q.unit or 'units'} from 0 to {top:,.0f}")
        return x
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip().replace("/", "-"))
    except ValueError:
        raise AnswerError("expected a date YYYY-MM-DD") from None
