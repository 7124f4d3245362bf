"""Real browser (Playwright, Debian Chromium): upload an inventory, bulk-answer one question for every
Azure OpenAI deployment, upload a new version with one row changed and one removed -> the diff is
shown, answers are kept for the rest, the removed row's answers are archived."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

# `test_browser`, not `tests.test_browser`: the module object pytest itself imported (tests/ has no
# __init__.py), so both files share one server and one browser (see _SHARED there).
from test_browser import N_QUESTIONS, app_url, browser, idle, nav, page, shot, start_workspace  # noqa: F401  (fixtures)

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
    for _ in range(3):  # a multiselect's list stays open after a pick, and a rerun can swallow the click
        pg.keyboard.press("Escape")
        box.click()
        try:
            pg.get_by_role("option", name=option, exact=True).first.click(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - retried, then the last attempt raises with its own message
            continue
    box.click()
    pg.get_by_role("option", name=option, exact=True).first.click()


def test_bulk_answer_then_new_version_keeps_and_archives_answers(page, tmp_path):  # noqa: F811
    v1, v2 = tmp_path / "register.csv", tmp_path / "register-v2.csv"
    v1.write_text(V1, encoding="utf-8")
    v2.write_text(V2, encoding="utf-8")
    nav(page, "Inventory")
    start_workspace(page, v1)  # over the demo: the organisation's own workspace
    page.get_by_text("source: Uploaded file register.csv").wait_for(timeout=30_000)

    nav(page, "Questionnaire")
    _tab(page, "Answer many", "Provider (channel)")
    _pick(page, "stMultiSelect", "Provider (channel)", "Azure OpenAI")
    page.get_by_text("2 deployment(s) selected").wait_for(timeout=30_000)
    _pick(page, "stSelectbox", "Question", "Is there an automated evaluation suite for this use case?")
    _pick(page, "stSelectbox", "Answer", "Yes")
    page.get_by_text("2 answer(s) change").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Apply to 2").click()
    page.get_by_text(f"2 / {3 * N_QUESTIONS}").wait_for(timeout=30_000)  # 2 of 3 deployments x N questions, at once
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
    page.get_by_text(f"Answered 1 of {N_QUESTIONS}").wait_for(timeout=30_000)
    _tab(page, "Archived answers", "AZ-2")
    assert page.get_by_text("1 answer(s), archived").filter(visible=True).count() == 1
    shot(page, "q3-archived")
    assert "Traceback" not in page.content()


# --- answers land on the deployment shown, whatever the pace (mouse and keyboard) ---------------------

def _picker(pg):
    return pg.locator('[data-testid="stSelectbox"]').filter(
        has=pg.get_by_text("Deployment", exact=True)).filter(visible=True).first


def _open_picker(pg) -> None:
    """Right after an answer Streamlit's combobox can swallow the first click (it opens on the next one,
    as for a user), so click until the list shows."""
    for _ in range(3):
        _picker(pg).get_by_role("button", name="Open").click()
        try:
            pg.get_by_role("option").first.wait_for(timeout=3_000)
            return
        except Exception:  # noqa: BLE001 - retried; the caller's wait for the option reports a failure
            pg.keyboard.press("Escape")


def _radio(pg, question: str):
    return pg.locator('[data-testid="stRadio"]').filter(
        has=pg.get_by_text(question, exact=True)).filter(visible=True).first


def _settled(pg, dep: str, answered: int | None = None, timeout: int = 30_000) -> None:
    """The page shows `dep` (with `answered` answers when given), and the picker's count is the page's."""
    try:
        pg.get_by_role("heading").filter(has_text=f"{dep}:").first.wait_for(timeout=timeout)
        if answered is not None:
            pg.get_by_text(f"Answered {answered} of {N_QUESTIONS}").first.wait_for(timeout=timeout)
    except Exception:
        shot(pg, f"failed-settled-{dep}-{answered}")
        raise
    for _ in range(60):  # the two are drawn by one run; read them once that run has finished drawing
        page_count = re.search(rf"Answered (\d+) of {N_QUESTIONS}", pg.get_by_text("Answered ").filter(has_text=f" of {N_QUESTIONS}").first
                               .inner_text()).group(1)
        picked = _picker(pg).locator("input").get_attribute("value")
        if picked.endswith(f"({page_count}/{N_QUESTIONS})"):
            break
        time.sleep(0.5)
    assert picked.startswith(f"{dep} — ") and picked.endswith(f"({page_count}/{N_QUESTIONS})"), (picked, page_count)


def _answers_json(pg) -> dict:
    idle(pg)  # the download is drawn in the last tab: wait for the run that answered to get there
    _tab(pg, "Answers file", "Download answers (JSON)")
    with pg.expect_download() as d:
        pg.get_by_role("button", name="Download answers (JSON)").click()
    data = json.loads(Path(d.value.path()).read_text(encoding="utf-8"))
    _tab(pg, "One deployment", "Search by id or name")
    return data


QUESTIONS = {  # id -> (question text, option label, stored value)
    "eval_suite": ("Is there an automated evaluation suite for this use case?", "Yes", "yes"),
    "termination_for_convenience": ("Does the contract give you a termination-for-convenience right?", "Yes", "yes"),
    "exit_penalties": ("Are there egress fees or minimum-commitment penalties on exit?", "No", "no"),
    "price_protection": ("What price protection does the contract give?", "Capped increases", "price_cap"),
}


def test_answers_always_land_on_the_deployment_shown(page):  # noqa: F811
    nav(page, "Questionnaire")
    before = _answers_json(page)
    expected: dict[str, dict] = {}
    # Clicks come 1.5-3 s apart: under load (two busy cores), a click made while Streamlit is still drawing the
    # previous run can be dropped by its browser side (the radio shows it, the server never gets it) - a known
    # open problem, measured and reported, not hidden by retries here.
    for dep, how, pause in [("DEP-005", "mouse", 3.0), ("DEP-007", "mouse", 1.5), ("DEP-009", "keyboard", 3.0),
                            ("DEP-011", "keyboard", 1.5)]:
        if how == "mouse":
            _open_picker(page)
            page.get_by_role("option").filter(has_text=f"{dep} — ").first.click()
        else:
            box = _picker(page).locator("input")
            box.click()
            box.fill(dep)
            page.get_by_role("option").filter(has_text=f"{dep} — ").first.wait_for()
            page.keyboard.press("Enter")
        start = len(before.get(dep, {}))
        _settled(page, dep, start)
        time.sleep(pause)
        for qid, (text, label, value) in QUESTIONS.items():
            if how == "mouse":
                _radio(page, text).get_by_text(label, exact=True).click()
            else:  # focus the chosen option, then select it with the space bar
                _radio(page, text).get_by_role("radio", name=label, exact=True).focus()
                page.keyboard.press("Space")
            expected.setdefault(dep, {})[qid] = value
            time.sleep(pause)
            _settled(page, dep, start + len(expected[dep]), timeout=60_000)
    after = _answers_json(page)
    for dep, given in expected.items():
        assert after[dep] == {**before.get(dep, {}), **given}, dep
    untouched = set(before) - set(expected)
    assert {d: after.get(d) for d in untouched} == {d: before[d] for d in untouched}
    shot(page, "q4-answer-sequence")


def test_a_deployment_shown_earlier_cannot_undo_an_answer_given_meanwhile(page):  # noqa: F811
    """The browser keeps the widgets of the deployment shown before and sends their values back with later
    answers; they must not overwrite what a bulk answer set for that deployment in between."""
    nav(page, "Questionnaire")
    _settled(page, "DEP-001")  # its form is on the page: eval_suite not answered
    _open_picker(page)
    page.get_by_role("option").filter(has_text="DEP-005 — ").first.click()
    _settled(page, "DEP-005")
    _tab(page, "Answer many", "Provider (channel)")
    _pick(page, "stMultiSelect", "Or pick deployments by hand", "DEP-001")
    _pick(page, "stSelectbox", "Question", QUESTIONS["eval_suite"][0])
    _pick(page, "stSelectbox", "Answer", "Yes")
    page.get_by_role("button", name="Apply to 1").click()
    page.get_by_text("0 answer(s) change").first.wait_for(timeout=30_000)  # applied: nothing left to change
    _tab(page, "One deployment", "Search by id or name")
    time.sleep(3)
    _radio(page, QUESTIONS["exit_penalties"][0]).get_by_text("No", exact=True).click()
    _settled(page, "DEP-005", 1, timeout=60_000)
    after = _answers_json(page)
    assert after["DEP-001"]["eval_suite"] == "yes"
    assert after["DEP-005"]["exit_penalties"] == "no"
