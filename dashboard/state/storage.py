"""The database engine (saved assessments, team mode), opened once per process and URL.

Low on purpose: auth (stored roles), the audit trail and shared answers all need it, and it needs
no other part of the app. SQLAlchemy and Alembic (~0.6 s of imports) are imported inside the
functions: the first page needs neither."""

from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner="Opening the database…")
def _engine(url: str):
    from risk_models.storage.db import make_engine
    return make_engine(url)


def storage():
    """The database engine, or StorageError with a plain message (bad or unreachable URL)."""
    from risk_models.storage.db import database_url
    return _engine(database_url())
