"""The one XLSX reader (risk_models/io/xlsx.py): python-calamine behind checks made before it parses.

- cells read as text exactly as the openpyxl reader gave them (numbers, dates, booleans, empty cells,
  leading zeros, formulas' cached values, formula errors, spaces); the questionnaire's answer cells as the
  regex reader gave them (floats, TRUE/FALSE, blank = None, dates as Excel serials);
- hostile workbooks are refused with a message naming the file and the sheet — never a Rust abort, which
  would take the app down: they run in a child process here, so an abort fails the test instead;
- the byte-level measurement agrees with a full XML parse, and markup it does not recognise goes to the parse.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from risk_models.io.xlsx import XlsxError, XlsxLimits, _canonical_extent, _parsed_sheet, cell_text, read_xlsx_sheets
from risk_models.questionnaire.workbook import _sheet_cells
from tests.conftest import ROOT, rewrite_zip_member

SHEET_XML = "xl/worksheets/sheet1.xml"


def _book(fill=None, title: str = "Inventory") -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = title
    if fill:
        fill(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_rows(rows_xml: str, dimension: str | None = None) -> bytes:
    """A workbook whose first sheet holds exactly this sheetData (cells written as a producer would)."""
    def swap(x: bytes) -> bytes:
        x = re.sub(rb"<sheetData\s*/>|<sheetData>.*</sheetData>", b"<sheetData>" + rows_xml.encode() + b"</sheetData>",
                   x, flags=re.S)
        return re.sub(rb"<dimension [^>]*/>", f'<dimension ref="{dimension}"/>'.encode() if dimension else b"", x)
    return rewrite_zip_member(_book(), SHEET_XML, swap)


def _text(data: bytes, sheet: str | None = None) -> list[list[str]]:
    book = read_xlsx_sheets(data, "t.xlsx", None if sheet is None else [sheet])
    (grid,) = book.sheets.values()
    return [[cell_text(v) for v in row] for row in grid]


# --- text as openpyxl gave it ------------------------------------------------------------------------
def test_values_read_as_the_text_a_person_typed():
    values = ["007", " pad ", "   ", 1000, 1000.5, 0.1, 2.5e-7, 1e20, -0.0, True, False, dt.date(2027, 3, 22),
              dt.datetime(2027, 3, 22, 13, 5), dt.time(12, 30), dt.timedelta(hours=30), "a\nb", "日本語", "=1+1"]

    def fill(wb):
        ws = wb.active
        for i, v in enumerate(values, start=1):
            cell = ws.cell(row=i, column=1, value=v)
            if v == "=1+1":
                cell.data_type = "s"  # text, not a formula
        ws["B1"], ws["B1"].number_format = 46000, "[$-409]mmmm d, yyyy;@"
        ws["B2"], ws["B2"].number_format = 0.25, "0%"
        ws["B3"], ws["B3"].number_format = 46000.75, "yyyy-mm-dd hh:mm"
        ws["C5"] = "far"
    rows = _text(_book(fill))
    assert [r[0] for r in rows] == ["007", " pad ", "   ", "1000", "1000.5", "0.1", "2.5e-07", "100000000000000000000",
                                    "0", "yes", "no", "2027-03-22", "2027-03-22", "12:30:00", "1 day, 6:00:00", "a\nb",
                                    "日本語", "=1+1"]
    assert [r[1] for r in rows[:3]] == ["2025-12-09", "0.25", "2025-12-09"]
    assert rows[4][2] == "far" and rows[3] == ["1000", "", ""]  # empty cells are "", rows as wide as the sheet


def test_formulas_give_their_cached_values_and_errors_their_text():
    rows = _text(_with_rows(
        '<row r="1"><c r="A1" t="str"><f>B1&amp;"x"</f><v>cached text</v></c><c r="B1"><f>1+1</f><v>2</v></c>'
        '<c r="C1"><f>SUM(A9:A10)</f></c></row>'
        '<row r="2"><c r="A2" t="e"><f>NA()</f><v>#N/A</v></c><c r="B2" t="e"><v>#DIV/0!</v></c>'
        '<c r="C2" t="b"><v>1</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c>'
        '<c r="B3" t="inlineStr"><is><t>a &amp; b &#233;</t></is></c><c r="C3" t="inlineStr"><is><t>  </t></is></c></row>',
        dimension="A1:C3"))
    assert rows == [["cached text", "2", ""], ["#N/A", "#DIV/0!", "yes"], ["rich", "a & b é", "  "]]


def test_shared_strings_with_phonetic_guides_and_escapes():
    def fill(wb):
        wb.active["A1"] = "漢字"
        wb.active["A2"] = "x_x005F_x000D_y"
    data = rewrite_zip_member(_book(fill), "xl/sharedStrings.xml",
                    lambda x: x.replace("<t>漢字</t>".encode(), '<t>漢字</t><rPh sb="0" eb="2"><t>カンジ</t></rPh>'.encode()))
    assert _text(data) == [["漢字"], ["x_x000D_y"]]  # the reading aid is not text; _x005F_ is a literal '_'


def test_dates_of_a_1904_workbook():
    def fill(wb):
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
        wb.active["A1"] = dt.date(2027, 3, 22)
    assert _text(_book(fill)) == [["2027-03-22"]]


# --- the questionnaire's answer cells ---------------------------------------------------------------------
def test_answer_cells_are_floats_words_serials_and_none():
    def fill(wb):
        ws = wb.active
        ws.append(["DEP-1", 4, 2.5, True, False, dt.date(2027, 3, 22), "  ", "yes", None, "007"])
    grid = _sheet_cells(_book(fill, "Questionnaire"), "q.xlsx", "Questionnaire")
    assert grid.loc[1].tolist() == ["DEP-1", 4.0, 2.5, "TRUE", "FALSE", 46468.0, None, "yes", None, "007"]
    assert _sheet_cells(_book(fill, "Other"), "q.xlsx", "Questionnaire") is None


# --- sheets --------------------------------------------------------------------------------------------
def test_the_first_worksheet_by_default_named_ones_on_request():
    def fill(wb):
        wb.active["A1"] = "first"
        wb.create_sheet("Second")["A1"] = "second"
        wb.create_sheet("Third")
    data = _book(fill, "First")
    book = read_xlsx_sheets(data, "t.xlsx")
    assert book.sheet_names == ["First", "Second", "Third"] and list(book.sheets) == ["First"]
    book = read_xlsx_sheets(data, "t.xlsx", ["Second", "Missing"])
    assert book.sheets == {"Second": [["second"]]}


# --- markup other producers write: the full parse places the cells -----------------------------------------
@pytest.mark.parametrize("row", [
    '<row r="2"><c t="inlineStr"><is><t>x</t></is></c><c t="inlineStr"><is><t>y</t></is></c></row>',  # no reference
    '<row r="2"><c t="inlineStr" r="A2"><is><t>x</t></is></c><c t="inlineStr" r="b2"><is><t>y</t></is></c></row>',
])
def test_cells_without_the_usual_reference_are_placed_where_excel_places_them(row):
    data = _with_rows('<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>' + row)
    x = zipfile.ZipFile(io.BytesIO(data)).read(SHEET_XML)
    assert _canonical_extent(x) is None and _parsed_sheet(x, "t.xlsx", "Inventory")[0] == (2, 2)
    assert _text(data) == [["h", ""], ["x", "y"]]


def test_the_byte_measurement_agrees_with_a_full_parse():
    def fill(wb):
        ws = wb.active
        for i in range(1, 300):
            ws.cell(row=i, column=1 + i % 40, value=f"r=\"A{i}\" {i}")  # text that looks like a reference too
        ws["AB1234"] = 1.5
    x = zipfile.ZipFile(io.BytesIO(_book(fill))).read(SHEET_XML)
    assert _canonical_extent(x) == _parsed_sheet(x, "t.xlsx", "Inventory")[0] == (1234, 40)


# --- hostile workbooks: refused before calamine allocates (child process: an abort must fail, not crash) ---
def _far_cell(ref: str) -> bytes:
    return _with_rows(f'<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>{ref}')


def _shared_strings(count: str) -> bytes:
    """A1 from a shared strings table declaring `count` strings (openpyxl writes strings inline)."""
    data = rewrite_zip_member(_with_rows('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), "xl/_rels/workbook.xml.rels",
                    lambda x: x.replace(b"</Relationships>", b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type='
                                        b'"http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                        b'sharedStrings"/></Relationships>'))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z, zipfile.ZipFile(io.BytesIO(data)) as src:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        z.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                                           f'uniqueCount="{count}"><si><t>deployment_id</t></si></sst>')
    return out.getvalue()


def _duplicate_part() -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(_book())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
        z.writestr(SHEET_XML.upper(), src.read(SHEET_XML))
    return out.getvalue()


HOSTILE = {
    "a cell at XFD1048576": (lambda: _far_cell('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
                             "spans 1,048,576 rows x 16,384 columns"),
    "a row far down, its cell without a reference": (
        lambda: _far_cell('<row r="1048576"><c t="inlineStr"><is><t>x</t></is></c></row>'), "spans 1,048,576 rows"),
    "a second r attribute right after a quote": (
        lambda: _far_cell('<row r="2"><c r="A2"r="XFD2"><v>1</v></c></row>'), "not valid XML"),
    "a reference too long for calamine's arithmetic": (
        lambda: _far_cell('<row r="2"><c r="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"><v>1</v></c></row>'),
        "spans 2 rows x 112,527,956,051,389,836,770,344,841,184,638,860,829,655 columns"),
    "a row number that wraps around": (lambda: _far_cell('<row r="2"><c r="A4294967298"><v>1</v></c></row>'),
                                       "spans 4,294,967,298 rows x 1 columns; the limit is"),
    "a sparse grid within the row and column limits": (lambda: _far_cell('<row r="30000"><c r="IV30000"><v>1</v></c></row>'),
                                                       "= 7,680,000 cells; the limit is 5,000,000 cells"),
    "a declared dimension beyond the limits": (lambda: _with_rows("", dimension="A1:XFD1048576"), "1,048,576 rows"),
    "a forged shared strings count": (lambda: _shared_strings("4000000000"), "declares more strings than it holds"),
    "the same part twice": (_duplicate_part, "is in it twice"),
    "a UTF-16 sheet": (lambda: rewrite_zip_member(_book(), SHEET_XML, lambda x: x.decode().encode("utf-16")), "not UTF-8 XML"),
    "not a zip": (lambda: b"PK\x03\x04garbage", "not a valid XLSX file"),
}

CHILD = r"""
import json, sys
from pathlib import Path
from risk_models.io.xlsx import XlsxError, read_xlsx_sheets
out = {}
for path in sys.argv[1:]:
    try:
        read_xlsx_sheets(Path(path).read_bytes(), Path(path).name)
        out[path] = None
    except XlsxError as exc:
        out[path] = [str(exc), exc.sheet, exc.limit]
print(json.dumps(out))
"""


def test_hostile_workbooks_are_refused_with_the_file_and_sheet_named(tmp_path):
    paths = {}
    for k, (name, (make, _)) in enumerate(HOSTILE.items()):
        paths[name] = tmp_path / f"hostile-{k}.xlsx"
        paths[name].write_bytes(make())
    p = subprocess.run([sys.executable, "-c", CHILD, *map(str, paths.values())], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert p.returncode == 0, f"the reader died (exit {p.returncode}): {p.stderr[-2000:]}"
    got = json.loads(p.stdout)
    for name, (_, expected) in HOSTILE.items():
        result = got[str(paths[name])]
        assert result is not None, f"{name}: read, not refused"
        message, sheet, _ = result
        assert message.startswith(f"{paths[name].name}: ") and expected in message, (name, message)
        if "spans" in expected or "rows" in expected:
            assert sheet == "Inventory" and "sheet 'Inventory'" in message, (name, message)


def test_an_honest_shared_strings_count_is_read():
    assert _text(_shared_strings("1")) == [["deployment_id"]]


def test_limits_are_the_callers():
    data = _far_cell('<row r="3"><c r="C3"><v>1</v></c></row>')
    assert read_xlsx_sheets(data, "t.xlsx", limits=XlsxLimits(max_rows=3, max_columns=3)).sheets
    with pytest.raises(XlsxError) as exc:
        read_xlsx_sheets(data, "t.xlsx", limits=XlsxLimits(max_rows=2))
    assert exc.value.limit and exc.value.sheet == "Inventory"
    assert exc.value.reason == ("sheet 'Inventory' spans 3 rows x 3 columns; the limit is 2 rows x 256 columns "
                                "(delete the empty rows/columns at the end)")
