"""Issue 13: every command refuses a directory, a missing directory and an input as its output (exit 2,
one line, no traceback); the listed reproductions are one-line errors too."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from risk_models.cli.main import main
from risk_models.storage.db import data_dir
from tests.cli_run import CliResult, run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT

INV = str(DEMO_INVENTORY)
# (argv before the output, how the output is given, argv after): every command that writes a file
COMMANDS = [
    (["validate", INV, "--answers", str(DEMO_ANSWERS)], "--json", []),
    (["assess", INV], "--json", []),
    (["assess", INV], "--pdf", []),
    (["assess", INV], "--xlsx", []),
    (["assess", INV], "--csv", []),
    (["assess", INV], "--md", []),
    (["exit-plan", INV, "--deployment", "DEP-001"], "--out", []),
    (["whatif", INV, "--apply-top", "high"], "--json", []),
    (["history", "list"], "--json", []),
    (["history", "show", "1"], "--json", []),
    (["history", "diff", "1", "2"], "--json", []),
    (["history", "export", "1"], None, []),
    (["template"], None, []),
]


def _argv(before, flag, out, after):
    return [*before, *([flag, out] if flag else [out]), *after]


def _input_for(before) -> str | None:
    if before[0] in ("validate", "assess", "exit-plan", "whatif"):
        return INV
    if before[0] == "history":
        return str(data_dir() / "assessments.sqlite")  # the database is an input of every history command
    return None


def _sha256(path: str) -> str | None:
    """The content's digest (None: no such file)."""
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


@pytest.mark.parametrize("before,flag,after", COMMANDS, ids=lambda x: " ".join(x) if isinstance(x, list) else x)
def test_every_output_refuses_directory_missing_directory_and_input(tmp_path, capsys, before, flag, after):
    cases = {"directory": (str(tmp_path), "is a directory"),
             "missing directory": (str(tmp_path / "nope" / "out.file"), "does not exist")}
    inputs = [str(DEMO_INVENTORY), *([_input_for(before)] if _input_for(before) else [])]
    if _input_for(before):
        cases["input"] = (_input_for(before), "refusing to overwrite the input")
    digests = {path: _sha256(path) for path in inputs}
    assert digests[str(DEMO_INVENTORY)] is not None
    for name, (out, message) in cases.items():
        code = main(_argv(before, flag, out, after))
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert message in err and len(err.strip().splitlines()) == 1, (name, err)
    assert {path: _sha256(path) for path in inputs} == digests  # the inputs are untouched (or still absent)


def test_two_outputs_onto_the_same_file_are_refused(tmp_path, capsys):
    out = str(tmp_path / "r.out")
    assert main(["assess", INV, "--csv", out, "--md", out]) == 2
    assert "name the same file" in capsys.readouterr().err


def run(*args: str, env: dict | None = None, cwd: Path = ROOT) -> CliResult:
    return run_cli(*args, env=env, cwd=cwd)  # in this process; cwd matters for outputs such as "."


def _one_line_exit_2(p: CliResult, needle: str) -> None:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert needle in p.stderr


@pytest.mark.parametrize("args,needle", [
    (["validate", INV, "--json", "."], "is a directory"),
    (["exit-plan", INV, "--deployment", "DEP-001", "--out", "."], "is a directory"),
    (["whatif", INV, "--apply-top", "high", "--json", "."], "is a directory"),
    (["history", "export", "1", "."], "is a directory"),
    (["assess", INV, "--seed", "-1"], "--seed -1"),
    (["assess", INV, "--trials", "100000000"], "--trials 100,000,000"),
    (["exit-plan", INV, "--deployment", "DEP-001", "--trials", "100000000"], "--trials"),
    (["assess", INV, "--csv", INV], "refusing to overwrite the input"),
])
def test_listed_reproductions_are_one_line_errors(tmp_path, args, needle):
    _one_line_exit_2(run(*args, env={"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}), needle)


def test_data_directory_under_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    _one_line_exit_2(run("history", "list", env={"AI_VENDOR_RISK_DATA_DIR": str(f / "sub")}),
                     "cannot create the data directory")


@pytest.mark.parametrize("url", ["postgresql+psycopg://u:secret@127.0.0.1:abc/db",
                                 "postgresql+psycopg://u:secret@127.0.0.1:99999/db"])
def test_database_url_with_a_bad_port(url):
    p = run("history", "list", env={"DATABASE_URL": url})
    _one_line_exit_2(p, "127.0.0.1")
    assert "secret" not in p.stderr


def test_config_with_an_impossible_date(tmp_path):
    cfg = tmp_path / "config"
    shutil.copytree(ROOT / "config", cfg)
    path = cfg / "scenarios.yaml"
    text = path.read_text()
    path.write_text(text.replace(text[text.index("as_of:"):].split("\n", 1)[0], "as_of: 2026-13-45", 1))
    p = run("--config", str(cfg), "validate", INV)
    _one_line_exit_2(p, "scenarios.yaml")
    assert "month must be in 1..12" in p.stderr


def test_failing_export_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    from risk_models.report import pdf  # the CLI imports the renderer where it writes the PDF

    def broken(*_a, **_k):
        raise RuntimeError("renderer exploded")
    monkeypatch.setattr(pdf, "render_pdf", broken)
    code = main(["assess", INV, "--trials", "200", "--pdf", str(tmp_path / "r.pdf"), "--csv", str(tmp_path / "r.csv"),
                 "--md", str(tmp_path / "r.md"), "--json", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and "PDF export failed" in err and "renderer exploded" in err
    assert not (tmp_path / "r.pdf").exists()
    # the other three were written in full
    assert len(json.loads((tmp_path / "r.json").read_text())["deployments"]) == 61
    csv_lines = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert csv_lines[0].startswith("Deployment,") and len(csv_lines) == 62
    assert "Deployments assessed: 61" in (tmp_path / "r.md").read_text()


def test_history_import_of_an_unsigned_export_needs_trust(tmp_path):
    env = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}
    assert run("history", "save", INV, "--label", "Q3", "--trials", "200", env=env).returncode == 0
    out = tmp_path / "e.json"
    assert run("history", "export", "1", str(out), env=env).returncode == 0
    doc = json.loads(out.read_text())
    doc.pop("signature")
    out.write_text(json.dumps(doc))
    other = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path / "other")}  # its own database already holds this content
    p = run("history", "import", str(out), env=other)
    _one_line_exit_2(p, "unsigned")
    p = run("history", "import", str(out), "--trust", env=other)
    assert p.returncode == 0 and "imported as assessment 1" in p.stdout


def test_xlsx_sheet_notice_and_money_bound_in_the_cli(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.title = "Inventory"
    wb.active.append(["deployment_id", "channel", "model", "annual_spend_usd", "criticality", "data_sensitivity"])
    wb.active.append(["A", "openai", "gpt-4o", "2000", "low", "public"])
    wb.active.append(["B", "openai", "gpt-4o", "1e308", "low", "public"])
    wb.create_sheet("Notes")
    f = tmp_path / "inv.xlsx"
    wb.save(f)
    p = run("validate", str(f), "--max-usd", "1000")
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "read sheet 'Inventory'; other sheets not read: 'Notes'" in p.stderr
    assert "larger than the limit of $1,000" in p.stdout and p.stdout.count("larger than the limit") == 2
    out = tmp_path / "r.json"
    p = run("assess", str(f), "--skip-invalid", "--trials", "200", "--json", str(out))
    assert p.returncode == 0, p.stderr
    json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-standard JSON number {c}"))


def test_user_text_in_messages_never_reaches_the_terminal_raw(tmp_path):
    f = tmp_path / "esc.csv"
    f.write_text("deployment_id,channel,model,annual_spend_usd,criticality,data_sensitivity,proprietary_features,"
                 "\x1b[2Jcol\n\x1b]0;id,openai,gpt-4o,1,low,public,\x1b[31mred\n", encoding="utf-8")
    p = run("validate", str(f))
    assert p.returncode == 1 and "unknown proprietary feature" in p.stdout
    assert "\x1b" not in p.stdout + p.stderr
