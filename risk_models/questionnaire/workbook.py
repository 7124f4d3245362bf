"""Send the questionnaire out as spreadsheets and read the answers back.

One XLSX per recipient (owner, business unit or model vendor): one row per deployment, one column
per question with the human question text as header, drop-down lists (on a hidden Lists sheet, so
labels may contain commas), help text and the assumed default as header comments, locked id
columns (sheet protection; only answer cells are unlocked) and current answers filled in. The
question ids sit in a hidden row under the headers so read-back is exact whatever the texts say.

Read-back is vectorised per question column (each distinct cell text is normalised once), so
20,000 answered rows import in seconds; every refused cell is reported with file, sheet, row,
deployment, question, value and the allowed values — never silently skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import re
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel

from risk_models.config.loader import Library
from risk_models.config.schema import Question
from risk_models.io.xlsx import XlsxError, XlsxLimits, read_xlsx_sheets
from risk_models.questionnaire.answers import AnswerError, AnswerMap, normalise_answer
from risk_models.questionnaire.report_answers import answer_text

SHEET = "Questionnaire"
LISTS = "Lists"
KEY_ROW = 2  # hidden row with the column keys (question ids)
FIRST_ROW = 3
Recipient = Literal["owner", "business_unit", "vendor"]
ID_COLUMNS = [("deployment_id", "Deployment ID"), ("name", "Name"), ("business_unit", "Business unit"),
              ("owner", "Owner"), ("channel", "Provider"), ("model", "Model")]
RECIPIENT_COLUMN = {"owner": "owner", "business_unit": "business_unit", "vendor": "model_vendor"}
# A hidden last column: per row, an HMAC of the deployment id under the installation's secret. A recipient
# can only return answers for the rows they were sent (sheet protection without a password stops accidents,
# not a recipient who adds rows for deployments outside their scope).
SEAL = "row_seal"


def row_seal(key: bytes, deployment_id: str) -> str:
    return hmac.new(key, b"questionnaire-row\0" + deployment_id.encode(), hashlib.sha256).hexdigest()[:32]


class CellError(BaseModel):
    file: str
    sheet: str
    row: int
    deployment_id: str | None
    question: str | None
    value: str | None
    message: str


class AnswerChange(BaseModel):
    deployment_id: str
    question: str
    before: Any
    after: Any


# --- display --------------------------------------------------------------------------------------
def default_text(q: Question) -> str:
    """What '(not answered)' assumes, in words."""
    if q.record_only:
        shown = answer_text(q, q.default)
        return f"not answered: recorded as {shown!s}" if shown is not None else "not answered"
    if q.type == "date" and q.default is None:
        return "not answered: assumed never (the conservative default)"
    shown = answer_text(q, q.default)
    if isinstance(shown, float) and shown.is_integer():
        shown = f"{int(shown)} {q.unit or ''}".strip()
    return f"not answered: assumed {shown} (the conservative default)"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60]


_FORMULA = re.compile(r"[=+\-@\t\r'#]")


def _escape(value: str) -> str:
    """Scalar `escape_text` (same rule; a per-cell Series would cost ~100x more for 20,000 rows)."""
    return "'" + value if _FORMULA.match(value) else value


def _unescape(value: str) -> str:
    return value[1:] if value.startswith("'") else value


# --- export ---------------------------------------------------------------------------------------
def recipient_groups(frame: pd.DataFrame, by: Recipient, lib: Library) -> dict[str, pd.DataFrame]:
    """Rows per recipient, keyed by a readable recipient name (vendor names, not ids)."""
    col = RECIPIENT_COLUMN[by]
    keys = frame[col].astype(str).str.strip()
    if by == "vendor":
        keys = keys.map(lambda v: lib.models.vendors.get(v, v))
    keys = keys.mask(keys == "", "(unassigned)")
    return {str(k): g for k, g in frame.groupby(keys.to_numpy(), sort=True)}


def workbook_bytes(frame: pd.DataFrame, answers: AnswerMap, lib: Library, recipient: str = "",
                   seal_key: bytes | None = None) -> bytes:
    """The questionnaire workbook for these deployments."""
    qs = list(lib.questions.values())
    channel_names = {k: c.display_name for k, c in lib.channels.channels.items()}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    lists = wb.create_sheet(LISTS)
    n = len(frame)
    last = FIRST_ROW + max(n, 1) - 1
    # Lists sheet: one column of labels per choice question (referenced by the drop-downs).
    columns = [[o.label for o in q.options] if q.type in ("choice", "bool") else [] for q in qs]
    depth = max((len(c) for c in columns), default=0)
    lists.append([q.id for q in qs])
    for i in range(depth):
        lists.append([c[i] if i < len(c) else None for c in columns])
    lists.sheet_state = "hidden"

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    wrap = Alignment(wrap_text=True, vertical="top")
    header: list[WriteOnlyCell] = []
    for _, title in ID_COLUMNS:
        c = WriteOnlyCell(ws, value=title)
        c.font, c.fill, c.alignment = bold, fill, wrap
        header.append(c)
    for q in qs:
        c = WriteOnlyCell(ws, value=q.text)
        c.font, c.alignment = bold, wrap
        how = {"multi": "Several allowed: separate them with ';'. ",
               "number": f"A number of {q.unit or 'units'} (0 or more). ",
               "date": "A date (YYYY-MM-DD). "}.get(q.type, "Pick from the list. ")
        choices = ("Options: " + "; ".join(o.label for o in q.options) + ". ") if q.type == "multi" else ""
        comment = Comment(f"{q.help}\n\n{how}{choices}\nBlank = {default_text(q)}.", "ai-vendor-risk")
        comment.width, comment.height = 420, 220
        c.comment = comment
        header.append(c)
    ws.row_dimensions[KEY_ROW].hidden = True  # write-only sheets take row formats before the rows
    seal_col = get_column_letter(len(ID_COLUMNS) + len(qs) + 1)
    if seal_key is not None:
        header.append(WriteOnlyCell(ws, value="Row seal (do not edit)"))
    ws.append(header)
    ws.append([k for k, _ in ID_COLUMNS] + [q.id for q in qs] + ([SEAL] if seal_key is not None else []))

    for j, q in enumerate(qs):
        col = get_column_letter(len(ID_COLUMNS) + j + 1)
        ref = f"{col}{FIRST_ROW}:{col}{last}"
        if q.type in ("choice", "bool"):
            lcol = get_column_letter(j + 1)
            dv = DataValidation(type="list", formula1=f"{LISTS}!${lcol}$2:${lcol}${len(q.options) + 1}",
                                allow_blank=True, showErrorMessage=True, errorTitle="Not an option",
                                error="Pick one of the options in the list (or leave blank).")
        elif q.type == "number":
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                                showErrorMessage=True, error=f"A number of {q.unit or 'units'}, 0 or more.")
        elif q.type == "date":
            dv = DataValidation(type="date", operator="between", formula1="36526", formula2="73415",
                                allow_blank=True, showErrorMessage=True, error="A date between 2000 and 2100.")
        else:
            continue
        dv.add(ref)
        ws.data_validations.append(dv)

    ids = frame["deployment_id"].astype(str).to_numpy()
    fixed = {k: frame[k].astype(str).to_numpy() for k, _ in ID_COLUMNS if k != "channel"}
    fixed["channel"] = frame["channel"].astype(str).map(lambda c: channel_names.get(c, c)).to_numpy()
    date_fmt = "yyyy-mm-dd"
    unlocked = Protection(locked=False)
    for i in range(n):
        per = answers.get(ids[i], {})
        row: list[object] = [_escape(fixed[k][i]) for k, _ in ID_COLUMNS]  # locked (the default)
        for q in qs:
            v = answer_text(q, per.get(q.id))
            c = WriteOnlyCell(ws, value=_escape(v) if isinstance(v, str) else v)
            c.protection = unlocked
            if q.type == "date":
                c.number_format = date_fmt
            row.append(c)
        if seal_key is not None:
            row.append(row_seal(seal_key, ids[i]))  # locked, hidden
        ws.append(row)
    ws.freeze_panes = f"{get_column_letter(len(ID_COLUMNS) + 1)}{FIRST_ROW}"
    for j in range(len(ID_COLUMNS) + len(qs)):
        ws.column_dimensions[get_column_letter(j + 1)].width = 16 if j < len(ID_COLUMNS) else 28
    if seal_key is not None:
        ws.column_dimensions[seal_col].hidden = True
    # Locked id columns: protection without a password (it prevents accidents, not attacks);
    # sorting and filtering stay allowed.
    ws.protection.sheet = True
    ws.protection.sort = False
    ws.protection.autoFilter = False
    ws.protection.formatColumns = False
    if recipient:
        wb.properties.title = f"AI vendor-risk questionnaire for {recipient}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_workbooks(frame: pd.DataFrame, answers: AnswerMap, lib: Library, by: Recipient,
                     seal_key: bytes | None = None) -> dict[str, bytes]:
    """File name -> workbook, one per recipient (file names are unique slugs). `seal_key`: seal each row
    (see SEAL), so read-back takes answers only for the deployments each recipient was sent."""
    out: dict[str, bytes] = {}
    for name, rows in recipient_groups(frame, by, lib).items():
        base = f"questionnaire-{by.replace('_', '-')}-{_slug(name) or 'unnamed'}"
        fname, k = f"{base}.xlsx", 2
        while fname in out:
            fname, k = f"{base}-{k}.xlsx", k + 1
        out[fname] = workbook_bytes(rows, answers, lib, name, seal_key)
    return out


# --- read back ------------------------------------------------------------------------------------
def _norm_column(q: Question, cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(normalised values, error messages) for one question column; each distinct text once."""
    def one(v: object) -> tuple[object, str | None]:
        if isinstance(v, str):
            v = _unescape(v)
        if q.type == "date" and isinstance(v, int | float | np.number) and not isinstance(v, bool):
            v = dt.date(1899, 12, 30) + dt.timedelta(days=int(v))  # Excel's 1900 date system serial
        if q.type == "number" and isinstance(v, bool):
            return None, "expected a number"
        try:
            return normalise_answer(q, v), None
        except AnswerError as exc:
            return None, _allowed(q, str(exc))
    # each distinct cell once (booleans arrive as text, so 1.0 and True cannot be merged here)
    codes, uniques = pd.factorize(cells.to_numpy(dtype=object))
    done = [one(u) for u in uniques]
    values = np.array([d[0] for d in done] + [None], dtype=object)[codes]
    msgs = np.array([d[1] for d in done] + [None], dtype=object)[codes]
    return pd.Series(values, index=cells.index), pd.Series(msgs, index=cells.index)


def _allowed(q: Question, message: str) -> str:
    if q.type in ("choice", "bool", "multi"):
        opts = "; ".join(f"{o.label}" for o in q.options)
        return f"not one of the options; allowed: {opts}" + (" (several separated by ';')" if q.type == "multi" else "")
    return message


# Returned workbooks may be large (20,000 rows x every question): more room than an inventory, same bounds
# against sparse sheets and zip bombs (risk_models.io.xlsx).
XLSX_LIMITS = XlsxLimits(max_uncompressed=400 * 1024 * 1024, max_rows=1_048_576, max_columns=16_384)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _answer_cell(v: object) -> object:
    """A cell as the answer columns read it: text (blank = no answer: None), numbers as floats, booleans
    as the words Excel shows (a boolean in a number column is then refused, not 1.0), and dates and times
    as Excel's serial numbers, so a date column and a number column read them as they always have."""
    if type(v) is str:
        return v if v.strip() else None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, dt.date):  # Excel counts a 29 February 1900: serials before March 1900 start a day later
        epoch = _EXCEL_EPOCH if (v.year, v.month) >= (1900, 3) else _EXCEL_EPOCH + dt.timedelta(days=1)
        if isinstance(v, dt.datetime):
            return (v - epoch).total_seconds() / 86400
        return float((v - epoch.date()).days)
    if isinstance(v, dt.time):
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    if isinstance(v, dt.timedelta):
        return v.total_seconds() / 86400
    return None


class _Uncalculated:
    """A formula cell saved without a calculated value: its answer is unknown, which is an error for that
    cell (never read as 'not answered')."""

    def __init__(self, formula: str) -> None:
        self.formula = formula

    def __str__(self) -> str:
        return f"={self.formula}" if self.formula else "(a formula)"


def _sheet_cells(data: bytes, filename: str, sheet: str) -> pd.DataFrame | None:
    """Cell values of one sheet as a frame indexed by sheet row number, columns 0..n-1 (see
    `_answer_cell`); None when the workbook has no such sheet. XlsxError when it cannot be read."""
    book = read_xlsx_sheets(data, filename, [sheet], XLSX_LIMITS)
    if sheet not in book.sheets:
        return None
    rows = [[(v if v.strip() else None) if type(v) is str else _answer_cell(v) for v in row]
            for row in book.sheets[sheet]]
    for r, c, formula in book.uncalculated.get(sheet, []):
        rows[r][c] = _Uncalculated(formula)
    frame = pd.DataFrame(rows, index=range(1, len(rows) + 1), dtype=object)
    frame.attrs["uncalculated"] = bool(book.uncalculated.get(sheet))
    return frame


def read_workbook(data: bytes, filename: str, lib: Library, known_ids: set[str],
                  seal_key: bytes | None = None) -> tuple[AnswerMap, list[CellError]]:
    """Answers in a returned workbook (blank cells = no answer given) and every refused cell. `seal_key`:
    answers count only in rows whose seal matches (the deployments this workbook was sent for)."""
    questions = lib.questions
    try:
        grid = _sheet_cells(data, filename, SHEET)
    except XlsxError as exc:
        return {}, [CellError(file=filename, sheet=exc.sheet or "", row=0, deployment_id=None, question=None,
                              value=None, message=exc.reason if exc.limit else f"not an XLSX workbook ({exc.reason})")]
    errors: list[CellError] = []
    if grid is None:
        return {}, [CellError(file=filename, sheet="", row=0, deployment_id=None, question=None, value=None,
                              message=f"no sheet named {SHEET!r}; was this workbook made by `questionnaire export`?")]

    def err(row: int, dep: str | None, q: str | None, value: object, msg: str) -> None:
        errors.append(CellError(file=filename, sheet=SHEET, row=row, deployment_id=dep, question=q,
                                value=None if value is None else str(value)[:200], message=msg))

    def row_values(r: int) -> list[object]:
        return grid.loc[r].tolist() if r in grid.index else []

    header = row_values(1)
    key_row = row_values(KEY_ROW)
    if not key_row or key_row[0] != "deployment_id":
        err(KEY_ROW, None, None, None, "the hidden row of question ids (row 2) is missing or changed")
        return {}, errors
    keys = [str(k) if k is not None and not isinstance(k, _Uncalculated) else "" for k in key_row]
    body = grid[grid.index >= FIRST_ROW]
    fixed = {k for k, _ in ID_COLUMNS} | {SEAL}
    qcols: list[str] = []
    where: dict[str, list[int]] = {}
    for j, k in enumerate(keys):
        if k and (k in fixed or k in questions):
            where.setdefault(k, []).append(j)
    twice = {k for k, js in where.items() if len(js) > 1}
    for k in sorted(twice):  # which column would win is a guess: neither is read
        letters = " and ".join(get_column_letter(j + 1) for j in where[k])
        err(KEY_ROW, None, k if k in questions else None, k,
            f"the column {k!r} appears {len(where[k])} times (columns {letters}); none of them is read — "
            "keep one")
    if "deployment_id" in twice or SEAL in twice:
        return {}, errors
    if seal_key is not None and SEAL not in where:
        err(KEY_ROW, None, None, None, "this workbook has no row seals (made by an older version, or the column "
            "was removed): export the questionnaire again and send the new workbook")
        return {}, errors
    for j, k in enumerate(keys):
        if k in fixed or not k or k in twice:
            continue
        if k not in questions:
            err(KEY_ROW, None, k, header[j] if j < len(header) else None,
                f"unknown question id {k!r}; known: {', '.join(questions)}")
            continue
        qcols.append(k)
    body.columns = [k if (k in questions or k in fixed) and k not in twice else f"_ignored_{j}"
                    for j, k in enumerate(keys)]
    if body.empty:
        return {}, errors
    # plain object arrays: iterating pandas' Arrow-backed strings element by element is slow
    ids = pd.Series([("" if v is None or v != v or isinstance(v, _Uncalculated) else _unescape(str(v)))
                     for v in body["deployment_id"].to_numpy()], index=body.index, dtype=object)
    answered = body[qcols].notna()
    any_answer = answered.any(axis=1)
    blank_id = ids == ""
    for r in body.index[blank_id & any_answer]:
        err(int(r), None, None, None, "answers in a row without a deployment id")
    unknown = ~blank_id & ~ids.isin(known_ids)
    for r in body.index[unknown]:
        err(int(r), ids[r], None, ids[r], "deployment not in the inventory; its answers were not applied")
    ok_rows = ~blank_id & ~unknown
    if seal_key is not None:
        seals = body[SEAL].to_numpy()
        sealed = np.array([isinstance(v, str) and hmac.compare_digest(v, row_seal(seal_key, d))
                           for v, d in zip(seals, ids.to_numpy(), strict=True)], dtype=bool)
        for r in body.index[ok_rows.to_numpy() & ~sealed & answered.any(axis=1).to_numpy()]:
            err(int(r), ids[r], None, ids[r], "this deployment was not sent in this workbook (its row seal does not "
                "match); its answers were not applied")
        ok_rows &= sealed
    dup = ok_rows & ids.duplicated(keep="first")
    for r in body.index[dup]:
        err(int(r), ids[r], None, ids[r], "deployment listed twice; the first row was used")
    ok_rows &= ~dup

    out: AnswerMap = {}
    for qid in qcols:
        mask = ok_rows & answered[qid]
        if not mask.any():
            continue
        cells = body.loc[mask, qid]
        if grid.attrs["uncalculated"]:  # rare: only files written by a program that does not calculate
            uncalculated = np.array([isinstance(v, _Uncalculated) for v in cells.to_numpy()], dtype=bool)
            for r in cells.index[uncalculated]:
                err(int(r), ids[r], qid, str(cells[r]), f"{questions[qid].text}: a formula without a calculated "
                    "value (the file was saved by a program that does not calculate); open and save it in Excel "
                    "or LibreOffice, or type the answer")
            cells = cells[~uncalculated]
            if cells.empty:
                continue
            mask = mask & body.index.isin(cells.index)
        values, msgs = _norm_column(questions[qid], cells)
        bad = msgs.notna()
        for r in cells.index[bad]:
            err(int(r), ids[r], qid, cells[r], f"{questions[qid].text}: {msgs[r]}")
        good = ~bad.to_numpy()
        for dep, v in zip(ids[mask].to_numpy()[good].tolist(), values.to_numpy()[good].tolist(), strict=True):
            out.setdefault(dep, {})[qid] = v
    errors.sort(key=lambda e: (e.row, e.question or ""))
    return out, errors


def merge_answers(current: AnswerMap, incoming: AnswerMap) -> tuple[AnswerMap, list[AnswerChange]]:
    """Incoming answers over the current ones (a blank cell leaves an answer unchanged), and
    what changes."""
    out = dict(current)
    changes: list[AnswerChange] = []
    for dep, per in incoming.items():
        before = current.get(dep, {})
        for qid, v in per.items():
            if before.get(qid) != v:
                changes.append(AnswerChange(deployment_id=dep, question=qid, before=before.get(qid), after=v))
        out[dep] = {**before, **per}
    return out, changes


def change_rows(changes: list[AnswerChange], questions: Mapping[str, Question]) -> list[dict]:
    """Changes for people: question text and option labels."""
    return [{"Deployment": c.deployment_id, "Question": questions[c.question].text,
             "Before": answer_text(questions[c.question], c.before) or "(not answered)",
             "After": answer_text(questions[c.question], c.after)} for c in changes]
