"""Answers files: normalisation, clear errors, defaults reported as assumed."""

from __future__ import annotations

import datetime as dt

import numpy as np

from risk_models.questionnaire.answers import (
    answer_factor_arrays,
    normalise_answer,
    read_answers_file,
    validate_answers,
)
from tests.conftest import DEMO_ANSWERS


def test_demo_answers_are_valid(lib):
    raw = read_answers_file(DEMO_ANSWERS)
    answers, errors = validate_answers(raw, lib.questions)
    assert errors == [] and len(answers) >= 10


def test_normalisation_of_each_type(lib):
    q = lib.questions
    assert normalise_answer(q["eval_suite"], "TRUE") == "yes"
    assert normalise_answer(q["eval_suite"], False) == "no"
    assert normalise_answer(q["users_affected"], "External customers") == "external_customers"
    assert normalise_answer(q["regulated_uses"], "health; employment") == ["employment", "health"]
    assert normalise_answer(q["rto_hours"], "1,000") == 1000.0
    assert normalise_answer(q["exit_last_tested"], "2026/03/01") == dt.date(2026, 3, 1)


def test_errors_name_deployment_question_value_and_allowed(lib):
    raw = {"D1": {"users_affected": "everyone", "rto_hours": -3, "nonsense": 1, "exit_last_tested": "2026-02-30"},
           "ZZZ": {"rto_hours": 4}}
    answers, errors = validate_answers(raw, lib.questions, ["D1"])
    got = {(e.deployment_id, e.column, e.value): e.message for e in errors}
    assert "allowed: team, department, enterprise, external_customers" in got[("D1", "users_affected", "everyone")]
    assert "from 0 to 87,660" in got[("D1", "rto_hours", "-3")]  # the allowed range, now bounded above too
    assert "unknown question" in got[("D1", "nonsense", "1")]
    assert "YYYY-MM-DD" in got[("D1", "exit_last_tested", "2026-02-30")]
    assert any(e.deployment_id == "ZZZ" and "not in the inventory" in e.message for e in errors)
    assert answers == {}


def test_unanswered_questions_are_assumed_and_use_conservative_defaults(lib):
    ids = ["A", "B"]
    answers = {"A": {"rto_hours": 100.0, "eval_suite": "yes"}}
    arrays, assumed = answer_factor_arrays(ids, answers, lib.questions, dt.date(2026, 11, 1))
    assert "rto_hours" not in assumed[0] and "eval_suite" not in assumed[0]
    assert set(assumed[1]) == set(lib.questions)
    # the answered deployment is less vulnerable on those questions than the assumed default
    assert np.all(arrays["rto_hours"][0] <= arrays["rto_hours"][1])
    assert arrays["rto_hours"][0][0] < arrays["rto_hours"][1][0]
