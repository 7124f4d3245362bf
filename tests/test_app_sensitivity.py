"""AppTest: the Scenarios page's sensitivity tornado draws the engine's ranked changes."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from risk_models.engine.sensitivity import rank, swing

APP = "../dashboard/app.py"  # AppTest resolves paths relative to this test file


def _values(arr) -> list[float]:
    """Plotly sends numeric arrays as base64 {dtype, bdata}, or as plain lists."""
    if isinstance(arr, dict):
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return list(arr)


def _tornado(at: AppTest) -> dict:
    charts = [c for c in at.get("plotly_chart") if "sensitivity_tornado" in c.proto.id]
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def test_scenarios_page_draws_the_tornado_and_reranks():
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    at.switch_page("views/scenarios.py").run()
    assert not at.exception, at.exception
    assert any(s.value == "What the numbers rest on" for s in at.subheader)
    from dashboard.state.assessment import _sensitivity  # the cached result the page drew
    key = at.session_state["assessment_key"]
    fig = _tornado(at)
    low, high = fig["data"]
    assert (low["name"], high["name"]) == ("×0.5", "×1.5")
    s = _sensitivity(key, None)  # a cache hit: the page computed it under this key
    expected = [r for r in rank(s["rows"], "expected_loss") if swing(r, "expected_loss")][:15][::-1]
    assert low["y"] == [r["label"] for r in expected]  # labels, largest on top
    assert np.allclose(_values(high["x"]), [r["expected_loss_high_usd"] for r in expected])
    assert np.allclose(_values(low["x"]), [r["expected_loss_low_usd"] for r in expected])
    assert low["y"][-1] == "Base vulnerability"
    assert "base: $" in json.dumps(fig["layout"]["annotations"], ensure_ascii=False)
    # ranked by critical deployments instead: the calibration constant never appears (it moves no rating)
    at.radio(key="sensitivity_metric").set_value("critical").run()
    assert not at.exception, at.exception
    fig = _tornado(at)
    labels = fig["data"][0]["y"]
    assert "Calibration constant of the 0–100 score" not in labels
    crit = [r for r in rank(s["rows"], "critical") if swing(r, "critical")][:15][::-1]
    assert labels == [r["label"] for r in crit]
    at.radio(key="sensitivity_metric").set_value("mean_score").run()
    assert "Calibration constant of the 0–100 score" in _tornado(at)["data"][0]["y"]
    table = at.dataframe[-1].value
    assert list(table.columns[:4]) == ["Assumption", "Kind", "Value in use", "Basis"]
    assert table["Assumption"].iat[0] == rank(s["rows"], "mean_score")[0]["label"]
