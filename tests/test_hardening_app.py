"""Issue 13 in the app (AppTest): header-only inventory on every page, duplicate headers refused with
both names, the XLSX sheet notice, ragged rows rejected with their surplus cells, failed exports shown,
and the server configuration (loopback, no error details for users)."""

from __future__ import annotations

import io
import tomllib

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from tests.app_upload import upload_inventory
from tests.conftest import ROOT
from tests.test_app import PAGES, goto, start, upload

HEADER = ("deployment_id,name,business_unit,use_case,owner,channel,model,region,annual_spend_usd,criticality,"
          "data_sensitivity,contract_end,committed_spend_usd,fallback_status,proprietary_features,abstraction_layer")


@pytest.fixture
def header_only() -> AppTest:
    at = goto(start(), "inventory")
    return upload(at, "empty.csv", HEADER + "\n")


@pytest.mark.parametrize("page", PAGES)
def test_header_only_inventory_renders_every_page(header_only, page):
    at = goto(header_only, page)
    assert at.title and not at.exception, page
    assert len(at.session_state["inventory"].frame) == 0


def test_duplicate_headers_are_refused_naming_both():
    at = goto(start(), "inventory")
    upload(at, "dup.csv", HEADER + ",Annual Spend USD\nA,n,b,u,o,openai,gpt-4o,us,1,low,public,,,,,no,5\n")
    err = " ".join(e.value for e in at.error).replace("\\_", "_")  # markdown-escaped on screen
    assert "'annual_spend_usd' and 'Annual Spend USD' both mean column" in err
    assert "previous inventory is still loaded" in err
    assert len(at.session_state["inventory"].frame) == 61  # the demo stays, nothing half-loaded


def test_xlsx_upload_names_the_sheet_read():
    wb = openpyxl.Workbook()
    wb.active.title = "Q3 inventory"
    row = ["A", "n", "b", "u", "o", "openai", "gpt-4o", "us", "1", "low", "public", "", "", "", "", "no"]
    for r in [HEADER.split(","), row]:
        wb.active.append(r)
    wb.create_sheet("Old")
    buf = io.BytesIO()
    wb.save(buf)
    at = goto(start(), "inventory")
    upload_inventory(at, "inv.xlsx", buf.getvalue(), "application/octet-stream")
    assert any("read sheet 'Q3 inventory'; other sheets not read: 'Old'" in i.value for i in at.info)


def test_ragged_row_is_rejected_with_its_surplus_cells_and_nothing_shifts():
    at = goto(start(), "inventory")
    upload(at, "r.csv", HEADER + "\nA,n,b,u,o,openai,gpt-4o,us,1,low,public,,,,,no,surplus\n"
           "B,n,b,u,o,openai,gpt-4o,us,2,low,public,,,,,no\nC,n,b,u,o,openai,gpt-4o,us,3,low,public,,,,,no\n")
    inv = at.session_state["inventory"]
    assert list(inv.frame["deployment_id"]) == ["B", "C"] and inv.total_rows == 3
    errors = at.dataframe[0].value
    assert list(errors["Line"]) == [2] and list(errors["Column"]) == ["Cells beyond the header"]
    assert "surplus" in errors["Value"][0]


def test_a_failed_export_is_shown_on_the_report_page():
    from dashboard import state
    at = goto(start(), "report")
    ss = at.session_state
    key = ss["assessment_key"]  # inventory, answers, probabilities, pack and settings of the page shown
    # The download runs on Streamlit's download thread: the guard records the failure (and logs it) ...
    build = state._guarded(key, "pdf-a4", lambda: (_ for _ in ()).throw(RuntimeError("layout exploded")))
    with pytest.raises(RuntimeError):
        build()
    # ... and the page's next run shows it instead of doing nothing.
    at.run()
    assert any("The PDF export failed: RuntimeError: layout exploded" in e.value for e in at.error)
    state._guarded(key, "pdf-a4", lambda: b"%PDF")()  # a later success clears the message
    at.run()
    assert not any("export failed" in e.value for e in at.error)


def test_server_config_binds_loopback_and_hides_error_details():
    cfg = tomllib.loads((ROOT / "dashboard" / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "127.0.0.1"
    assert cfg["client"]["showErrorDetails"] == "none"
