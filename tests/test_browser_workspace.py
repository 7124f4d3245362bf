"""The workspace survives, in real Chromium against the app started as `make run` starts it
(`python -m dashboard.serve`) on a database of its own: a refresh, a server restart and a second browser
keep the uploaded inventory, an answer, a probability edit, providers and contracts, and the what-if plan;
the organisation's name from the first upload is on the downloads and the PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from test_browser import N_QUESTIONS, browser, nav, serve_app, shot, start_workspace  # noqa: F401  (fixtures)

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.browser
DEMO = ROOT / "config" / "demo"
ROW = 35  # the data editor's row height in px


class App:
    """`make run`'s command on a port and data directory of the test's own; restartable."""

    def __init__(self, data_dir) -> None:
        self.data_dir, self.port, self.proc = data_dir, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = serve_app(self.port, {**os.environ, "AI_VENDOR_RISK_DATA_DIR": str(self.data_dir)})

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture
def app(tmp_path) -> Iterator[App]:
    served = App(tmp_path / "data")
    served.start()
    yield served
    served.stop()


def _open(browser, url: str):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    pg = ctx.new_page()
    pg.goto(url)
    pg.get_by_text("AI vendor-risk overview").wait_for(timeout=60_000)
    return ctx, pg


def _check_all_kept(pg, where: str) -> None:
    """The workspace as it was left: organisation, inventory, answer, probability, providers, plan."""
    pg.get_by_text("Workspace: Acme Bank plc").wait_for(timeout=60_000)
    assert pg.get_by_text("Demo organisation —").count() == 0, where
    nav(pg, "Questionnaire")
    pg.get_by_text(f"Answered 1 of {N_QUESTIONS}").wait_for(timeout=60_000)
    nav(pg, "Scenarios", "Scenario library")
    metric = pg.locator('[data-testid="stMetric"]', has_text="Probabilities changed from defaults")
    metric.get_by_text("1", exact=True).wait_for(timeout=60_000)
    nav(pg, "Fallbacks & what-if")
    caption = pg.get_by_text(re.compile(r"\d+ option\(s\) on \d+ deployment\(s\)")).first
    caption.wait_for(timeout=60_000)
    assert not caption.inner_text().startswith("0 option"), where
    nav(pg, "Providers & contracts")
    pg.get_by_text("Contracts to act on").wait_for(timeout=60_000)
    assert pg.get_by_text("No providers or contracts yet").count() == 0, where
    shot(pg, f"workspace-kept-{where}")


def test_refresh_restart_and_a_second_browser_keep_the_workspace(browser, app, tmp_path):  # noqa: F811
    ctx, pg = _open(browser, app.url)
    pg.get_by_text("Demo organisation —").wait_for(timeout=30_000)  # what the tool is for, on first visit
    shot(pg, "workspace-0-demo-banner")
    nav(pg, "Inventory")
    inv = tmp_path / "acme_inventory.csv"
    shutil.copy(DEMO / "inventory.csv", inv)
    start_workspace(pg, inv, "Acme Bank plc")
    shot(pg, "workspace-1-created")
    # an answer
    nav(pg, "Questionnaire")
    pg.get_by_text(f"Answered 0 of {N_QUESTIONS}").wait_for(timeout=60_000)
    group = pg.locator('[data-testid="stRadio"]', has_text="Have alternative providers been identified?")
    group.get_by_text("Yes", exact=True).click()
    pg.get_by_text(f"Answered 1 of {N_QUESTIONS}").wait_for(timeout=60_000)
    # a probability: the first outcome of the first event, lowered (its event's outcomes still sum to <= 1)
    nav(pg, "Scenarios", "Scenario library")
    grid = pg.locator('[data-testid="stDataFrame"]').filter(has=pg.locator("th", has_text="probability")).first
    grid.wait_for(timeout=60_000)
    grid.evaluate("e => e.scrollIntoView({block: 'start'})")  # its top row on screen (the grid is tall)
    pg.wait_for_timeout(500)
    box = grid.bounding_box()
    # the third outcome's probability cell (the rows above sit under the app's top bar at this scroll); its
    # column starts after the outcome's name, about 560 px into the grid at this window width
    pg.mouse.dblclick(box["x"] + 560, box["y"] + ROW * 3 + ROW // 2)
    pg.locator("input.gdg-input, textarea.gdg-input").fill("0.05", timeout=30_000)
    pg.keyboard.press("Enter")
    metric = pg.locator('[data-testid="stMetric"]', has_text="Probabilities changed from defaults")
    metric.get_by_text("1", exact=True).wait_for(timeout=60_000)
    # the plan
    nav(pg, "Fallbacks & what-if")
    pg.get_by_role("button", name="Apply the top recommendation to every high/critical deployment").click()
    pg.get_by_text("High or critical").first.wait_for(timeout=60_000)
    # providers and contracts
    nav(pg, "Providers & contracts")
    pg.get_by_text("Load providers and contracts").first.wait_for(timeout=60_000)
    uploads = pg.locator('[data-testid="stFileUploader"] input[type=file]')
    uploads.nth(0).set_input_files(str(DEMO / "providers.csv"))
    uploads.nth(1).set_input_files(str(DEMO / "contracts.csv"))
    pg.get_by_role("button", name="Replace providers and contracts").click(timeout=60_000)
    pg.get_by_text("Contracts to act on").wait_for(timeout=60_000)
    # the organisation's name on the downloads and the PDF, without a visit to Settings
    nav(pg, "Report & export")
    with pg.expect_download(timeout=120_000) as d:
        pg.get_by_role("button", name="PDF summary").click()
    assert d.value.suggested_filename.startswith("ai-vendor-risk-acme-bank-plc-"), d.value.suggested_filename
    pdf = tmp_path / "acme.pdf"
    d.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Acme Bank plc" in text and "Example Bank" not in text

    pg.reload()  # a refresh (of the Report page: the address names it)
    pg.get_by_role("heading", name="Report & export").first.wait_for(timeout=60_000)
    _check_all_kept(pg, "after-refresh")
    ctx.close()

    app.stop()  # a server restart
    app.start()
    ctx, pg = _open(browser, app.url)
    _check_all_kept(pg, "after-restart")

    # a second browser sees a change made in the first, after a reload
    ctx2, pg2 = _open(browser, app.url)
    pg2.get_by_text("Workspace: Acme Bank plc").wait_for(timeout=60_000)
    nav(pg, "Questionnaire")
    group = pg.locator('[data-testid="stRadio"]', has_text="Is there an automated evaluation suite for this use case?")
    group.get_by_text("Yes", exact=True).click()
    pg.get_by_text(f"Answered 2 of {N_QUESTIONS}").wait_for(timeout=60_000)
    pg2.reload()
    pg2.get_by_text("Workspace: Acme Bank plc").wait_for(timeout=60_000)
    nav(pg2, "Questionnaire")
    pg2.get_by_text(f"Answered 2 of {N_QUESTIONS}").wait_for(timeout=60_000)
    shot(pg2, "workspace-2-second-browser")
    ctx.close()
    ctx2.close()
