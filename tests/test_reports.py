"""PDF, XLSX, CSV, JSON and Markdown exports: content, safety, size, round trip."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import unicodedata

import openpyxl
import pytest

from risk_models.engine.assessment import assess
from risk_models.inventory.read import ImportResult, import_bytes
from risk_models.report.json_report import document_header, json_bytes, report
from risk_models.report.markdown import render_markdown
from risk_models.report.pdf import render_pdf
from risk_models.report.tabular import deployments_csv
from risk_models.report.xlsx import render_xlsx
from tests.conftest import DEMO_INVENTORY
from tests.engine_data import frame_of

GERMAN = "Schadensmeldungsprüfung für Großkunden"
JAPANESE = "請求書の自動処理"
ARABIC = "مساعد خدمة العملاء"
HOSTILE = '=HYPERLINK("http://evil.example","x")'
LONG = "Extremely-long-deployment-name-" * 16  # ~500 characters, no spaces to break at


def _pdftotext(pdf: bytes, tmp_path, layout: bool = True) -> str:
    # No skip: `make test` installs poppler-utils; a missing tool must fail loudly in CI.
    assert shutil.which("pdftotext"), "pdftotext missing: run scripts/install_system_deps.sh"
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.fixture(scope="module")
def special_report(lib):
    records = [
        {"deployment_id": "DE-1", "name": GERMAN, "business_unit": "Schaden", "channel": "azure_openai",
         "model": "gpt-4o", "region": "germanywestcentral", "annual_spend_usd": 250000, "criticality": "critical",
         "data_sensitivity": "regulated", "proprietary_features": "assistants;on_your_data"},
        {"deployment_id": "JP-1", "name": JAPANESE, "business_unit": "経理", "channel": "azure_openai",
         "model": "gpt-4o", "region": "japaneast", "annual_spend_usd": 120000, "criticality": "high",
         "data_sensitivity": "confidential"},
        {"deployment_id": "AR-1", "name": ARABIC, "business_unit": "خدمة", "channel": "openai_api", "model": "gpt-5",
         "region": "eu", "annual_spend_usd": 90000, "criticality": "critical", "data_sensitivity": "internal"},
        {"deployment_id": "X-1", "name": HOSTILE + " <b>bold</b> & <script>", "channel": "aws_bedrock",
         "model": "claude-sonnet-4-5", "region": "us-east-1", "annual_spend_usd": 1000, "criticality": "low",
         "data_sensitivity": "public"},
        {"deployment_id": "L-1", "name": LONG, "channel": "azure_openai", "model": "gpt-4o", "region": "westeurope",
         "annual_spend_usd": 5000, "criticality": "critical", "data_sensitivity": "confidential"},
    ]
    a = assess(ImportResult(frame_of(lib, records)), {}, lib, trials=1000, seed=1)
    return report(a, "Ünïcode GmbH <script>")


def test_pdf_has_every_section_and_non_latin_text(special_report, tmp_path):
    pdf = render_pdf(special_report)
    assert pdf.startswith(b"%PDF")
    text = _pdftotext(pdf, tmp_path)
    for section in ("AI vendor-risk assessment", "Executive summary", "Concentration", "High and critical deployments",
                    "Scenario assumptions", "Exit-plan summaries", "Appendix A", "Appendix B", "Methodology",
                    "Scenario library as of", "Inputs hash", "Page 2", "generated"):
        assert section in text, section
    assert GERMAN in " ".join(text.split()) or "Schadensmeldungsprüfung" in text
    assert JAPANESE in text.replace(" ", "")
    arabic_letters = [c for c in unicodedata.normalize("NFKC", text) if "\u0600" <= c <= "\u06ff"]
    assert len(arabic_letters) >= 10
    flat = "".join(_pdftotext(pdf, tmp_path, layout=False).split())
    assert "<script>" in text and "".join(HOSTILE.split()) in flat  # shown as text, never interpreted
    assert "<b>bold</b>" in flat


def test_pdf_wraps_a_500_character_name(special_report, tmp_path):
    pdf = render_pdf(special_report)
    text = _pdftotext(pdf, tmp_path)
    assert max(len(line) for line in text.splitlines()) < 300
    flat = "".join(_pdftotext(pdf, tmp_path, layout=False).split())
    assert LONG[:60] in flat and LONG[-40:] in flat


def test_pdf_letter_paper(special_report, tmp_path):
    path = tmp_path / "l.pdf"
    path.write_bytes(render_pdf(special_report, "letter"))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "612 x 792" in info


def test_pdf_for_500_deployments_stays_under_3_mb(lib):
    from bench.bench_import import make_inventory
    res = import_bytes(make_inventory(500, seed=11), "b.csv", lib)
    pdf = render_pdf(report(assess(res, {}, lib, trials=1000), "Big Co"))
    assert len(pdf) < 3 * 1024 * 1024


def test_xlsx_sheets_no_formulas_and_neutralised_text(special_report):
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(special_report)))
    assert wb.sheetnames == ["README", "Summary", "Deployments", "Drivers", "Fallbacks", "Concentration",
                             "Scenarios", "Rejected rows"]  # Cases only when the report has cases
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    names = [c.value for c in wb["Deployments"]["B"]]
    assert "'" + HOSTILE + " <b>bold</b> & <script>" in names
    head = [c.value for c in wb["Deployments"][1]]
    spend = wb["Deployments"].cell(row=2, column=head.index("Annual spend") + 1)
    assert isinstance(spend.value, int | float) and "$" in spend.number_format


def test_csv_neutralises_formula_cells_but_keeps_numbers(lib):
    recs = [{"deployment_id": f"D{i}", "name": name, "channel": "openai_api", "model": "gpt-4o", "region": "us",
             "annual_spend_usd": 1234.5, "criticality": "low", "data_sensitivity": "public"}
            for i, name in enumerate(["=1+1", "+SUM(A1)", "-2+3", "@cmd", "plain"])]
    rep = report(assess(ImportResult(frame_of(lib, recs)), {}, lib, trials=200))
    rows = list(csv.DictReader(io.StringIO(deployments_csv(rep, ids=True).decode())))  # the machine form
    assert [r["name"] for r in rows] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "plain"]
    assert all(r["annual_spend_usd"] == "1234.5" for r in rows)
    rows = list(csv.DictReader(io.StringIO(deployments_csv(rep).decode())))  # for people: whole dollars
    assert [r["Name"] for r in rows] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "plain"]
    assert all(r["Annual spend"] == "1234" for r in rows)


def test_json_import_json_round_trip_is_lossless(lib):
    res = import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib)
    a = assess(res, {}, lib, trials=2000, seed=3)
    first = report(a, "Example")
    again_in = import_bytes(json_bytes(a, "Example", document_header(a, "Example")), "report.json", lib)
    assert not again_in.errors
    second = report(assess(again_in, {}, lib, trials=2000, seed=3), "Example")
    first.pop("generated_at"), second.pop("generated_at")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_markdown_summary_escapes_user_text(special_report):
    md = render_markdown(special_report)
    assert "# AI vendor-risk assessment" in md and "High and critical deployments" in md
    assert "<script>" not in md and "\\<script\\>" in md


def test_pdf_can_include_the_comparison_with_a_saved_assessment(lib, tmp_path):
    from risk_models.storage import repository as repo
    res = import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib)
    before = repo.Saved(1, "Q3 2026", "", __import__("datetime").datetime(2026, 9, 30, tzinfo=__import__(
        "datetime").UTC), "", repo.snapshot(assess(res, {}, lib, trials=1000), "Example"))
    a = assess(res, {"DEP-001": {"exit_plan_exists": "tested"}}, lib, trials=1000)
    now = repo.Saved(2, "now", "", before.created_at, "", repo.snapshot(a, "Example"))
    text = _pdftotext(render_pdf(report(a, "Example"), comparison=repo.diff(before, now)), tmp_path)
    assert "Changes since Q3 2026" in text and "DEP-001" in text


def test_pdf_methodology_states_the_probability_method_loss_parameters_and_a_worked_example(special_report, tmp_path):
    from risk_models.report.pdf import render_pdf
    flat = " ".join(_pdftotext(render_pdf(special_report), tmp_path, layout=False).split())
    assert "1 - (1 - P)^(12 / horizon)" in flat
    assert "Loss parameters" in flat and "organisation assumption" in flat and "Cost of a person-week" in flat
    worst = max(special_report["deployments"], key=lambda d: (d["score"], d["deployment_id"]))
    assert f"Worked example: {worst['deployment_id']}" in flat
    assert f"scores {worst['score']:.1f}" in flat
    # each high/critical deployment shows its expected loss by component
    assert "Expected annual loss by component" in flat and "downtime $" in flat
