"""Issue 13: every resource-exhaustion file is refused within 2 s and under 200 MB of memory growth,
measured in a fresh subprocess (peak RSS from `resource` against the RSS after imports)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

import openpyxl
import pytest

from tests.conftest import DEMO_INVENTORY, ROOT, rewrite_zip_member

MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
from risk_models.questionnaire.answers import read_answers_file
from risk_models.cli.main import main
from risk_models.config.loader import load_library
from risk_models.inventory.read import import_bytes
from risk_models.io.safe_yaml import load_user_json
lib = load_library()
kind, path = sys.argv[1], Path(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    if kind == "answers":
        read_answers_file(path)
    elif kind == "inventory":
        import_bytes(path.read_bytes(), path.name, lib)
    elif kind == "history":
        load_user_json(path.read_text())
    elif kind == "cli":
        code = main(json.loads(path.read_text()))
        raise SystemExit(f"exit {code}")
    error = None
except BaseException as exc:
    error = f"{type(exc).__name__}: {exc}"
elapsed = time.perf_counter() - t0
growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"seconds": elapsed, "growth_mb": growth, "error": error}))
"""


def _billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, 9):
        prev, cur = chr(ord("a") + k - 1), chr(ord("a") + k)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("DEP-001: {exit_plan_exists: *i}")
    return ("\n".join(lines) + "\n").encode()


def _sparse_xlsx(keep_dimension: bool) -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "deployment_id"
    wb.active["XFD1048576"] = "far away"
    buf = io.BytesIO()
    wb.save(buf)
    if keep_dimension:
        return buf.getvalue()
    return rewrite_zip_member(buf.getvalue(), "xl/worksheets/sheet1.xml", lambda x: re.sub(rb"<dimension[^>]*/>", b"", x))


def _xml_bomb() -> bytes:
    """A workbook whose sheet XML expands ~1000 to 1 (the 5.8 MB -> 1.2 GB attack, scaled down)."""
    wb = openpyxl.Workbook()
    wb.active.append(["deployment_id", "channel"])
    buf = io.BytesIO()
    wb.save(buf)
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
    return rewrite_zip_member(buf.getvalue(), "xl/worksheets/sheet1.xml",
                    lambda x: x.replace(b"</sheetData>", row * 600_000 + b"</sheetData>"))


def _deep_json() -> bytes:
    return b"[" * 5_000_000 + b"]" * 5_000_000


CASES = {
    "billion-laughs answers (YAML)": ("answers", "a.yaml", _billion_laughs, "aliases"),
    "deep answers (JSON)": ("answers", "a.json", lambda: b'{"x":' * 200_000 + b"1" + b"}" * 200_000, "nested deeper"),
    "deep answers (YAML)": ("answers", "a.yaml", lambda: b"[" * 200_000 + b"]" * 200_000, "nested deeper"),
    "sparse XLSX (declared dimension)": ("inventory", "s.xlsx", lambda: _sparse_xlsx(True), "1,048,576 rows"),
    "sparse XLSX (no dimension)": ("inventory", "s.xlsx", lambda: _sparse_xlsx(False), "1,048,576 rows"),
    "XLSX expanding 1000 to 1": ("inventory", "b.xlsx", _xml_bomb, "to 1"),
    "deeply nested inventory JSON": ("inventory", "d.json", _deep_json, "nested deeper"),
    "deeply nested history export": ("history", "h.json", _deep_json, "nested deeper"),
    "--trials 10^8": ("cli", "argv.json", lambda: json.dumps(["assess", str(DEMO_INVENTORY), "--trials", "100000000"])
                      .encode(), "exit 2"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_file_is_refused_fast_and_small(tmp_path, name):
    kind, filename, make, message = CASES[name]
    path = tmp_path / filename
    path.write_bytes(make())
    p = subprocess.run([sys.executable, "-c", MEASURE, kind, str(path)], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["error"] and message in r["error"], r
    assert "RecursionError" not in r["error"] and "MemoryError" not in r["error"]
    assert r["seconds"] < 2.0, r
    assert r["growth_mb"] < 200, r
