"""Per-deployment answers for reports, record-only ones included (they never move a score, so the
report is where they show): `{question_id: {answer, shown, record_only}}`, answered questions only.

For the JSON report's per-deployment `answers` key (json_report.py is the lead's module: wire it
there as `"answers": deployment_answers(a.lib.questions, a.answers.get(dep, {}))`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from risk_models.config.schema import Question
from risk_models.questionnaire.answers import Answer


def answer_text(q: Question, value: Answer) -> str | float | dt.date | None:
    """An answer as a person reads it: option labels, numbers as numbers, dates as dates."""
    if value is None:
        return None
    labels = {o.value: o.label for o in q.options}
    if isinstance(value, list):
        return "; ".join(labels.get(v, v) for v in value)
    if q.type in ("choice", "bool"):
        return labels.get(str(value), str(value))
    return value


def deployment_answers(questions: Mapping[str, Question], given: Mapping[str, Answer]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for qid, q in questions.items():
        if qid not in given:
            continue
        v = given[qid]
        shown = answer_text(q, v)
        out[qid] = {"answer": v.isoformat() if isinstance(v, dt.date) else v,
                    "shown": shown.isoformat() if isinstance(shown, dt.date) else shown,
                    "record_only": q.record_only}
    return out
