"""AppTest: a user uploads a cloud billing export (FOCUS), sees the proposed additions and spend
updates, confirms, and the assessment reruns on the new register."""

from __future__ import annotations

import io

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests import focus_samples as fs

APP = "../dashboard/app.py"


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/discovery.py").run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    pd.DataFrame(rows)[fs.FOCUS_10].to_csv(buf, index=False)
    return buf.getvalue().encode()


def test_billing_upload_proposes_additions_and_spend_updates_then_confirm_reassesses():
    at = _page()
    before_key = at.session_state["assessment_key"]  # the overview assessed the demo on the first run
    spend_before = at.session_state["inventory"].frame.set_index("deployment_id").loc["DEP-001", "annual_spend_usd"]
    data = _csv([
        fs.row("Microsoft", "Azure OpenAI Service", 1000.0, "/s/a", "gpt-4o Inp regnl Tokens", "westeurope",
               tags={"ai-deployment": "DEP-001"}),
        fs.row("AWS", "Amazon Bedrock", 300.0, "arn:x", "Claude 3.5 Sonnet input tokens", "us-east-1",
               tags={"ai-deployment": "<script>alert(1)</script>"}),
        fs.row("AWS", "Amazon Bedrock", 50.0, "arn:y", "Claude 3.5 Sonnet input tokens", "us-east-1", tags={}),
        fs.row("AWS", "Amazon EC2", 70.0, "i-1", "m7g", "us-east-1", service_category="Compute"),
    ])
    at.file_uploader(key="focus_upload").upload("aws-azure.csv", data, "text/csv").run()
    at.button(key="focus_read").click().run()
    assert not at.exception, at.exception
    # nothing replaced yet: the proposal waits for confirmation
    assert len(at.session_state["inventory"].frame) == 61
    text = " ".join(m.value for m in at.markdown)
    assert "1 new deployment(s), 1 update(s)" in text and "none removed" in text
    added = _table(at, "Provider (channel)")
    assert list(added["Deployment"]) == ["<script>alert(1)</script>"]
    assert list(added["Provider (channel)"]) == ["AWS Bedrock"] and list(added["Model"]) == ["claude-3.5-sonnet"]
    assert added["Annual spend"].iloc[0] == f"${300 * 365.25 / 31:,.0f}"  # whole dollars
    changed = _table(at, "Before")
    assert list(changed["Deployment"]) == ["DEP-001"] and changed["After"].iloc[0] == f"${1000 * 365.25 / 31:,.0f}"
    unplaced = _table(at, "Reason")
    assert "no 'ai-deployment' tag" in unplaced["Reason"].iloc[0] and "aws-azure.csv line 4" in unplaced["Examples"].iloc[0]
    at.button(key="discovery_confirm").click().run()
    assert not at.exception, at.exception
    frame = at.session_state["inventory"].frame.set_index("deployment_id")
    assert len(frame) == 62 and "DEP-002" in frame.index  # nothing removed
    assert frame.loc["DEP-001", "annual_spend_usd"] == round(1000 * 365.25 / 31, 2) != spend_before
    assert any("reassessed" in s.value and "62 deployments" in s.value for s in at.success)
    assert at.session_state["assessment_key"] != before_key
    assert at.session_state["register"]["version"] == 2


def test_billing_without_ai_rows_changes_nothing():
    at = _page()
    data = _csv([fs.row("AWS", "Amazon EC2", 70.0, "i-1", "m7g", "us-east-1", service_category="Compute")])
    at.file_uploader(key="focus_upload").upload("infra.csv", data, "text/csv").run()
    at.button(key="focus_read").click().run()
    assert not at.exception
    assert any("no AI service charges found in 1 billing rows" in e.value for e in at.error)
    assert "pending_upload" not in at.session_state and len(at.session_state["inventory"].frame) == 61
