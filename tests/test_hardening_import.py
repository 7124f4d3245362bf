"""Issue 13 regressions for the importer: each reproduction of the attack run, as a user would meet it."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from risk_models.inventory.read import EXTRA_FIELDS, InventoryFileError, import_bytes

HEADER = ["deployment_id", "name", "business_unit", "use_case", "owner", "channel", "model", "region",
          "annual_spend_usd", "criticality", "data_sensitivity", "contract_end", "committed_spend_usd",
          "fallback_status", "proprietary_features", "abstraction_layer"]


def row(dep="A", spend="1000", committed="", contract_end="", name="n") -> list[str]:
    return [dep, name, "BU", "chat", "o", "openai", "gpt-4o", "us", spend, "low", "public", contract_end, committed,
            "", "", "no"]


def text_file(rows: list[list[str]], sep: str = ",", header: list[str] = HEADER) -> bytes:
    return ("\n".join(sep.join(r) for r in [header, *rows]) + "\n").encode()


def spend_of(result, dep: str) -> float:
    return float(result.frame.set_index("deployment_id").at[dep, "annual_spend_usd"])


# --- European decimal convention ------------------------------------------------------------
def test_european_semicolon_file_is_read_the_european_way(lib):
    r = import_bytes(text_file([row("A", "1.234,50"), row("B", "420.000"), row("C", "54500")], sep=";"), "eu.csv", lib)
    assert r.errors == []
    assert spend_of(r, "A") == 1234.5 and spend_of(r, "B") == 420_000 and spend_of(r, "C") == 54_500


def test_us_convention_in_the_same_file_decides_ambiguous_values(lib):
    r = import_bytes(text_file([row("A", '"1,234.50"'), row("B", "420.000"), row("C", '"54,500"')]), "us.csv", lib)
    assert r.errors == []
    assert spend_of(r, "A") == 1234.5 and spend_of(r, "B") == 420 and spend_of(r, "C") == 54_500


@pytest.mark.parametrize("sep", [";", ","])
def test_ambiguous_value_without_evidence_is_a_row_error_naming_both_readings(lib, sep):
    r = import_bytes(text_file([row("A", "420.000"), row("B", "5")], sep=sep), "amb.csv", lib)
    [e] = r.errors
    assert (e.line, e.column, e.value) == (2, "annual_spend_usd", "420.000")
    assert "ambiguous" in e.message and "420 (" in e.message and "420,000 (" in e.message
    assert list(r.frame["deployment_id"]) == ["B"]


@pytest.mark.parametrize("sep", [";", ","])
def test_documented_thousands_comma_still_reads(lib, sep):
    r = import_bytes(text_file([row("A", '"$54,500"')], sep=sep), "c.csv", lib)
    assert r.errors == [] and spend_of(r, "A") == 54_500


# --- ragged rows --------------------------------------------------------------------------------
def test_row_longer_than_the_header_is_a_row_error_and_nothing_shifts(lib):
    data = text_file([row("A") + ["surplus", "more"], row("B"), row("C")])
    r = import_bytes(data, "ragged.csv", lib)
    assert r.total_rows == 3
    assert sorted(r.frame["deployment_id"]) == ["B", "C"]
    [e] = r.errors
    assert (e.line, e.deployment_id, e.column) == (2, "A", EXTRA_FIELDS)
    assert "surplus" in e.value and "more fields than the header" in e.message


def test_trailing_empty_fields_are_not_an_error(lib):
    r = import_bytes(text_file([row("A") + ["", ""]]), "t.csv", lib)
    assert r.errors == [] and len(r.frame) == 1


# --- duplicate headers ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_two_headers_meaning_the_same_column_are_one_file_error(lib, fmt):
    header = [*HEADER, "Annual Spend USD"]
    rows = [row("A") + ["5"]]
    if fmt == "csv":
        data = text_file(rows, header=header)
    elif fmt == "json":
        data = ('[{' + ", ".join(f'"{h}": "{v}"' for h, v in zip(header, rows[0], strict=True)) + '}]').encode()
    else:
        wb = openpyxl.Workbook()
        for r in [header, *rows]:
            wb.active.append(r)
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    with pytest.raises(InventoryFileError, match="'annual_spend_usd' and 'Annual Spend USD' both mean column"):
        import_bytes(data, f"d.{fmt}", lib)


# --- money bound, dates -----------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1e308", "10000000001", "inf"])
def test_money_above_the_bound_is_a_row_error(lib, value):
    r = import_bytes(text_file([row("A", value), row("B", "10000000000")]), "m.csv", lib)
    [e] = r.errors
    assert e.line == 2 and e.column == "annual_spend_usd"
    assert list(r.frame["deployment_id"]) == ["B"]


def test_money_bound_is_configurable(lib):
    r = import_bytes(text_file([row("A", "2000")]), "m.csv", lib, max_usd=1000)
    assert "larger than the limit of $1,000" in r.errors[0].message


@pytest.mark.parametrize("value", ["2027-03-22garbage", "2027-03-22 12:00", "x2027-03-22", "2027-03-221"])
def test_dates_must_match_wholly(lib, value):
    r = import_bytes(text_file([row("A", contract_end=value)]), "d.csv", lib)
    assert [(e.column, e.value) for e in r.errors] == [("contract_end", value)]


def test_midnight_timestamps_still_read_as_dates(lib):
    r = import_bytes(text_file([row("A", contract_end="2027-03-22 00:00:00")]), "d.csv", lib)
    assert r.errors == [] and str(r.frame.at[0, "contract_end"]) == "2027-03-22"


# --- whole-file problems ----------------------------------------------------------------------
def test_utf16_file_says_save_as_utf8(lib):
    with pytest.raises(InventoryFileError, match="UTF-16: save it as UTF-8"):
        import_bytes(text_file([row()]).decode().encode("utf-16"), "w.csv", lib)
    with pytest.raises(InventoryFileError, match="UTF-16"):
        import_bytes(text_file([row()]).decode().encode("utf-16-le"), "w.csv", lib)  # no BOM


def test_xlsx_names_the_sheet_read_and_lists_the_others(lib):
    wb = openpyxl.Workbook()
    wb.active.title = "Inventory"
    for r in [HEADER, row("A")]:
        wb.active.append(r)
    wb.create_sheet("Notes")
    wb.create_sheet("Lists")
    buf = io.BytesIO()
    wb.save(buf)
    r = import_bytes(buf.getvalue(), "w.xlsx", lib)
    assert r.errors == [] and len(r.frame) == 1
    assert r.notices == ["read sheet 'Inventory'; other sheets not read: 'Notes', 'Lists'"]


def test_header_only_inventory_is_empty_not_an_error(lib):
    r = import_bytes(text_file([]), "h.csv", lib)
    assert r.errors == [] and len(r.frame) == 0 and r.total_rows == 0


def test_deep_json_is_one_clear_error(lib):
    with pytest.raises(InventoryFileError, match="nested deeper"):
        import_bytes(b"[" * 100_000 + b"]" * 100_000, "deep.json", lib)


def test_json_nan_is_refused(lib):
    data = json.dumps([dict(zip(HEADER, row(), strict=True))]).replace('"1000"', "NaN").encode()
    with pytest.raises(InventoryFileError, match="NaN"):
        import_bytes(data, "n.json", lib)
