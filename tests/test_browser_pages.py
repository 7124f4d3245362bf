"""Issue 14: every page of the app, in real Chromium at 1440×900 and 1024×768 — no horizontal page
overflow and no exception element — with a full-page screenshot of each (SCREENSHOT_DIR). The page
list is the app's own navigation (the sidebar links), so pages added later are covered too."""

from __future__ import annotations

import re

import pytest

# `test_browser`, not `tests.test_browser`: the module pytest itself imported (one server, one browser)
from test_browser import SHOTS, app_url, browser, click_until, idle  # noqa: F401, F811  (fixtures)

pytestmark = pytest.mark.browser

VIEWPORTS = [(1440, 900), (1024, 768)]
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
CONTENT_HEIGHT = ("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                  " return m ? m.scrollHeight : document.body.scrollHeight; }")


def _settled(pg, timeout: float = 90) -> None:
    """The page's script has finished: a title is drawn and the run is idle."""
    pg.locator('[data-testid="stMain"] h1').first.wait_for(timeout=timeout * 1000)
    idle(pg, timeout)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def test_every_page_fits_the_window_and_shows_no_exception(browser, app_url):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    seen: dict[tuple[int, int], list[str]] = {}
    for width, height in VIEWPORTS:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        pg = ctx.new_page()
        pg.goto(app_url)
        _settled(pg)
        links = pg.locator('[data-testid="stSidebarNav"] a')
        names = [links.nth(k).inner_text().strip().splitlines()[-1] for k in range(links.count())]  # icon, title
        assert len(names) >= 9, names
        for k, name in enumerate(names):
            pg.locator('[data-testid="stSidebarNav"] a').nth(k).click()
            _settled(pg)
            overflow = pg.evaluate(OVERFLOW)
            assert overflow <= 0, f"{name} at {width}×{height}: the page is {overflow} px wider than the window"
            errors = pg.locator('[data-testid="stException"]')
            assert errors.count() == 0, f"{name} at {width}×{height}: {errors.first.inner_text()[:300]}"
            # Streamlit scrolls inside its main section: a window as tall as the content shows it all
            tall = min(int(pg.evaluate(CONTENT_HEIGHT)), 6000)
            if tall > height:
                pg.set_viewport_size({"width": width, "height": tall})
                pg.wait_for_timeout(600)
            pg.screenshot(path=str(SHOTS / f"page-{width}x{height}-{k + 1:02d}-{_slug(name)}.png"))
            pg.set_viewport_size({"width": width, "height": height})
        seen[(width, height)] = names
        ctx.close()
    assert seen[VIEWPORTS[0]] == seen[VIEWPORTS[1]]


def test_heatmaps_in_the_dark_theme_sit_on_the_theme_background(browser, app_url):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="dark")
    pg = ctx.new_page()
    pg.goto(app_url)
    _settled(pg)
    # the Overview's background chart preload reruns the page: a click then can be dropped
    click_until(pg.get_by_role("link", name="Heatmaps").first.click,
                lambda: pg.get_by_role("heading", name="Heatmaps").first.wait_for(timeout=20_000))
    _settled(pg)
    plot = pg.locator(".js-plotly-plot").filter(visible=True).first  # the matrix; tab charts are drawn hidden
    plot.wait_for(timeout=60_000)
    # the matrix background is transparent: no white plot area on a dark page
    fill, opacity = plot.evaluate("e => { const s = getComputedStyle(e.querySelector('.bg'));"
                                  " return [s.fill, s.fillOpacity]; }")
    assert fill in ("rgba(0, 0, 0, 0)", "transparent") or float(opacity) == 0, (fill, opacity)
    assert plot.locator(".legend").count() == 1 and "critical" in plot.locator(".legend").text_content()
    pg.screenshot(path=str(SHOTS / "page-dark-heatmaps.png"), full_page=True)
    ctx.close()
