"""The XLSX workbook and the CSV are for people: labelled headers, labels for coded values, real date
cells, percentages as percentages, whole dollars, a README sheet; the Fallbacks sheet ranks options as
the app does. The machine form stays available (`--csv --ids`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from risk_models.config.loader import load_profile, with_profile
from risk_models.engine.assessment import assess
from risk_models.fallbacks.recommend import option_verdict, recommendations_of
from risk_models.inventory.read import import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT

SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("xlsx")
    out = tmp / "r.xlsx"
    r = run_cli("assess", DEMO_INVENTORY, "--answers", DEMO_ANSWERS, "--profile", ROOT / "config/demo/profile.yaml",
                "--trials", "500", "--xlsx", out, "--csv", tmp / "people.csv")
    assert r.returncode == 0, r.stderr
    return load_workbook(out), tmp


def test_headers_are_labels_and_the_readme_says_what_each_sheet_is(workbook):
    wb, _ = workbook
    assert wb.sheetnames[0] == "README"
    readme = {r[0].value: r[1].value for r in wb["README"].iter_rows(min_row=2) if r[0].value}
    assert all(name in readme for name in wb.sheetnames if name != "README")
    assert readme["Inputs hash (SHA-256)"] and "as of" in readme["Scenario pack"]
    for ws in wb.worksheets:
        headers = [c.value for c in ws[1]]
        assert not [h for h in headers if SNAKE.match(str(h))], ws.title
        assert ws.auto_filter.ref, ws.title  # filters on every header


def test_cells_are_dates_percentages_and_whole_dollars_with_labels(workbook):
    wb, _ = workbook
    ws = wb["Deployments"]
    head = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(head, ws[2], strict=True)}
    assert isinstance(row["Contract ends"].value, dt.datetime) and row["Contract ends"].number_format == "d mmm yyyy"
    assert row["Annual spend"].number_format.startswith('"$"#,##0') and ".00" not in row["Annual spend"].number_format
    channels = {r[head.index("Channel")].value for r in ws.iter_rows(min_row=2)}
    assert "Azure OpenAI" in channels and "azure_openai" not in channels
    scen = wb["Scenarios"]
    shead = [c.value for c in scen[1]]
    p = scen.cell(row=2, column=shead.index("Probability used") + 1)
    assert p.number_format == "0.0%" and 0 <= p.value <= 1


def test_the_fallbacks_sheet_ranks_options_as_the_app_does(workbook, lib):
    wb, _ = workbook
    demo_lib = with_profile(lib, load_profile(ROOT / "config/demo/profile.yaml", lib.regimes))
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), demo_lib.questions)
    a = assess(import_inventory(DEMO_INVENTORY, demo_lib), answers, demo_lib, trials=500)
    rec = recommendations_of(a)
    ws = wb["Fallbacks"]
    head = [c.value for c in ws[1]]
    sheet: dict[str, list[tuple]] = {}
    for r in ws.iter_rows(min_row=2, values_only=True):
        sheet.setdefault(r[0], []).append((r[head.index("Option")], r[head.index("Verdict")],
                                           r[head.index("Loss avoided / yr")]))
    for i, dep in enumerate(a.frame["deployment_id"]):
        app = [(x["label"], option_verdict(x), round(x["expected_loss_reduction_usd"], 2) if x["feasible"] else None)
               for x in rec.records(i, demo_lib)]
        got = [(o, v, round(x, 2) if x is not None else None) for o, v, x in sheet[dep]]
        assert got == app, dep


def test_csv_for_people_and_the_machine_form(workbook, tmp_path):
    _, tmp = workbook
    rows = list(csv.DictReader(io.StringIO((tmp / "people.csv").read_text(encoding="utf-8"))))
    assert "Deployment" in rows[0] and "Channel" in rows[0] and rows[0]["Channel"] != "azure_openai"
    assert re.fullmatch(r"-?\d+", rows[0]["Annual spend"])  # whole dollars
    out = tmp_path / "ids.csv"
    r = run_cli("assess", DEMO_INVENTORY, "--trials", "200", "--csv", out, "--ids")
    assert r.returncode == 0, r.stderr
    machine = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert "deployment_id" in machine[0] and machine[0]["channel"] in ("azure_openai", "openai_api", "aws_bedrock",
                                                                       "google_vertex", "anthropic_api", "self_hosted")
