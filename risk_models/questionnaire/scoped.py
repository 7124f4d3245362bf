"""Answers given once per provider (channel) or per model vendor, inherited by every deployment
of that scope; a deployment's own answer always wins. The resolver turns them into the plain
AnswerMap the scoring engine takes, plus where each answer came from (shown in the app).

Contracts are not an entity of the inventory yet, so "per contract" means per provider here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, Field

from risk_models.config.domain import RowError
from risk_models.config.schema import Question
from risk_models.questionnaire.answers import Answer, AnswerMap, answers_to_jsonable, validate_answers

Scope = Literal["channel", "model_vendor"]
SCOPES: tuple[Scope, ...] = ("channel", "model_vendor")
# Applied in this order, later wins: the provider's contract governs over the model vendor's terms.
APPLY_ORDER: tuple[Scope, ...] = ("model_vendor", "channel")
OWN = "deployment"


class ScopedAnswers(BaseModel):
    """Per scope value (e.g. channel 'azure_openai'), answers by question id."""

    channel: dict[str, dict[str, Any]] = Field(default_factory=dict)
    model_vendor: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def jsonable(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {s: answers_to_jsonable(getattr(self, s)) for s in SCOPES}


def validate_scoped(raw: Mapping[str, Any], questions: Mapping[str, Question]) -> tuple[ScopedAnswers, list[RowError]]:
    """Validate `{channel: {...}, model_vendor: {...}}`; bad answers are RowErrors naming the scope."""
    out: dict[str, AnswerMap] = {}
    errors: list[RowError] = []
    for scope in SCOPES:
        answers, errs = validate_answers(raw.get(scope) or {}, questions)
        out[scope] = answers
        errors += [e.model_copy(update={"deployment_id": f"{scope} {e.deployment_id}"}) for e in errs]
    return ScopedAnswers(**out), errors


def resolve_answers(
    frame: pd.DataFrame, scoped: ScopedAnswers, own: AnswerMap
) -> tuple[AnswerMap, dict[str, dict[str, str]]]:
    """Effective answers per deployment and their source: 'deployment', 'channel:<id>' or
    'model_vendor:<id>'. Unanswered questions are absent (the scorer assumes the default)."""
    ids = frame["deployment_id"].astype(str)
    effective: AnswerMap = {}
    source: dict[str, dict[str, str]] = {}
    for scope in APPLY_ORDER:
        per_value: dict[str, dict[str, Answer]] = getattr(scoped, scope)
        if not per_value:
            continue
        col = frame[scope].astype(str)
        # one pass per scope value with answers, not per deployment x question
        for value, given in per_value.items():
            if not given:
                continue
            for dep in ids[col == value]:
                effective.setdefault(dep, {}).update(given)
                src = source.setdefault(dep, {})
                for qid in given:
                    src[qid] = f"{scope}:{value}"
    for dep, given in own.items():
        if not given:
            continue
        effective.setdefault(dep, {}).update(given)
        src = source.setdefault(dep, {})
        for qid in given:
            src[qid] = OWN
    return effective, source


def source_label(source: str, channel_names: Mapping[str, str], vendor_names: Mapping[str, str]) -> str:
    """'channel:azure_openai' -> 'inherited from provider Azure OpenAI' (never a raw id)."""
    if source == OWN:
        return "answered for this deployment"
    scope, _, value = source.partition(":")
    if scope == "channel":
        return f"inherited from provider {channel_names.get(value, value)}"
    return f"inherited from model vendor {vendor_names.get(value, value)}"

