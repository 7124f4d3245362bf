"""How ratings, concentration bands and money look wherever people read them (app, PDF, XLSX, terminal):
one palette and one money format, so a "high" is the same red and "$1,234" the same text everywhere."""

from __future__ import annotations

RATING_COLOURS = {"low": "#fdd49e", "medium": "#fc8d59", "high": "#d7301f", "critical": "#7f0000"}
BAND_COLOURS = {"unconcentrated": "#fdd49e", "moderate": "#fc8d59", "high": "#b30000"}
_LIGHT = {RATING_COLOURS["low"], RATING_COLOURS["medium"], BAND_COLOURS["unconcentrated"]}


def ink(fill: str) -> str:
    """Text colour readable on a palette colour: black on the light ones, white on the dark ones."""
    return "black" if fill in _LIGHT else "white"


def usd(x: float) -> str:
    """Whole dollars with thousands separators, the sign before the symbol: $1,235 and -$1,235."""
    return f"-${-x:,.0f}" if round(x) < 0 else f"${abs(x) if round(x) == 0 else x:,.0f}"


def signed_usd(x: float) -> str:
    """A change in money with its sign ("$0" when it rounds to nothing)."""
    return "$0" if round(x) == 0 else f"{'+' if x > 0 else '−'}${abs(x):,.0f}"


def short_usd(x: float) -> str:
    """Money for a headline figure: $2.63M from a million up, else whole dollars."""
    return f"${x / 1e6:,.2f}M" if abs(x) >= 1e6 else usd(x)


def run_cost_usd(x: float | None) -> str:
    """A run-cost change a year: signed money, or "unknown" where no list price is known (None, or NaN
    once a table has held it)."""
    return "unknown" if x is None or x != x else signed_usd(x)


def interval_text(interval: dict | None, level: float = 0.9, money=short_usd, between: str = "–") -> str:
    """'90 % interval $A–$B' of a {low, high} pair (empty when there is none). `between`: " to " where
    lines may wrap (a PDF cell), so that each amount stays whole."""
    if not interval:
        return ""
    return f"{level:.0%} interval {money(interval['low'])}{between}{money(interval['high'])}".replace("%", " %", 1)
