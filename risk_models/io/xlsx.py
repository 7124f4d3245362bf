"""The one XLSX reader: every workbook the tool reads (inventories, provider and contract registers,
reviews, returned questionnaires) goes through `read_xlsx_sheets`. Writing stays with openpyxl.

python-calamine (Rust) parses the cells. It trusts the file: a single cell at XFD1048576 makes it allocate
the whole grid, and a forged count in the shared-strings table makes it reserve gigabytes — both abort the
process instead of raising. So calamine never sees the user's archive. Before it parses a byte:

1. Python's zipfile opens the archive: declared sizes are bounded (in total, and per part against its
   compressed size), names are unique, and each part is read within its declared size, CRC-checked.
2. The sheets are found from workbook.xml and its relationships (ElementTree; small parts).
3. Each sheet to be read is measured: the largest row and column any cell can land on, from the bytes
   for the markup every producer writes (`<c r="B7" ...>`, numpy over the `r="..."` values), or from a
   full XML parse that places cells as calamine does when the markup is anything else. Beyond the row,
   column or cell limits the sheet is refused, naming it. The shared-strings count is checked too.
4. calamine gets a new, uncompressed package holding only the parts that were checked.

Cells come back as calamine gives them (str, int, float, bool, date, datetime, time, timedelta; an empty
cell is ""; rows from row 1 and columns from A up to the last cell with a value), with two corrections
that keep the text openpyxl gave: formula errors read as their text ("#N/A"; python-calamine turns them
into ""), and text is never trimmed (calamine trims a <t> without xml:space="preserve", which openpyxl
writes for a cell of spaces only). Line ends read as XML defines them (CR LF and CR as LF), and Excel's
_xHHHH_ escapes are decoded as Excel decodes them.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import posixpath
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

import numpy as np

Cell = str | int | float | bool | dt.date | dt.datetime | dt.time | dt.timedelta

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _mib(n: float) -> str:
    """Sizes in one unit everywhere (MiB, written "MB" as the uploader and --max-mb do)."""
    return f"{n / (1024 * 1024):.2f}".rstrip("0").rstrip(".") + " MB"


@dataclass(frozen=True)
class XlsxLimits:
    """What a workbook may hold before it is refused (sizes in bytes; rows and columns of one sheet,
    header included; cells = rows x columns of the grid a sheet spans)."""

    max_uncompressed: int = 100 * 1024 * 1024  # a 20,000-row inventory is ~20 MB of sheet XML
    max_ratio: int = 100  # XML compresses 5-15x; zip bombs compress 1000x (checked on parts over 1 MB)
    max_rows: int = 200_001
    max_columns: int = 256
    max_cells: int = 5_000_000  # ~160 MB in calamine's grid; a sparse sheet cannot ask for more


class XlsxError(ValueError):
    """The workbook cannot be read (limit=False) or is refused by a limit (limit=True). `reason` is the
    message without the file name, for callers that name the file themselves; str() names the file, and
    the message names the sheet when one is at fault (also in `sheet`)."""

    def __init__(self, filename: str, reason: str, sheet: str | None = None, limit: bool = False) -> None:
        self.filename, self.reason, self.sheet, self.limit = filename, reason, sheet, limit
        super().__init__(f"{filename}: {reason}")


@dataclass
class XlsxBook:
    """The sheets read: rows from row 1, columns from A, every row as wide as the sheet's grid."""

    filename: str
    sheet_names: list[str]  # every sheet of the workbook, in workbook order (chart sheets too)
    sheets: dict[str, list[list[Cell]]] = field(default_factory=dict)
    # (row, column, formula), 0-based, of formula cells saved without a calculated value (a file written by a
    # program, never opened in Excel): calamine reads them as "", which is not what the sheet shows
    uncalculated: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)


# --- 1. the archive -------------------------------------------------------------------------------
def _open_archive(data: bytes, filename: str, limits: XlsxLimits) -> zipfile.ZipFile:
    """Refuse workbooks that would expand to gigabytes, before any XML is parsed."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise XlsxError(filename, f"cannot read the workbook: not a valid XLSX file ({exc})") from None
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise XlsxError(filename, f"the workbook expands to {_mib(total)} of data; the limit is "
                                  f"{_mib(limits.max_uncompressed)} (is it a zip bomb?)", limit=True)
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > limits.max_ratio * max(i.compress_size, 1):
            raise XlsxError(filename, f"the workbook part {i.filename} is compressed "
                                      f"{i.file_size / max(i.compress_size, 1):,.0f} to 1; more than "
                                      f"{limits.max_ratio} to 1 is refused (is it a zip bomb?)", limit=True)
    seen: set[str] = set()
    for i in infos:  # two parts one reader could take for the other: refuse rather than guess
        key = i.filename.replace("\\", "/").lower()
        if key in seen:
            raise XlsxError(filename, f"cannot read the workbook: the part {i.filename} is in it twice")
        seen.add(key)
    return zf


class _Parts:
    """Parts by name (exact, else case-insensitive as Excel allows), each read once, NUL-free."""

    def __init__(self, zf: zipfile.ZipFile, filename: str) -> None:
        self.zf, self.filename = zf, filename
        self.names = {i.filename.replace("\\", "/"): i.filename for i in zf.infolist()}
        self.lower = {k.lower(): v for k, v in self.names.items()}

    def find(self, path: str) -> str | None:
        path = path.lstrip("/")
        return self.names.get(path) or self.lower.get(path.lower())

    def read(self, path: str, what: str, sheet: str | None = None) -> bytes:
        name = self.find(path)
        if name is None:
            raise XlsxError(self.filename, f"cannot read the workbook: {what} ({path}) is missing", sheet)
        try:
            data = self.zf.read(name)  # at most the declared size; a CRC mismatch raises
        except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise XlsxError(self.filename, f"cannot read the workbook: part {name}: {exc}", sheet) from None
        if b"\x00" in data:  # UTF-16/32: the byte scans below read ASCII markup
            raise XlsxError(self.filename, f"cannot read the workbook: part {name} is not UTF-8 XML", sheet)
        return data


# --- 2. the sheets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SheetRef:
    name: str
    path: str
    kind: str  # worksheet, chartsheet, dialogsheet, ...


def _xml(data: bytes, filename: str, what: str) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise XlsxError(filename, f"cannot read the workbook: {what} is not valid XML ({exc})") from None


def _rels(parts: _Parts, base: str, data: bytes) -> dict[str, tuple[str, str]]:
    """Relationship id -> (part path, type's last word) of a .rels part, targets resolved from base."""
    out: dict[str, tuple[str, str]] = {}
    for r in _xml(data, parts.filename, "a relationships part").iter(f"{_PKG_REL}Relationship"):
        target = (r.get("Target") or "").replace("\\", "/")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        out[r.get("Id") or ""] = (path, (r.get("Type") or "").rsplit("/", 1)[-1])
    return out


def _workbook(parts: _Parts) -> tuple[list[_SheetRef], bool, str | None, str | None]:
    """Sheets in workbook order, the 1904 date system flag, and the shared strings and styles parts."""
    root_rels = _rels(parts, "", parts.read("_rels/.rels", "the package relationships"))
    book_path = next((p for p, kind in root_rels.values() if kind == "officeDocument"), "xl/workbook.xml")
    book = _xml(parts.read(book_path, "the workbook part"), parts.filename, "the workbook part")
    base = posixpath.dirname(book_path)
    rels_path = posixpath.join(base, "_rels", posixpath.basename(book_path) + ".rels")
    rels = _rels(parts, base, parts.read(rels_path, "the workbook relationships"))
    sheets = []
    for s in book.iter(f"{_MAIN}sheet"):
        path, kind = rels.get(s.get(f"{{{_REL_NS}}}id") or "", ("", ""))
        sheets.append(_SheetRef(s.get("name") or "", path, kind))
    pr = book.find(f"{_MAIN}workbookPr")
    date1904 = pr is not None and (pr.get("date1904") or "").lower() in ("1", "true")
    by_kind = {kind: path for path, kind in rels.values()}
    shared = by_kind.get("sharedStrings") or posixpath.join(base, "sharedStrings.xml")
    styles = by_kind.get("styles") or posixpath.join(base, "styles.xml")
    return sheets, date1904, (shared if parts.find(shared) else None), (styles if parts.find(styles) else None)


# --- 3. measuring a sheet before calamine allocates it ----------------------------------------------
# Markup every producer writes: each cell tag is `<c r="A1" ...>` (the reference first, ` r="` exactly).
# Anything else (no reference, a prefixed tag, an r attribute written otherwise) goes to the full parse.
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")  # a formula element, prefixed or not
_CELL_NOT_CANONICAL = re.compile(rb'<c(?! r=")[\s/>]')
_CELL_PREFIXED = re.compile(rb"<[^\s<>/!?]+:c[\s/>]")
_R_KEY_AFTER_QUOTE_OR_BREAK = re.compile(rb"""[\t\n\r\f\v"']r\s*=""")  # calamine reads keys right after a quote
_R_KEY_ODD = re.compile(rb""" r(?:\s+=|=\s*'|=\s+)""")
_WS = np.frombuffer(b" \t\n\r\f\v", dtype=np.uint8)
_QUOTE_OR_BREAK = np.frombuffer(b"\t\n\r\f\v\"'", dtype=np.uint8)
_DIMENSION = re.compile(rb"""<(?:[^\s<>/!?]+:)?dimension\s[^>]*?\bref\s*=\s*["']([A-Za-z]*)(\d*)(?::([A-Za-z]*)(\d*))?["']""")
_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")
_ERROR_CELL = re.compile(rb"""<c r="([A-Za-z]+)(\d+)"[^>]*?\st\s*=\s*["']e["'][^>]*(?<!/)>(.*?)</c>""", re.DOTALL)
_COUNT = re.compile(rb"""\s*["'](\d{1,12})["']""")
_V = re.compile(rb"<v>([^<]*)</v>")


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _reference(value: str) -> tuple[int, int] | None:
    """(row, column), 1-based, of a cell reference as calamine reads it (letters of either case, then
    digits); None for what calamine refuses with an error (it then allocates nothing)."""
    m = re.fullmatch(r"([A-Za-z]*)(\d+)", value)
    if not m or not m.group(1) or int(m.group(2)) == 0:
        return None
    return int(m.group(2)), _col_number(m.group(1))


def _canonical_extent(x: bytes) -> tuple[int, int] | None:
    """Largest (row, column) over every `r="A1"` in the sheet XML, fake ones in text included (they can
    only enlarge it), or None when some cell may be placed otherwise: a cell tag not starting `<c r="`,
    a prefixed one, or an attribute key r written any other way than ` r="` (calamine also reads a key
    right after a quote or a line break). numpy over every 'r' of the XML: up to 3 letters and 8 digits
    of a reference are read in place; anything longer goes to `_long_reference`."""
    if _CELL_NOT_CANONICAL.search(x) or (b":c" in x and _CELL_PREFIXED.search(x)):
        return None
    b = np.concatenate([np.zeros(1, dtype=np.uint8), np.frombuffer(x, dtype=np.uint8), np.zeros(16, dtype=np.uint8)])
    r = np.flatnonzero(b == 114)  # 'r'; b[i] is x[i - 1]
    prev, nxt, nxt2 = b[r - 1], b[r + 1], b[r + 2]
    space_after = np.isin(nxt, _WS)
    odd = ((prev == 32) & (space_after | ((nxt == 61) & (nxt2 != 34)))) | \
          (np.isin(prev, _QUOTE_OR_BREAK) & (space_after | (nxt == 61)))
    if odd.any() and any(_R_KEY_ODD.match(x, i - 2) or _R_KEY_AFTER_QUOTE_OR_BREAK.match(x, i - 2)
                         for i in r[odd].tolist()):
        return None
    start = r[(prev == 32) & (nxt == 61) & (nxt2 == 34)] + 3  # the value of each ' r="', in b
    if not len(start):
        return 0, 0
    n_letters = np.zeros(len(start), dtype=np.int64)
    col = np.zeros(len(start), dtype=np.int64)
    going = np.ones(len(start), dtype=bool)
    for k in range(4):  # 4 = "4 or more": longer than XFD, looked at one by one below
        u = (b[start + k] & 0xDF).astype(np.int64)  # ASCII letters to upper case
        going &= (u >= 65) & (u <= 90)
        col = np.where(going & (k < 3), col * 26 + u - 64, col)
        n_letters += going
    digits_at = start + n_letters
    n_digits = np.zeros(len(start), dtype=np.int64)
    row = np.zeros(len(start), dtype=np.int64)
    going = (n_letters > 0) & (n_letters < 4)
    for k in range(9):  # 9 = "9 or more": past any sheet's rows, looked at one by one below
        c = b[digits_at + k].astype(np.int64)
        going &= (c >= 48) & (c <= 57)
        row = np.where(going & (k < 8), row * 10 + c - 48, row)
        n_digits += going
    ref = (n_digits > 0) & (n_digits < 9) & (b[digits_at + n_digits] == 34)  # letters, digits, the closing quote
    rows_cols = [(int(row[ref].max()), int(col[ref].max()))] if ref.any() else []
    # longer ones, read one by one (exactly: calamine's u32 arithmetic would wrap them anywhere)
    rows_cols += [p for i in start[(n_letters == 4) | (n_digits == 9)].tolist() if (p := _long_reference(x, i - 1))]
    # anything else in r="..." is an error in calamine, never a position
    return (max(r for r, _ in rows_cols), max(c for _, c in rows_cols)) if rows_cols else (0, 0)


def _long_reference(x: bytes, start: int) -> tuple[int, int] | None:
    """(row, column) of the r="..." value at start when it is a cell reference, however long (a value
    without its closing quote in 256 bytes is read as far as that)."""
    end = x.find(b'"', start, start + 256)
    value = x[start: end if end >= 0 else start + 256]
    m = re.match(rb"[A-Za-z]+\d+", value)
    return _reference(m.group().decode("ascii")) if m and (end < 0 or m.end() == len(value)) else None


Placed = list[tuple[int, int, str]]


def _parsed_sheet(x: bytes, filename: str, sheet: str) -> tuple[tuple[int, int], Placed, Placed]:
    """Largest (row, column) a cell gets when calamine places it (its reference, else the running row
    and column counters), the formula-error cells and the formula cells without a calculated value, from a
    full XML parse (linear time). Markup that is not well-formed XML is refused (calamine might read it;
    this cannot measure it)."""
    row_i = col_i = 0  # 0-based, as calamine counts
    max_row = max_col = 0
    errors: Placed = []
    uncalculated: Placed = []
    pos: tuple[int, int] | None = None
    try:
        for event, el in ElementTree.iterparse(io.BytesIO(x), events=("start", "end")):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "row":
                if event == "start":
                    m = re.fullmatch(r"[A-Za-z]*(\d+)", el.get("r") or "")
                    if m and int(m.group(1)) > 0:
                        row_i = int(m.group(1)) - 1
                else:
                    row_i, col_i = row_i + 1, 0
                    el.clear()
            elif tag == "c":
                if event == "start":
                    r = el.get("r")
                    pos = (row_i + 1, col_i + 1) if r is None else _reference(r)
                    if pos is not None:
                        max_row, max_col = max(max_row, pos[0]), max(max_col, pos[1])
                        col_i = pos[1] - 1
                else:
                    kids = {ch.tag.rsplit("}", 1)[-1]: ch for ch in el}
                    v = kids["v"].text if "v" in kids else None
                    if pos is not None and el.get("t") == "e" and v:
                        errors.append((pos[0] - 1, pos[1] - 1, v))
                    # no <v>, or an empty one (openpyxl writes <v/>), except a formula whose text result is ""
                    if pos is not None and "f" in kids and not v and el.get("t") not in ("str", "inlineStr"):
                        uncalculated.append((pos[0] - 1, pos[1] - 1, kids["f"].text or ""))
                    col_i += 1
                    el.clear()
    except ElementTree.ParseError as exc:
        raise XlsxError(filename, f"cannot read sheet {sheet!r}: not valid XML ({exc})", sheet) from None
    return (max_row, max_col), errors, uncalculated


def _declared_extent(x: bytes) -> tuple[int, int]:
    head = x[: x.find(b"sheetData")] if b"sheetData" in x else x[:4096]
    m = _DIMENSION.search(head)
    if not m:
        return 0, 0
    letters, digits = (m.group(3), m.group(4)) if m.group(3) is not None else (m.group(1), m.group(2))
    try:
        return int(digits or 0), _col_number(letters.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return 0, 0


def _measure(x: bytes, filename: str, sheet: str, limits: XlsxLimits) -> tuple[Placed, Placed]:
    """The sheet's formula-error cells and formula cells without a value; XlsxError when the sheet, as
    its <dimension> declares it (what openpyxl read) or as its cells place it (what calamine allocates), is
    beyond the limits. The <dimension> can only enlarge the measure: a lying one never hides rows."""
    canonical = _canonical_extent(x)
    if canonical is not None and not _FORMULA.search(x):
        actual, errors, uncalculated = canonical, _error_cells(x), []
    else:  # formulas: which have no calculated value needs the parse (still linear)
        actual, errors, uncalculated = _parsed_sheet(x, filename, sheet)
        if canonical is not None:
            actual = (max(actual[0], canonical[0]), max(actual[1], canonical[1]))
    declared = _declared_extent(x)
    rows, cols = max(actual[0], declared[0]), max(actual[1], declared[1])
    if rows > limits.max_rows or cols > limits.max_columns:
        raise XlsxError(filename, f"sheet {sheet!r} spans {rows:,} rows x {cols:,} columns; the limit is "
                                  f"{limits.max_rows:,} rows x {limits.max_columns} columns "
                                  "(delete the empty rows/columns at the end)", sheet, limit=True)
    if rows * cols > limits.max_cells:
        raise XlsxError(filename, f"sheet {sheet!r} spans {rows:,} rows x {cols:,} columns = {rows * cols:,} "
                                  f"cells; the limit is {limits.max_cells:,} cells "
                                  "(delete the empty rows/columns at the end)", sheet, limit=True)
    return errors, uncalculated


def _check_shared_strings(s: bytes, filename: str) -> None:
    """calamine reserves room for the declared number of strings up front (a forged count aborted the
    process): every uniqueCount attribute must be a number the part can hold (a string is at least <si/>)."""
    if b"uniqueCount" not in s:
        return
    ceiling = s.count(b"<si") + s.count(b":si")
    for m in re.finditer(rb"uniqueCount\s*=", s):
        v = _COUNT.match(s, m.end())
        if v is None or int(v.group(1)) > ceiling:
            raise XlsxError(filename, "cannot read the workbook: the shared strings part declares more strings "
                                      "than it holds", limit=True)


def _error_cells(x: bytes) -> list[tuple[int, int, str]]:
    """(row, column, text) of formula-error cells (t="e"), 0-based: python-calamine reads them as ""."""
    if not (b'"e"' in x or b"'e'" in x) or not _ERROR_TYPE.search(x):
        return []
    out = []
    for m in _ERROR_CELL.finditer(x):
        ref = _reference((m.group(1) + m.group(2)).decode("ascii"))
        v = _V.search(m.group(3))
        if ref is not None and v is not None:
            out.append((ref[0] - 1, ref[1] - 1, html.unescape(v.group(1).decode("utf-8", "replace"))))
    return out


# --- 4. calamine on the checked parts ----------------------------------------------------------------
_RELS_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def _untrimmed(x: bytes) -> bytes:
    """Text elements marked as whitespace-preserving, so calamine keeps "  " as openpyxl does."""
    return x.replace(b"<t>", b'<t xml:space="preserve">')


def _package(sheets: list[bytes], date1904: bool, shared: bytes | None, styles: bytes | None) -> io.BytesIO:
    """A minimal uncompressed workbook: sheets s0, s1, ... and the shared strings and styles."""
    rels = [f'<Relationship Id="r{i}" Type="{_TYPE}worksheet" Target="worksheets/s{i}.xml"/>' for i in range(len(sheets))]
    if shared is not None:
        rels.append(f'<Relationship Id="rs" Type="{_TYPE}sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rt" Type="{_TYPE}styles" Target="styles.xml"/>')
    book = ('<?xml version="1.0" encoding="UTF-8"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{_REL_NS}"><workbookPr date1904="{int(date1904)}"/><sheets>'
            + "".join(f'<sheet name="s{i}" sheetId="{i + 1}" r:id="r{i}"/>' for i in range(len(sheets)))
            + "</sheets></workbook>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("_rels/.rels", _RELS_HEAD + f'<Relationship Id="r" Type="{_TYPE}officeDocument" '
                                  'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", _RELS_HEAD + "".join(rels) + "</Relationships>")
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", _untrimmed(shared))
        if styles is not None:
            z.writestr("xl/styles.xml", styles)
        for i, s in enumerate(sheets):
            z.writestr(f"xl/worksheets/s{i}.xml", _untrimmed(s))
    buf.seek(0)
    return buf


def _reraise_interrupts(exc: BaseException) -> None:
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit | MemoryError):
        raise exc


def read_xlsx_sheets(data: bytes, filename: str, sheets: Sequence[str] | None = None,
                     limits: XlsxLimits = XlsxLimits()) -> XlsxBook:
    """The named sheets of a workbook (None: the first worksheet); a name the workbook does not have
    is left out of `.sheets`. XlsxError for a workbook that cannot or may not be read."""
    import python_calamine  # only for workbooks: the CLI's CSV path does without it

    zf = _open_archive(data, filename, limits)
    parts = _Parts(zf, filename)
    refs, date1904, shared_path, styles_path = _workbook(parts)
    names = [r.name for r in refs]
    worksheets = [r for r in refs if r.kind == "worksheet"]
    wanted = worksheets[:1] if sheets is None else [r for r in worksheets if r.name in set(sheets)]
    xmls, measured = [], []
    for r in wanted:
        x = parts.read(r.path, f"sheet {r.name!r}", r.name)
        measured.append(_measure(x, filename, r.name, limits))
        xmls.append(x)
    shared = parts.read(shared_path, "the shared strings part") if shared_path else None
    if shared is not None:
        _check_shared_strings(shared, filename)
    styles = parts.read(styles_path, "the styles part") if styles_path else None
    book = XlsxBook(filename, names)
    if not wanted:
        return book
    package = _package(xmls, date1904, shared, styles)
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(package)
    except BaseException as exc:  # calamine's errors (XmlError, ...) and a Rust panic (a BaseException)
        _reraise_interrupts(exc)
        raise XlsxError(filename, f"cannot read the workbook: {exc}") from None
    for i, (r, (errors, uncalculated)) in enumerate(zip(wanted, measured, strict=True)):
        try:
            grid = wb.get_sheet_by_name(f"s{i}").to_python(skip_empty_area=False)
        except BaseException as exc:
            _reraise_interrupts(exc)
            raise XlsxError(filename, f"cannot read sheet {r.name!r}: {exc}", r.name) from None
        for row, col, text in errors:
            if row < len(grid) and col < len(grid[row]):
                grid[row][col] = text
        book.sheets[r.name] = grid
        if uncalculated:
            book.uncalculated[r.name] = uncalculated
    wb.close()
    return book


def cell_text(v: Cell | None) -> str:
    """A cell as text as a person would have typed it: dates as YYYY-MM-DD, booleans yes/no, whole
    numbers without '.0' (what the inventory reader always made of openpyxl's values)."""
    if v is None or v == "":
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "" if v != v else (str(int(v)) if v.is_integer() else str(v))
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()[:10]
    return str(v)
