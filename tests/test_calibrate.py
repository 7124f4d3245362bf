"""`scenarios calibrate`: outage frequency and duration fitted from incident histories."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk_models.scenarios.calibrate import Options, calibrate
from risk_models.scenarios.incidents import IncidentFileError, read_incident_file
from risk_models.scenarios.intervals import gamma_p, gamma_ppf, poisson_rate_interval, t_cdf, t_ppf
from tests.cli_run import run_cli

FIX = Path(__file__).parent / "fixtures" / "incidents"
OPENAI = FIX / "statuspage_openai_2024.json"
SYNTH = FIX / "statuspage_synthetic.json"
REVIEWS = FIX / "post_incident_reviews_synthetic.csv"


@pytest.mark.parametrize(("q", "shape", "expected"), [
    (0.95, 1, 2.995732),  # -ln 0.05: the Garwood upper bound for zero events
    (0.95, 5, 18.307038 / 2),  # chi-square(10) 95 % / 2
    (0.05, 5, 3.940299 / 2),  # chi-square(10) 5 % / 2
    (0.95, 200, 447.632468 / 2),
])
def test_gamma_quantiles_match_chi_square_tables(q, shape, expected):
    assert gamma_ppf(q, shape) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("q", "df", "expected"), [(0.95, 10, 1.812461), (0.975, 5, 2.570582), (0.95, 1, 6.313752),
                                                   (0.05, 3, -2.353363), (0.95, 1000, 1.646379)])
def test_t_quantiles_match_tables(q, df, expected):
    assert t_ppf(q, df) == pytest.approx(expected, rel=1e-6)


@given(st.integers(0, 500), st.floats(0.05, 50), st.floats(0.5, 0.99))
@settings(max_examples=60, deadline=None)
def test_poisson_interval_brackets_the_rate_and_inverts(n, years, level):
    lo, hi = poisson_rate_interval(n, years, level)
    assert 0 <= lo <= n / years <= hi
    tail = (1 - level) / 2
    assert gamma_p(n + 1, hi * years) == pytest.approx(1 - tail, abs=1e-8)
    if n:
        assert gamma_p(n, lo * years) == pytest.approx(tail, abs=1e-8)
    wider = poisson_rate_interval(n, years, min(level + 0.005, 0.995))
    assert wider[0] <= lo + 1e-12 and wider[1] >= hi - 1e-12


@given(st.floats(0.51, 0.999), st.integers(1, 200))
@settings(max_examples=40, deadline=None)
def test_t_quantile_inverts_the_cdf(q, df):
    assert t_cdf(t_ppf(q, df), df) == pytest.approx(q, abs=1e-9)


def test_openai_snapshot_fit(lib):
    hs = read_incident_file(OPENAI, lib)
    assert [h.channel for h in hs] == ["openai_api"]  # from the page name "OpenAI"
    c = calibrate(hs, lib)
    f = c["channels"][0]
    start = dt.datetime(2024, 8, 16, 11, 38, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    end = dt.datetime(2025, 1, 2, 15, 31, tzinfo=dt.timezone(dt.timedelta(hours=-8)))  # page.updated_at
    years = (end - start).total_seconds() / 86400 / 365.25
    assert f["incidents_counted"] == 4 and f["years"] == pytest.approx(years, abs=1e-3)
    assert f["rate_per_year"] == pytest.approx(4 / years, abs=1e-3)
    assert f["rate_interval"][0] == pytest.approx(2.732637 / 2 / years, abs=1e-3)  # chi-square(8) 5 % / 2
    assert f["rate_interval"][1] == pytest.approx(18.307038 / 2 / years, abs=1e-3)  # chi-square(10) 95 % / 2
    # the pack's values: provider_outage for openai_api (per year) and its outage hours
    t = next(t for t in lib.baseline.templates if t.id == "provider_outage")
    assert f["pack_p_year"] == pytest.approx(t.probability["openai_api"])
    assert f["pack_outage_hours"] == t.outage_hours
    # durations from the incident pages: 7.67 h, 4.37 h, 1.82 h, 1.63 h
    hours = sorted([(18 + 20 / 60) - (10 + 40 / 60), (19 + 38 / 60) - (15 + 16 / 60), (17 + 37 / 60) - (15 + 48 / 60),
                    (13 + 16 / 60) - (11 + 38 / 60)])
    d = f["duration"]
    assert d["n"] == 4 and d["median_hours"] == pytest.approx((hours[1] + hours[2]) / 2, abs=0.01)
    mu = sum(math.log(h) for h in hours) / 4
    assert d["lognormal_median_hours"] == pytest.approx(math.exp(mu), abs=0.01)
    lo, hi = d["lognormal_median_interval"]
    assert lo < d["lognormal_median_hours"] < hi
    # only the critical ones
    crit = calibrate(hs, lib, Options(min_impact="critical"))["channels"][0]
    assert crit["incidents_counted"] == 2


def test_thresholds_components_and_period(lib):
    hs = read_incident_file(SYNTH, lib, channel="anthropic_api")
    base = calibrate(hs, lib)["channels"][0]
    # major or worse: syn10 (unresolved), syn09, syn07, syn05, syn03, syn01; maintenance never counts
    assert base["incidents_counted"] == 6 and base["incidents_in_file"] == 10
    assert base["duration"]["n"] == 5  # the unresolved one has no duration
    api = calibrate(hs, lib, Options(components=("api",)))["channels"][0]
    assert api["incidents_counted"] == 5  # syn09 is Console only
    long = calibrate(hs, lib, Options(min_hours=2))["channels"][0]
    assert long["incidents_counted"] == 4  # 2.5 h, 8 h, 4 h, 2 h; the unresolved one has no known length
    year = calibrate(hs, lib, Options(since=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                                      until=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))["channels"][0]
    assert year["years"] == pytest.approx(365 / 365.25, abs=1e-3)
    assert year["rate_per_year"] == pytest.approx(6 / (365 / 365.25), abs=1e-3)


def test_reviews_csv_splits_by_service(lib):
    hs = read_incident_file(REVIEWS, lib)
    assert sorted(h.channel for h in hs) == ["aws_bedrock", "azure_openai"]
    c = calibrate(hs, lib)
    assert [f["channel"] for f in c["channels"]] == ["azure_openai", "aws_bedrock"]  # config order
    az = c["channels"][0]
    assert az["incidents_counted"] == 3 and az["duration"]["median_hours"] == 3.0


def _write(tmp_path, name, data) -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return p


def _incidents(**third) -> dict:
    good = {"id": "a", "created_at": "2025-01-01T00:00:00Z", "resolved_at": "2025-01-01T01:00:00Z", "impact": "major"}
    return {"page": {"name": "OpenAI"}, "incidents": [good, good | {"id": "b"}, good | {"id": "c"} | third]}


@pytest.mark.parametrize(("third", "expected"), [
    ({"impact": "severe"}, "incident 2 (c): field 'impact': 'severe' is not an impact; allowed: none, minor, major, "
                           "critical"),
    ({"created_at": "yesterday"}, "incident 2 (c): field 'created_at': 'yesterday' is not a date-time"),
    ({"resolved_at": "2024-12-31T00:00:00Z"}, "incident 2 (c): field 'resolved_at': 2024-12-31T00:00:00Z is before"),
    ({"components": "API"}, "incident 2 (c): field 'components': expected a list"),
])
def test_malformed_statuspage_names_file_record_and_field(lib, tmp_path, third, expected):
    p = _write(tmp_path, "inc.json", _incidents(**third))
    with pytest.raises(IncidentFileError) as e:
        read_incident_file(p, lib)
    assert str(e.value).startswith(f"{p}: ") and expected in str(e.value)


def test_missing_field_and_unknown_page(lib, tmp_path):
    data = _incidents()
    del data["incidents"][1]["impact"]
    with pytest.raises(IncidentFileError, match=r"incident 1 \(b\): field 'impact' is missing"):
        read_incident_file(_write(tmp_path, "a.json", data), lib)
    with pytest.raises(IncidentFileError, match=r"field 'page.name': 'OpenAl' is not a known channel \(did you mean "
                                                 r"'OpenAI API'\?\)"):
        read_incident_file(_write(tmp_path, "b.json", {"page": {"name": "OpenAl"}, "incidents": []}), lib)
    with pytest.raises(IncidentFileError, match="not valid JSON"):
        read_incident_file(_write(tmp_path, "c.json", "{"), lib)


def test_malformed_csv_names_line_and_column(lib, tmp_path):
    head = "start,end,service,region,impact\n"
    p = _write(tmp_path, "r.csv", head + "2025-01-01T00:00Z,2025-01-01T01:00Z,Azure OpenAI,eastus,major\n"
                                         "2025-02-01T00:00Z,,Bedrok,us-east-1,major\n")
    with pytest.raises(IncidentFileError, match=r"line 3, column 'service': 'Bedrok' is not a known channel"):
        read_incident_file(p, lib)
    p = _write(tmp_path, "s.csv", "start,service,impact\n")
    with pytest.raises(IncidentFileError, match="line 1: missing column\\(s\\) end, region"):
        read_incident_file(p, lib)
    p = _write(tmp_path, "t.csv", head + "2025-01-01T00:00Z,,Azure OpenAI,eastus,sev1\n")
    with pytest.raises(IncidentFileError, match="line 2, column 'impact': 'sev1' is not an impact"):
        read_incident_file(p, lib)


def test_cli_calibrate_table_and_json(tmp_path):
    out = tmp_path / "fit.json"
    p = run_cli("scenarios", "calibrate", "--incidents", OPENAI, REVIEWS, "--json", out)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("Outage frequency — Major outage or degradation")
    assert "Channel" in lines[1] and "Period covered" in lines[1] and "90% interval" in lines[1]
    row = next(ln for ln in lines if ln.startswith("OpenAI API"))
    assert "4 of 4" in row and "16 Aug 2024 – 02 Jan 2025" in row and "70%" in row
    assert "pack below the interval" in row
    dur = [ln for ln in lines if ln.startswith("OpenAI API")][1]
    assert "6.0 h" in dur and "pack within the interval" in dur
    assert "openai_api" not in p.stdout  # labels, never ids
    fit = json.loads(out.read_text())
    assert [f["channel"] for f in fit["channels"]] == ["azure_openai", "openai_api", "aws_bedrock"]


def test_cli_calibrate_errors_are_one_line(tmp_path):
    p = run_cli("scenarios", "calibrate", "--incidents", SYNTH)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "'Synthetic test page' is not a known channel" in p.stderr and "--channel" in p.stderr
    p = run_cli("scenarios", "calibrate", "--incidents", OPENAI, "--event", "model_retirement")
    assert p.returncode == 2 and "not a per-channel baseline event" in p.stderr
    p = run_cli("scenarios", "calibrate", "--incidents", OPENAI, "--since", "last year")
    assert p.returncode == 2 and "--since 'last year': not a date" in p.stderr


def test_cli_calibrate_never_overwrites_an_input(tmp_path):
    copy = tmp_path / "openai.json"
    copy.write_bytes(OPENAI.read_bytes())
    p = run_cli("scenarios", "calibrate", "--incidents", copy, "--json", copy)
    assert p.returncode == 2 and "refusing to overwrite an --incidents file" in p.stderr
    assert copy.read_bytes() == OPENAI.read_bytes()
