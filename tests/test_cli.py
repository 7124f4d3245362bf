"""`python -m risk_models validate|template`: exit codes, JSON and messages without tracebacks.

The commands run in this process (tests/cli_run.py); one smoke test runs the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import openpyxl

from tests.cli_run import run_cli as run
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT


def test_python_m_risk_models_entry_point(tmp_path):
    """`python -m risk_models` itself: the arguments reach main, its output and exit code (0, and 2 for a
    file error) come back from the process."""
    p = subprocess.run([sys.executable, "-m", "risk_models", "validate", str(DEMO_INVENTORY), "--json", "-"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["valid_rows"] == 61 and "61 valid" in p.stderr
    p = subprocess.run([sys.executable, "-m", "risk_models", "validate", str(tmp_path / "nope.csv")],
                       capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and "file not found" in p.stderr and "Traceback" not in p.stderr


def test_validate_demo_exit_0_and_json(tmp_path):
    out = tmp_path / "v.json"
    p = run("validate", str(DEMO_INVENTORY), "--answers", str(DEMO_ANSWERS), "--json", str(out))
    assert p.returncode == 0, p.stderr
    report = json.loads(out.read_text())
    assert report["valid_rows"] == 61 and report["rejected"] == []
    assert report["channels"]["azure_openai"] == 24
    assert "61 valid" in p.stdout


def test_validate_messy_file_is_valid(tmp_path):
    f = tmp_path / "messy.csv"
    f.write_text("Deployment ID;Channel;Model;Annual Spend USD;Criticality;Data Sensitivity;Contract End\n"
                 'X1; aoai ;gpt-4o;"$54,500";HIGH;Internal;2027/03/22\n', encoding="utf-8-sig")
    p = run("validate", str(f), "--json", "-")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["channels"] == {"azure_openai": 1}


def test_validate_broken_rows_exit_1_with_line_column_value(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("deployment_id,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                 "A,openai,gpt-4o,10,low,public\nB,Azure OpenAl,gpt-4o,10,low,public\n")
    p = run("validate", str(f), "--json", "-")
    assert p.returncode == 1
    report = json.loads(p.stdout)
    assert report["valid_rows"] == 1
    assert report["rejected"][0] | {"message": ""} == {"line": 3, "deployment_id": "B", "column": "channel",
                                                        "value": "Azure OpenAl", "message": ""}
    assert "line 3 (B) column channel" in p.stderr  # the human summary goes to stderr when JSON is on stdout


def test_missing_column_binary_and_missing_files(tmp_path):
    f = tmp_path / "nocol.csv"
    f.write_text("deployment_id,model,annual_spend_usd,criticality,data_sensitivity\nA,gpt-4o,1,low,public\n")
    p = run("validate", str(f))
    assert p.returncode == 1 and "missing required column 'channel'" in p.stdout
    b = tmp_path / "x.csv"
    b.write_bytes(bytes(range(256)) * 10)
    p = run("validate", str(b))
    assert p.returncode == 2 and "binary file" in p.stderr and "Traceback" not in p.stderr
    p = run("validate", str(tmp_path / "nope.csv"))
    assert p.returncode == 2 and "file not found" in p.stderr and "Traceback" not in p.stderr
    p = run("validate")
    assert p.returncode == 2 and "usage" in p.stderr


def test_bad_answers_file_exit_1(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text("DEP-001:\n  users_affected: everyone\n")
    p = run("validate", str(DEMO_INVENTORY), "--answers", str(a))
    assert p.returncode == 1 and "users_affected" in p.stdout and "everyone" in p.stdout


def test_template_csv_and_xlsx(tmp_path):
    p = run("template", str(tmp_path / "t.csv"))
    assert p.returncode == 0
    assert (tmp_path / "t.csv").read_text().splitlines()[1].startswith("# ")
    p = run("template", "--format", "xlsx", str(tmp_path / "t.xlsx"))
    assert p.returncode == 0
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames == ["Inventory", "Columns"] and wb["Inventory"]["A1"].value == "deployment_id"
    # the template itself imports cleanly (no rows, no errors)
    p = run("validate", str(tmp_path / "t.csv"))
    assert p.returncode == 0


def test_validate_names_channels_as_people_know_them():
    p = run("validate", str(DEMO_INVENTORY))
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if x.startswith("Deployments per channel:"))
    assert "Azure OpenAI" in line and "azure_openai" not in line
