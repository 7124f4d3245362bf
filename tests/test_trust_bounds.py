"""Issue 27 §6: every reader bounded in time and memory — ML-BOM, FOCUS, profile, logos, scenario packs.
Refusals are measured in a fresh subprocess: < 2 s and < 200 MB over interpreter start-up and imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

MEASURE = r"""
import json, resource, sys, time
kind, path = sys.argv[1], sys.argv[2]
from pathlib import Path
data = Path(path).read_bytes()
if kind == "mlbom":
    from risk_models.discovery.mlbom import read_mlbom
    from risk_models.discovery.rules import load_discovery
    disc = load_discovery()
    run = lambda: read_mlbom(data, "bom.json", disc)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    result = run()
    error = None
except Exception as exc:
    result, error = None, f"{type(exc).__name__}: {exc}"
print(json.dumps({"seconds": time.perf_counter() - t0, "error": error, "n": len(result or []),
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""


def _measure(tmp_path, kind: str, data: bytes) -> dict:
    path = tmp_path / "input"
    path.write_bytes(data)
    p = subprocess.run([sys.executable, "-c", MEASURE, kind, str(path)], capture_output=True, text=True, cwd=ROOT,
                       timeout=180)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _bom(n: int, duplicate: bool = False) -> bytes:
    comps = [{"type": "machine-learning-model", "bom-ref": f"m{i}", "name": f"model-{i}", "version": "1",
              "properties": [{"name": "ai-vendor-risk:deployment_id", "value": f"D{i}"}]} for i in range(n)]
    if duplicate:
        comps.append(dict(comps[0]))
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": comps}).encode()


def test_an_oversized_mlbom_is_refused_fast_and_small(tmp_path):
    """The reproduction: 8,000 components took 55 s (a 6.8 MB BOM was killed after 120 s)."""
    r = _measure(tmp_path, "mlbom", _bom(8000))
    assert r["error"] and "8,000 components; at most 5,000" in r["error"], r
    assert r["seconds"] < 2.0 and r["growth_mb"] < 200, r
    print(f"ML-BOM 8,000 components: refused in {r['seconds']:.3f} s, {r['growth_mb']:.0f} MB")


def test_mlbom_reading_is_linear(tmp_path):
    """2,000 and 4,000 components took 7 and 20 s (a pairwise uniqueness check, a sorting library);
    now the time per component stays flat."""
    small, large = _measure(tmp_path, "mlbom", _bom(1000)), _measure(tmp_path, "mlbom", _bom(4000))
    assert small["n"] == 1000 and large["n"] == 4000 and not large["error"]
    assert large["seconds"] < 8 * max(small["seconds"], 0.05), (small, large)  # 4x the input, not 16x the time
    assert large["seconds"] < 6.0, large
    print(f"ML-BOM 1,000: {small['seconds']:.2f} s; 4,000: {large['seconds']:.2f} s")


def test_mlbom_duplicates_are_still_refused_by_the_schema(tmp_path):
    r = _measure(tmp_path, "mlbom", _bom(3, duplicate=True))
    assert r["error"] and "repeats an earlier item" in r["error"], r


@pytest.fixture
def _disc():
    from risk_models.discovery.rules import load_discovery
    return load_discovery()


def test_mlbom_components_are_read_as_before(_disc):
    from risk_models.discovery.mlbom import read_mlbom
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
        {"type": "application", "bom-ref": "app", "name": "app", "components": [
            {"type": "machine-learning-model", "bom-ref": "b", "name": "llama", "version": "3",
             "supplier": {"name": "Meta"}, "modelCard": {"modelParameters": {"task": "chat"},
                                                         "considerations": {"useCases": ["a", "b"]}}}]},
        {"type": "machine-learning-model", "bom-ref": "a", "name": "gpt-4o", "publisher": "OpenAI",
         "properties": [{"name": _disc.mlbom.deployment_property, "value": " DEP-1 "}]}]}
    got = read_mlbom(json.dumps(doc).encode(), "b.json", _disc)
    assert [(m.name, m.supplier, m.deployment, m.task, m.use_cases) for m in got] == [
        ("gpt-4o", "OpenAI", "DEP-1", "", ""), ("llama", "Meta", "", "chat", "a; b")]


# --- FOCUS ----------------------------------------------------------------------------------------------
def _focus(tmp_path, rows: list[dict], name: str = "bill.csv"):
    import pandas as pd

    from tests import focus_samples as fs
    return fs.write_csv(pd.DataFrame(rows)[fs.FOCUS_10], tmp_path / name)


def _aoai(cost: float, start: str = "2026-08-01T00:00:00Z", end: str = "2026-09-01T00:00:00Z") -> dict:
    from tests import focus_samples as fs
    r = fs.row("Microsoft", "Azure OpenAI Service", cost, "/s/aoai-1", "gpt-4o Inp glbl Tokens", "westeurope")
    return r | {"BillingPeriodStart": start, "BillingPeriodEnd": end}


def test_a_one_second_billing_period_is_not_annualised(tmp_path):
    """The reproduction: a 1-second billing period was annualised x31,557,600 into a $373 bn draft (exit 0)."""
    from tests.cli_run import run_cli
    f = _focus(tmp_path, [_aoai(11_820.0, "2026-08-01T00:00:00Z", "2026-08-01T00:00:01Z")])
    out = tmp_path / "draft.csv"
    p = run_cli("discover", "focus", f, "--out", out)
    assert p.returncode != 0 and "billing period is shorter than 28 days" in p.stderr, p.stderr
    assert not out.exists() or "373" not in out.read_text()


def test_an_overflowing_cost_is_refused_not_written_as_inf(tmp_path):
    from tests.cli_run import run_cli
    f = _focus(tmp_path, [_aoai(1e308), _aoai(1e308)])
    out = tmp_path / "draft.csv"
    p = run_cli("discover", "focus", f, "--out", out)
    assert "is beyond 100,000,000,000 on one row" in p.stderr, p.stderr
    assert not out.exists() or "inf" not in out.read_text().lower()


def test_a_duplicate_cost_column_is_refused(tmp_path):
    from tests.cli_run import run_cli
    f = _focus(tmp_path, [_aoai(100.0)])
    lines = f.read_text().splitlines()
    lines[0] += ",EffectiveCost"  # the cost column in use (EffectiveCost before BilledCost)
    lines[1] += ",999999"
    f.write_text("\n".join(lines) + "\n")
    p = run_cli("discover", "focus", f, "--out", tmp_path / "draft.csv")
    assert p.returncode == 2 and "EffectiveCost appear more than once" in p.stderr, p.stderr


# --- profile and answers ----------------------------------------------------------------------------------
def test_a_profile_currency_outside_iso_4217_is_a_config_error(tmp_path, lib):
    from risk_models.config.loader import ConfigError, load_profile
    f = tmp_path / "profile.yaml"
    f.write_text("name: Example\ndora:\n  currency: E$\n")
    with pytest.raises(ConfigError, match=r"dora.currency.*'E\$' is not an ISO 4217 currency code"):
        load_profile(f, lib.regimes)
    f.write_text("name: Example\ndora:\n  currency: gbp\n")
    assert load_profile(f, lib.regimes).dora.currency == "GBP"


def test_an_rto_of_1e308_hours_is_refused_naming_the_range(lib):
    from risk_models.questionnaire.answers import validate_answers
    answers, errors = validate_answers({"DEP-001": {"rto_hours": 1e308, "rpo_hours": 24}}, lib.questions, ["DEP-001"])
    assert answers == {"DEP-001": {"rpo_hours": 24.0}}
    assert len(errors) == 1 and "from 0 to 87,660" in errors[0].message and errors[0].deployment_id == "DEP-001"


# --- logos ------------------------------------------------------------------------------------------------
LOGO_MEASURE = r"""
import base64, json, resource, sys, time
from pathlib import Path
from risk_models.config.profile import encode_logo
from risk_models.report.pdf import _logo
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    if sys.argv[2] == "profile":
        encode_logo(data)
        error = None
    else:  # a PDF whose profile holds the logo (as a profile saved before the checks would)
        _, error = _logo(data, 100.0, 100.0)
except ValueError as exc:
    error = str(exc)
print(json.dumps({"seconds": time.perf_counter() - t0, "error": error,
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""


def _png(size: tuple[int, int], mode: str = "1") -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG", optimize=True)
    return buf.getvalue()


@pytest.mark.parametrize("where", ["profile", "pdf"])
def test_a_decompression_bomb_logo_is_refused_fast_and_small(tmp_path, where):
    """The reproduction: a 17.6 KB 12000 x 12000 PNG took the server to 1.6 GB during the PDF."""
    bomb = _png((12000, 12000))
    assert len(bomb) < 100_000
    path = tmp_path / "logo.png"
    path.write_bytes(bomb)
    p = subprocess.run([sys.executable, "-c", LOGO_MEASURE, str(path), where], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["error"] and "at most 4,000 pixels a side" in r["error"], r
    assert r["seconds"] < 2.0 and r["growth_mb"] < 200, r
    print(f"logo bomb ({where}): refused in {r['seconds']:.3f} s, {r['growth_mb']:.0f} MB")


def test_a_truncated_png_is_refused_and_a_saved_one_is_named_in_the_pdf(lib):
    import base64

    from risk_models.config.profile import encode_logo
    from risk_models.report.pdf import render_pdf
    good = _png((300, 120), "RGB")
    truncated = good[: len(good) // 2]
    with pytest.raises(ValueError, match="cannot be read as a PNG image"):
        encode_logo(truncated)
    assert encode_logo(good)
    # a profile saved before the check: the PDF is still made, and says why the logo is missing
    from risk_models.engine.assessment import assess
    from risk_models.inventory.read import import_inventory
    from risk_models.report.json_report import report
    from tests.conftest import DEMO_INVENTORY
    rep = report(assess(import_inventory(DEMO_INVENTORY, lib), {}, lib, trials=200))
    rep["organisation_profile"] = {**(rep.get("organisation_profile") or {}),
                                   "logo": base64.b64encode(truncated).decode()}
    pdf = render_pdf(rep)
    assert pdf.startswith(b"%PDF")
    import subprocess as sp
    text = sp.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    assert "Logo not shown: the logo cannot be read as a PNG image" in " ".join(text.split())


# --- scenario packs ---------------------------------------------------------------------------------------
PACK_MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
from risk_models.config.loader import load_library
from risk_models.scenarios.pack import parse_pack
lib = load_library()
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    parse_pack(data, "pack.yaml", lib)
    error = None
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({"seconds": time.perf_counter() - t0, "error": error,
                  "growth_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}))
"""


def _pack_with(n_events: int) -> bytes:
    import copy

    import yaml
    raw = yaml.safe_load((ROOT / "config" / "scenarios.yaml").read_text())
    base, events = raw["events"], []
    for i in range(n_events):
        e = copy.deepcopy(base[i % len(base)])
        e["id"] = f"{e['id']}_{i}"
        for o in e["outcomes"]:
            o["id"] = f"{o['id']}_{i}"
        events.append(e)
    raw["events"] = events
    return yaml.safe_dump(raw).encode()


@pytest.mark.parametrize("n_events, message", [(650, "KB is too large for a scenario pack"),
                                               (150, "150 events with")])
def test_an_oversized_scenario_pack_is_refused_fast_and_small(tmp_path, n_events, message):
    """The reproduction: a 1.98 MB pack with 650 events against 20,000 rows tried to allocate 5.35 GiB."""
    path = tmp_path / "pack.yaml"
    path.write_bytes(_pack_with(n_events))
    p = subprocess.run([sys.executable, "-c", PACK_MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["error"] and message in r["error"], r
    assert r["seconds"] < 2.0 and r["growth_mb"] < 200, r
    print(f"pack of {n_events} events ({path.stat().st_size / 1024:,.0f} KB): refused in {r['seconds']:.3f} s, "
          f"{r['growth_mb']:.0f} MB")


def test_the_shipped_pack_is_well_inside_the_bounds(lib):
    from risk_models.scenarios.pack import MAX_PACK_BYTES, MAX_PACK_EVENTS, MAX_PACK_OUTCOMES, parse_pack
    data = (ROOT / "config" / "scenarios.yaml").read_bytes()
    sf = parse_pack(data, "scenarios.yaml", lib)
    assert len(data) * 10 < MAX_PACK_BYTES and len(sf.events) * 3 < MAX_PACK_EVENTS
    assert sum(len(e.outcomes) for e in sf.events) * 3 < MAX_PACK_OUTCOMES
