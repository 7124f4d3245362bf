"""The one reader of money amounts in text (inventory, contracts): thousands separators, currency signs, and
the decimal convention of the whole file — '1.234,50' is 1234.5 in a file written the European way, never
1.2345; a value that reads differently under the two conventions in a file that shows neither is refused
with both readings named."""

from __future__ import annotations

import pandas as pd

_US = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?"  # 1,234.50  1234.5  420.000
_EU = r"[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d*)?"  # 1.234,50  1234,5  420.000


def clean_money(s: pd.Series, codes: tuple[str, ...] = ("usd",), signs: str = "$") -> pd.Series:
    """Spaces, underscores, apostrophes (Swiss grouping), currency signs and codes removed."""
    cleaned = s.str.replace(f"[ \t\u00a0_'{signs}]", "", regex=True)
    for code in codes:
        if cleaned.str.contains(code, case=False, regex=False).any():
            cleaned = cleaned.str.replace(f"(?i){code}", "", regex=True)
    return cleaned


def money_readings(c: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Both readings of every value: (US reading, European reading, fits US form, fits EU form).
    Values of neither form ('1e5', '.5') are read as plain numbers by both. The European reading is
    computed only where it can differ (a value with a separator that fits the European form)."""
    us_form = c.str.fullmatch(_US).fillna(False).astype(bool)
    eu_form = c.str.fullmatch(_EU).fillna(False).astype(bool)
    us = pd.to_numeric(c.str.replace(",", "", regex=False).where(us_form, ""), errors="coerce").astype(float)
    neither = ~us_form & ~eu_form
    if neither.any():
        us[neither] = pd.to_numeric(c[neither], errors="coerce").astype(float)
    eu = us.copy()
    maybe = eu_form & (c.str.contains(",", regex=False) | c.str.contains(".", regex=False))
    if maybe.any():
        sub = c[maybe].str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        eu[maybe] = pd.to_numeric(sub, errors="coerce").astype(float)
    return us, eu, us_form, eu_form


def _fmt_reading(x: float) -> str:
    return f"{x:,.3f}".rstrip("0").rstrip(".")  # three places: "1.234" reads as 1.234, not 1.23


def read_money(raw: dict[str, pd.Series], codes: tuple[str, ...] = ("usd",),
               signs: str = "$") -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Money columns of one file -> (values, problems): NaN where a value is not a number; a problem text
    where a value is ambiguous.

    A value like '1.234,50' or '54500.00' fits only one convention; the file's convention is the one
    such values show. Values that read differently under the two ('420.000', '1,234') take the file's
    convention; when the file shows none (or both), they are refused with both readings named —
    except '54,500' (a comma before exactly three digits), the documented thousands form: money is
    rarely written with three decimals."""
    readings = {c: money_readings(clean_money(s, codes, signs)) for c, s in raw.items()}
    us_only = any(bool((r[2] & ~r[3]).any()) for r in readings.values())
    eu_only = any(bool((r[3] & ~r[2]).any()) for r in readings.values())
    values, problems = {}, {}
    for c, (us, eu, us_form, eu_form) in readings.items():
        num = us.where(~eu_form | us_form, eu)  # values only the European form fits are read that way
        differ = us_form & eu_form & (us != eu)
        problem = pd.Series(None, index=us.index, dtype=object)
        if eu_only and not us_only:
            num = num.where(~differ, eu)
        elif not us_only:
            thousands_comma = differ & ~raw[c].str.contains(".", regex=False)  # '54,500'
            ambiguous = differ & ~thousands_comma
            if ambiguous.any():
                problem[ambiguous] = ("ambiguous number: reads as " + us[ambiguous].map(_fmt_reading) + " (',' groups "
                                      "thousands, '.' is the decimal point) or " + eu[ambiguous].map(_fmt_reading) +
                                      " ('.' groups thousands, ',' is the decimal comma); write it without a "
                                      "thousands separator, e.g. 1234.50")
        values[c], problems[c] = num, problem.astype(object).where(problem.notna(), None)
    return values, problems
