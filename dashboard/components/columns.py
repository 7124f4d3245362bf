"""Column formats every table shares, so money and percentages read the same on every page.

Streamlit's "dollar" format shows cents unless the column has a whole-number step (the step sets the
decimals it draws): money here is whole dollars, "$17,308", as in the reports. Percentages: one
decimal ("34.1%") wherever they stand side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def money(label: str | None = None, **kw) -> object:
    """Whole dollars with thousands separators (`step=1` drops the cents; editing keeps whole dollars)."""
    return st.column_config.NumberColumn(label, format="dollar", step=1, **kw)


def money_table(data: pd.DataFrame, column_config: dict, **kw) -> object:
    """st.dataframe with its money columns rounded to whole dollars first: Streamlit cuts the decimals the
    step does not show ($69,742.60 would read $69,742 beside a sentence saying $69,743)."""
    return st.dataframe(whole_dollars(data, column_config), column_config=column_config, **kw)


def whole_dollars(data: pd.DataFrame, column_config: dict) -> pd.DataFrame:
    """`data` with every column configured as money (`money`) rounded to whole dollars."""
    cols = [c for c, cfg in column_config.items() if c in data.columns and isinstance(cfg, dict)
            and (cfg.get("type_config") or {}).get("format") == "dollar"]
    if not cols:
        return data
    out = data.copy()
    out[cols] = out[cols].apply(pd.to_numeric, errors="coerce").round(0)
    return out


def percent(label: str | None = None, **kw) -> object:
    """A 0–1 share as a percentage with one decimal (the step's 3 decimals less the 2 of ×100)."""
    return st.column_config.NumberColumn(label, format="percent", step=0.001, **kw)


def share_bar(label: str | None = None, **kw) -> object:
    """A 0–1 share as a bar with its percentage, one decimal like `percent`."""
    return st.column_config.ProgressColumn(label, format="percent", min_value=0, max_value=1, step=0.001, **kw)


def money_delta(x: float) -> str:
    """A metric's change in money: an ASCII sign first (Streamlit reads it for the arrow), then whole
    dollars, "-$779,735" — the same "$" as the figure above it."""
    return f"{'-' if round(x) < 0 else '+'}${abs(x):,.0f}"


# Streamlit wraps a cell's text only in rows taller than 4rem (64 px): three lines of drivers fit here
DRIVER_ROW_PX = 76


def driver_lines(outcomes: list[dict]) -> str:
    """A deployment's top outcome drivers, one a line with the score points each adds (wrapped in full
    in a DRIVER_ROW_PX row, never cut at the column's edge)."""
    return "\n".join(f"{x['label']} (+{x['value']:.1f})" for x in outcomes)
