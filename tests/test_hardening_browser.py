"""Issue 13 in real Chromium: hostile uploads give one clear message on the page (no traceback, no
server path) and leave the loaded inventory in place."""

from __future__ import annotations

import pytest

from tests.test_browser import app_url, browser, nav, page, shot  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

HEADER = ("deployment_id,name,business_unit,use_case,owner,channel,model,region,annual_spend_usd,criticality,"
          "data_sensitivity,contract_end,committed_spend_usd,fallback_status,proprietary_features,abstraction_layer")


def test_hostile_uploads_are_one_clear_message(page, tmp_path):  # noqa: F811
    nav(page, "Inventory")
    uploader = page.locator('[data-testid="stFileUploader"] input[type=file]').first
    dup = tmp_path / "dup.csv"
    dup.write_text(HEADER + ",Annual Spend USD\nA,n,b,u,o,openai,gpt-4o,us,1,low,public,,,,,no,5\n")
    uploader.set_input_files(str(dup))
    page.get_by_text("both mean column").wait_for(timeout=30_000)
    page.get_by_text("the previous inventory is still loaded").wait_for()
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes((HEADER + "\nA,n,b,u,o,openai,gpt-4o,us,1,low,public,,,,,no\n").encode("utf-16"))
    uploader.set_input_files(str(utf16))
    page.get_by_text("UTF-16: save it as UTF-8").wait_for(timeout=30_000)
    shot(page, "hardening-upload-errors")

    nav(page, "Questionnaire")
    laughs = tmp_path / "answers.yaml"
    laughs.write_text('a: &a ["lol","lol"]\nb: &b [*a,*a]\nDEP-001: {exit_plan_exists: *b}\n')
    page.locator('[data-testid="stFileUploader"] input[type=file]').first.set_input_files(str(laughs))
    page.get_by_text("YAML aliases").wait_for(timeout=30_000)
    content = page.content()
    assert "Traceback" not in content and "/work/" not in content and "site-packages" not in content
