"""Legal Entity Identifier checks (ISO 17442): 20 characters, 18 alphanumeric + 2 check digits
computed with ISO 7064 MOD 97-10, the scheme IBANs use (letters A-Z count as 10-35)."""

from __future__ import annotations

import re

_SHAPE = re.compile(r"[0-9A-Z]{18}[0-9]{2}")


def _as_number(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text))


def check_digits(base18: str) -> str:
    """The two check digits that make `base18` + digits a valid LEI."""
    base = base18.upper()
    if not re.fullmatch(r"[0-9A-Z]{18}", base):
        raise ValueError("an LEI starts with 18 letters or digits")
    return f"{98 - _as_number(base + '00') % 97:02d}"


def lei_problem(value: str) -> str | None:
    """None for a valid LEI; otherwise what is wrong, in words a user can act on."""
    v = value.strip()
    if len(v) != 20:
        return f"an LEI has 20 characters; this has {len(v)}"
    if v != v.upper():
        return "an LEI is written in capital letters"
    if not _SHAPE.fullmatch(v):
        return "an LEI is 18 letters or digits followed by 2 check digits"
    if _as_number(v) % 97 != 1:
        return f"the check digits do not match (ISO 17442): expected {check_digits(v[:18])} for {v[:18]}"
    return None


def is_valid_lei(value: str) -> bool:
    return lei_problem(value) is None
