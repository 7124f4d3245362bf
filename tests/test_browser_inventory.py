"""Real browser (Playwright, Debian Chromium): fix a rejected row on the Inventory page. The bad cell
is marked in colour beside it, and after the fix the row stays where it was, under the cursor."""

from __future__ import annotations

import pytest
from PIL import Image

# `test_browser`, not `tests.test_browser`: the same module object pytest imported, so one server
# and one browser are shared (see _SHARED there).
from test_browser import SHOTS, app_url, browser, edit_grid_cell, idle, nav, page, shot, start_workspace  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
ROW = 35  # the editor's header and row height in pixels
RED, GREEN = (255, 210, 210), (205, 240, 216)  # the tints of rejected_editor.RED / GREEN on white


def tinted(png, row: int, colour: tuple[int, int, int]) -> int:
    """How many pixels of the row's middle line carry the tint."""
    im = Image.open(png).convert("RGB")
    y = ROW * (row + 1) + ROW // 2
    return sum(all(abs(a - b) <= 12 for a, b in zip(im.getpixel((x, y)), colour, strict=True))
               for x in range(im.width))


def test_fix_a_rejected_cell_and_the_row_stays_in_place(page, tmp_path):  # noqa: F811
    nav(page, "Inventory")
    f = tmp_path / "bad.csv"
    f.write_text("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                 "A,ok,openai,gpt-4o,100,low,public\n"
                 "B,=1+1,Azur OpenAI,gpt-4o,100,low,public\n"
                 "C,<script>alert(1)</script>,openai,gpt-4o,lots,low,public\n"
                 "D,bad crit,openai,gpt-4o,100,extreme,public\n")
    start_workspace(page, f)
    page.get_by_text("Rejected rows — fix the values").wait_for(timeout=30_000)
    editor = page.locator('[data-testid="stDataFrame"]').nth(1)  # after the list of rejected cells
    # the grid draws on a canvas; its accessible twin (a hidden <table>) carries the same texts
    editor.locator("th", has_text="⚠ Annual spend (USD)").wait_for(state="attached", timeout=30_000)
    editor.scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    before = SHOTS / "inventory-fixing-before.png"
    editor.screenshot(path=str(before))
    shot(page, "inventory-fixing-page-before")
    assert all(tinted(before, r, RED) > 50 for r in range(3)) and not tinted(before, 1, GREEN)
    box = editor.bounding_box()

    # line 4's spend ("lots"): the row's first cell, then right past Problem, ⚠, Provider, ⚠ to the spend
    cell_editor = edit_grid_cell(page, box["x"] + 30, box["y"] + ROW * 2 + ROW // 2, right=5, current="lots")
    cell_editor.fill("200")
    page.keyboard.press("Enter")
    page.get_by_text("1 row(s) fixed").wait_for(timeout=60_000)
    page.get_by_text("2 rejected").wait_for()

    rows = editor.locator("tr")
    rows.nth(2).get_by_text("✓ fixed — now a valid deployment").wait_for(state="attached", timeout=30_000)
    assert [rows.nth(r).locator("td").first.inner_text() for r in (1, 2, 3)] == ["3", "4", "5"]
    assert "Annual spend (USD)" in editor.locator("th").all_inner_texts()  # no ⚠ left in that column
    assert editor.bounding_box()["y"] == box["y"]  # nothing above it shrank
    after = SHOTS / "inventory-fixing-after.png"
    editor.screenshot(path=str(after))
    shot(page, "inventory-fixing-page-after")
    assert tinted(after, 1, GREEN) > 50 and not tinted(after, 1, RED)
    assert tinted(after, 0, RED) > 50 and tinted(after, 2, RED) > 50
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert "Traceback" not in page.content()
