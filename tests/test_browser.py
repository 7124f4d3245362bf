"""Real browser: `streamlit run` on a free loopback port, driven by Playwright in Debian Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from risk_models.config.labels import level_text
from risk_models.config.loader import load_library

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Modules that import these fixtures (`from tests.test_browser import app_url, browser, page`) get
# their own copies of the session fixtures from pytest; they share one server and one browser
# through this dict (a second sync Playwright in the same thread is refused).
_SHARED: dict[str, object] = {}


def serve_app(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """The app as `make run` starts it (`python -m dashboard.serve`) on 127.0.0.1:port, once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.serve", "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(240):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise RuntimeError("the app did not answer /_stcore/health")


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    if "url" in _SHARED:
        yield str(_SHARED["url"])
        return
    port = _free_port()
    proc = serve_app(port)
    try:
        _SHARED["url"] = url = f"http://127.0.0.1:{port}"
        yield url
    finally:
        _SHARED.pop("url", None)
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    # No skip: `make test` installs Debian chromium; a missing browser must fail loudly in CI.
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} missing: run scripts/install_system_deps.sh"
    if "browser" in _SHARED:
        yield _SHARED["browser"]
        return
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--headless=new", "--disable-dev-shm-usage", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run"])
        _SHARED["browser"] = b
        try:
            yield b
        finally:
            _SHARED.pop("browser", None)
            b.close()


@pytest.fixture
def page(browser, app_url, tmp_path_factory):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = ctx.new_page()
    pg.goto(app_url)
    pg.get_by_text("AI vendor-risk overview").wait_for(timeout=60_000)
    yield pg
    ctx.close()


SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/ai-vendor-risk-screens"))
N_QUESTIONS = len(load_library().questions)  # "Answered k of N" on the Questionnaire page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def idle(pg, timeout: float = 90) -> None:
    """The script run has finished: Streamlit's running indicator is gone and no element is still a grey
    placeholder, on three polls in a row (reruns triggered by the first draw are done too). A text seen on
    the page proves only that the run got that far; a widget drawn later (a download in a later tab) may
    still hold the previous run's data."""
    end = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < end:
        running = pg.locator('[data-testid="stStatusWidget"], [data-testid^="stSkeleton"]').count() > 0
        quiet = 0 if running else quiet + 1
        if quiet >= 3:
            return
        pg.wait_for_timeout(250)
    raise AssertionError(f"{pg.url}: the page was still running after {timeout:.0f} s")


def click_until(click: Callable[[], object], done: Callable[[], object], attempts: int = 3) -> None:
    """Click, then wait for what the click shows. Under load Streamlit's browser side drops a click made while
    the page redraws, so the click is made again; the last attempt's wait raises with its own message."""
    for attempt in range(attempts):
        click()
        try:
            done()
            return
        except Exception:  # noqa: BLE001 - retried
            if attempt == attempts - 1:
                raise


def download(page, button, attempts: int = 3):
    """The download a button gives (a click dropped during a redraw is made again, as in click_until)."""
    for attempt in range(attempts):
        try:
            with page.expect_download(timeout=30_000) as d:
                button.click()
            return d.value
        except Exception:  # noqa: BLE001 - retried
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def edit_grid_cell(page, x: float, y: float, right: int, current: str) -> object:
    """Open the editor of the grid cell `right` columns to the right of the point (x, y), checked by the value it
    holds (`current`), and return it. The grid draws on a canvas: under load a click made during a rerun is
    dropped and an arrow key can be lost, opening the editor of another column (CI, 3 Dec: the LEI typed into the
    provider's name); that editor is closed (Escape: nothing changes) and the keys pressed again."""
    cell_editor = page.locator("input.gdg-input:not([disabled]), textarea.gdg-input:not([disabled])")

    def open_it() -> None:
        idle(page)
        page.keyboard.press("Escape")  # an editor a lost key press opened on another column
        page.mouse.click(x, y)
        for _ in range(right):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")

    def on_the_cell() -> None:
        cell_editor.wait_for(timeout=10_000)
        assert cell_editor.input_value() == current, f"the editor opened on {cell_editor.input_value()!r}"

    click_until(open_it, on_the_cell, attempts=4)
    return cell_editor


def start_workspace(page, path, name: str | None = None) -> None:
    """Upload an inventory over the demo as a user does: name the organisation, create its workspace."""
    page.locator('[data-testid="stFileUploader"] input[type=file]').first.set_input_files(str(path))
    field = page.get_by_label("Organisation name (shown on reports and in file names)")
    field.wait_for(timeout=60_000)
    if name is not None:
        field.fill(name)
    page.get_by_role("button", name="Create the workspace").click()
    page.get_by_role("button", name="Create the workspace").wait_for(state="detached", timeout=60_000)
    if name is not None:
        page.get_by_text(f"Workspace: {name}").wait_for(timeout=60_000)


def test_health_endpoint(app_url):
    assert urllib.request.urlopen(f"{app_url}/_stcore/health").read() == b"ok"


def nav(page, link: str, heading: str | None = None) -> None:
    # the Overview's chart preload reruns the page a second after it is drawn: a click then can be dropped
    click_until(page.get_by_role("link", name=link).first.click,
                lambda: page.get_by_role("heading", name=heading or link).first.wait_for(timeout=30_000))


def test_overview_then_upload_with_a_bad_row(page, tmp_path):
    page.get_by_text("Deployments (valid)").wait_for()
    page.locator(".risk-matrix").first.wait_for(timeout=60_000)
    assert page.locator(".risk-matrix-cell").count() == 25
    shot(page, "1-overview")
    nav(page, "Inventory")
    f = tmp_path / "mine.csv"
    f.write_text("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                 "U1,<script>alert(1)</script>,openai,gpt-4o,100,low,public\n"
                 "U2,bad one,Azur OpenAI,gpt-4o,100,low,public\n")
    start_workspace(page, f)
    page.get_by_text("Rejected rows — fix the values").wait_for(timeout=30_000)
    page.get_by_text("1 valid").wait_for()
    page.get_by_text("1 rejected").wait_for()
    shot(page, "2-inventory-upload")
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert "Traceback" not in page.content()


def test_answer_a_questionnaire_question(page):
    nav(page, "Questionnaire")
    page.get_by_text(f"Answered 11 of {N_QUESTIONS}").wait_for()
    group = page.locator('[data-testid="stRadio"]', has_text="Have alternative providers been identified?")
    group.wait_for(timeout=60_000)
    group.get_by_text("Yes", exact=True).click()  # saved as given: no save button
    page.get_by_text(f"Answered 12 of {N_QUESTIONS}").wait_for(timeout=60_000)
    shot(page, "3-questionnaire")


def _demo_cells() -> tuple[tuple[int, int], tuple[int, int]]:
    """The demo's worst populated matrix cell (the Heatmaps page lists it first: highest likelihood x impact,
    then likelihood) and its most populated other cell — from the engine, as the app assesses the demo
    (its profile), so the model and the scenario pack may change."""
    from risk_models.config.loader import load_library, load_profile, with_profile
    from risk_models.engine.score import score
    from risk_models.inventory.read import import_inventory
    from risk_models.questionnaire.answers import read_answers_file, validate_answers
    lib = load_library()
    lib = with_profile(lib, load_profile(ROOT / "config" / "demo" / "profile.yaml", lib.regimes))
    res = import_inventory(ROOT / "config" / "demo" / "inventory.csv", lib)
    answers, _ = validate_answers(read_answers_file(ROOT / "config" / "demo" / "answers.yaml"), lib.questions)
    t = score(res.frame, answers, lib, {}).table
    counts = t.groupby(["likelihood", "impact"]).size()
    worst = max(counts.index, key=lambda c: (c[0] * c[1], c[0]))
    lik, imp = counts.drop(worst).idxmax()
    return (int(worst[0]), int(worst[1])), (int(lik), int(imp))


def _cell_heading(lik: int, imp: int) -> str:
    return f"Likelihood {level_text('likelihood', lik)} × impact {level_text('impact', imp)}:"


def test_heatmaps_page_draws_plotly_charts(page):
    nav(page, "Heatmaps")
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)  # the matrix and the first chart tab
    worst, (lik, imp) = _demo_cells()
    page.get_by_role("heading", name=_cell_heading(*worst)).wait_for()  # the worst cell is listed first
    # clicking a cell of the matrix lists its deployments (points run L1..L5 x I1..I5); the cell is a
    # populated one other than the default
    box = page.locator(".js-plotly-plot").first.locator(".scatterlayer .point").nth((lik - 1) * 5 + imp - 1) \
        .bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_role("heading", name=_cell_heading(lik, imp)).wait_for(timeout=30_000)
    shot(page, "4-heatmaps")
    # the other portfolio charts draw when their tab is opened (lazy tabs: a page switch draws 2 charts, not 5)
    for tab, heading in [("Channel × dimension", "Channel × dimension"), ("Concentration", "Concentration"),
                         ("Loss exceedance", "Loss exceedance (whole portfolio)")]:
        click_until(page.get_by_role("tab", name=tab).click,
                    lambda heading=heading: page.get_by_role("heading", name=heading).wait_for(timeout=20_000))
        page.get_by_role("tabpanel").locator(".js-plotly-plot").first.wait_for(timeout=30_000)


def test_fallbacks_page_and_scenarios(page):
    nav(page, "Fallbacks & what-if")
    page.get_by_role("button", name="Apply the top recommendation to every high/critical deployment").click()
    page.get_by_text("High or critical").first.wait_for(timeout=60_000)
    page.get_by_text("Exit plan — ").first.wait_for()
    shot(page, "5-fallbacks")
    nav(page, "Scenarios", "Scenario library")
    page.get_by_text("Stress test").wait_for()
    shot(page, "6-scenarios")


def test_history_save_and_list(page):
    nav(page, "History")
    page.get_by_label("Label").fill("Browser Q3")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Saved assessments").wait_for(timeout=60_000)
    shot(page, "8-history")


def test_download_the_json_report(page, tmp_path):
    nav(page, "Report & export")
    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name="JSON report").click()
    download = d.value
    assert download.suggested_filename.startswith("ai-vendor-risk-example-bank-")
    assert download.suggested_filename.endswith(".json")
    path = tmp_path / "r.json"
    download.save_as(path)
    import json
    rep = json.loads(path.read_text())
    assert len(rep["deployments"]) == 61 and rep["simulation"]["expected_annual_loss_usd"] > 0
    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name="PDF summary").click()
    pdf = tmp_path / "r.pdf"
    d.value.save_as(pdf)
    assert d.value.suggested_filename.endswith(".pdf") and pdf.read_bytes().startswith(b"%PDF")
    import subprocess
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Example Bank plc" in text and "Executive summary" in text
    shot(page, "7-report")


def test_load_an_old_scenario_pack_shows_the_diff_then_warns(page, tmp_path):
    """Upload a pack on the Scenarios page: its changes and effect appear first, the pack is used
    only after confirming, and an old `as_of` puts an age warning on the Overview."""
    import yaml
    data = yaml.safe_load((ROOT / "config" / "scenarios.yaml").read_text(encoding="utf-8"))
    data.update(id="browser-old", version="7", as_of="2025-02-01")
    data["events"][0]["outcomes"][1]["probability"] = 0.30
    pack = tmp_path / "old-pack.yaml"
    pack.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    nav(page, "Scenarios", "Scenario library")
    page.get_by_text("Load another scenario pack").click()
    page.locator('[data-testid="stFileUploader"] input[type=file]').last.set_input_files(str(pack))
    page.get_by_text("Ratings that would move").wait_for(timeout=60_000)
    page.get_by_text("Expected annual loss with this pack").wait_for()
    shot(page, "9-scenario-pack-diff")
    page.get_by_role("button", name="Use browser-old 7").click()
    page.get_by_text("The scenario library is").first.wait_for(timeout=60_000)
    nav(page, "Overview", "AI vendor-risk overview")
    page.get_by_text("The scenario library is").first.wait_for(timeout=60_000)
    page.get_by_text("scenario library browser-old 7 as of 01 Feb 2025").wait_for()
    shot(page, "10-overview-old-pack")


HARDENING_HEADER = ("deployment_id,name,business_unit,use_case,owner,channel,model,region,annual_spend_usd,"
                    "criticality,data_sensitivity,contract_end,committed_spend_usd,fallback_status,proprietary_features,abstraction_layer")


def test_hostile_uploads_are_one_clear_message(page, tmp_path):
    """Issue 13: hostile uploads are one clear message (no traceback, no server path); the inventory stays."""
    nav(page, "Inventory")
    uploader = page.locator('[data-testid="stFileUploader"] input[type=file]').first
    dup = tmp_path / "dup.csv"
    dup.write_text(HARDENING_HEADER + ",Annual Spend USD\nA,n,b,u,o,openai,gpt-4o,us,1,low,public,,,,,no,5\n")
    uploader.set_input_files(str(dup))
    page.get_by_text("both mean column").wait_for(timeout=30_000)
    page.get_by_text("the previous inventory is still loaded").wait_for()
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes((HARDENING_HEADER + "\nA,n,b,u,o,openai,gpt-4o,us,1,low,public,,,,,no\n").encode("utf-16"))
    uploader.set_input_files(str(utf16))
    page.get_by_text("UTF-16: save it as UTF-8").wait_for(timeout=30_000)
    shot(page, "hardening-upload-errors")

    nav(page, "Questionnaire")
    laughs = tmp_path / "answers.yaml"
    laughs.write_text('a: &a ["lol","lol"]\nb: &b [*a,*a]\nDEP-001: {exit_plan_exists: *b}\n')
    page.get_by_role("tab", name="Answers file").click()
    page.locator('[data-testid="stFileUploader"]', has_text="Upload answers").locator("input[type=file]") \
        .set_input_files(str(laughs))
    page.get_by_text("YAML aliases").wait_for(timeout=30_000)
    content = page.content()
    assert "Traceback" not in content and "/work/" not in content and "site-packages" not in content
