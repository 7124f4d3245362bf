"""Streamlit AppTest: every page renders on the demo organisation; upload shows rejected rows."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

APP = "../dashboard/app.py"  # AppTest resolves paths relative to this test file


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_demo_at_first_load():
    at = start()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Deployments (valid)"] == "61"
    assert "Demo organisation" in at.caption[0].value or any("Demo organisation" in c.value for c in at.caption)


def test_inventory_upload_lists_rejected_rows_and_keeps_the_rest():
    at = start()
    at.switch_page("pages/inventory.py").run()
    assert not at.exception
    csv = ("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
           "U1,<script>alert(1)</script>,openai,gpt-4o,100,low,public\n"
           "U2,=HYPERLINK(\"x\"),Azur OpenAI,gpt-4o,100,low,public\n")
    at.file_uploader(key="inventory_upload").upload("mine.csv", csv.encode(), "text/csv").run()
    assert not at.exception
    errors = at.dataframe[0].value
    assert list(errors["line"]) == [3] and list(errors["column"]) == ["channel"]
    assert "did you mean 'azure_openai'" in errors["message"][0]
    valid = at.dataframe[1].value
    assert list(valid["deployment_id"]) == ["U1"] and valid["name"][0] == "<script>alert(1)</script>"
    at.switch_page("pages/overview.py").run()
    assert {m.label: m.value for m in at.metric}["Rejected rows"] == "1"
