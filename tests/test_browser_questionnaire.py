"""Real browser (Playwright, Debian Chromium): upload an inventory, bulk-answer one question for every
Azure OpenAI deployment, upload a new version with one row changed and one removed -> the diff is
shown, answers are kept for the rest, the removed row's answers are archived."""

from __future__ import annotations

import pytest

# `test_browser`, not `tests.test_browser`: the module object pytest itself imported (tests/ has no
# __init__.py), so both files share one server and one browser (see _SHARED there).
from test_browser import app_url, browser, nav, page, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

HEADER = "deployment_id,name,business_unit,owner,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
V1 = HEADER + ("AZ-1,Chatbot,Retail,Ann,Azure OpenAI,gpt-4o,1000,high,internal\n"
               "AZ-2,Summariser,Retail,Ann,AOAI,gpt-4o,2000,medium,internal\n"
               "BR-1,Search,Ops,Bob,Bedrock,claude-sonnet-4-5,500,low,public\n")
V2 = HEADER + ("AZ-1,Chatbot,Retail,Ann,Azure OpenAI,gpt-4o,1000,high,internal\n"
               "BR-1,Search,Ops,Bob,Bedrock,claude-sonnet-4-5,900,low,public\n")


def _upload(pg, path) -> None:
    pg.locator('[data-testid="stFileUploader"] input[type=file]').first.set_input_files(str(path))


def _tab(pg, name: str, expect: str) -> None:
    """Open a tab; a rerun that is still drawing the pg can swallow the first click."""
    for _ in range(4):
        pg.get_by_role("tab", name=name).click()
        try:
            pg.get_by_text(expect).filter(visible=True).first.wait_for(timeout=8_000)
            return
        except Exception:  # noqa: BLE001 - retried, then the last wait raises with its own message
            continue
    shot(pg, f"failed-tab-{name}")
    pg.get_by_text(expect).filter(visible=True).first.wait_for(timeout=8_000)


def _pick(pg, widget: str, label: str, option: str) -> None:
    """Open a visible selectbox / multiselect by its label and choose an option by its text."""
    box = pg.locator(f'[data-testid="{widget}"]').filter(
        has=pg.get_by_text(label, exact=True)).filter(visible=True).first
    box.click()
    pg.get_by_role("option", name=option, exact=True).first.click()


def test_bulk_answer_then_new_version_keeps_and_archives_answers(page, tmp_path):  # noqa: F811
    v1, v2 = tmp_path / "register.csv", tmp_path / "register-v2.csv"
    v1.write_text(V1, encoding="utf-8")
    v2.write_text(V2, encoding="utf-8")
    nav(page, "Inventory")
    _upload(page, v1)
    page.get_by_text("source: Uploaded file register.csv").wait_for(timeout=30_000)

    nav(page, "Questionnaire")
    _tab(page, "Answer many", "Provider (channel)")
    _pick(page, "stMultiSelect", "Provider (channel)", "Azure OpenAI")
    page.get_by_text("2 deployment(s) selected").wait_for(timeout=30_000)
    _pick(page, "stSelectbox", "Question", "Is there an automated evaluation suite for this use case?")
    _pick(page, "stSelectbox", "Answer", "Yes")
    page.get_by_text("2 answer(s) change").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Apply to 2").click()
    page.get_by_text("2 / 96").wait_for(timeout=30_000)  # 2 of 3 deployments x 32 questions, at once
    shot(page, "q1-bulk-answer")

    nav(page, "Inventory")
    _upload(page, v2)
    page.get_by_text("New version of the register from register-v2.csv").wait_for(timeout=30_000)
    page.get_by_text("0 added, 1 removed, 1 changed (1 fields)", exact=False).first.wait_for()
    page.get_by_text("Removed: AZ-2").wait_for()
    diff = page.locator('[data-testid="stDataFrame"]').filter(visible=True).first
    diff.wait_for()
    shot(page, "q2-register-diff")
    page.get_by_role("button", name="Replace with the new version").click()
    page.get_by_text("source: Uploaded file register-v2.csv").wait_for(timeout=30_000)
    page.get_by_text("Register version 2").wait_for(timeout=30_000)

    nav(page, "Questionnaire")
    # AZ-1 keeps its answer (the first deployment is shown): 1 answered
    page.get_by_text("Answered 1 of 32").wait_for(timeout=30_000)
    _tab(page, "Archived answers", "AZ-2")
    assert page.get_by_text("1 answer(s), archived").filter(visible=True).count() == 1
    shot(page, "q3-archived")
    assert "Traceback" not in page.content()
