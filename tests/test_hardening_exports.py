"""Issue 13 regressions for exports: CR/LF in CSV cells, long names and emoji in the PDF, no NaN in JSON,
one failing export never stops the others."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.engine.assessment import assess
from risk_models.inventory.export import export_csv, export_json, export_xlsx
from risk_models.inventory.read import ImportResult, import_bytes
from risk_models.report.json_report import document_header, json_bytes, report
from risk_models.report.pdf import CELL_MAX, render_pdf
from risk_models.report.tabular import deployments_csv
from tests.engine_data import frame_of

TEXT_COLS = ("deployment_id", "name", "business_unit", "use_case", "owner", "model", "region")
BREAKS = st.sampled_from(["\r", "\n", "\r\n"])
PIECE = st.sampled_from(["=1+1", "+cmd", "@SUM(A1)", "-2", "plain", "", "'q", '"quoted", x;y'])


@st.composite
def broken_text(draw) -> str:
    parts = draw(st.lists(PIECE, min_size=1, max_size=3))
    return draw(BREAKS).join(parts) if len(parts) > 1 else draw(BREAKS) + parts[0]


def _record(i: int, texts: dict[str, str]) -> dict:
    return {"deployment_id": f"D{i}", "name": "n", "business_unit": "b", "use_case": "u", "owner": "o",
            "channel": "openai_api", "model": "gpt-4o", "region": "us-east-1", "annual_spend_usd": "1000",
            "criticality": "high", "data_sensitivity": "internal", "contract_end": "", "committed_spend_usd": "",
            "fallback_status": "", "proprietary_features": "", "abstraction_layer": "no", **texts}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: broken_text() for c in TEXT_COLS}), min_size=1, max_size=6))
def test_cr_lf_crlf_in_every_text_column_round_trip_through_csv_and_json(lib, texts):
    records = [_record(i, t) | {"deployment_id": f"D{i}{t['deployment_id']}".strip()} for i, t in enumerate(texts)]
    records = [r | {"model": r["model"].strip() or "gpt-4o"} for r in records]
    first = import_bytes(json.dumps(records).encode(), "in.json", lib)
    assert first.errors == []
    for exporter, name in ((export_csv, "x.csv"), (export_json, "x.json")):
        again = import_bytes(exporter(first.frame), name, lib)
        assert again.errors == [] and len(again.frame) == len(records), name
        for c in TEXT_COLS:
            assert list(again.frame[c]) == list(first.frame[c]), (name, c)


def test_cr_in_a_cell_never_starts_a_formula_row(lib):
    """Attack: `'` + CR written unquoted made readers start a new row with =1+1 (20 rows became 24)."""
    records = [_record(i, {"name": "\r=1+1" if i % 5 == 0 else f"n{i}", "owner": "x\r@SUM(A1)"}) for i in range(20)]
    frame = import_bytes(json.dumps(records).encode(), "in.json", lib).frame
    data = export_csv(frame)
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert len(rows) == 21
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert len(import_bytes(data, "x.csv", lib).frame) == 20


def test_report_csv_quotes_cells_with_cr(lib):
    a = assess(ImportResult(frame_of(lib, [_record(1, {"name": "a\rb", "owner": "\r=1+1"})])), {}, lib,
               trials=200, seed=1)
    data = deployments_csv(report(a, "org"))
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert len(rows) == 2
    names = dict(zip(rows[0], rows[1], strict=True))
    assert names["Name"] == "a\rb" and names["Owner"] == "'\r=1+1"
    rows = list(csv.reader(io.StringIO(deployments_csv(report(a, "org"), ids=True).decode(), newline="")))
    machine = dict(zip(rows[0], rows[1], strict=True))  # the machine form neutralises the same way
    assert machine["name"] == "a\rb" and machine["owner"] == "'\r=1+1"


# --- PDF ----------------------------------------------------------------------------------------
def _pdftext(pdf: bytes, tmp_path) -> str:
    assert shutil.which("pdftotext"), "pdftotext missing: run scripts/install_system_deps.sh"
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def long_report(lib):
    long_name = "Long name with words " * 95 + "END-OF-NAME"  # ~2,000 characters
    long_id = "ID" + "x" * 1998
    records = [_record(1, {"name": long_name, "business_unit": "B" * 2000}) | {"criticality": "critical"},
               _record(2, {"deployment_id": long_id, "name": "🚀 Rocket bot ✅"}) | {"criticality": "critical"}]
    a = assess(ImportResult(frame_of(lib, records)), {}, lib, trials=500, seed=1)
    return report(a, "Org 😀"), long_name, long_id


def test_pdf_with_2000_character_names_renders_clipped_in_tables_whole_in_appendix(long_report, tmp_path):
    rep, long_name, long_id = long_report
    for paper in ("a4", "letter"):
        pdf = render_pdf(rep, paper)
        assert pdf.startswith(b"%PDF")
    text = " ".join(_pdftext(pdf, tmp_path).split())
    assert "Appendix C" in text
    assert "END-OF-NAME" in text  # only the appendix has the end of the name
    assert text.count("END-OF-NAME") == 1
    assert "…" in text
    assert len(long_name) > CELL_MAX


def test_pdf_renders_emoji_with_an_embedded_font(long_report, tmp_path):
    pdf = render_pdf(long_report[0], "a4")
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True).stdout.decode()
    assert "Symbola" in fonts
    # Drawn in Symbola (monochrome). pdftotext reads BMP symbols back; astral-plane emoji are drawn but
    # reportlab's ToUnicode map cannot name them, so text extraction shows another character there.
    text = _pdftext(pdf, tmp_path)
    assert "✅" in text and "Rocket bot" in text


def test_emoji_fallback_text_when_the_font_is_missing(monkeypatch):
    from risk_models.report import fonts as f
    monkeypatch.setattr(f, "fonts", lambda: f.Fonts("Helvetica", "Helvetica-Bold", None, None, "x"))
    assert f.markup("go 🚀 now") == "go [emoji] now"


# --- JSON ---------------------------------------------------------------------------------------
def test_json_report_has_no_nan_or_infinity_even_for_the_largest_amounts(lib):
    records = [_record(1, {}) | {"annual_spend_usd": "10000000000", "committed_spend_usd": "10000000000"}]
    a = assess(ImportResult(frame_of(lib, records)), {}, lib, trials=200, seed=1)
    data = json_bytes(a, "org", document_header(a, "org")).decode()
    json.loads(data, parse_constant=lambda c: pytest.fail(f"non-standard JSON number {c}"))


def test_inventory_xlsx_round_trip_keeps_lf(lib):
    records = [_record(1, {"name": "two\nlines", "owner": "\n=1+1"})]
    first = import_bytes(json.dumps(records).encode(), "in.json", lib)
    again = import_bytes(export_xlsx(first.frame), "x.xlsx", lib)
    assert list(again.frame["name"]) == ["two\nlines"] and list(again.frame["owner"]) == ["\n=1+1"]


def test_control_characters_do_not_break_the_xlsx_exports(lib):
    from risk_models.report.xlsx import render_xlsx
    records = [_record(1, {"name": "\x1b[2Jclear\x07", "owner": "\x00nul"})]
    first = import_bytes(json.dumps(records).encode(), "in.json", lib)
    again = import_bytes(export_xlsx(first.frame), "x.xlsx", lib)
    assert list(again.frame["name"]) == ["\ufffd[2Jclear\ufffd"]  # marked, not a crash (CSV/JSON keep them)
    a = assess(ImportResult(first.frame), {}, lib, trials=200, seed=1)
    assert render_xlsx(report(a, "org")).startswith(b"PK")
