"""Questionnaire answers: normalisation, validation of answers files, and the per-dimension
vulnerability factors the answers imply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from risk_models.config.domain import DIMENSIONS, RowError
from risk_models.config.questions import Answer, AnswerError, answer_factors, normalise_answer
from risk_models.config.schema import Question
from risk_models.io.identity import identity_codes
from risk_models.io.safe_yaml import load_user_json, load_user_yaml

AnswerMap = dict[str, dict[str, Answer]]

# The exit-plan answer the inventory's fallback status implies (a fallback that is tested, or already
# serves traffic, is an exit plan documented and tested). `none` implies nothing beyond the default.
EXIT_PLAN_QUESTION = "exit_plan_exists"
EXIT_PLAN_OF_FALLBACK = {"documented": "documented", "tested": "tested", "active": "tested"}


def with_inventory_facts(deployment_ids: Iterable[str], fallback_status: Iterable[str], answers: AnswerMap,
                         questions: Mapping[str, Question]) -> AnswerMap:
    """The answers, with the exit-plan question answered from the inventory where the questionnaire
    left it open: a row the inventory records as tested must not carry the "no exit plan" default.
    An answer given is never overwritten (a contradiction is a plausibility warning)."""
    if EXIT_PLAN_QUESTION not in questions:
        return answers
    # rows that answered nothing share one answers dict per implied value: the engine groups rows by
    # their answers dict, so 20,000 unanswered tested rows stay one group
    shared = {v: {EXIT_PLAN_QUESTION: v} for v in set(EXIT_PLAN_OF_FALLBACK.values())}
    codes, statuses = pd.factorize(np.asarray(list(fallback_status), dtype=object))
    implied = np.array([EXIT_PLAN_OF_FALLBACK.get(v) for v in statuses] + [None], dtype=object)[codes]
    rows = np.flatnonzero(pd.notna(implied))  # whole arrays: called once per option on 20,000 rows
    if not len(rows):
        return answers
    deps, implied = np.asarray(list(deployment_ids), dtype=object)[rows], implied[rows]
    answered = pd.Index(list(answers)).get_indexer(deps) >= 0 if answers else np.zeros(len(rows), dtype=bool)
    out = dict(answers)
    out.update(zip(deps[~answered].tolist(), [shared[v] for v in implied[~answered].tolist()], strict=True))
    filled: dict[tuple[int, str], dict] = {}  # rows sharing one answers dict share the filled one too
    for dep, value in zip(deps[answered].tolist(), implied[answered].tolist(), strict=True):
        given = answers[dep]
        if EXIT_PLAN_QUESTION not in given:
            key = (id(given), value)
            if key not in filled:
                filled[key] = {**given, EXIT_PLAN_QUESTION: value} if given else shared[value]
            out[dep] = filled[key]
    return out

def validate_answers(
    raw: Mapping[str, Any], questions: Mapping[str, Question], deployment_ids: Iterable[str] | None = None
) -> tuple[AnswerMap, list[RowError]]:
    """Validate `{deployment_id: {question_id: answer}}`; bad answers become RowErrors
    (line None, column = question id) and are left out, the rest is kept."""
    known = set(deployment_ids) if deployment_ids is not None else None
    out: AnswerMap = {}
    errors: list[RowError] = []
    for dep_id, per_q in raw.items():
        dep = str(dep_id)
        if known is not None and dep not in known:
            errors.append(RowError(line=None, deployment_id=dep, column=None, value=None,
                                   message="answers for a deployment that is not in the inventory"))
            continue
        if not isinstance(per_q, Mapping):
            errors.append(RowError(line=None, deployment_id=dep, value=str(per_q)[:200],
                                   message="expected a mapping of question id to answer"))
            continue
        for qid, value in per_q.items():
            q = questions.get(str(qid))
            if q is None:
                errors.append(RowError(line=None, deployment_id=dep, column=str(qid), value=str(value),
                                       message=f"unknown question; known: {', '.join(questions)}"))
                continue
            try:
                out.setdefault(dep, {})[q.id] = normalise_answer(q, value)
            except AnswerError as exc:
                errors.append(RowError(line=None, deployment_id=dep, column=q.id,
                                       value=str(value), message=str(exc)))
    return out, errors


def read_answers_file(path: Path) -> object:
    """Read a YAML or JSON answers file (JSON is valid YAML, dates are parsed by YAML)."""
    text = path.read_text(encoding="utf-8-sig")
    # User files: no YAML aliases (billion laughs), bounded nesting, size checked by the caller.
    data = load_user_json(text) if path.suffix.lower() == ".json" else load_user_yaml(text)
    return data or {}


def answers_to_jsonable(answers: AnswerMap) -> dict[str, dict[str, Any]]:
    return {
        dep: {q: (v.isoformat() if isinstance(v, dt.date) else v) for q, v in sorted(per.items())}
        for dep, per in sorted(answers.items())
    }


def answer_factor_arrays(
    deployment_ids: list[str], answers: AnswerMap, questions: Mapping[str, Question], ref: dt.date,
    use_defaults_only: bool = False, groups: AnswerGroups | None = None,
) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """Per vulnerability question, an (n, dims) array of factors; plus, per deployment, the
    assumed questions (every question, record-only and scoped ones included; rows without answers
    share one list, so treat the lists as read-only).

    Record-only questions never move a score and scoped questions act on their events'
    severity (`scoped_answer_factors`), so neither gets an array here.
    """
    vulnerability_qs = {qid: q for qid, q in questions.items() if is_vulnerability_question(q)}
    groups = groups if groups is not None else rows_by_answers(deployment_ids, answers)
    arrays = _factor_arrays(deployment_ids, answers, vulnerability_qs, ref, use_defaults_only, groups)
    every = list(questions)
    assumed = [every] * len(deployment_ids)  # one shared list for the unanswered rows (read-only)
    if not use_defaults_only and answers:
        shared: dict[frozenset, list[str]] = {}  # rows answering the same questions share one list
        for per, where in groups:
            key = frozenset(per)
            if key not in shared:
                shared[key] = [qid for qid in questions if qid not in per]
            for i in where:
                assumed[i] = shared[key]
    return arrays, assumed


AnswerGroups = list[tuple[Mapping, list[int]]]


def rows_by_answers(deployment_ids: list[str], answers: AnswerMap) -> AnswerGroups:
    """(answers, rows) per distinct answers object: a lever applied to 20,000 rows gives the rows
    that had no answers one shared mapping, looked at once instead of once per row."""
    if not answers:
        return []
    # whole arrays (called once per option for 20,000 rows): rows located by a hash index (the
    # inventory's ids are unique, duplicates are rejected on import; -1 = not in this inventory),
    # grouped by the identity of their answers mapping, in order of first appearance
    rows = pd.Index(deployment_ids).get_indexer(list(answers))
    where = np.flatnonzero(rows >= 0)
    pers = list(answers.values())
    pers = [pers[i] for i in where.tolist()]
    first, group = identity_codes(pers)
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(first) + 1))
    grouped = rows[where][order]
    return [(pers[f], grouped[bounds[g]:bounds[g + 1]].tolist()) for g, f in enumerate(first.tolist())]


def is_vulnerability_question(q: Question) -> bool:
    return not q.record_only and not q.scope_events


def _factor_arrays(
    deployment_ids: list[str], answers: AnswerMap, questions: Mapping[str, Question], ref: dt.date,
    use_defaults_only: bool = False, groups: AnswerGroups | None = None,
) -> dict[str, np.ndarray]:
    """Every deployment starts from the defaults; only answered cells are looked up, so the cost
    grows with the number of answers, not with rows x questions."""
    n = len(deployment_ids)
    arrays: dict[str, np.ndarray] = {}
    for q in questions.values():
        default = answer_factors(q, q.default, ref)
        arrays[q.id] = np.tile(np.array([default[d] for d in DIMENSIONS]), (n, 1))
    if use_defaults_only or not questions or not answers:
        return arrays
    rows: dict[tuple, list[int]] = {}  # (question, answer) -> the rows that gave it
    values: dict[tuple, Answer] = {}
    for per, where in groups if groups is not None else rows_by_answers(deployment_ids, answers):
        for qid, value in per.items():
            if qid in questions:
                key = (qid, tuple(value) if isinstance(value, list) else value)
                rows.setdefault(key, []).extend(where)
                values[key] = value
    for key, where in rows.items():  # one factor lookup and one vectorised assignment per distinct answer
        f = answer_factors(questions[key[0]], values[key], ref)
        arrays[key[0]][where] = [f[d] for d in DIMENSIONS]
    return arrays


def scoped_answer_factors(
    deployment_ids: list[str], answers: AnswerMap, questions: Mapping[str, Question], ref: dt.date,
    use_defaults_only: bool = False, groups: AnswerGroups | None = None,
) -> dict[str, np.ndarray]:
    """Per event id, an (n, dims) severity multiplier: the product of the factors of every
    scoped question naming that event (the conservative default where unanswered).

    Events no question names are absent (multiplier 1)."""
    scoped = {qid: q for qid, q in questions.items() if q.scope_events and not q.record_only}
    arrays = _factor_arrays(deployment_ids, answers, scoped, ref, use_defaults_only, groups)
    out: dict[str, np.ndarray] = {}
    for qid, q in scoped.items():
        for ev in q.scope_events:
            out[ev] = out[ev] * arrays[qid] if ev in out else arrays[qid].copy()
    return out
