"""Issue 27 §3: one bounded reader for every spreadsheet — the questionnaire read-back's reproductions
(unterminated cell openers, a far row, a forged shared-strings table, a cell at XFD, a duplicate question
column, a formula without a value, s= before r=) and the inventory's lying <dimension>."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from risk_models.inventory.read import import_bytes
from risk_models.inventory.read import import_inventory as import_file
from risk_models.questionnaire.workbook import export_workbooks, read_workbook
from tests.conftest import DEMO_INVENTORY, ROOT, rewrite_zip_member

SHEET_XML = "xl/worksheets/sheet1.xml"


@pytest.fixture(scope="module")
def returned(lib):
    """A questionnaire as sent out (one recipient's workbook), the inventory's ids, the sheet's keys."""
    res = import_file(DEMO_INVENTORY, lib)
    _, data = next(iter(export_workbooks(res.frame, {}, lib, "business_unit").items()))
    ws = openpyxl.load_workbook(io.BytesIO(data))["Questionnaire"]
    keys = [ws.cell(2, j).value for j in range(1, ws.max_column + 1)]
    return data, set(res.frame["deployment_id"]), keys


def _edited(data: bytes, edit) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    edit(wb["Questionnaire"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_duplicate_question_column_is_an_error_not_a_traceback(lib, returned):
    data, known, keys = returned
    col = keys.index("exit_plan_exists") + 1

    def edit(ws):
        ws.cell(3, col).value = "None"
        ws.cell(2, ws.max_column + 1).value = "exit_plan_exists"
        ws.cell(3, ws.max_column).value = "Tested"
    got, errors = read_workbook(_edited(data, edit), "q.xlsx", lib, known)
    assert all("exit_plan_exists" not in per for per in got.values())  # which one wins would be a guess
    assert [e.row for e in errors] == [2] and "appears 2 times" in errors[0].message


def test_a_formula_without_a_calculated_value_is_an_error_for_that_cell(lib, returned):
    data, known, keys = returned
    col = keys.index("exit_plan_exists") + 1

    def edit(ws):
        ws.cell(3, col).value = '=IF(TRUE,"Tested","None")'  # openpyxl saves it without a value
        ws.cell(4, col).value = "None"
    got, errors = read_workbook(_edited(data, edit), "q.xlsx", lib, known)
    assert [(e.row, e.question) for e in errors] == [(3, "exit_plan_exists")]
    assert "formula without a calculated value" in errors[0].message
    assert sum("exit_plan_exists" in per for per in got.values()) == 1  # row 4 is read


def test_cells_written_with_s_before_r_are_read(lib, returned):
    data, known, keys = returned
    col = keys.index("exit_plan_exists") + 1
    answered = _edited(data, lambda ws: ws.cell(3, col).__setattr__("value", "Tested"))
    swapped = rewrite_zip_member(answered, SHEET_XML, lambda x: re.sub(rb'<c r="([A-Z]+\d+)" s="(\d+)"', rb'<c s="\2" r="\1"', x))
    assert b'<c s="' in zipfile.ZipFile(io.BytesIO(swapped)).read(SHEET_XML)
    assert read_workbook(swapped, "q.xlsx", lib, known) == read_workbook(answered, "q.xlsx", lib, known)
    got, errors = read_workbook(swapped, "q.xlsx", lib, known)
    assert not errors and any(per.get("exit_plan_exists") == "tested" for per in got.values())


def test_an_under_stated_dimension_loses_no_inventory_rows(lib):
    wb = openpyxl.Workbook()
    rows = DEMO_INVENTORY.read_text().splitlines()
    for line in rows[:61]:
        wb.active.append(line.split(",")[:16])
    buf = io.BytesIO()
    wb.save(buf)
    lying = rewrite_zip_member(buf.getvalue(), SHEET_XML, lambda x: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:P10"/>', x))
    assert b'<dimension ref="A1:P10"/>' in zipfile.ZipFile(io.BytesIO(lying)).read(SHEET_XML)
    res = import_bytes(lying, "inv.xlsx", lib)
    assert res.total_rows == 60


MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
from risk_models.config.loader import load_library
from risk_models.questionnaire.workbook import read_workbook
lib = load_library()
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
got, errors = read_workbook(data, "q.xlsx", lib, {"DEP-001"})
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
                  "answers": len(got), "errors": [e.message for e in errors]}))
"""


def _shared_strings_bomb(data: bytes) -> bytes:
    """A 66 KB shared-strings part declaring two billion strings, and one cell that uses it."""
    sst = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           b'2006/main" count="2000000000" uniqueCount="2000000000">' + b"<si><t>x</t></si>" * 4000 + b"</sst>")
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    edits = {
        "[Content_Types].xml": lambda x: x.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
                                                   b'ContentType="application/vnd.openxmlformats-officedocument.'
                                                   b'spreadsheetml.sharedStrings+xml"/></Types>'),
        "xl/_rels/workbook.xml.rels": lambda x: x.replace(b"</Relationships>", b'<Relationship Id="rIdSST" Type="'
                                                          b'http://schemas.openxmlformats.org/officeDocument/2006/'
                                                          b'relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                                          b"</Relationships>"),
        SHEET_XML: lambda x: x.replace(b"</sheetData>", b'<row r="200"><c r="A200" t="s"><v>0</v></c></row>'
                                       b"</sheetData>"),
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            raw = src.read(info)
            z.writestr(info.filename, edits[info.filename](raw) if info.filename in edits else raw)
        z.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()


HOSTILE = {
    "20,000 unterminated cell openers": (lambda x: x.replace(b"</sheetData>", b'<c r="A99" ' * 20000 + b"</sheetData>"),
                                         "cannot read sheet 'Questionnaire'"),
    "second variant: openers inside a row": (lambda x: x.replace(b"</sheetData>", b'<row r="99">' + b'<c r="A99" ' * 20000
                                                                 + b"</row></sheetData>"),
                                             "cannot read sheet 'Questionnaire'"),
    "a cell at row 10,000,000": (lambda x: x.replace(b"</sheetData>", b'<row r="10000000"><c r="A10000000" t="inlineStr">'
                                                     b"<is><t>x</t></is></c></row></sheetData>"), "10,000,000 rows"),
    "a cell at XFD": (lambda x: x.replace(b"</sheetData>", b'<row r="900"><c r="XFD900" t="inlineStr"><is><t>x</t></is>'
                                          b"</c></row></sheetData>"), "cells"),
}


@pytest.mark.parametrize("name", [*HOSTILE, "a forged shared-strings count"])
def test_hostile_questionnaire_workbooks_are_refused_fast_and_small(tmp_path, returned, name):
    data, _, _ = returned
    if name == "a forged shared-strings count":
        bad, message = _shared_strings_bomb(data), "shared strings"
    else:
        fn, message = HOSTILE[name]
        bad = rewrite_zip_member(data, SHEET_XML, fn)
    path = tmp_path / "q.xlsx"
    path.write_bytes(bad)
    p = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["answers"] == 0 and any(message in e for e in r["errors"]), r
    assert r["seconds"] < 2.0 and r["growth_mb"] < 200, r
    print(name, f"{r['seconds']:.3f} s, {r['growth_mb']:.0f} MB")


def test_a_workbook_sent_to_one_recipient_cannot_answer_for_deployments_outside_it(lib):
    """The reproduction: a recipient added a row for another business unit's deployment and its answer was
    applied. Rows are sealed to the workbook they were sent in (HMAC of the id under the installation's key)."""
    key = b"k" * 32
    res = import_file(DEMO_INVENTORY, lib)
    books = export_workbooks(res.frame, {}, lib, "business_unit", seal_key=key)
    (_, mine), (_, theirs) = list(books.items())[:2]
    their_id = openpyxl.load_workbook(io.BytesIO(theirs))["Questionnaire"].cell(3, 1).value
    ws_keys = [c.value for c in openpyxl.load_workbook(io.BytesIO(mine))["Questionnaire"][2]]
    col = ws_keys.index("exit_plan_exists") + 1
    seal_col = ws_keys.index("row_seal") + 1

    def add_foreign_row(ws):
        ws.cell(3, col).value = "Tested"  # my own row: applied
        r = ws.max_row + 1
        ws.cell(r, 1).value = their_id
        ws.cell(r, col).value = "None"
        ws.cell(r, seal_col).value = ws.cell(3, seal_col).value  # a seal copied from my own row
    edited = _edited(mine, add_foreign_row)
    known = set(res.frame["deployment_id"])
    got, errors = read_workbook(edited, "mine.xlsx", lib, known, seal_key=key)
    assert their_id not in got and any(per.get("exit_plan_exists") == "tested" for per in got.values())
    assert [e.deployment_id for e in errors] == [their_id] and "not sent in this workbook" in errors[0].message
    # without the seal column the workbook is refused as a whole (an attacker would simply delete it)
    unsealed = _edited(mine, lambda ws: ws.delete_cols(seal_col))
    got, errors = read_workbook(unsealed, "mine.xlsx", lib, known, seal_key=key)
    assert got == {} and "no row seals" in errors[0].message
    # another installation's key seals nothing here
    got, errors = read_workbook(_edited(mine, lambda ws: ws.cell(3, col).__setattr__("value", "Tested")),
                                "mine.xlsx", lib, known, seal_key=b"x" * 32)
    assert got == {} and all("not sent in this workbook" in e.message for e in errors)


# --- §3 (issue 27): a formula without a calculated value is an error for that cell in every reader ------------
def _csv_as_xlsx(path, edit) -> bytes:
    """A demo CSV as an XLSX written by openpyxl (which saves formulas without a calculated value), edited."""
    wb = openpyxl.Workbook()
    for line in csv.reader(path.read_text().splitlines()):
        wb.active.append(line)
    edit(wb.active)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_an_inventory_formula_without_a_value_is_an_error_for_that_cell_not_an_empty_cell(lib):
    def edit(ws):
        header = [c.value for c in ws[1]]
        ws.cell(2, header.index("annual_spend_usd") + 1).value = "=B2*2"  # would read as "no spend"
        ws.cell(3, header.index("fallback_status") + 1).value = "=\"none\""  # would read as the default
        for j in range(1, len(header) + 1):  # a row of formulas only would read as a blank row
            ws.cell(4, j).value = None
        ws.cell(4, 1).value = "=CONCAT(\"DEP-\",\"X\")"
    data = _csv_as_xlsx(DEMO_INVENTORY, edit)
    res = import_bytes(data, "inv.xlsx", lib)
    plain = import_bytes(_csv_as_xlsx(DEMO_INVENTORY, lambda ws: None), "inv.xlsx", lib)
    formula = [e for e in res.errors if "formula saved without" in e.message]
    got = sorted((e.line, e.column, e.value) for e in formula)
    assert got == [(2, "annual_spend_usd", "=B2*2"), (3, "fallback_status", '="none"'),
                   (4, "deployment_id", '=CONCAT("DEP-","X")')]
    assert all("allowed: a typed value" in e.message for e in formula)
    assert len(res.frame) == len(plain.frame) - 3  # those rows are not read as if the cells were empty
    assert not ({2, 3, 4} & set(res.frame["line"]))


def test_provider_contract_and_review_formulas_without_a_value_are_errors(lib, tmp_path):
    from risk_models.dora.review import read_reviews
    from risk_models.dora.spec import load_roi_spec
    from risk_models.providers.records import load_book

    demo = ROOT / "config" / "demo"

    def col(ws, name):
        return [c.value for c in ws[1]].index(name) + 1

    providers = _csv_as_xlsx(demo / "providers.csv", lambda ws: ws.cell(3, col(ws, "designated_critical"))
                             .__setattr__("value", '=IF(TRUE,"yes","no")'))  # "" would read as "no"
    contracts = _csv_as_xlsx(demo / "contracts.csv", lambda ws: ws.cell(3, col(ws, "exit_assistance"))
                             .__setattr__("value", '=IF(TRUE,"yes","no")'))
    book = load_book((providers, "p.xlsx"), (contracts, "c.xlsx"), lib, load_roi_spec().lists["ict_service_type"])
    got = [(e.file, e.line, e.column, e.value) for e in book.errors if "formula saved without" in (e.message or "")]
    assert got == [("p.xlsx", 3, "designated_critical", '=IF(TRUE,"yes","no")'),
                   ("c.xlsx", 3, "exit_assistance", '=IF(TRUE,"yes","no")')]
    assert 3 not in set(book.providers["line"]) and 3 not in set(book.contracts["line"])

    (tmp_path / "r.xlsx").write_bytes(_csv_as_xlsx(demo / "reviews.csv", lambda ws: ws.cell(3, 2).__setattr__(
        "value", "=TODAY()")))
    dates, errors = read_reviews(tmp_path / "r.xlsx")
    assert [(e.line, e.column, e.value) for e in errors] == [(3, "last_reviewed", "=TODAY()")]
    assert "DEP-001" not in dates
