"""The Inventory page's rejected-rows editor: fix a bad cell where it is, and the row stays put.

A fix is written into the register at once (the row joins the valid deployments and the
assessment reruns), but the editor keeps showing the rows it started with, in the same order,
under the same widget key: a fixed row stays where it was, marked "fixed", until something else
changes the register (an upload, undo, an edit in the Deployments table) or the user hides the
fixed rows. Streamlit keeps a keyed, fixed-row data_editor's state across value-only changes
(its identity is the key and the data's schema), so the cursor, scroll position and pending
edits survive the rerun that follows a fix.

Streamlit cannot colour an *editable* cell (pandas Styler colours only read-only columns:
streamlit/streamlit#10953), so the bad cell is marked by what can be drawn next to it: a
read-only "⚠ →" cell immediately to its left (red), the column header prefixed with "⚠", and the
row's problem text (red; green once the row is fixed) naming the column, the value and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.state.session import EDITOR_VERSION, RAW, REJECTED_FIXING
from risk_models.config.domain import INVENTORY_COLUMNS
from risk_models.inventory.read import ENUMS, EXTRA_FIELDS, ImportResult

PROBLEM = "_problem"  # read-only column: what is wrong with the row (or that it is fixed)
MARK = "_mark_"  # prefix of the read-only marker column left of each column that holds a bad cell
BAD = "⚠ →"
FIXED = "✓ fixed — now a valid deployment"
STYLE_MAX_ROWS = 2_000  # pandas Styler output grows with every cell; beyond this the text markers remain
RED = "background-color: rgba(255, 75, 75, 0.25)"
GREEN = "background-color: rgba(33, 195, 84, 0.22)"


def label(column: str) -> str:
    return state.ERROR_COLUMN_LABELS.get(column, column) if column else "Row"


@dataclass
class Fixing:
    """One rerun of the editor: what it shows and what the user made of it."""

    key: str  # widget key, stable while the user fixes these rows
    shown: pd.DataFrame  # the frame given to the editor (text columns as in the register)
    edited: pd.DataFrame  # the editor's result: text columns + line, same rows and order
    cols: list[str]  # the editable text columns

    @property
    def rows(self) -> pd.DataFrame:
        return self.edited[[*self.cols, state.LINE]]

    @property
    def dirty(self) -> bool:
        """The user changed a cell that is not yet in the register."""
        return bool((self.edited[self.cols] != self.shown[self.cols]).to_numpy().any())

    def still_rejected(self, valid_lines: pd.Series) -> pd.DataFrame:
        """The rows that are not valid deployments now (for an edit made in the Deployments table)."""
        rows = self.rows
        valid = pd.to_numeric(valid_lines, errors="coerce").dropna()  # rows added there have no line yet
        return rows[~rows[state.LINE].isin(set(valid.astype(int)))]


def problems_by_line(result: ImportResult, lines: list[int]) -> dict[int, dict[str, str]]:
    """line -> {column ("" = the whole row): message} for the current errors. Errors on the header
    (line 1, e.g. a missing required column) belong to every row."""
    header: dict[str, str] = {}
    out: dict[int, dict[str, str]] = {}
    for e in result.errors:
        if e.line is None:  # about the whole file: shown above the table, not on a row
            continue
        target = header if e.line == 1 else out.setdefault(int(e.line), {})
        col = e.column or ""
        target[col] = f"{target[col]}; {e.message}" if col in target else e.message
    if header:
        for line in lines:
            out[line] = {**header, **out.get(line, {})}
    return out


def session(result: ImportResult) -> dict | None:
    """The rows being fixed. Starts over whenever the register changed other than through this
    editor; rows rejected by one of its fixes (e.g. a duplicate id) are added at the end, never in
    between, so no row moves."""
    ss = state.current_session()
    ver = ss[EDITOR_VERSION]
    rejected = state.rejected_raw()
    current = pd.to_numeric(rejected[state.LINE]).astype(int).tolist()
    s = ss.get(REJECTED_FIXING)
    if s is None or s["ver"] != ver:
        if not current:
            ss.pop(REJECTED_FIXING, None)
            return None
        cols = [*INVENTORY_COLUMNS, *([EXTRA_FIELDS] if EXTRA_FIELDS in rejected.columns else [])]
        n = s["n"] + 1 if s else 0
        # the key names the register version the list started from; "Hide fixed rows" starts a new
        # list without a new version, and a reused key would replay the old list's edits on new rows
        key = f"{ver}-{n}" if s is not None and s["key"] == str(ver) else str(ver)
        s = {"key": key, "n": n, "ver": ver, "lines": current, "cols": cols, "marked": []}
        ss[REJECTED_FIXING] = s
    else:
        seen = set(s["lines"])
        s["lines"] = s["lines"] + [n for n in current if n not in seen]
    probs = problems_by_line(result, current)
    bad = {c for p in probs.values() for c in p}
    s["marked"] = s["marked"] + [c for c in s["cols"] if c in bad and c not in s["marked"]]
    s["error_rows"] = max(s.get("error_rows", 1), min(len(result.errors), 10))  # rows of the errors table
    return s


def _frame(raw: pd.DataFrame, result: ImportResult, s: dict) -> tuple[pd.DataFrame, dict[int, dict[str, str]]]:
    lines: list[int] = s["lines"]
    rows = raw.assign(**{state.LINE: pd.to_numeric(raw[state.LINE]).astype(int)}) \
        .drop_duplicates(state.LINE).set_index(state.LINE).reindex(lines)
    text = rows.reindex(columns=s["cols"])  # a column the file lacks starts blank
    frame = text.astype(object).where(text.notna(), "").astype(str).reset_index(drop=True)  # RangeIndex: see render
    frame[state.LINE] = lines
    probs = problems_by_line(result, lines)
    valid = set(pd.to_numeric(result.frame["line"]).astype(int)) if len(result.frame) else set()
    comments = set(result.comment_lines)

    def status(line: int) -> str:
        if line in valid:
            return FIXED
        if line in probs:
            return " · ".join(f"⚠ {label(c)}: {m}" for c, m in probs[line].items())
        return "skipped: comment row" if line in comments else "skipped: blank row"

    frame[PROBLEM] = [status(n) for n in lines]
    for c in s["marked"]:
        frame[MARK + c] = [BAD if c in probs.get(n, {}) else "" for n in lines]
    return frame, probs


def _style(frame: pd.DataFrame, read_only: list[str]):
    """Red behind problems and markers, green behind fixed rows (read-only columns only: Streamlit
    ignores Styler colours on editable cells)."""
    if len(frame) > STYLE_MAX_ROWS:
        return frame
    return frame.style.map(lambda v: RED if v.startswith("⚠") else GREEN if v.startswith("✓") else "",
                           subset=read_only)


def render(result: ImportResult, s: dict) -> Fixing:
    """Draw the editor of the session's rows."""
    frame, probs = _frame(state.current_session()[RAW], result, s)
    lib = state.library()
    bad_now: dict[str, list[int]] = {}
    for line, p in probs.items():
        for c in p:
            bad_now.setdefault(c, []).append(line)
    marks = [MARK + c for c in s["marked"]]
    order = [state.LINE, PROBLEM]
    for c in s["marked"]:  # columns with a bad cell first, each after its marker: on screen without scrolling
        order += [MARK + c, c]
    order += [c for c in s["cols"] if c not in s["marked"]]

    def text_column(c: str):
        lines = sorted(bad_now.get(c, []))
        where = ", ".join(map(str, lines[:20])) + (f" and {len(lines) - 20} more" if len(lines) > 20 else "")
        head, help_ = (f"⚠ {label(c)}", f"A value to fix on line(s) {where}") if lines else (label(c), None)
        # a drop-down of the allowed values; the values as written are options too, listed after them: a
        # drop-down cell shows nothing for a value it does not offer, and the bad value must stay in view
        as_written = [v for v in dict.fromkeys(frame[c]) if v]
        if c in ENUMS:  # a level
            allowed = list(ENUMS[c])
            return st.column_config.SelectboxColumn(head, help=help_,
                                                    options=allowed + [v for v in as_written if v not in allowed])
        if c == "channel":  # the channels by name (the id it writes is accepted like the name)
            ids = list(lib.channels.channels)
            return st.column_config.SelectboxColumn(head, help=help_, options=ids + [v for v in as_written if v not in ids],
                                                    format_func=lambda v: lib.channel_label(v) if v in ids else v)
        return st.column_config.TextColumn(head, help=help_)

    config = {
        state.LINE: st.column_config.NumberColumn("Line in file", format="%d", pinned=True,  # seen when scrolled
                                                  help="The row's line in the uploaded file (the header is line 1)"),
        # pinned: what is wrong stays in view while the grid scrolls sideways to the cell to fix
        PROBLEM: st.column_config.TextColumn("Problem (cell to fix)", width="large", pinned=True),
        **{MARK + c: st.column_config.TextColumn("⚠", width="small",
                                                 help=f"⚠ → marks a cell of “{label(c)}” (to its right) to fix")
           for c in s["marked"]},
        **{c: text_column(c) for c in s["cols"]},
    }
    key = f"rejected_editor_{s['key']}"
    out = st.data_editor(_style(frame, [PROBLEM, *marks]), key=key, num_rows="fixed", hide_index=True,
                         width="stretch", disabled=[state.LINE, PROBLEM, *marks], column_order=order,
                         column_config=config)
    edited = out[s["cols"]].astype(object).where(out[s["cols"]].notna(), "").astype(str)  # a cleared cell is blank
    edited[state.LINE] = frame[state.LINE].to_numpy()
    fixed = int((frame[PROBLEM] == FIXED).sum())
    if fixed:
        c = st.columns([3, 1], vertical_alignment="center")
        c[0].caption(f"{fixed} row(s) fixed — they are valid deployments now (see Deployments below) and stay "
                     "listed here, in place, until you hide them.")
        if c[1].button("Hide fixed rows", key=f"hide_fixed_{s['key']}"):
            s["ver"] = -1  # start over with the rows still rejected (a new key: no stale edits)
            st.rerun()
    return Fixing(key=key, shown=frame, edited=edited, cols=list(s["cols"]))


def commit(valid_edited: pd.DataFrame, fix: Fixing) -> None:
    """Write the editor's rows into the register. Rows it shows that are valid now are taken from
    it, not from the Deployments table, so a fixed row is neither doubled nor reverted."""
    ss = state.current_session()
    rows = fix.rows
    state.apply_edits(valid_edited[~pd.to_numeric(valid_edited["line"]).isin(rows[state.LINE])], rows)
    if REJECTED_FIXING in ss:
        ss[REJECTED_FIXING]["ver"] = ss[EDITOR_VERSION]  # our own change: keep the rows, key and order
