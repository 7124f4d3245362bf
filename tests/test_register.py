"""Providers, contracts, review cadence and the DORA register of information (issue 16)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from risk_models.cli.main import main
from risk_models.config.loader import load_library, load_profile, with_profile
from risk_models.dora.ict_assessment import combine, ict_assessment
from risk_models.dora.review import due, review_schedule
from risk_models.dora.roi import build_register, write_eba_csv, write_xlsx
from risk_models.dora.spec import load_review_policy, load_roi_spec
from risk_models.engine.assessment import assess
from risk_models.fallbacks.exit_plan import exit_plan
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.inventory.read import import_inventory
from risk_models.providers.lei import check_digits, is_valid_lei, lei_problem
from risk_models.providers.records import load_book
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from tests.conftest import ROOT

DEMO = ROOT / "config" / "demo"
REF = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def demo():
    lib = load_library()
    lib = with_profile(lib, load_profile(DEMO / "profile.yaml", lib.regimes))
    inv = import_inventory(DEMO / "inventory.csv", lib)
    answers, _ = validate_answers(read_answers_file(DEMO / "answers.yaml"), lib.questions, inv.frame["deployment_id"])
    a = assess(inv, answers, lib, trials=200)
    spec = load_roi_spec()
    book = load_book(DEMO / "providers.csv", DEMO / "contracts.csv", lib, spec.lists["ict_service_type"])
    return a, spec, book


def _package(data: bytes) -> dict[str, list[dict]]:
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.endswith(".csv"):
                out[name.split("/")[-1]] = list(csv.DictReader(io.StringIO(z.read(name).decode("utf-8"))))
            else:
                out[name.split("/", 1)[1]] = json.loads(z.read(name))
    return out


# --- LEI (ISO 17442) ------------------------------------------------------------------------------
def test_lei_check_digits_accept_real_leis_and_reject_a_typo():
    assert is_valid_lei("5493001KJTIIGC8Y1R12")  # GLEIF's documented example LEI
    assert is_valid_lei("7LTWFZYICNSX8D621K86")
    assert "check digits" in lei_problem("5493001KJTIIGC8Y1R13")
    assert "20 characters" in lei_problem("5493001KJTIIGC8Y1R1")
    assert "capital" in lei_problem("5493001kjtiigc8y1r12")


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18),
       st.integers(0, 19), st.sampled_from("0123456789"))
def test_generated_lei_is_valid_and_any_single_digit_typo_is_caught(base, pos, digit):
    lei = base + check_digits(base)
    assert is_valid_lei(lei)
    assume(lei[pos].isdigit())  # MOD 97-10 catches every single-digit substitution
    changed = lei[:pos] + digit + lei[pos + 1:]
    assert is_valid_lei(changed) == (changed == lei)


# --- import ----------------------------------------------------------------------------------------
def test_demo_providers_and_contracts_import_clean(demo):
    a, spec, book = demo
    assert book.errors == []
    assert len(book.contracts) == 8 and book.links["deployment_id"].is_unique
    assert all(is_valid_lei(x) for x in book.providers["lei"])


def test_invalid_lei_and_bad_cells_are_row_errors_with_their_line(demo, tmp_path):
    a, spec, _ = demo
    prov = (DEMO / "providers.csv").read_text().replace("DEMO00COHEREINC00093", "DEMO00COHEREINC00094")
    (tmp_path / "p.csv").write_text(prov)
    con = (DEMO / "contracts.csv").read_text().replace("2024-07-01,2027-06-30,90", "2024-07-01,2027-02-30,90", 1)
    (tmp_path / "c.csv").write_text(con)
    book = load_book(tmp_path / "p.csv", tmp_path / "c.csv", a.lib, spec.lists["ict_service_type"])
    by = {(e.file, e.column): e for e in book.errors}
    lei = by[("p.csv", "lei")]
    assert lei.line == 15 and lei.key == "COHERE" and "check digits" in lei.message
    end = by[("c.csv", "end")]
    assert end.line == 3 and end.key == "MSFT-EA-2024-017" and end.value == "2027-02-30"
    # the contract of the rejected provider is rejected too, naming the provider
    assert any(e.key == "COH-2023-002" and e.column == "provider_id" for e in book.errors)
    assert "COHERE" not in set(book.providers["provider_id"])


def test_a_deployment_in_two_contracts_is_an_error(demo, tmp_path):
    a, spec, _ = demo
    con = (DEMO / "contracts.csv").read_text().replace("DEP-060\n", "DEP-060;DEP-001\n")
    (tmp_path / "c.csv").write_text(con)
    book = load_book(DEMO / "providers.csv", tmp_path / "c.csv", a.lib, spec.lists["ict_service_type"])
    [e] = book.errors
    assert e.column == "deployments" and e.value == "DEP-001" and "MSFT-EA-2024-017" in e.message


# --- the register --------------------------------------------------------------------------------
def test_demo_package_parses_with_consistent_references_and_one_row_per_entity(demo):
    a, spec, book = demo
    reg = build_register(a, book, spec, REF)
    assert reg.findings == []
    pkg = _package(write_eba_csv(reg, spec, root="pkg"))
    assert pkg["META-INF/reportPackage.json"]["documentInfo"]["documentType"] == "https://xbrl.org/report-package/2023"
    assert pkg["reports/report.json"]["documentInfo"]["extends"] == [spec.taxonomy.module]
    params = {r["name"]: r["value"] for r in pkg["parameters.csv"]}
    assert params["entityID"] == "rs:DEMO00EXAMPLEBANK035.CON" and params["refPeriod"] == "2025-12-31"
    contracts = [r["c0010"] for r in pkg["b_02.01.csv"]]
    assert sorted(contracts) == sorted(book.contracts["contract_ref"])  # one row per contract
    providers = {r["c0010"] for r in pkg["b_05.01.csv"]}
    contracted = {book.provider_by_id[p]["lei"] for p in book.contracts["provider_id"]}
    assert len(pkg["b_05.01.csv"]) == len(providers) and contracted <= providers  # one row per provider
    functions = {r["c0010"] for r in pkg["b_06.01.csv"]}
    linked_units = set(a.frame.merge(book.links, on="deployment_id")["business_unit"])
    assert len(functions) == len(pkg["b_06.01.csv"]) == len(linked_units)  # one row per function
    for t in ("b_02.02.csv", "b_03.01.csv", "b_03.02.csv", "b_05.02.csv", "b_07.01.csv"):
        assert {r["c0010"] for r in pkg[t]} <= set(contracts), t
    for t, col in (("b_02.02.csv", "c0030"), ("b_03.02.csv", "c0020"), ("b_05.02.csv", "c0030"), ("b_07.01.csv", "c0020")):
        assert {r[col] for r in pkg[t]} <= providers, t
    assert {r["c0050"] for r in pkg["b_02.02.csv"]} <= functions
    # rank 2: the model vendor behind a cloud channel (OpenAI behind Azure OpenAI), recipient = rank 1
    msft = book.provider_by_id["MSFT-IE"]["lei"]
    openai = book.provider_by_id["OPENAI-IE"]["lei"]
    assert {"c0010": "MSFT-EA-2024-017", "c0020": "eba_TA:S18", "c0030": openai, "c0040": "eba_qCO:qx2000",
            "c0050": "2", "c0060": msft, "c0070": "eba_qCO:qx2000"} in pkg["b_05.02.csv"]
    indicators = {r["templateID"]: r["reported"] for r in pkg["FilingIndicators.csv"]}
    assert indicators["B_07.01"] == "true" and len(indicators) == 9


def test_b0701_matches_the_recommender_and_exit_plans(demo):
    a, spec, book = demo
    reg = build_register(a, book, spec, REF)
    rec = recommendations_of(a)
    per_dep = {}
    weeks = rec.effort.mean(axis=2)
    for i, dep in enumerate(a.frame["deployment_id"]):
        k = rec.exit_target(i)
        plan = exit_plan(a, rec, i)
        if k is None:
            subst = "eba_ZZ:x959"
        else:
            w = weeks[k, i]
            subst = "eba_ZZ:x962" if w <= 4 else "eba_ZZ:x961" if w <= 12 else "eba_ZZ:x960"
        per_dep[dep] = {"c0050": subst, "c0080": "eba_BT:x28" if plan["target_option"] else "eba_BT:x29",
                        "c0110": "eba_BT:x28" if k is not None else "eba_BT:x29",
                        "c0120": rec.options[k].label if k is not None else ""}
    ict = ict_assessment(a, spec).set_index("deployment_id")
    for dep, want in per_dep.items():
        for col, v in want.items():
            assert ict.at[dep, col] == v, (dep, col)
    b07 = reg.templates["B_07.01"].set_index("c0010")
    for ref, g in book.links.groupby("contract_ref"):
        got = b07.loc[ref]
        expected = combine(ict.loc[g["deployment_id"]].reset_index())
        for col in ("c0050", "c0060", "c0080", "c0090", "c0100", "c0110"):
            assert got[col] == expected[col], (ref, col)
        rows = [per_dep[d] for d in g["deployment_id"]]
        order = ["eba_ZZ:x962", "eba_ZZ:x961", "eba_ZZ:x960", "eba_ZZ:x959"]
        assert got["c0050"] == max((r["c0050"] for r in rows), key=order.index)
        assert (got["c0080"] == "eba_BT:x28") == all(r["c0080"] == "eba_BT:x28" for r in rows)


def test_missing_mandatory_field_and_broken_reference_are_reported_per_row(demo, tmp_path):
    a, spec, _ = demo
    # the notice period of a contract serving critical deployments left blank; Anthropic removed
    con = (DEMO / "contracts.csv").read_text().replace("2024-07-01,2027-06-30,90,90", "2024-07-01,2027-06-30,,90")
    (tmp_path / "c.csv").write_text(con)
    prov = "\n".join(line for line in (DEMO / "providers.csv").read_text().splitlines()
                     if not line.startswith("ANTHROPIC"))
    con2 = "\n".join(line for line in con.splitlines() if not line.startswith("ANT-"))
    (tmp_path / "p.csv").write_text(prov + "\n")
    (tmp_path / "c2.csv").write_text(con2 + "\n")
    book = load_book(tmp_path / "p.csv", tmp_path / "c2.csv", a.lib, spec.lists["ict_service_type"])
    reg = build_register(a, book, spec, REF)
    missing = [f for f in reg.findings if f.kind == "missing" and f.template == "B_02.02"]
    assert missing and all(f.column == "c0100" and f.key == "MSFT-EA-2024-017" and f.row for f in missing)
    broken = [f for f in reg.findings if f.kind == "broken reference"]
    assert any("Anthropic" in f.message and f.key == "AWS-EDP-2024-221" for f in broken)


def test_cli_register_export_writes_the_package_and_strict_refuses(tmp_path, capsys):
    args = ["register", "export", str(DEMO / "inventory.csv"), "--answers", str(DEMO / "answers.yaml"),
            "--profile", str(DEMO / "profile.yaml"), "--providers", str(DEMO / "providers.csv"),
            "--contracts", str(DEMO / "contracts.csv"), "--format", "eba-csv", "--strict", str(tmp_path / "roi.zip")]
    assert main(args) == 0
    pkg = _package((tmp_path / "roi.zip").read_bytes())
    assert len(pkg["b_02.01.csv"]) == 8
    with zipfile.ZipFile(tmp_path / "roi.zip") as z:
        assert "roi/META-INF/reportPackage.json" in z.namelist()
    bad = (DEMO / "providers.csv").read_text().replace("DEMO00COHEREINC00093", "DEMO00COHEREINC00094")
    (tmp_path / "p.csv").write_text(bad)
    args[args.index(str(DEMO / "providers.csv"))] = str(tmp_path / "p.csv")
    args[-1] = str(tmp_path / "strict.zip")
    capsys.readouterr()
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "p.csv line 15 (COHERE) column lei" in err and "check digits" in err and "--strict" in err
    assert not (tmp_path / "strict.zip").exists()
    assert main([a for a in args if a != "--strict"][:-1] + [str(tmp_path / "loose.zip")]) == 1
    assert (tmp_path / "loose.zip").exists()  # written, the rejected rows listed, exit 1


def test_xlsx_layout_for_people_with_labels_and_safe_text(demo):
    import openpyxl
    a, spec, book = demo
    reg = build_register(a, book, spec, REF)
    reg.templates["B_06.01"].loc[0, "c0030"] = "=1+1 <script>"
    wb = openpyxl.load_workbook(io.BytesIO(write_xlsx(reg, spec)))
    ws = wb["B_07.01"]
    assert ws["A2"].value == "c0010" and ws["E1"].value.startswith("Substitutability")
    assert {c.value for c in ws["E"][2:]} <= set(spec.lists["substitutability"].values())
    assert wb["B_06.01"]["C3"].value == "'=1+1 <script>"
    assert "2024/2956" in wb["Cover"]["B2"].value


# --- review cadence --------------------------------------------------------------------------------
def test_review_schedule_interval_by_rating_and_due_list():
    policy = load_review_policy()
    frame = pd.DataFrame({"deployment_id": ["A", "B", "C", "D"], "name": list("abcd"), "business_unit": ["x"] * 4})
    ratings = pd.Series(["critical", "low", "high", "medium"])
    last = {"A": dt.date(2026, 1, 10), "B": dt.date(2025, 1, 1), "C": dt.date(2025, 12, 10)}
    s = review_schedule(frame, ratings, last, policy, dt.date(2026, 11, 26)).set_index("deployment_id")
    assert s.at["A", "next_review"] == dt.date(2026, 7, 10) and s.at["A", "status"] == "overdue"
    assert s.at["B", "next_review"] == dt.date(2028, 1, 1) and s.at["B", "status"] == "scheduled"
    assert s.at["C", "next_review"] == dt.date(2026, 12, 10) and s.at["C", "status"] == "due_soon"
    assert s.at["D", "status"] == "never"
    assert list(due(s.reset_index(), 30)["deployment_id"]) == ["A", "D", "C"]


def test_cli_due_lists_the_demo_overdue_reviews(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))  # no saved reviews from other tests
    args = ["due", str(DEMO / "inventory.csv"), "--answers", str(DEMO / "answers.yaml"), "--profile",
            str(DEMO / "profile.yaml"), "--reviews", str(DEMO / "reviews.csv"), "--as-of", "2026-11-26",
            "--json", str(tmp_path / "due.json")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "DEP-060" in out and "Overdue" in out and "Never reviewed" in out
    rows = {r["deployment_id"]: r for r in json.loads((tmp_path / "due.json").read_text())["due"]}
    assert rows["DEP-060"]["status"] == "overdue" and rows["DEP-060"]["last_reviewed"] == "2023-03-15"
    assert "DEP-058" not in rows  # reviewed 2026-10-01: not due
    assert main(["due", "--within", "-1"]) == 2


def test_saving_an_assessment_records_the_review_date_old_saves_have_none(demo, tmp_path):
    from risk_models.storage import repository as repo
    from risk_models.storage.db import make_engine
    from risk_models.storage.reviews import review_dates, reviewed_on
    a, _, _ = demo
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    payloads = repo.snapshot(a)
    old = {k: v for k, v in payloads["results"].items() if k != "reviewed_on"}
    repo.save_payloads(engine, {**payloads, "results": old}, "old save")
    assert review_dates(engine) == {}
    assert reviewed_on({"approval": {"approved_at": "2026-11-20T10:00:00+00:00"}}) == dt.date(2026, 11, 20)
    repo.save_assessment(engine, a, "today")
    dates = review_dates(engine)
    assert set(dates) == set(a.frame["deployment_id"]) and set(dates.values()) == {dt.datetime.now(dt.UTC).date()}


def test_pdf_lists_reviews_overdue_in_one_section(demo, tmp_path):
    import subprocess

    from risk_models.dora.review import read_reviews, review_block
    from risk_models.report.json_report import report
    from risk_models.report.pdf import render_pdf
    a, _, _ = demo
    dates, _ = read_reviews(DEMO / "reviews.csv")
    rep = report(a, "Example Bank plc")
    plain = subprocess.run(["pdftotext", "-", "-"], input=render_pdf(rep), capture_output=True, check=True).stdout
    assert b"Reviews overdue" not in plain  # a report without a reviews block: no section
    rep["reviews"] = review_block(a.frame, a.residual.table["rating"], dates, load_review_policy(), dt.date(2026, 11, 26))
    text = subprocess.run(["pdftotext", "-", "-"], input=render_pdf(rep), capture_output=True, check=True,
                          ).stdout.decode()
    assert "Reviews overdue or due soon" in text and "DEP-060" in text and "15 Mar 2023" in text
    assert rep["reviews"]["counts"]["overdue"] >= 8


def test_due_without_a_file_reads_the_latest_saved_assessment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    assert main(["due"]) == 2  # nothing saved yet: says so
    args = [str(DEMO / "inventory.csv"), "--answers", str(DEMO / "answers.yaml"), "--profile",
            str(DEMO / "profile.yaml"), "--trials", "200"]
    assert main(["history", "save", *args, "--label", "reviewed today"]) == 0
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    capsys.readouterr()
    assert main(["due", "--as-of", tomorrow, "--json", "-"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["due"] == []  # saving reviewed every deployment; the shortest interval is 6 months
