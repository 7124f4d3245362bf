"""The PDF as people read it: no model name, amount or id broken inside a word, no heading alone in the
last 15 % of a page, nothing shortened without the full text somewhere — on the demo and on a 60-row
bank inventory with long model names (read with poppler: pdftotext -layout and -bbox-layout)."""

from __future__ import annotations

import re
import subprocess
from html import unescape

import pytest

from risk_models.config.palette import usd
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY

HEADER = ("deployment_id,name,business_unit,owner,channel,model,region,annual_spend_usd,committed_spend_usd,"
          "contract_end,criticality,data_sensitivity,fallback_status\n")
MODELS = [("azure_openai", "text-embedding-3-large"), ("azure_openai", "gpt-4o-mini-2024-07-18"),
          ("aws_bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0"), ("aws_bedrock", "amazon.titan-embed-text-v2:0"),
          ("google_vertex", "gemini-2.5-flash-preview-09-2025"), ("openai_api", "gpt-4.1-nano-2025-04-14"),
          ("self_hosted", "Meta-Llama-3.1-405B-Instruct-FP8")]
LEVELS = ["low", "medium", "high", "critical"]
DATA = ["public", "internal", "confidential", "regulated"]
FALLBACK = ["none", "documented", "tested", "active"]


def bank_inventory() -> str:
    rows = []
    for i in range(60):
        ch, model = MODELS[i % len(MODELS)]
        region = {"aws_bedrock": "eu-central-1", "google_vertex": "europe-west4"}.get(ch, "westeurope")
        rows.append(f"BANK-RETAIL-{i:05d},Payments dispute assistant {i},Retail Banking Operations,owner{i},{ch},{model},"
                    f"{region},{125_000 + 37_311 * i},{(i % 3) * 250_000},2027-0{1 + i % 9}-15,{LEVELS[i % 4]},"
                    f"{DATA[(i // 4) % 4]},{FALLBACK[(i // 2) % 4]}\n")
    return HEADER + "".join(rows)


def _pdf(tmp_path, inventory, answers=None):
    pdf = tmp_path / "report.pdf"
    args = ["assess", inventory, "--trials", "500", "--pdf", pdf, "--json", tmp_path / "report.json"]
    r = run_cli(*args, *(["--answers", answers] if answers else []))
    assert r.returncode == 0, r.stderr
    return pdf


@pytest.fixture(scope="module", params=["demo", "bank"])
def report_pdf(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "demo":
        return _pdf(tmp, DEMO_INVENTORY, DEMO_ANSWERS), tmp
    inv = tmp / "bank.csv"
    inv.write_text(bank_inventory(), encoding="utf-8")
    return _pdf(tmp, inv), tmp


def _layout_text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_no_model_name_amount_or_id_is_broken_inside(report_pdf):
    import json
    pdf, tmp = report_pdf
    text = _layout_text(pdf)
    words = set(re.findall(r"\S+", text))
    rep = json.loads((tmp / "report.json").read_text())
    for d in rep["deployments"]:
        # the appendix has every deployment's id, model and expected loss: each must be one word somewhere
        for token in (d["deployment_id"], d["model"], usd(d["expected_loss_usd"])):
            assert any(token in w for w in words), f"{token!r} is broken across lines"


def _pages(pdf) -> list[tuple[float, list[tuple[float, str]]]]:
    """Per page: its height and its text lines (top y, text), from pdftotext -bbox-layout."""
    html = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = []
    for m in re.finditer(r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', html, re.S):
        lines = []
        for line in re.finditer(r'<line xMin="[\d.]+" yMin="([\d.]+)"[^>]*>(.*?)</line>', m.group(2), re.S):
            words = re.findall(r"<word[^>]*>(.*?)</word>", line.group(2))
            lines.append((float(line.group(1)), unescape(" ".join(words))))
        pages.append((float(m.group(1)), sorted(lines)))
    return pages


HEADINGS = ("Executive summary", "Concentration", "Cases and dates to watch", "Scenario assumptions", "References",
            "Appendix A — all deployments", "Appendix B — rejected rows (not assessed)", "Methodology",
            "Loss parameters", "Decisions asked of the committee", "Exit-plan summaries (critical deployments)")


def test_no_heading_stands_alone_at_a_page_foot(report_pdf):
    pdf, _ = report_pdf
    pages = _pages(pdf)
    found = 0
    for number, (height, lines) in enumerate(pages, start=1):
        body = [(y, t) for y, t in lines if not t.startswith("AI vendor-risk assessment · generated")]
        for k, (y, t) in enumerate(body):
            if t.strip() in HEADINGS:
                found += 1
                if y > height * 0.85:
                    assert k + 1 < len(body), f"page {number}: heading {t!r} alone at the foot of the page"
    assert found >= 6


def test_nothing_shortened_without_the_full_text(report_pdf):
    pdf, tmp = report_pdf
    text = " ".join(_layout_text(pdf).split())
    # the loss parameters' basis is given whole (it was cut with an ellipsis)
    import json
    rep = json.loads((tmp / "report.json").read_text())
    for a in rep["assumptions"]:
        note = " ".join(a["note"].split())
        if note:
            assert note[-25:] in text, f"{a['parameter']}: basis cut"
    assert "Appendix C" not in text or "Appendix C — values shortened" in text
