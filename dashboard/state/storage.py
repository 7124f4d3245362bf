"""The database engine (saved assessments, team mode), opened once per process and URL.

Low on purpose: auth (stored roles), the audit trail and shared answers all need it, and it needs
no other part of the app. SQLAlchemy and Alembic (~0.6 s of imports) are imported inside the
functions: the first page needs neither."""

from __future__ import annotations

import logging
import re

import streamlit as st


@st.cache_resource(show_spinner="Opening the database…")
def _engine(url: str):
    from risk_models.storage.db import make_engine
    return make_engine(url)


def storage():
    """The database engine, or StorageError with a plain message (bad or unreachable URL)."""
    from risk_models.storage.db import database_url
    return _engine(database_url())


_LOG = logging.getLogger(__name__)
_URL = re.compile(r"\b[a-z][a-z0-9+]*://[^\s:]*(?::[^\s:@]*@)?[^\s]*?(?=:?(?:\s|$))", re.IGNORECASE)
_ERROR_CLASS = re.compile(r"\(\w+(?:\.\w+)*(?:Error|Exception)\)\s*")
_PATH = re.compile(r"(?<![\w.])(?:~|[A-Za-z]:)?[/\\](?:[^\s/\\'\"]+[/\\])+[^\s'\"):]*")
_SETTING = re.compile(r"\b(?:DATABASE_URL|AI_VENDOR_RISK_DATA_DIR)\b:?\s*")


def problem_text(exc: Exception) -> str:
    """A storage error for people: why, without the database URL, file paths or setting names (the
    server log keeps the full message for the administrator)."""
    _LOG.warning("storage problem: %s", exc)
    text = _URL.sub("the database", _ERROR_CLASS.sub("", str(exc)))
    text = _SETTING.sub("", _PATH.sub("the data folder", text)).strip(" :;")
    return text[:1].upper() + text[1:] if text else "The database did not answer"
