"""Session state and cached engine calls shared by the pages (presentation only)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from risk_models.answers import read_answers_file, validate_answers
from risk_models.config_loader import Library, load_library
from risk_models.inventory_import import DEFAULT_MAX_BYTES, ImportResult, import_bytes

DEMO_DIR = Path(__file__).resolve().parent.parent / "config" / "demo"
MAX_UPLOAD_MB = DEFAULT_MAX_BYTES // (1024 * 1024)


@st.cache_resource
def library() -> Library:
    return load_library()


@st.cache_data(show_spinner="Validating inventory…", max_entries=8)
def import_cached(data: bytes, filename: str) -> ImportResult:
    return import_bytes(data, filename, library())


def _load_demo() -> None:
    data = (DEMO_DIR / "inventory.csv").read_bytes()
    raw_answers = read_answers_file(DEMO_DIR / "answers.yaml")
    result = import_cached(data, "inventory.csv")
    answers, _ = validate_answers(raw_answers, library().questions, result.frame["deployment_id"])
    st.session_state.update(source="Demo organisation (Example Bank plc)", inventory=result, answers=answers)


def ensure_loaded() -> None:
    """First visit: the demo organisation, so a newcomer sees a full dashboard at once."""
    if "inventory" not in st.session_state:
        _load_demo()


def reset_to_demo() -> None:
    _load_demo()


def inventory() -> ImportResult:
    ensure_loaded()
    return st.session_state["inventory"]


def set_inventory(result: ImportResult, source: str) -> None:
    st.session_state.update(inventory=result, source=source, answers={})


def errors_frame(result: ImportResult) -> pd.DataFrame:
    return pd.DataFrame([e.model_dump() for e in result.errors],
                        columns=["line", "deployment_id", "column", "value", "message"])
