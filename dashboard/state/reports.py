"""Report downloads: files built only when someone downloads them, on Streamlit's download thread
(failures are shown on the Report page's next run), the saved assessment reports compare with, and
download file names."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import TYPE_CHECKING

import streamlit as st

from dashboard.state.assessment import _whatif, assessment, assessment_key
from dashboard.state.session import ORG, _digest, current_session
from dashboard.state.storage import storage
from dashboard.state.workspace import ensure_loaded, org_name
from risk_models.engine.assessment import Assessment
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.report.render import render_export

if TYPE_CHECKING:
    from risk_models.storage import repository as repo

# Exports (reportlab, openpyxl) and saved assessments (SQLAlchemy, Alembic: ~0.6 s of imports) are
# imported where they are used, not here: the first page needs neither. The server's warm-up imports
# them after the demo's assessment (dashboard/serve.py), so the pages that use them do not wait either.


@st.cache_resource(show_spinner="Building the report…", max_entries=4)
def _report(key: str, org: str, _a: Assessment) -> dict:
    # the same report as the command line's; the reviews section is for the PDF, XLSX and Markdown
    from dashboard.state.reviews import current_review_dates
    from risk_models.report.cases import cases_block
    from risk_models.report.json_report import document_header, report
    return report(_a, header=document_header(_a, org)) | {
        "reviews": _reviews(_a), "cases": cases_block(_a, last_reviewed=current_review_dates()[0])}


def _ctpp(a: Assessment, files: tuple) -> dict:
    from risk_models.dora.chain import supply_chain
    from risk_models.dora.spec import load_roi_spec
    from risk_models.providers.records import load_book
    from risk_models.providers.summary import ctpp_block
    book = load_book(files[0], files[1], a.lib, load_roi_spec().lists["ict_service_type"])
    return ctpp_block(a, book, supply_chain(a, book), a.lib.reference_date)


def _reviews(a: Assessment) -> dict:
    from dashboard.state.reviews import current_review_dates
    from risk_models.dora.review import review_block
    from risk_models.dora.spec import load_review_policy
    return review_block(a.frame, a.residual.table["rating"], current_review_dates()[0], load_review_policy(),
                        a.lib.reference_date)


@st.cache_resource(show_spinner=False, max_entries=8)
def _report_bytes(key: str, org: str, kind: str, compare_id: int | None, plan_key: str, _a: Assessment,
                  _diff: dict | None, _plan: dict[str, list[str]] | None, review: dict | None = None,
                  files_key: str = "", _files: tuple | None = None) -> bytes:
    if kind == "json":  # byte for byte what `assess --json` writes for the same inputs
        from risk_models.report.json_report import document_header, json_bytes
        return json_bytes(_a, org, document_header(_a, org))
    rep = _report(key, org, _a)
    if review:  # who submitted and approved it (team mode), on the title page
        rep = rep | {"review": review}
    if _files and kind.startswith("pdf"):  # providers and contracts loaded: the section on the CTPPs
        rep = rep | {"ctpp": _ctpp(_a, _files)}
    if _plan:  # the what-if plan of the Fallbacks page: a Plan section in the PDF and Markdown
        from risk_models.report.plan import plan_record
        rep = rep | {"plan": plan_record(_a, recommendations_of(_a), _plan, _whatif(key, plan_key, _a, _plan))}
    if kind.startswith("pdf"):
        return render_export("pdf", rep, kind.removeprefix("pdf-"), _diff)
    return render_export(kind, rep)


# Exports that failed, by (assessment key, kind): the download runs on Streamlit's download thread,
# which cannot draw on the page, so the Report page shows these on its next run.
EXPORT_FAILURES: dict[tuple[str, str], str] = {}
_LOG = logging.getLogger(__name__)


def _guarded(key: str, kind: str, build):
    def run() -> bytes:
        try:
            data = build()
        except Exception as exc:
            _LOG.exception("building the %s export failed", kind)  # details in the server log
            EXPORT_FAILURES[(key, kind)] = f"{type(exc).__name__}: {str(exc)[:300]}"
            raise
        EXPORT_FAILURES.pop((key, kind), None)
        return data
    return run


def export_failures() -> dict[str, str]:
    """Exports of the current assessment that failed since they were last built, kind -> message."""
    key = assessment_key()
    return {kind: msg for (k, kind), msg in EXPORT_FAILURES.items() if k == key}


def report_download(kind: str, compare_with: repo.Saved | None = None, plan: dict[str, list[str]] | None = None,
                    review: dict | None = None):
    """A callable for st.download_button: files are built only when someone downloads them
    (the JSON of 20,000 deployments is 100+ MB), on Streamlit's download thread. `plan`: a what-if
    plan to include (PDF and Markdown get a Plan section)."""
    from risk_models.storage import repository as repo
    key, a, org = assessment_key(), assessment(), org_name()
    diff = None
    if compare_with is not None:
        current = repo.Saved(0, "current", "", dt.datetime.now(dt.UTC), "", repo.snapshot(a, org))
        diff = repo.diff(compare_with, current)
    plan = plan if plan and (kind == "md" or kind.startswith("pdf")) else None
    review = review if kind.startswith("pdf") else None
    from dashboard.state.persist import provider_files
    files = provider_files() if kind.startswith("pdf") else None
    files_key = _digest({"p": files[0][0].hex(), "c": files[1][0].hex()}) if files else ""
    return _guarded(key, kind, lambda: _report_bytes(key, org, kind, compare_with.id if compare_with else None,
                                                     _digest(plan or {}), a, diff, plan, review, files_key, files))


def saved_context() -> tuple[repo.Saved | None, dict]:
    """(the saved assessment reports compare with — the last approved one, else the most recent one
    whose figures differ from what the pages show now —, the review of the saved assessment with
    these figures, for the PDF's title page); see risk_models.report.changes."""
    from risk_models.storage import repository as repo
    rows = repo.list_assessments(storage())
    if not rows:
        return None, {"status": "not saved"}
    # the review columns are part of the key: an approval elsewhere must show on the next run
    return _baseline(assessment_key(), tuple((r["id"], r["content_hash"], r.get("status"), r.get("reviewed_at"))
                                             for r in rows), org_name(), assessment())


@st.cache_resource(show_spinner="Finding the assessment to compare with…", max_entries=4)
def _baseline(key: str, saved_ids: tuple, org: str, _a: Assessment) -> tuple[repo.Saved | None, dict]:
    from risk_models.report.changes import comparison_baseline as baseline_of
    from risk_models.report.changes import review_of
    from risk_models.storage import repository as repo
    engine, saved = storage(), []
    for assessment_id, *_ in saved_ids:
        try:
            saved.append(repo.load(engine, assessment_id))
        except repo.DamagedAssessment:  # listed on the History page; the others still count
            continue
    current = repo.Saved(0, "current", "", dt.datetime.now(dt.UTC), "", repo.snapshot(_a, org))
    return baseline_of(saved, current), review_of(saved, current)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def download_name(ext: str, part: str | None = None) -> str:
    """ai-vendor-risk-<org>-<date>[-<part>].<ext>"""
    ensure_loaded()
    org = _slug(current_session().get(ORG, "")) or "organisation"
    extra = f"-{_slug(part)}" if part and _slug(part) else ""
    return f"ai-vendor-risk-{org}-{dt.date.today().isoformat()}{extra}.{ext}"
