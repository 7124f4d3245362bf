"""Escaping user text for Markdown (exports and Streamlit elements that render Markdown)."""

from __future__ import annotations

import re


def md_escape(text: object) -> str:
    """User text shown as written: no links, emphasis, code, tables, headings or HTML; one line."""
    return re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", " ".join(str(text).splitlines()))
