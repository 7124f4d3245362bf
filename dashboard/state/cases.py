"""The Cases page's data: case records and dates to watch of the current assessment (cached per
assessment), and the stress of one case's adverse outcome — the same call as `assess --stress`."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard.state.answers import probabilities
from dashboard.state.assessment import assessment, assessment_key
from dashboard.state.library import library
from dashboard.state.reviews import current_review_dates
from dashboard.state.workspace import org_name
from risk_models.engine.assessment import Assessment
from risk_models.engine.score import stressed_probabilities
from risk_models.report.calendar import calendar_bytes
from risk_models.report.cases import CaseRecord, WatchItem, case_records, watch_dates
from risk_models.report.json_report import stress_delta


@st.cache_resource(show_spinner="Tracing each case to the deployments it reaches…", max_entries=4)
def _cases(key: str, _a: Assessment) -> list[CaseRecord]:
    return case_records(_a)


def cases() -> list[CaseRecord]:
    return _cases(assessment_key(), assessment())


def _stressed(outcome_id: str) -> Assessment:
    """The (cached) assessment with `outcome_id` certain, on top of the probabilities edited in the app."""
    return assessment({**probabilities(), **stressed_probabilities(library(), [outcome_id])})


def case_stress(outcome_id: str) -> dict:
    """Before/after of making `outcome_id` certain."""
    return stress_delta(assessment(), _stressed(outcome_id), [outcome_id])


def stressed_table(outcome_id: str):
    """The residual score table with `outcome_id` certain (for the before/after matrix)."""
    return _stressed(outcome_id).residual.table


def dates_to_watch(within_days: int) -> list[WatchItem]:
    return watch_dates(assessment(), within_days, last_reviewed=current_review_dates()[0])


def calendar_file(within_days: int) -> bytes:
    return calendar_bytes(dates_to_watch(within_days), org_name(), dt.datetime.now(dt.UTC))
