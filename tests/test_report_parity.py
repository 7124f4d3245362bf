"""One report, every front end: the app's JSON download is byte for byte what `assess --json` writes for the
same inputs (apart from the time it was generated)."""

from __future__ import annotations

import re

from dashboard.state.reports import _report_bytes
from dashboard.state.session import SEED, TRIALS
from dashboard.state.workspace import demo_inputs
from risk_models.cli.main import main
from risk_models.config.loader import load_library, with_profile
from risk_models.engine.assessment import assess
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT


def _without_clock(data: bytes) -> bytes:
    return re.sub(rb'"generated_at": "[^"]*"', b'"generated_at": ""', data)


def test_app_json_download_equals_the_cli_json(tmp_path):
    out = tmp_path / "cli.json"
    assert main(["assess", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--profile",
                 str(ROOT / "config" / "demo" / "profile.yaml"), "--json", str(out)]) == 0
    demo = demo_inputs()  # what the app starts every session on
    lib = with_profile(load_library(), demo.profile)
    a = assess(demo.result, demo.answers, lib, trials=TRIALS, seed=SEED)
    app = _report_bytes("parity", lib.profile.name, "json", None, "", a, None, None)
    cli = out.read_bytes()
    assert b'"labels"' in cli and b'"scenario_pack"' in cli  # the header both write
    assert _without_clock(app) == _without_clock(cli)
