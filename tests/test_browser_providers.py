"""Real browser (Playwright, Debian Chromium): the Providers & contracts page on the demo
organisation, then download the DORA register as an EBA xBRL-CSV report package."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

# `test_browser`, not `tests.test_browser`: the same module object pytest imported, so one server
# and one browser are shared (see _SHARED there).
from test_browser import app_url, browser, download, edit_grid_cell, idle, nav, page, shot  # noqa: F401  (fixtures)

ROW = 35  # px: a glide data grid row (and its header) at the default density

pytestmark = pytest.mark.browser


def test_providers_page_and_register_download(page, tmp_path):  # noqa: F811
    nav(page, "Providers & contracts")
    page.get_by_text("Contracts to act on").wait_for(timeout=60_000)
    page.get_by_text("link to no contract").first.wait_for(timeout=60_000)
    page.get_by_text("Validation report:").first.wait_for(timeout=120_000)  # the demo is incomplete on purpose
    shot(page, "9-providers")
    with page.expect_download(timeout=60_000) as d:
        page.get_by_role("button", name="Register (EBA xBRL-CSV package)").click()
    assert re.fullmatch(r"DEMO00EXAMPLEBANK035\.IND_IE_DORA010100_DORA_2025-12-31_\d{17}\.zip",
                        d.value.suggested_filename)
    path = tmp_path / "roi.zip"
    d.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        root = names[0].split("/")[0]
        assert f"{root}/META-INF/reportPackage.json" in names and f"{root}/reports/report.json" in names
        b0201 = list(csv.DictReader(io.StringIO(z.read(f"{root}/reports/b_02.01.csv").decode())))
    assert len(b0201) == 8
    # a Belgian bank files with the NBB: the OneGate name, for the file and its top folder
    page.get_by_role("radio", name="NBB OneGate (Belgium)").click()
    idle(page)
    got = download(page, page.get_by_role("button", name="Register (EBA xBRL-CSV package)"))
    assert got.suggested_filename == "LEI_DEMO00EXAMPLEBANK035.IND_NBB_DOR_DORA_ROI.zip"
    got.save_as(tmp_path / "nbb.zip")
    with zipfile.ZipFile(tmp_path / "nbb.zip") as z:
        assert {n.split("/")[0] for n in z.namelist()} == {"LEI_DEMO00EXAMPLEBANK035.IND_NBB_DOR_DORA_ROI"}


def test_edit_providers_in_the_app_a_wrong_lei_is_refused_and_the_package_downloads(page, tmp_path):  # noqa: F811
    """Draft the providers (the demo's files), give Microsoft's LEI a wrong check digit: refused and named."""
    nav(page, "Providers & contracts")
    editor = page.locator('[data-testid="stExpander"]').filter(has_text="Edit providers and contracts in the app").first
    editor.get_by_text("Edit providers and contracts in the app").click()
    page.get_by_role("button", name="Draft from the inventory").click()
    page.get_by_text("Using these replaces").wait_for(timeout=60_000)
    idle(page)
    # the providers grid (glide data grid, drawn on a canvas): select the first row's first cell, move two
    # columns right to its LEI (provider_id, name, lei) and type over it
    grid = editor.locator('[data-testid="stDataFrame"]').first
    grid.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    # (past the row-selection column; Microsoft Ireland's LEI in the demo's providers file)
    cell = edit_grid_cell(page, box["x"] + 80, box["y"] + ROW + ROW // 2, right=2, current="DEMO00MICROSOFTIE038")
    cell.fill("DEMO00MICROSOFTIE039", timeout=30_000)
    page.keyboard.press("Enter")
    shot(page, "9-providers-edit-typed")
    page.get_by_text("cell(s) refused").wait_for(timeout=60_000)  # refused
    page.get_by_text("check digits").first.wait_for(timeout=30_000)  # named, and the cell marked in the copy shown
    shot(page, "9-providers-edit-refused")
    idle(page)
    button = page.get_by_role("button", name="Register (EBA xBRL-CSV package)")
    button.scroll_into_view_if_needed()
    got = download(page, button)
    assert re.fullmatch(r"DEMO00EXAMPLEBANK035\.IND_IE_DORA010100_DORA_2025-12-31_\d{17}\.zip", got.suggested_filename)
