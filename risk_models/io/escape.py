"""Escaping user text wherever it is shown: Markdown (exports and Streamlit elements that render Markdown)
and the terminal."""

from __future__ import annotations

import re


def md_escape(text: object) -> str:
    """User text shown as written: no links, emphasis, code, tables, headings or HTML; one line."""
    return re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", " ".join(str(text).splitlines()))


def md_file_escape(text: object) -> str:
    """User text for a Markdown *file* (a download, not a Streamlit element): `$` and underscores
    inside words are literal in CommonMark, so they stay as written (`azure_openai`, `$15,500`);
    everything that could become a link, emphasis, code, table or HTML is still escaped."""
    s = re.sub(r"([\\`*\[\]<>#|~])", r"\\\1", " ".join(str(text).splitlines()))
    return re.sub(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])", r"\\_", s)


def terminal_text(text: object, keep_newlines: bool = False) -> str:
    """User text for the terminal: control characters (escape sequences) shown as '?'; line breaks kept
    only where asked (multi-line error messages)."""
    pattern = r"[\x00-\x09\x0b-\x1f\x7f-\x9f]" if keep_newlines else r"[\x00-\x1f\x7f-\x9f]"
    return re.sub(pattern, "?", str(text))
