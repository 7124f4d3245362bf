"""AppTest: the Overview's two lenses add up; the Cases page lists every case, opens one, stresses it
(the same figures as `assess --stress`) and offers the dates to watch as a calendar file."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT

DEMO_PROFILE = ROOT / "config" / "demo" / "profile.yaml"

APP = "../dashboard/app.py"


def _start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def _dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", "").replace("k", "e3").replace("M", "e6"))


def test_overview_shows_both_lenses_and_ranks_by_either():
    at = _start()
    values = {m.label: m for m in at.metric}
    assert "Litigation & regulatory" in values and "Operational baseline" in values
    helps = [values[k].help for k in ("Litigation & regulatory", "Operational baseline", "Expected annual loss")]
    lit, ops, total = (float(h.split("$")[1].split(" ")[0].replace(",", "").rstrip(":")) for h in helps)
    assert abs(lit + ops - total) <= 2  # whole dollars, each rounded
    first = at.dataframe[-1].value["Deployment"].iloc[0]
    at.segmented_control(key="overview_rank_by").set_value("Litigation & regulatory").run()
    assert not at.exception
    ranked = at.dataframe[-1].value
    assert list(ranked["Litigation & regulatory / yr"]) == sorted(ranked["Litigation & regulatory / yr"], reverse=True)
    assert ranked["Deployment"].iloc[0] != first  # the demo's top deployment by score is not its top by this lens


def test_cases_page_lists_opens_and_stresses_a_case(tmp_path):
    at = _start()
    at.switch_page("views/cases.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    from risk_models.config.loader import load_library
    assert len(table) == len(load_library().scenarios.events) and (table["Next date"] != "").all()
    at.selectbox(key="case_open").set_value("musk_v_openai_appeal").run()
    assert not at.exception
    at.button(key="case_stress_btn").click().run()
    assert not at.exception, at.exception
    shown = {m.label: m for m in at.metric if m.label in ("Expected annual loss", "VaR 95 (annual)")}
    out = tmp_path / "stress.json"
    # the demo workspace's profile (Example Bank plc: regimes, risk appetite), as the app assesses it
    r = run_cli("assess", DEMO_INVENTORY, "--answers", DEMO_ANSWERS, "--profile", DEMO_PROFILE,
                "--stress", "musk_appeal_reversed", "--json", out)
    assert r.returncode == 0, r.stderr
    cli = json.loads(out.read_text())["stress"]["portfolio"]
    assert shown["Expected annual loss"].value == f"${cli['expected_annual_loss_usd']['after']:,.0f}"
    assert shown["VaR 95 (annual)"].value == f"${cli['var95_usd']['after']:,.0f}"
    assert sum('class="risk-matrix"' in h.proto.body for h in at.get("html")) == 2  # before and after
