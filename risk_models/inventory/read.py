"""Inventory import: CSV / XLSX / JSON into validated, normalised rows plus per-cell errors.

Validation is vectorised over columns (pandas string ops on the whole column, lookups on unique
values only), so 20,000 rows validate in well under a second; pydantic `Deployment` objects are
built only at boundaries (`to_deployments`).

Over 500 lines, for now: the CSV and JSON readers (with their size bounds) still sit beside the validator;
XLSX is read by risk_models.io.xlsx, the one workbook reader the questionnaire read-back shares. They are to
become the one bounded table reader that providers and contracts share too (issue 27), and move out then.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import process

from risk_models.config.domain import (
    INVENTORY_COLUMNS,
    REQUIRED_COLUMNS,
    Criticality,
    DataSensitivity,
    Deployment,
    FallbackStatus,
    ProprietaryFeature,
    RowError,
)
from risk_models.config.loader import Library, norm_key
from risk_models.io.file_errors import reading
from risk_models.io.numbers import read_money
from risk_models.io.safe_yaml import load_user_json
from risk_models.io.xlsx import XlsxError, XlsxLimits, cell_text, read_xlsx_sheets

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_USD = 10e9  # a money cell above $10bn is a typo or an attack (1e308 made the report Infinity)
ENUMS: dict[str, tuple[str, ...]] = {
    "criticality": tuple(c.value for c in Criticality),
    "data_sensitivity": tuple(c.value for c in DataSensitivity),
    "fallback_status": tuple(c.value for c in FallbackStatus),
}
FEATURES: tuple[str, ...] = tuple(f.value for f in ProprietaryFeature)
TEXT_COLUMNS = ("name", "business_unit", "use_case", "owner", "region")
_BOOL = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False,
         "false": False, "0": False, "": False}


class InventoryFileError(ValueError):
    """The file as a whole cannot be imported (too big, binary, missing, wrong shape)."""


@dataclass
class ImportResult:
    """Valid rows (normalised frame, `line` column = source line) and every rejected cell."""

    frame: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    comment_lines: list[int] = field(default_factory=list)  # rows skipped as '# ' comments (reported)
    notices: list[str] = field(default_factory=list)  # about the whole file, e.g. which XLSX sheet was read

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors if e.line is not None})


# --- reading ------------------------------------------------------------------------------
EXTRA_FIELDS = "extra_fields"  # surplus cells of a row longer than the header (the row is rejected)
XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024  # a 20,000-row inventory is ~20 MB of sheet XML
XLSX_MAX_RATIO = 100  # XML compresses 5-15x; zip bombs compress 1000x
XLSX_MAX_ROWS = 200_000
XLSX_MAX_COLUMNS = 256


def _mib(n: float) -> str:
    """Sizes in one unit everywhere (MiB, written "MB" as the uploader and --max-mb do)."""
    return f"{n / (1024 * 1024):.2f}".rstrip("0").rstrip(".") + " MB"


def _sniff_delimiter(text: str) -> str:
    """Pick the delimiter from the header line only: data cells may hold any punctuation."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def _cell_text(v: object) -> str:
    """Excel/JSON cell -> text as a person would have typed it."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
        return v.isoformat()[:10]  # type: ignore[union-attr]
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return ";".join(str(x) for x in v)
    return str(v)


def check_header(header: list[str]) -> None:
    """Two headers that normalise to the same column would make one silently win: refuse."""
    seen: dict[str, str] = {}
    for h in header:
        key = normalise_header([h])[0]
        if key and key in seen:
            raise InventoryFileError(
                f"the headers {seen[key]!r} and {h!r} both mean column {key!r}; rename or remove one of them")
        seen.setdefault(key, str(h))


def _not_ours(header: list[str]) -> list[str]:
    """A file's own column that reads as EXTRA_FIELDS is not an inventory column: rename it so it is
    ignored like any unknown column and never mistaken for surplus cells of a long row."""
    return [f"{h} (file column)" if normalise_header([h])[0] == EXTRA_FIELDS else h for h in header]


def _frame(header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """Rows padded to the header; surplus non-blank cells kept in EXTRA_FIELDS (never shifted)."""
    header = _not_ours(header)
    n = len(header)
    extra = [r[n:] for r in rows]
    body = [r[:n] + [""] * (n - len(r)) if len(r) < n else r[:n] for r in rows]
    df = pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(columns=header, dtype=object)
    surplus = [" | ".join(x for x in e if x.strip()) for e in extra]
    if any(surplus):
        df[EXTRA_FIELDS] = [f"{len([x for x in e if x.strip()])} extra: {t}"[:500] if t else "" for e, t in
                            zip(extra, surplus, strict=True)]
    return df


def _read_csv(data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InventoryFileError(
            f"the file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8, XLSX or JSON"
        ) from None
    if not text.strip():
        raise InventoryFileError("the file is empty")
    sep = _sniff_delimiter(text)
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except (csv.Error, StopIteration) as exc:
        raise InventoryFileError(f"cannot parse the CSV header: {exc}") from None
    check_header(header)
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        # Fast path (pyarrow parser); valid only when every record is one physical line and
        # has as many fields as the header (pyarrow refuses ragged rows), else the csv module.
        body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        df = pd.read_csv(io.BytesIO(body), sep=sep, dtype=str, keep_default_na=False, engine="pyarrow")
        if len(df) + 1 == physical and list(df.columns) == header:
            df.attrs.update(format="csv", delimiter=sep)
            return df, np.arange(len(df)) + 2
    except Exception:  # pyarrow rejects irregular files; the csv module below reads them row by row
        pass
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[list[str]] = []
    ends: list[int] = []
    try:
        for rec in reader:
            records.append(rec)
            ends.append(reader.line_num)
    except csv.Error as exc:
        raise InventoryFileError(f"cannot parse as CSV (line {reader.line_num}): {exc}") from None
    # Line of each record = the line after the previous record ended (quoted cells span lines).
    lines = np.asarray(ends[:-1], dtype=int) + 1
    df = _frame(records[0], records[1:])
    df.attrs.update(format="csv", delimiter=sep)
    return df, lines


XLSX_LIMITS = XlsxLimits(max_uncompressed=XLSX_MAX_UNCOMPRESSED, max_ratio=XLSX_MAX_RATIO,
                         max_rows=XLSX_MAX_ROWS + 1, max_columns=XLSX_MAX_COLUMNS)  # + 1: the header row


def _read_xlsx(data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    """The first worksheet as text (risk_models.io.xlsx: bounded before parsing, one reader for all)."""
    try:
        book = read_xlsx_sheets(data, "the workbook", limits=XLSX_LIMITS)
    except XlsxError as exc:
        raise InventoryFileError(exc.reason) from None  # callers name the file
    if not book.sheet_names:
        raise InventoryFileError("the workbook has no sheets")
    if not book.sheets:
        raise InventoryFileError("the workbook has no worksheet (only chart sheets)")
    (name, grid), = book.sheets.items()
    if not grid:
        raise InventoryFileError(f"sheet {name!r} is empty")
    cells = [[v if type(v) is str else cell_text(v) for v in row] for row in grid]
    # Cells right of the last header are trailing blanks in most workbooks; header = last titled column.
    width = max((k + 1 for k, h in enumerate(cells[0]) if h.strip()), default=0)
    header = [h if h.strip() else f"Unnamed: {k}" for k, h in enumerate(cells[0][:width])]
    check_header(header)
    df = _frame(header, cells[1:])
    others = [n for n in book.sheet_names if n != name]
    # formula cells saved without a calculated value read as "": their positions (data row, column), so
    # every reader reports the cell instead of reading it as empty (see `uncalculated_cells`)
    df.attrs["uncalculated"] = [(r - 1, c, formula) for r, c, formula in book.uncalculated.get(name, [])
                                if r >= 1 and c < width]
    df.attrs.update(format="xlsx", notices=[
        f"read sheet {name!r}" + (f"; other sheets not read: {', '.join(map(repr, others))}" if others else "")])
    return df, np.arange(len(df)) + 2


UNCALCULATED = ("a formula saved without its calculated value: what the cell shows is unknown, so it is not read "
                "as empty; allowed: a typed value, or the formula saved with its result (open the file in Excel or "
                "LibreOffice and save it)")


def uncalculated_cells(raw: pd.DataFrame) -> dict[int, dict[str, str]]:
    """{data row position: {column as in `raw`: the formula as shown ("=A1*2")}} of formula cells saved
    without a calculated value (only an XLSX written by a program that does not calculate has them)."""
    out: dict[int, dict[str, str]] = {}
    for row, col, formula in raw.attrs.get("uncalculated", ()):
        if row < len(raw) and col < len(raw.columns):
            out.setdefault(row, {})[str(raw.columns[col])] = f"={formula}" if formula else "(a formula)"
    return out


def _read_json(data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        records = load_user_json(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InventoryFileError(f"not valid JSON: {exc}") from None
    if isinstance(records, dict) and isinstance(records.get("deployments"), list):
        records = records["deployments"]  # accept our own report format as input
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InventoryFileError("JSON must be a list of objects, one per deployment")
    check_header(list(dict.fromkeys(str(k) for r in records for k in r)))
    df = pd.DataFrame.from_records(records)
    df.columns = _not_ours([str(c) for c in df.columns])
    df = df.map(_cell_text) if len(df) else df
    # JSON has no header line; record k is reported as line k + 1 so line 2 is the first row.
    return df, np.arange(len(df)) + 2


def _utf16(data: bytes) -> bool:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    head = data[:4096]
    if len(head) < 4:
        return False
    # UTF-16 text without a BOM: every other byte is NUL (and the others are not).
    odd, even = head[1::2].count(0) / len(head[1::2]), head[0::2].count(0) / len(head[0::2])
    return (odd > 0.9 and even < 0.1) or (even > 0.9 and odd < 0.1)


def read_table(data: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[pd.DataFrame, np.ndarray]:
    """Raw text table and source line numbers; InventoryFileError for whole-file problems."""
    if len(data) > max_bytes:
        raise InventoryFileError(f"the file is {_mib(len(data))}; the limit is {_mib(max_bytes)}")
    suffix = Path(filename).suffix.lower()
    if data[:4] == b"PK\x03\x04" or suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data)
    if _utf16(data):
        raise InventoryFileError("UTF-16: save it as UTF-8 (in Excel: CSV UTF-8)")
    if b"\x00" in data[:8192]:
        raise InventoryFileError("this is a binary file, not CSV, XLSX or JSON")
    if suffix == ".json" or data.lstrip()[:1] in (b"[", b"{"):
        return _read_json(data)
    return _read_csv(data)


def read_file(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[pd.DataFrame, np.ndarray]:
    p = Path(path)
    with reading(p, InventoryFileError):
        size = p.stat().st_size
        if size > max_bytes:
            raise InventoryFileError(f"the file is {_mib(size)}; the limit is {_mib(max_bytes)}")
        data = p.read_bytes()
    return read_table(data, p.name, max_bytes)


# --- validation ---------------------------------------------------------------------------
def per_unique(s: pd.Series, fn) -> pd.Series:
    """Apply a Python function once per distinct value (inventories repeat values a lot)."""
    codes, uniq = pd.factorize(s)
    mapped = np.empty(len(uniq), dtype=object)
    mapped[:] = [fn(u) for u in uniq]
    return pd.Series(mapped[codes], index=s.index, dtype=object)


class _Errors:
    """Collects cell errors as columns of arrays (cheap for thousands of rows)."""

    def __init__(self, ids: pd.Series, lines: np.ndarray) -> None:
        self.ids, self.lines = ids, lines
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: pd.Series, column: str, values: pd.Series, message: pd.Series | str) -> None:
        if not mask.any():
            return
        idx = np.flatnonzero(mask.to_numpy())
        msg = message[mask] if isinstance(message, pd.Series) else message
        self.parts.append(pd.DataFrame({
            "row": idx, "line": self.lines[idx], "deployment_id": self.ids.iloc[idx].to_numpy(),
            "column": column, "value": values.iloc[idx].to_numpy(), "message": msg,
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row", "line", "deployment_id", "column", "value", "message"])
        return pd.concat(self.parts, ignore_index=True).sort_values(["row"], kind="stable")


def escape_text(s: pd.Series) -> pd.Series:
    """Neutralise spreadsheet formulas (OWASP CSV injection): a leading ' before = + - @ tab CR, and
    before # (Excel reads "#N/A" as an error value) and ' itself, so `unescape_text` restores every
    value exactly."""
    return s.where(~s.str.match(r"[=+\-@\t\r'#]"), "'" + s)


def unescape_text(s: pd.Series) -> pd.Series:
    """Inverse of `escape_text`: spreadsheet programs treat a leading ' as a text marker too."""
    return s.where(~s.str.startswith("'"), s.str.slice(1))


def normalise_header(cols: list[str]) -> list[str]:
    return [re.sub(r"[^0-9a-z]+", "_", str(c).strip().casefold()).strip("_") for c in cols]


def _money_columns(df: pd.DataFrame, errs: _Errors, max_usd: float) -> dict[str, pd.Series]:
    """Both money columns, read with one decimal convention for the file (see io.numbers.read_money)."""
    cols = ("annual_spend_usd", "committed_spend_usd")
    raw = {c: df[c].str.strip() for c in cols}
    values, problems = read_money(raw)
    out = {}
    for c in cols:
        bad = problems[c].notna()
        errs.add(bad, c, raw[c], problems[c])
        out[c] = _money_checks(raw[c], values[c].where(~bad, 0.0), c, errs, required=c == "annual_spend_usd",
                               max_usd=max_usd)
    return out


def _money_checks(raw: pd.Series, num: pd.Series, col: str, errs: _Errors, required: bool,
                  max_usd: float) -> pd.Series:
    blank = raw == ""
    if required:
        errs.add(blank, col, raw, "required: an amount in USD, e.g. 54500 or $54,500")
    bad = ~blank & (num.isna() | ~np.isfinite(num))
    errs.add(bad, col, raw, "not a number: write an amount in USD, e.g. 54500 or $54,500")
    errs.add(~bad & ~blank & (num < 0), col, raw, "must be >= 0")
    errs.add(~bad & ~blank & (num > max_usd), col, raw, f"larger than the limit of ${max_usd:,.0f}; check the "
             "amount (the limit is the max_usd setting)")
    return num.where(~bad & (num <= max_usd), 0.0).fillna(0.0).astype(float)


def _enum(df: pd.DataFrame, col: str, errs: _Errors, default: str | None) -> pd.Series:
    raw = df[col]
    val = per_unique(raw, lambda v: v.strip().casefold())
    allowed = ENUMS[col]
    if default is not None:
        val = val.mask(val == "", default)
    bad = ~val.isin(allowed)
    message = np.where(val[bad] == "", f"required: one of {', '.join(allowed)}",
                       f"unknown level; allowed: {', '.join(allowed)}")
    errs.add(bad, col, raw, pd.Series(message, index=val[bad].index).reindex(val.index))
    return val


def _channel(df: pd.DataFrame, lib: Library, errs: _Errors) -> pd.Series:
    raw = df["channel"]
    cid = per_unique(raw, lambda v: lib.channel_aliases.get(norm_key(v)))
    bad = cid.isna()
    if bad.any():
        # people's names of the channels (the id, the name and every alias are accepted as input)
        names = ", ".join(lib.channel_label(c) for c in lib.channels.channels)
        known = f"known: {names}"

        def suggest(v: str) -> str:
            if not v.strip():
                return f"required: one of {names}"
            best = process.extractOne(norm_key(v), list(lib.channel_aliases))
            if best and best[1] >= 60:
                return f"unknown channel; did you mean {lib.channel_label(lib.channel_aliases[best[0]])!r}? {known}"
            return f"unknown channel; {known}"
        msgs = {v: suggest(v) for v in raw[bad].unique()}
        errs.add(bad, "channel", raw, raw.map(msgs))
    return cid.fillna("")


def first_match(values: pd.Series, rules: list[tuple[str, str]], default: str, full: bool) -> pd.Series:
    """Label each value with the label of the first regex that matches (vectorised per rule)."""
    codes, uniq_values = pd.factorize(values)
    uniq = pd.Series(uniq_values, dtype=object).astype(str)
    out = np.full(len(uniq), default, dtype=object)
    done = np.zeros(len(uniq), dtype=bool)
    for pattern, label in rules:
        m = (uniq.str.fullmatch if full else uniq.str.match)(pattern, case=False).to_numpy(bool) & ~done
        out[m] = label
        done |= m
    return pd.Series(out[codes] if len(out) else np.array([], dtype=object), index=values.index, dtype=object)


def model_vendor(models: pd.Series, lib: Library) -> pd.Series:
    rules = [(r.pattern, r.vendor) for r in lib.models.rules]
    return first_match(models.str.strip(), rules, "other", full=False)


def jurisdiction(regions: pd.Series, channels: pd.Series, lib: Library) -> pd.Series:
    from risk_models.inventory.regions import lookup  # local: regions imports the loader, as this module does

    rules = [(r.pattern, r.group.value) for r in lib.channels.jurisdictions]
    out = lookup(regions, lib).astype(object)
    free = out.isna()  # the patterns only for what the region table does not know
    if free.any():
        out[free] = first_match(regions[free].str.strip(), rules, "other", full=True)
    blank = regions.str.strip() == ""
    return out.mask(blank & (channels == "self_hosted"), "on_prem")


def _parse_features(text: str) -> tuple[str, str]:
    """'On Your Data; batch' -> ('batch;on_your_data', '') ; unknown names in the second part."""
    parts = {re.sub(r"[\s-]+", "_", p.strip().casefold()) for p in re.split(r"[;,|]", text)} - {""}
    known = sorted(parts & set(FEATURES))
    return ";".join(known), ", ".join(sorted(parts - set(FEATURES)))


def _features(df: pd.DataFrame, errs: _Errors) -> pd.Series:
    raw = df["proprietary_features"]
    codes, uniq = pd.factorize(raw)
    parsed = [_parse_features(u) for u in uniq]
    canon = pd.Series(np.array([p[0] for p in parsed] or [""], dtype=object)[codes], index=raw.index)
    unknown = pd.Series(np.array([p[1] for p in parsed] or [""], dtype=object)[codes], index=raw.index)
    bad = unknown != ""
    errs.add(bad, "proprietary_features", raw,
             "unknown proprietary feature(s) " + unknown + f"; allowed: {', '.join(FEATURES)}")
    return canon


def _date(df: pd.DataFrame, col: str, errs: _Errors) -> pd.Series:
    raw = df[col].str.strip()
    # The whole value must be a date (a midnight time is what spreadsheets append): '2027-03-22garbage' is not.
    text = raw.str.replace(r"[T ]00:00(:00(\.0+)?)?$", "", regex=True)
    text = text.where(text.str.fullmatch(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}"), "").str.replace("/", "-", regex=False)
    blank = raw == ""
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = ~blank & parsed.isna()
    errs.add(bad, col, raw, "not a valid date: use YYYY-MM-DD (e.g. 2027-03-22) or leave blank")
    dates = parsed.dt.date.astype(object)
    dates[parsed.isna()] = None
    return dates


def _bool(df: pd.DataFrame, col: str, errs: _Errors) -> pd.Series:
    raw = df[col]
    val = per_unique(raw, lambda v: _BOOL.get(v.strip().casefold()))
    errs.add(val.isna(), col, raw, "expected yes/no, true/false or 1/0")
    return val.fillna(False).astype(bool)


def _ids(df: pd.DataFrame, lines: np.ndarray, errs: _Errors) -> pd.Series:
    ids = df["deployment_id"].str.strip()
    errs.add(ids == "", "deployment_id", ids, "required: every row needs a deployment_id")
    dup = ids.duplicated(keep="first") & (ids != "")
    if dup.any():
        first_line = pd.Series(lines, index=df.index)[~ids.duplicated(keep="first")]
        first = dict(zip(ids[first_line.index], first_line, strict=True))
        msg = ids[dup].map(lambda v: f"duplicate deployment_id; the first occurrence (line {first[v]}) wins")
        errs.add(dup, "deployment_id", ids, msg.reindex(df.index))
    return ids


def validate_table(raw: pd.DataFrame, lines: np.ndarray, lib: Library, spreadsheet: bool = False,
                   max_usd: float = DEFAULT_MAX_USD) -> ImportResult:
    """Validate a raw text table; rows with any bad cell are rejected with one error per cell.

    spreadsheet: the table came from CSV/XLSX, whose text cells may carry our formula escape.
    max_usd: the largest amount a money cell may hold (larger = a row error, not a silent inf).
    """
    df = raw.copy()
    check_header(list(df.columns))
    df.columns = normalise_header(list(df.columns))
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        return ImportResult(_empty_frame(), [
            RowError(line=1, column=c, value=None,
                     message=f"missing required column {c!r}; the header has: {', '.join(map(str, raw.columns))}")
            for c in missing
        ], total_rows=len(df), notices=list(raw.attrs.get("notices", [])))
    for c in INVENTORY_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    extra = df[EXTRA_FIELDS].fillna("").astype(str) if EXTRA_FIELDS in df.columns else pd.Series("", index=df.index)
    df = df[list(INVENTORY_COLUMNS)].fillna("").astype(str)
    # Blank lines and comment rows ('# ' + text, like the template's help row) are not deployments;
    # comment rows are reported back (ImportResult.comment_lines), never dropped silently.
    no_id = df["deployment_id"].str.strip() == ""
    blank = no_id.copy()
    if no_id.any():
        blank[no_id] = df[no_id].apply(lambda c: c.str.strip() == "").all(axis=1)
    comment = df["deployment_id"].str.startswith("# ")
    blank &= extra.str.strip() == ""
    # a formula cell without a calculated value reads as "": its row is not blank, and the cell is an error
    uncalc = {(row, c): v for row, cells in uncalculated_cells(raw).items()
              for c, v in zip(normalise_header(list(cells)), cells.values(), strict=True) if c in INVENTORY_COLUMNS}
    blank[[row for row, _ in uncalc]] = False
    keep = ~(blank | comment)
    position = pd.Series(np.cumsum(keep.to_numpy()) - 1, index=df.index)  # row -> row after dropping
    extra = extra[keep].reset_index(drop=True)
    comment_lines = [int(x) for x in np.asarray(lines)[comment.to_numpy()]]
    df, lines = df[keep].reset_index(drop=True), np.asarray(lines)[keep.to_numpy()]

    if spreadsheet:
        for c in (*TEXT_COLUMNS, "deployment_id", "model"):
            df[c] = unescape_text(df[c])
    errs = _Errors(df["deployment_id"].str.strip(), lines)
    out = pd.DataFrame(index=df.index)
    out["deployment_id"] = _ids(df, lines, errs)
    for c in ("name", "business_unit", "use_case", "owner"):
        out[c] = df[c]  # free text kept verbatim, hostile or not
    out["channel"] = _channel(df, lib, errs)
    out["model"] = df["model"].str.strip()
    errs.add(out["model"] == "", "model", df["model"], "required: the model name, e.g. gpt-4o")
    out["model_vendor"] = model_vendor(out["model"], lib)
    out["region"] = df["region"].str.strip()
    out["jurisdiction"] = jurisdiction(out["region"], out["channel"], lib)
    money = _money_columns(df, errs, max_usd)
    out["annual_spend_usd"] = money["annual_spend_usd"]
    out["criticality"] = _enum(df, "criticality", errs, default=None)
    out["data_sensitivity"] = _enum(df, "data_sensitivity", errs, default=None)
    out["contract_end"] = _date(df, "contract_end", errs)
    out["committed_spend_usd"] = money["committed_spend_usd"]
    out["fallback_status"] = _enum(df, "fallback_status", errs, default="none")
    out["proprietary_features"] = _features(df, errs)
    out["abstraction_layer"] = _bool(df, "abstraction_layer", errs)
    out["line"] = lines
    for c in dict.fromkeys(c for _, c in uncalc):
        at = {int(position[row]): v for (row, col), v in uncalc.items() if col == c and keep[row]}
        formulas = pd.Series(at, dtype=object).reindex(df.index)
        errs.add(formulas.notna(), c, formulas, UNCALCULATED)
    errs.add(extra.str.strip() != "", EXTRA_FIELDS, extra,
             "this row has more fields than the header (a delimiter inside an unquoted value?); quote that value "
             "or remove the surplus cells")

    ef = errs.frame()
    bad_rows = ef["row"].unique()
    valid = out.drop(index=bad_rows).reset_index(drop=True)
    errors = [RowError(line=int(r.line), deployment_id=r.deployment_id or None, column=r.column,
                       value=str(r.value), message=r.message)
              for r in ef.itertuples(index=False)]
    return ImportResult(valid, errors, total_rows=len(df), comment_lines=comment_lines,
                        notices=list(raw.attrs.get("notices", [])))


def _empty_frame() -> pd.DataFrame:
    cols = [*INVENTORY_COLUMNS[:6], "model", "model_vendor", "region", "jurisdiction", *INVENTORY_COLUMNS[8:], "line"]
    return pd.DataFrame(columns=list(dict.fromkeys(cols)))


def import_inventory(path: Path | str, lib: Library, max_bytes: int = DEFAULT_MAX_BYTES,
                     max_usd: float = DEFAULT_MAX_USD) -> ImportResult:
    raw, lines = read_file(path, max_bytes)
    return validate_table(raw, lines, lib, spreadsheet=_spreadsheet(raw), max_usd=max_usd)


def import_bytes(data: bytes, filename: str, lib: Library, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_usd: float = DEFAULT_MAX_USD) -> ImportResult:
    raw, lines = read_table(data, filename, max_bytes)
    return validate_table(raw, lines, lib, spreadsheet=_spreadsheet(raw), max_usd=max_usd)



def _spreadsheet(raw: pd.DataFrame) -> bool:
    return raw.attrs.get("format") in ("csv", "xlsx")


def to_deployments(frame: pd.DataFrame) -> list[Deployment]:
    """Boundary conversion: validated frame -> pydantic Deployments."""
    out = []
    for rec in frame.drop(columns=["line"], errors="ignore").to_dict("records"):
        feats = rec["proprietary_features"]
        rec["proprietary_features"] = frozenset(feats.split(";")) if feats else frozenset()
        out.append(Deployment.model_validate(rec))
    return out
