"""Issue 14: the PDF a risk committee receives, read back with `pdftotext -layout` — organisation
on page 1, a one-page executive summary, no word or amount broken across lines, human channel
labels, a legend on the matrix page, and a Plan section when `assess --apply-top` applies a plan."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from risk_models.cli.main import main
from risk_models.config.labels import label_maps
from risk_models.config.loader import load_profile, with_profile
from risk_models.engine.assessment import assess
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.fallbacks.whatif import top_plan
from risk_models.inventory.read import import_bytes
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from risk_models.report.changes import comparison_baseline
from risk_models.storage import repository as repo
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT

PROFILE = ROOT / "config" / "demo" / "profile.yaml"
MONEY = re.compile(r"^[~+−-]?\$\d{1,3}(,\d{3})*(\.\d+)?([BMK]|bn|/h)?$")  # $1,442,500; $38B; ~$225/h


def _pages(pdf: Path) -> list[str]:
    assert shutil.which("pdftotext"), "pdftotext missing: run scripts/install_system_deps.sh"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


@pytest.fixture(scope="module")
def committee_pdf(tmp_path_factory) -> tuple[Path, list[str]]:
    d = tmp_path_factory.mktemp("committee")
    logo = d / "logo.png"
    Image.new("RGB", (120, 40), (20, 60, 120)).save(logo)
    out = d / "pack.pdf"
    code = main(["assess", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--profile", str(PROFILE),
                 "--logo", str(logo), "--apply-top", "high", "--trials", "2000", "--pdf", str(out)])
    assert code == 0
    return out, _pages(out)


def demo_assessment(trials: int = 2000):
    """The demo organisation with its profile and answers."""
    from risk_models.config.loader import load_library
    lib = load_library()
    lib = with_profile(lib, load_profile(PROFILE, lib.regimes))
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    return assess(import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib), answers, lib, trials=trials)


@pytest.fixture(scope="module")
def demo():
    return demo_assessment()


def test_page_1_names_the_organisation_from_the_profile_and_shows_its_logo(committee_pdf):
    pdf, pages = committee_pdf
    assert "Example Bank plc" in pages[0] and "Prepared by" in pages[0] and "Third-party risk office" in pages[0]
    images = subprocess.run(["pdfimages", "-f", "1", "-l", "1", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert len(images) >= 1  # the logo


def test_the_executive_summary_is_one_page_right_after_the_title(committee_pdf):
    _, pages = committee_pdf
    summary = pages[1]
    for part in ("Executive summary", "Expected annual loss", "VaR 95", "High or critical", "Legend:",
                 "Decisions asked of the committee", "avoided", "One-off", "Changes since"):
        assert part in summary, part
    assert "Approve " in summary  # three decisions, each an exit with its cost and the loss it avoids
    assert len(re.findall(r"^\s*[123]\s+Approve ", summary, re.M)) == 3
    assert pages[2].lstrip().startswith("Concentration")  # the summary did not spill over


def test_no_money_amount_or_word_is_split_across_lines(committee_pdf, demo):
    _, pages = committee_pdf
    text = "\n".join(pages)
    tokens = [t.rstrip(";:,.)") for t in text.split() if "$" in t]
    broken = [t for t in tokens if not MONEY.match(t.lstrip("("))]
    assert tokens and not broken, broken[:10]
    words = {w for col in ("name", "business_unit", "model") for v in demo.frame[col] for w in str(v).split()
             if len(w) >= 3}
    words |= set(label_maps(demo.lib)["channel"].values())
    words |= {"Confidence", "person-weeks"}
    flat = set(text.split())
    missing = [w for w in words if w not in text and not all(p in flat for p in w.split())]
    assert not missing, missing[:10]
    assert "text-embedding-3-large" in text  # the model name of the issue, whole


def test_no_snake_case_channel_id_and_no_url_in_the_body(committee_pdf, lib):
    _, pages = committee_pdf
    text = "\n".join(pages)
    for cid in lib.channels.channels:
        if "_" in cid:
            assert cid not in text, cid
    body, _, references = text.partition("References")
    # references name each source's site and date; the URLs themselves are in the XLSX and JSON (issue 29)
    assert references and "blogs.microsoft.com, 2025-10-28" in " ".join(references.split())
    assert "http" not in body


def test_the_matrix_page_has_a_legend_and_explains_score_versus_rating(committee_pdf):
    _, pages = committee_pdf
    matrix_pages = [p for p in pages if "likelihood ↑" in p]
    assert matrix_pages
    for p in matrix_pages:
        assert "Legend:" in p and all(r in p for r in ("low", "medium", "high", "critical"))
    flat = " ".join(pages[1].split())
    assert "the rating comes from the likelihood × impact cell" in flat


def test_apply_top_adds_the_plan_of_the_apps_button(committee_pdf, demo):
    _, pages = committee_pdf
    plan_pages = [p for p in pages if re.search(r"^\s*Plan\s*$", p, re.M)]
    assert plan_pages
    text = "\n".join(pages).split("Scenario assumptions")[0]
    for part in ("Before the plan", "After the plan", "Expected annual loss", "VaR 95", "HHI by channel", "Actions",
                 "Effort", "One-off", "Total"):
        assert part in text, part
    # the same engine call as the Fallbacks page's "Apply the top recommendation" button
    plan = top_plan(demo, recommendations_of(demo), "high")
    assert plan
    for dep in plan:
        assert dep in "\n".join(pages), dep


def test_a_logo_that_is_not_an_image_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "logo.png"
    bad.write_text("not an image")
    code = main(["assess", str(DEMO_INVENTORY), "--logo", str(bad), "--trials", "100", "--pdf",
                 str(tmp_path / "x.pdf")])
    assert code == 2
    assert "--logo" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def _saved(i: int, a, status: str | None = None, day: int = 1) -> repo.Saved:
    payloads = repo.snapshot(a, "Example")
    if status:
        payloads["results"]["status"] = status
    return repo.Saved(i, f"save {i}", "", dt.datetime(2026, 10, day, tzinfo=dt.UTC), "", payloads)


def test_comparison_baseline_prefers_approved_then_the_latest_different_save(demo, lib):
    other = assess(import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib), {}, lib, trials=2000)
    current = _saved(0, demo, day=20)
    same = _saved(3, demo, day=10)  # just saved: identical figures, every change would be zero
    older = _saved(2, other, day=5)
    assert comparison_baseline([older, same], current).id == 2
    approved = _saved(1, other, "approved", day=2)
    assert comparison_baseline([older, same, approved], current).id == 1
    assert comparison_baseline([same], current) is None
    assert comparison_baseline([], current) is None


def test_the_pdf_says_what_changed_since_the_baseline(demo, lib, tmp_path):
    from risk_models.report.json_report import report
    from risk_models.report.pdf import render_pdf
    other = assess(import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib), {}, lib, trials=2000)
    current = _saved(0, demo, day=20)
    base = comparison_baseline([_saved(1, other, "approved"), _saved(2, demo, day=10)], current)
    path = tmp_path / "c.pdf"
    path.write_bytes(render_pdf(report(demo, "Example"), comparison=repo.diff(base, current)))
    flat = " ".join(_pages(path)[1].split())
    assert "Since save 1 (2026-10-01): expected annual loss" in flat


def test_logo_bytes_round_trip_through_the_profile():
    from risk_models.config.profile import OrgProfile, encode_logo
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    p = OrgProfile(name="X", logo=encode_logo(buf.getvalue()))
    assert OrgProfile.model_validate(p.model_dump(mode="json")).logo_bytes() == buf.getvalue()
    with pytest.raises(ValueError, match="PNG or JPEG"):
        encode_logo(b"GIF89a....")


def test_every_report_says_when_probabilities_differ_from_the_defaults(demo, tmp_path):
    import openpyxl

    from risk_models.report.json_report import report
    from risk_models.report.markdown import render_markdown
    from risk_models.report.pdf import render_pdf
    from risk_models.report.xlsx import render_xlsx
    outcome = demo.residual.outcomes.ids[0]
    changed = assess(demo.inventory, demo.answers, demo.lib, {outcome: 0.0}, trials=500)
    rep = report(changed, "Example")
    path = tmp_path / "p.pdf"
    path.write_bytes(render_pdf(rep))
    assert "differ from the library defaults" in " ".join(_pages(path)[1].split())
    assert "differ from the library defaults" in render_markdown(rep)
    summary = openpyxl.load_workbook(io.BytesIO(render_xlsx(rep)))["Summary"]
    assert any("differ from the library defaults" in str(c.value) for row in summary.iter_rows() for c in row)
    plain = report(demo, "Example")
    assert "differ from the library defaults" not in render_markdown(plain)


def test_the_title_page_names_who_submitted_and_approved_it(demo, lib, tmp_path):
    """Team mode's review columns: an approved save is the comparison baseline, and a PDF of the same
    figures says who submitted it and who approved it, and when."""
    from risk_models.report.changes import review_of
    from risk_models.report.json_report import report
    from risk_models.report.pdf import render_pdf
    other = assess(import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib), {}, lib, trials=2000)
    current = _saved(0, demo, day=20)
    approved = dataclasses.replace(_saved(4, demo, day=12), status="approved", submitted_by="ana.assessor",
                                   submitted_at=dt.datetime(2026, 10, 12, tzinfo=dt.UTC), reviewed_by="bo.approver",
                                   reviewed_at=dt.datetime(2026, 10, 14, tzinfo=dt.UTC))
    assert comparison_baseline([_saved(2, other, day=15), approved], current).id == 4
    review = review_of([_saved(2, other, day=15), approved], current)
    assert review["status"] == "approved" and review["reviewed_by"] == "bo.approver"
    assert review_of([_saved(2, other, day=15)], current) == {"status": "not saved"}
    path = tmp_path / "r.pdf"
    path.write_bytes(render_pdf(report(demo, "Example") | {"review": review}))
    flat = " ".join(_pages(path)[0].split())
    assert "Approved by bo.approver on 2026-10-14 (submitted by ana.assessor on 2026-10-12" in flat
