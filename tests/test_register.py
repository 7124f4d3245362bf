"""Providers, contracts, review cadence and the DORA register of information (issue 16)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from risk_models.cli.main import main
from risk_models.config.loader import load_library, load_profile, with_profile
from risk_models.dora.ict_assessment import combine, ict_assessment
from risk_models.dora.package import write_eba_csv, write_xlsx
from risk_models.dora.review import due, review_schedule
from risk_models.dora.roi import build_register
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
# --- the demo, completed: what a firm adds before it can file ---------------------------------------
COMPLETE_ANSWERS = {"substitutability": "medium", "exit_plan_exists": "documented",
                    "alternative_providers_identified": "yes", "reintegration": "difficult",
                    "data_stored_by_provider": "yes", "logs_data_location": "in_region",
                    "inference_data_location": "in_region", "rto_hours": 8, "rpo_hours": 4}


def _complete_demo(tmp_path) -> dict[str, str]:
    """The demo's sample data completed as a firm would: every register answer given, the function
    table filled, and the self-hosted deployments linked to the model licence / support contracts."""
    import yaml
    inv = import_inventory(DEMO / "inventory.csv", load_library())
    answers = yaml.safe_load((DEMO / "answers.yaml").read_text())
    for d in inv.frame["deployment_id"]:
        given = answers.setdefault(d, {})
        given.update({k: v for k, v in COMPLETE_ANSWERS.items() if k not in ("rto_hours", "rpo_hours") or k not in given})
        answers[d].pop("exit_last_tested", None) if answers[d].get("exit_plan_exists") == "none" else None
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(answers))
    profile = yaml.safe_load((DEMO / "profile.yaml").read_text())
    profile["dora"]["functions"] = [{**f, "critical_or_important": f["business_unit"] not in ("HR", "Marketing"),
                                     "last_assessed": "2025-11-30"} for f in profile["dora"]["functions"]]
    profile["dora"]["locations"] |= {"us": "US", "eu": "IE"}  # where the firm's API data actually sits
    profile["dora"] |= {"hierarchy": "Ultimate parent", "parent_lei": profile["dora"]["lei"], "total_assets": 48.2e9,
                        "register_since": "2025-01-17", "register_updated": "2025-12-15"}
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    meta, support = "DEMO00METAPLATFORM", "DEMO00ONPREMSUPPOR"
    # Oracle's designated CTPP is Oracle Nederland B.V., not Oracle EMEA Limited (ESAs' list of 18 Nov 2025)
    (tmp_path / "providers.csv").write_text(
        (DEMO / "providers.csv").read_text().replace("IE,ORACLE,cloud,yes", "IE,ORACLE,cloud,no")
        + f"META-IE,Meta Platforms Ireland Limited,{meta}{check_digits(meta)},IE,,model vendor,no,Meta,demo\n"
        + f"ONPREM,On-prem Support Ltd,{support}{check_digits(support)},IE,,reseller,no,,demo\n")
    llama, others = ["DEP-051", "DEP-055", "DEP-061"], ["DEP-052", "DEP-053", "DEP-054", "DEP-056"]  # self-hosted
    (tmp_path / "contracts.csv").write_text(
        (DEMO / "contracts.csv").read_text()
        + f"META-LLAMA-2024,META-IE,2024-01-01,,0,0,0,0,EUR,IE,for convenience,no,S13,2025-06-30,{';'.join(llama)}\n"
        + f"ONPREM-2024-01,ONPREM,2024-01-01,2027-12-31,90,90,85000,0,EUR,IE,for cause only,yes,S14,2025-06-30,"
          f"{';'.join(others)}\n")
    return {k: str(tmp_path / f) for k, f in (("answers", "answers.yaml"), ("profile", "profile.yaml"),
                                              ("providers", "providers.csv"), ("contracts", "contracts.csv"))}


def _demo_of(files: dict[str, str]):
    lib = load_library()
    lib = with_profile(lib, load_profile(Path(files["profile"]), lib.regimes))
    inv = import_inventory(DEMO / "inventory.csv", lib)
    answers, errors = validate_answers(read_answers_file(Path(files["answers"])), lib.questions,
                                       inv.frame["deployment_id"])
    assert errors == []
    a = assess(inv, answers, lib, trials=200)
    spec = load_roi_spec()
    book = load_book(Path(files["providers"]), Path(files["contracts"]), lib, spec.lists["ict_service_type"])
    assert book.errors == []
    return a, spec, book


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    files = _complete_demo(tmp_path_factory.mktemp("complete"))
    return files, _demo_of(files)


def test_the_completed_demo_has_no_finding_the_shipped_one_lists_what_is_missing(demo, complete):
    a, spec, book = demo
    reg = build_register(a, book, spec, REF)
    kinds = {(f.template, f.column) for f in reg.findings if f.kind == "missing"}
    # what the firm has not said yet: answers, the function table, deployments without a contract
    assert {("B_07.01", "c0080"), ("B_07.01", "c0110"), ("B_07.01", "c0050"), ("B_07.01", "c0090"),
            ("B_06.01", "c0050"), ("B_06.01", "c0070"), ("B_02.02", "c0140"), ("B_02.02", "")} <= kinds
    _, (ca, cspec, cbook) = complete
    creg = build_register(ca, cbook, cspec, REF)
    assert [f.text() for f in creg.findings] == []


def test_demo_package_parses_with_consistent_references_and_one_row_per_entity(complete):
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    assert reg.findings == []
    pkg = _package(write_eba_csv(reg, spec, root="pkg"))
    assert pkg["META-INF/reportPackage.json"]["documentInfo"]["documentType"] == "https://xbrl.org/report-package/2023"
    assert pkg["reports/report.json"]["documentInfo"]["extends"] == [spec.taxonomy.module]
    params = {r["name"]: r["value"] for r in pkg["parameters.csv"]}
    assert params["entityID"] == "rs:DEMO00EXAMPLEBANK035.IND" and params["refPeriod"] == "2025-12-31"
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
    assert indicators["B_07.01"] == "true" and len(indicators) == 15 and indicators["B_99.01"] == "true"


def test_b0701_suggestions_match_the_recommender_and_exit_plans(demo):
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
    # the recommender only suggests: its values are the register's "suggested" columns, never filed
    b07 = reg.templates["B_07.01"]
    sug = reg.suggested["B_07.01"].assign(c0010=b07["c0010"].to_numpy()).set_index("c0010")
    for ref, g in book.links.groupby("contract_ref"):
        got = sug.loc[ref]
        expected = combine(ict.loc[g["deployment_id"]].reset_index())
        for col in ("c0050", "c0060", "c0080", "c0090", "c0110"):
            assert got[col] == expected[col], (ref, col)
        rows = [per_dep[d] for d in g["deployment_id"]]
        order = ["eba_ZZ:x962", "eba_ZZ:x961", "eba_ZZ:x960", "eba_ZZ:x959"]
        assert got["c0050"] == max((r["c0050"] for r in rows), key=order.index)
        assert (got["c0080"] == "eba_BT:x28") == all(r["c0080"] == "eba_BT:x28" for r in rows)


def test_a_no_exit_plan_answer_is_filed_as_no_and_the_recommender_disagreeing_is_a_finding(complete, tmp_path):
    import yaml
    files, _ = complete
    answers = yaml.safe_load(Path(files["answers"]).read_text())
    answers["DEP-001"]["exit_plan_exists"] = "none"  # the demo's own answer for MSFT-EA-2024-017
    answers["DEP-001"]["alternative_providers_identified"] = "no"
    answers["DEP-001"]["substitutability"] = "complex"
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(answers))
    a, spec, book = _demo_of({**files, "answers": str(tmp_path / "answers.yaml")})
    reg = build_register(a, book, spec, REF)
    b07 = reg.templates["B_07.01"].set_index("c0010")
    row = b07.loc["MSFT-EA-2024-017"]
    assert row["c0080"] == "eba_BT:x29" and row["c0110"] == "eba_BT:x29"  # the firm's answers, not the tool's
    assert row["c0050"] == "eba_ZZ:x960"
    i = list(b07.index).index("MSFT-EA-2024-017")
    assert reg.suggested["B_07.01"].at[i, "c0080"] == "eba_BT:x28"  # the tool would have said Yes
    clash = [f for f in reg.findings if f.kind == "contradiction" and f.key == "MSFT-EA-2024-017"]
    assert {f.column for f in clash} == {"c0080", "c0110"} and all("DEP-001" in f.message for f in clash)
    # complex substitutability with no reason given: a missing conditional value
    assert any(f.column == "c0060" and f.kind == "missing" and f.key == "MSFT-EA-2024-017" for f in reg.findings)
    # and an unanswered exit plan is blank, never a default
    del answers["DEP-002"]["exit_plan_exists"]
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(answers))
    a, spec, book = _demo_of({**files, "answers": str(tmp_path / "answers.yaml")})
    reg = build_register(a, book, spec, REF)
    assert reg.templates["B_07.01"].set_index("c0010").at["MSFT-EA-2024-017", "c0080"] == ""
    [f] = [f for f in reg.findings if f.column == "c0080" and f.kind == "missing"]
    assert "DEP-002" in f.message and "exit_plan_exists" in f.message


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
    missing = [f for f in reg.findings if f.kind == "missing" and f.template == "B_02.02" and f.column == "c0100"]
    assert missing and all(f.key == "MSFT-EA-2024-017" and f.row for f in missing)
    broken = [f for f in reg.findings if f.kind == "broken reference"]
    assert any("Anthropic" in f.message and f.key == "AWS-EDP-2024-221" for f in broken)


def test_cli_strict_refuses_the_shipped_demo_and_writes_the_completed_one(tmp_path, capsys, complete):
    files, _ = complete
    shipped = ["register", "export", str(DEMO / "inventory.csv"), "--answers", str(DEMO / "answers.yaml"),
               "--profile", str(DEMO / "profile.yaml"), "--providers", str(DEMO / "providers.csv"),
               "--contracts", str(DEMO / "contracts.csv"), "--format", "eba-csv", "--strict", str(tmp_path / "x.zip")]
    assert main(shipped) == 1 and not (tmp_path / "x.zip").exists()
    err = capsys.readouterr().err
    assert "contradiction: DEP-001: answered that no exit plan exists" in err  # the issue's own example
    assert "deployment DEP-051 (Customer service chatbot, Retail Banking) links to no contract" in err
    assert "--strict: nothing written" in err
    args = ["register", "export", str(DEMO / "inventory.csv"), "--answers", files["answers"], "--profile",
            files["profile"], "--providers", files["providers"], "--contracts", files["contracts"], "--format",
            "eba-csv", "--strict", str(tmp_path / "roi.zip")]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "USD 1.175 per EUR (2025-12-31)" in out.err  # the rate used, and its date
    name = re.search(r"(DEMO00EXAMPLEBANK035\.IND_IE_DORA010100_DORA_2025-12-31_\d{17})\.zip \(give the file that "
                     r"name before filing it\)", out.out).group(1)
    pkg = _package((tmp_path / "roi.zip").read_bytes())
    assert len(pkg["b_02.01.csv"]) == 10
    with zipfile.ZipFile(tmp_path / "roi.zip") as z:  # the top folder carries the filing name, whatever OUT is called
        assert f"{name}/META-INF/reportPackage.json" in z.namelist()
    # a bad LEI: a rejected row; --strict writes nothing, without it the package is written and exit is 1
    bad = Path(files["providers"]).read_text().replace("DEMO00COHEREINC00093", "DEMO00COHEREINC00094")
    (tmp_path / "p.csv").write_text(bad)
    args[args.index(files["providers"])] = str(tmp_path / "p.csv")
    args[-1] = str(tmp_path / "strict.zip")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "p.csv line 15 (COHERE) column lei" in err and "check digits" in err and "--strict" in err
    assert not (tmp_path / "strict.zip").exists()
    assert main([a for a in args if a != "--strict"][:-1] + [str(tmp_path / "loose.zip")]) == 1
    assert (tmp_path / "loose.zip").exists()  # written, the rejected rows listed, exit 1


def test_amounts_are_converted_at_the_stated_rate_and_a_missing_rate_is_a_finding(complete, tmp_path):
    from risk_models.dora.spec import load_rates
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    b0201 = reg.templates["B_02.01"].set_index("c0010")
    assert set(b0201["c0040"]) == {"EUR"}
    assert b0201.at["OAI-ENT-2025-114", "c0050"] == round(2_250_000 / 1.175, 2)  # USD contract, ECB 31 Dec 2025
    assert b0201.at["GCP-2025-045", "c0050"] == 220_000
    assert reg.rates_used == ["USD 1.175 per EUR (2025-12-31)"]
    openai = book.provider_by_id["OPENAI-IE"]["lei"]
    b0501 = reg.templates["B_05.01"].set_index("c0010")
    assert b0501.at[openai, "c0090"] == "EUR" and b0501.at[openai, "c0100"] == round(2_250_000 / 1.175, 2)
    # a replacement table without a recent enough USD rate: amounts blank, each a finding
    (tmp_path / "rates.yaml").write_text(Path(ROOT / "config" / "fx_rates.yaml").read_text().replace(
        "  - {currency: USD, date: 2025-12-31, per_eur: 1.1750}\n", ""))
    reg = build_register(a, book, spec, REF, rates=load_rates(tmp_path / "rates.yaml"))
    assert reg.templates["B_02.01"].set_index("c0010").at["OAI-ENT-2025-114", "c0050"] == ""
    assert any(f.key == "OAI-ENT-2025-114" and "no USD reference rate" in f.message for f in reg.findings)


def test_storage_and_processing_locations_come_from_their_own_answers(complete, tmp_path):
    import yaml
    files, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    b0202 = reg.templates["B_02.02"]
    stored = b0202["c0140"] == "eba_BT:x28"
    assert stored.all() and (b0202.loc[stored, "c0150"] != "").all() and (b0202["c0160"] != "").all()
    pkg = _package(write_eba_csv(reg, spec, root="p"))
    assert all(r["c0150"].startswith("eba_GA:") and r["c0150"] != "eba_GA:qx2007" for r in pkg["b_02.02.csv"])
    # processing in-region but storage global: the data-at-rest country is missing, not copied
    answers = yaml.safe_load(Path(files["answers"]).read_text())
    answers["DEP-041"]["logs_data_location"] = "global"
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(answers))
    a2, spec, book = _demo_of({**files, "answers": str(tmp_path / "answers.yaml")})
    reg = build_register(a2, book, spec, REF)
    row = reg.templates["B_02.02"].query("c0010 == 'GCP-2025-045' and c0150 == ''")
    assert len(row) == 1 and row["c0160"].iat[0] != ""
    assert any(f.column == "c0150" and "DEP-041" in f.message for f in reg.findings)


def test_function_values_come_from_the_function_table_and_answers(complete):
    files, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    b06 = reg.templates["B_06.01"].set_index("c0030")
    assert b06.at["Marketing", "c0050"] == "eba_BT:x29" and b06.at["HR", "c0050"] == "eba_BT:x29"  # the firm's call
    assert b06.at["Retail Banking", "c0050"] == "eba_BT:x28"
    assert set(b06["c0070"]) == {"2025-11-30"}  # never the reference date
    # the function's RTO is the shortest answered RTO of its deployments (the demo's own answers kept)
    import yaml
    answers = yaml.safe_load(Path(files["answers"]).read_text())
    for unit, g in a.frame.groupby("business_unit"):
        assert b06.at[unit, "c0080"] == min(answers[d]["rto_hours"] for d in g["deployment_id"]), unit
    assert b06.at["Retail Banking", "c0080"] == 4 and b06.at["HR", "c0080"] == 8
    i = list(b06.index).index("Marketing")
    assert reg.suggested["B_06.01"].at[i, "c0050"] == "eba_BT:x28"  # the tool's reading stays a suggestion


def test_package_name_follows_the_filing_pattern_and_the_basis_sets_the_suffix(complete):
    import dataclasses

    from risk_models.dora.package import package_name
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    when = dt.datetime(2026, 3, 31, 14, 5, 9, 123456, tzinfo=dt.UTC)
    assert package_name(reg, spec, when) == "DEMO00EXAMPLEBANK035.IND_IE_DORA010100_DORA_2025-12-31_20260331140509123"
    group = dataclasses.replace(reg, basis="consolidated")
    assert package_name(group, spec, when).startswith("DEMO00EXAMPLEBANK035.CON_IE_")
    params = {r["name"]: r["value"] for r in _package(write_eba_csv(group, spec, root="g"))["parameters.csv"]}
    assert params["entityID"] == "rs:DEMO00EXAMPLEBANK035.CON"


def test_the_nbb_onegate_name_for_a_belgian_filing(complete, tmp_path, capsys):
    """`--naming nbb`: LEI_<LEI>.<IND|CON>_NBB_DOR_DORA_ROI for the file and the top folder (the package
    inside is the same EBA xBRL-CSV package, and reads back)."""
    import dataclasses

    from risk_models.dora.import_package import read_package
    from risk_models.dora.package import package_name
    files, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    assert package_name(reg, spec, naming="nbb") == "LEI_DEMO00EXAMPLEBANK035.IND_NBB_DOR_DORA_ROI"
    group = dataclasses.replace(reg, basis="consolidated")
    assert package_name(group, spec, naming="nbb") == "LEI_DEMO00EXAMPLEBANK035.CON_NBB_DOR_DORA_ROI"
    with pytest.raises(ValueError, match="one of eba, nbb"):
        package_name(reg, spec, naming="bafin")
    args = ["register", "export", str(DEMO / "inventory.csv"), "--answers", files["answers"], "--profile",
            files["profile"], "--providers", files["providers"], "--contracts", files["contracts"],
            "--naming", "nbb", str(tmp_path / "roi.zip")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("the filing name (NBB OneGate (Belgium)) is LEI_DEMO00EXAMPLEBANK035.IND_NBB_DOR_DORA_ROI.zip "
            "(give the file that name before filing it)") in out
    with zipfile.ZipFile(tmp_path / "roi.zip") as z:
        assert {n.split("/")[0] for n in z.namelist()} == {"LEI_DEMO00EXAMPLEBANK035.IND_NBB_DOR_DORA_ROI"}
    tables, _ = read_package((tmp_path / "roi.zip").read_bytes(), spec.taxonomy.module)
    assert len(tables["B_02.01"]) == len(reg.templates["B_02.01"])


def test_xlsx_layout_for_people_with_labels_and_safe_text(complete):
    import openpyxl
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    reg.templates["B_06.01"].loc[0, "c0030"] = "=1+1 <script>"
    wb = openpyxl.load_workbook(io.BytesIO(write_xlsx(reg, spec)))
    ws = wb["B_07.01"]
    assert ws["A2"].value == "c0010" and ws["E1"].value.startswith("Substitutability")
    assert {c.value for c in ws["E"][2:]} <= set(spec.lists["substitutability"].values())
    heads = [c.value for c in ws[1]]
    first = heads.index("Suggested (not filed): " + spec.templates["B_07.01"].columns["c0080"].label)
    assert first >= len(spec.templates["B_07.01"].columns)  # after the filed columns, never among them
    assert ws.cell(2, first + 1).value == "c0080 (suggested)"
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


def test_the_questionnaire_asks_what_the_register_and_art_30_need():
    lib = load_library()
    by_field = {q.dora_field: q for q in lib.questions.values() if q.dora_field}
    for field in ("B_02.02.0140", "B_02.02.0150", "B_02.02.0160", "B_06.01.0080", "B_06.01.0090", "B_07.01.0050",
                  "B_07.01.0060", "B_07.01.0080", "B_07.01.0090", "B_07.01.0110"):
        assert field in by_field and field in by_field[field].help, field  # the column code in the help text
    for qid, article in (("data_on_exit", "30(2)(d)"), ("authority_cooperation", "30(2)(g)"),
                         ("security_awareness_participation", "30(2)(i)"), ("bcp_testing", "30(3)(c)"),
                         ("tlpt_participation", "30(3)(d)")):
        q = lib.questions[qid]
        assert q.record_only and article in q.help and q.default == "unknown", qid


def test_every_template_of_the_module_is_in_the_package_with_its_columns_in_order(complete):
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    with zipfile.ZipFile(io.BytesIO(write_eba_csv(reg, spec, root="r"))) as z:
        names = set(z.namelist())
        indicators = dict(csv.reader(io.StringIO(z.read("r/reports/FilingIndicators.csv").decode())))
        for name, tpl in spec.templates.items():
            path = f"r/reports/{name.lower()}.csv"
            filed = indicators[name] == "true"
            assert filed == (path in names) == bool(len(reg.templates[name])), name  # EBA rule 808
            if filed:
                header = next(csv.reader(io.StringIO(z.read(path).decode())))
                assert header == list(tpl.columns), name
    assert {"B_01.02", "B_01.03", "B_02.03", "B_03.03", "B_04.01"} <= set(spec.templates)
    b0102 = reg.templates["B_01.02"].iloc[0]
    assert b0102["c0010"] == "DEMO00EXAMPLEBANK035" and b0102["c0050"] == "eba_RP:x53" and b0102["c0110"] == 48.2e9
    b0401 = reg.templates["B_04.01"]
    assert list(b0401["c0010"]) == list(reg.templates["B_02.01"]["c0010"]) and set(b0401["c0030"]) == {"eba_ZZ:x839"}
    assert set(reg.templates["B_03.01"]["c0030"]) == {"true"}


def test_an_ended_contract_needs_its_termination_reason_and_foreign_keys_carry_rule_807(complete, tmp_path):
    files, (a, spec, book) = complete
    reg = build_register(a, book, spec, dt.date(2026, 6, 30))  # COH-2023-002 ended on 31 Jan 2026
    [f] = [f for f in reg.findings if f.column == "c0090"]
    assert f.key == "COH-2023-002" and "termination_reason" in f.message
    con = Path(files["contracts"]).read_text().replace(
        "contract_ref,provider_id,start,end,notice_period_days,provider_notice_period_days,annual_spend,"
        "committed_spend,currency,governing_law,termination_rights,exit_assistance,ict_service_type,last_audit,"
        "deployments", "contract_ref,provider_id,start,end,notice_period_days,provider_notice_period_days,"
        "annual_spend,committed_spend,currency,governing_law,termination_rights,exit_assistance,ict_service_type,"
        "last_audit,deployments,termination_reason")
    con = con.replace(",DEP-060\n", ",DEP-060,Expired and not renewed\n")
    (tmp_path / "c.csv").write_text(con)
    a2, spec, book = _demo_of({**files, "contracts": str(tmp_path / "c.csv")})
    reg = build_register(a2, book, spec, dt.date(2026, 6, 30))
    assert not [f for f in reg.findings if f.column == "c0090"]
    assert reg.templates["B_02.02"].set_index("c0010").at["COH-2023-002", "c0090"] == "eba_CO:x4"
    reg.templates["B_07.01"].loc[0, "c0010"] = "NOT-A-CONTRACT"
    from risk_models.dora.checks import validate_register
    broken = [f for f in validate_register(reg, spec) if f.kind == "broken reference"]
    [f] = [f for f in broken if f.rule == "807"]
    assert f.template == "B_07.01" and f.column == "c0010" and "EBA rule 807" in f.text()
    # the same row no longer assesses a service of B_02.02 (the ITS's cross-table consistency)
    assert [(g.rule, g.template, g.column) for g in broken if g is not f] == [("ITS", "B_07.01", "c0040")]


def test_import_of_the_exported_package_reproduces_providers_and_contracts(complete, tmp_path, capsys):
    files, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    (tmp_path / "roi.zip").write_bytes(write_eba_csv(reg, spec))
    p, c = tmp_path / "p.csv", tmp_path / "c.csv"
    args = ["register", "import", str(tmp_path / "roi.zip"), "--providers-out", str(p), "--contracts-out", str(c)]
    assert main(args) == 0
    # the imported files load as a book, and every value the register carries comes back
    back = load_book(p, c, a.lib, spec.lists["ict_service_type"])
    assert back.errors == []
    lei = {r["provider_id"]: r["lei"] for r in book.providers.to_dict("records")}
    filed = set(reg.templates["B_05.01"]["c0010"])
    orig = book.providers[book.providers["lei"].isin(filed)].set_index("lei")
    got = back.providers.set_index("lei")
    assert set(got.index) == filed
    for k in filed:
        assert (got.at[k, "name"], got.at[k, "country"]) == (orig.at[k, "name"], orig.at[k, "country"])
    # the ultimate parent is filed as a code only (B_05.01 c0110), so it is no provider row of its own
    assert reg.templates["B_05.01"].set_index("c0010").at[lei["MSFT-IE"], "c0110"] == lei["MSFT-CORP"]
    oc, gc = book.contracts.set_index("contract_ref"), back.contracts.set_index("contract_ref")
    assert set(gc.index) == set(oc.index)
    for ref in oc.index:
        assert gc.at[ref, "provider_id"] == lei[oc.at[ref, "provider_id"]], ref
        for col in ("start", "end", "notice_period_days", "provider_notice_period_days", "governing_law",
                    "ict_service_type", "last_audit"):
            assert gc.at[ref, col] == oc.at[ref, col] or (pd.isna(gc.at[ref, col]) and pd.isna(oc.at[ref, col])), \
                (ref, col)
        assert gc.at[ref, "currency"] == "EUR"
        assert gc.at[ref, "annual_spend"] == reg.templates["B_02.01"].set_index("c0010").at[ref, "c0050"]
    # a second import over existing files lists the differences and replaces nothing without --replace
    c.write_text(c.read_text().replace("GCP-2025-045", "GCP-2025-999"))
    before = c.read_text()
    capsys.readouterr()
    assert main(args) == 1 and c.read_text() == before
    out = capsys.readouterr().out
    assert "1 contract(s) added, 1 removed, 0 changed" in out and "GCP-2025-045" in out
    assert main([*args, "--replace"]) == 0 and "GCP-2025-045" in c.read_text()
    assert main(["register", "import", str(p), "--providers-out", str(p), "--contracts-out", str(c)]) == 2


def test_import_names_what_is_wrong_with_a_package(tmp_path):
    from risk_models.dora.import_package import PackageError, read_package
    module = load_roi_spec().taxonomy.module
    with pytest.raises(PackageError, match="not a zip"):
        read_package(b"PK? no", module)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("r/META-INF/reportPackage.json", "{}")
    with pytest.raises(PackageError, match="reports/report.json is missing"):
        read_package(buf.getvalue(), module)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in (("META-INF/reportPackage.json", "{}"),
                           ("reports/report.json", json.dumps({"documentInfo": {"extends": [module]}})),
                           ("reports/parameters.csv", "name,value\n"),
                           ("reports/FilingIndicators.csv", "templateID,reported\nB_02.01,true\n")):
            z.writestr(f"r/{name}", text)
    with pytest.raises(PackageError, match="B_02.01 is true but reports/b_02.01.csv is missing"):
        read_package(buf.getvalue(), module)


# --- an independent reader: the package as a supervisor's tool parses it (zipfile, json and csv only) --
EXPECTED_HEADERS = {  # hand-copied from the ITS annex / EBA master template column codes, not from the spec
    "b_01.01.csv": "c0010 c0020 c0030 c0040 c0050 c0060", "b_01.02.csv": "c0010 c0020 c0030 c0040 c0050 c0060 c0070 "
    "c0080 c0090 c0100 c0110", "b_02.01.csv": "c0010 c0020 c0030 c0040 c0050",
    "b_02.02.csv": " ".join(f"c{n:04d}" for n in range(10, 190, 10)), "b_03.01.csv": "c0010 c0020 c0030",
    "b_03.02.csv": "c0010 c0020 c0030", "b_04.01.csv": "c0010 c0020 c0030 c0040",
    "b_05.01.csv": " ".join(f"c{n:04d}" for n in range(10, 130, 10)), "b_05.02.csv": "c0010 c0020 c0030 c0040 c0050 "
    "c0060 c0070", "b_06.01.csv": " ".join(f"c{n:04d}" for n in range(10, 110, 10)),
    "b_07.01.csv": " ".join(f"c{n:04d}" for n in range(10, 130, 10)),
    "b_99.01.csv": " ".join(f"c{n:04d}" for n in range(10, 200, 10))}  # one column per option of six lists
EXPECTED_B0201 = [  # hand-checked: USD at the ECB's 1.1750 of 31 Dec 2025, two decimals
    ["MSFT-EA-2024-017", "eba_CO:x1", "", "eba_CU:EUR", "1620000"],
    ["MSFT-MACC-2025-003", "eba_CO:x1", "", "eba_CU:EUR", "1760000"],
    ["OAI-ENT-2025-114", "eba_CO:x1", "", "eba_CU:EUR", "1914893.62"],  # 2,250,000 USD / 1.175
    ["AWS-EDP-2024-221", "eba_CO:x1", "", "eba_CU:EUR", "1400000"],
    ["GCP-2025-045", "eba_CO:x1", "", "eba_CU:EUR", "220000"],
    ["ANT-2025-008", "eba_CO:x1", "", "eba_CU:EUR", "1114893.62"],  # 1,310,000 USD / 1.175
    ["OCI-2024-310", "eba_CO:x1", "", "eba_CU:EUR", "130000"],
    ["COH-2023-002", "eba_CO:x1", "", "eba_CU:EUR", "110638.3"],  # 130,000 USD / 1.175
    ["META-LLAMA-2024", "eba_CO:x1", "", "eba_CU:EUR", "0"],
    ["ONPREM-2024-01", "eba_CO:x1", "", "eba_CU:EUR", "85000"]]


def test_an_independent_reader_accepts_the_completed_demo_package(complete):
    _, (a, spec, book) = complete
    data = write_eba_csv(build_register(a, book, spec, REF), spec)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        [root] = {n.split("/")[0] for n in z.namelist()}
        assert re.fullmatch(r"DEMO00EXAMPLEBANK035\.IND_IE_DORA010100_DORA_2025-12-31_\d{17}", root)
        read = {n.split("/", 1)[1]: z.read(n).decode("utf-8") for n in z.namelist()}
    assert json.loads(read["META-INF/reportPackage.json"]) == {
        "documentInfo": {"documentType": "https://xbrl.org/report-package/2023"}}
    assert json.loads(read["reports/report.json"]) == {"documentInfo": {
        "documentType": "https://xbrl.org/2021/xbrl-csv",
        "extends": ["http://www.eba.europa.eu/eu/fr/xbrl/crr/fws/dora/4.0/mod/dora.json"]}}

    def table(name):
        rows = list(csv.reader(io.StringIO(read[f"reports/{name}"])))
        return rows[0], rows[1:]

    assert dict(table("parameters.csv")[1]) == {"entityID": "rs:DEMO00EXAMPLEBANK035.IND", "refPeriod": "2025-12-31",
                                                "baseCurrency": "iso4217:EUR", "decimalsInteger": "0",
                                                "decimalsMonetary": "-3"}
    indicators = dict(table("FilingIndicators.csv")[1])
    assert [k for k, v in indicators.items() if v == "true"] == [
        "B_01.01", "B_01.02", "B_02.01", "B_02.02", "B_03.01", "B_03.02", "B_04.01", "B_05.01", "B_05.02", "B_06.01",
        "B_07.01", "B_99.01"]
    assert {k for k, v in indicators.items() if v == "false"} == {"B_01.03", "B_02.03", "B_03.03"}
    csvs = {n.split("/")[1] for n in read if n.startswith("reports/b_")}
    assert csvs == {f"{k.lower()}.csv" for k, v in indicators.items() if v == "true"} == set(EXPECTED_HEADERS)  # 808
    t = {}
    for name, header in EXPECTED_HEADERS.items():
        head, rows = table(name)
        assert head == header.split(), name
        t[name] = [dict(zip(head, r, strict=True)) for r in rows]
    assert table("b_02.01.csv")[1] == EXPECTED_B0201
    assert t["b_01.01.csv"] == [{"c0010": "DEMO00EXAMPLEBANK035", "c0020": "Example Bank plc", "c0030": "eba_GA:IE",
                                 "c0040": "eba_CT:x12", "c0050": "Central Bank of Ireland", "c0060": "2025-12-31"}]
    msft = next(r for r in t["b_05.01.csv"] if r["c0050"] == "Microsoft Ireland Operations Limited")
    assert (msft["c0010"], msft["c0090"], msft["c0100"], msft["c0110"]) == (
        "DEMO00MICROSOFTIE038", "eba_CU:EUR", "3380000", "DEMO00MICROSOFTCP054")  # both MSFT contracts
    # rule 805: no empty key; rule 806: no key twice; rule 807: every reference resolves
    keys = {"b_02.01.csv": ["c0010"], "b_05.01.csv": ["c0010"], "b_06.01.csv": ["c0010"],
            "b_02.02.csv": ["c0010", "c0020", "c0030", "c0050", "c0060", "c0130", "c0150", "c0160"]}
    for name, cols in keys.items():
        values = [tuple(r[c] for c in cols) for r in t[name]]
        assert all(all(v) for v in values), name
        assert len(values) == len(set(values)), name
    contracts = {r["c0010"] for r in t["b_02.01.csv"]}
    providers = {r["c0010"] for r in t["b_05.01.csv"]}
    functions = {r["c0010"] for r in t["b_06.01.csv"]}
    for name in ("b_02.02.csv", "b_03.01.csv", "b_03.02.csv", "b_04.01.csv", "b_05.02.csv", "b_07.01.csv"):
        assert {r["c0010"] for r in t[name]} <= contracts, name
    for name, col in (("b_02.02.csv", "c0030"), ("b_03.02.csv", "c0020"), ("b_05.02.csv", "c0030"),
                      ("b_07.01.csv", "c0020")):
        assert {r[col] for r in t[name]} <= providers, name
    assert {r["c0050"] for r in t["b_02.02.csv"]} <= functions
    assert {r["c0010"] for r in t["b_02.01.csv"]} == {r["c0010"] for r in t["b_07.01.csv"]}  # each contract assessed
    # formats: countries, currencies and dates as the taxonomy wants them
    for r in t["b_02.02.csv"]:
        assert all(re.fullmatch(r"eba_GA:([A-Z]{2}|qx2007)", r[c]) for c in ("c0120", "c0130", "c0150", "c0160"))
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[c]) for c in ("c0070", "c0080"))


def test_a_blank_key_location_is_filed_as_not_applicable_rule_805(complete, tmp_path):
    import yaml
    files, _ = complete
    answers = yaml.safe_load(Path(files["answers"]).read_text())
    for d in ("DEP-041", "DEP-042", "DEP-043", "DEP-044", "DEP-045", "DEP-046"):
        answers[d]["data_stored_by_provider"] = "no"
    (tmp_path / "answers.yaml").write_text(yaml.safe_dump(answers))
    a, spec, book = _demo_of({**files, "answers": str(tmp_path / "answers.yaml")})
    reg = build_register(a, book, spec, REF)
    assert not [f for f in reg.findings if f.column == "c0150"]  # no storage: no location needed
    rows = [r for r in _package(write_eba_csv(reg, spec, root="p"))["b_02.02.csv"] if r["c0010"] == "GCP-2025-045"]
    assert rows and all(r["c0140"] == "eba_BT:x29" and r["c0150"] == "eba_GA:qx2007" for r in rows)
    assert all(r["c0160"].startswith("eba_GA:") and r["c0160"] != "eba_GA:qx2007" for r in rows)


def test_the_ctpp_flag_of_the_providers_file_is_checked_against_the_esas_list(demo, complete):
    from risk_models.providers.ctpp import ctpp_status, load_ctpp
    from risk_models.providers.summary import ctpp_share, provider_summary
    a, spec, book = demo
    ctpp = load_ctpp()
    assert ctpp.as_of == dt.date(2025, 11, 18) and len(ctpp.designated) == 19
    status = ctpp_status(book.providers, ctpp)
    assert status["MSFT-IE"] == status["AWS-EMEA"] == status["GOOGLE-IE"] == "designated"
    assert status["MSFT-CORP"] == "group" and status["ORACLE-EMEA"] == "" and status["OPENAI-IE"] == ""
    reg = build_register(a, book, spec, REF)
    [f] = [f for f in reg.findings if f.template == "B_05.01" and f.kind == "contradiction"]
    assert "Oracle EMEA Limited" in f.message and "18 Nov 2025" in f.message
    _, (ca, cspec, cbook) = complete
    assert not [f for f in build_register(ca, cbook, cspec, REF).findings if f.template == "B_05.01"]
    from risk_models.dora.chain import supply_chain
    summary = provider_summary(ca, cbook, supply_chain(ca, cbook), REF)
    share = ctpp_share(summary)
    ct = summary[summary["ctpp"] == "Designated CTPP"]
    assert set(ct["provider"]) == {"Microsoft Ireland Operations Limited", "Amazon Web Services EMEA SARL",
                                   "Google Cloud EMEA Limited"}
    assert share["spend_share"] == pytest.approx(ct["share_of_ai_spend"].sum()) and 0 < share["spend_share"] < 1
    assert 0 < share["critical"] <= share["critical_total"]


def test_providers_and_contracts_drafted_from_the_inventory_load_once_completed(demo, tmp_path, capsys):
    import openpyxl
    a, spec, _ = demo
    args = ["register", "draft", str(DEMO / "inventory.csv"), "--profile", str(DEMO / "profile.yaml"), "--out-dir",
            str(tmp_path), "--format", "csv"]
    assert main(args) == 0
    providers = list(csv.DictReader((tmp_path / "providers.csv").open()))
    assert {p["Provider ID"] for p in providers} == {"ANTHROPIC", "AWS", "COHERE", "GOOGLE", "MICROSOFT", "OPENAI"}
    assert all(p["LEI"] == "" for p in providers)  # only the firm knows it: never guessed
    contracts = list(csv.DictReader((tmp_path / "contracts.csv").open()))
    msft = next(c for c in contracts if c["Provider ID"] == "MICROSOFT")
    assert len(msft["Deployments"].split(";")) == 24
    # as drafted, the blanks are named row errors; completed, the files load
    book = load_book(tmp_path / "providers.csv", tmp_path / "contracts.csv", a.lib, spec.lists["ict_service_type"])
    assert any(e.column == "lei" and e.key == "MICROSOFT" and "required" in e.message for e in book.errors)
    for i, p in enumerate(providers):
        base = f"DEMO00DRAFT{i:07d}"
        p.update({"LEI": base + check_digits(base), "Country": "IE"})
    for c in contracts:
        c.update({"Start": "2025-01-01", "Annual spend": "1000", "ICT service type": "S19 Cloud services: SaaS"})
    for name, rows in (("providers.csv", providers), ("contracts.csv", contracts)):
        with (tmp_path / name).open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    book = load_book(tmp_path / "providers.csv", tmp_path / "contracts.csv", a.lib, spec.lists["ict_service_type"])
    assert book.errors == [] and set(book.contracts["ict_service_type"]) == {"eba_TA:S19"}
    assert main(args) == 2  # existing files are not overwritten without --replace
    assert main([*args[:-2], "--format", "xlsx"]) == 0
    wb = openpyxl.load_workbook(tmp_path / "contracts.xlsx")
    ws = wb["Contracts"]
    assert ws["A1"].value == "Contract ref" and ws["A1"].font.bold
    service_col = [c.column_letter for c in ws[1] if c.value == "ICT service type"][0]
    dvs = [dv for dv in ws.data_validations.dataValidation if f"{service_col}2:{service_col}5000" in str(dv.sqref)]
    assert len(dvs) == 1 and dvs[0].formula1.startswith("=Lists!")
    assert any(c.value == "S18 Cloud services: PaaS" for row in wb["Lists"].iter_rows() for c in row)



def test_refused_cells_point_at_the_edited_row_and_column(demo, tmp_path):
    from risk_models.providers.draft import template_csv
    from risk_models.providers.records import refused_cells
    a, spec, book = demo
    frame = book.providers.drop(columns=["line"]).astype(str)
    frame.loc[frame["provider_id"] == "COHERE", "lei"] = "DEMO00COHEREINC00094"
    frame.loc[frame["provider_id"] == "AWS-EMEA", "country"] = "XX"
    contracts = book.contracts.drop(columns=["line"]).astype(str).replace({"None": "", "nan": ""})
    trial = load_book((template_csv(frame), "p.csv"), (template_csv(contracts), "c.csv"), a.lib,
                      spec.lists["ict_service_type"])
    rows = {pid: i for i, pid in enumerate(frame["provider_id"])}
    assert refused_cells(trial.errors, "p.csv") == {(rows["COHERE"], "lei"), (rows["AWS-EMEA"], "country")}


# --- B_99.01, arrangement types, the supply chain behind each service (issue 26) ----------------------
B9901_OPTIONS = [  # hand-copied from the EBA annotated table layout DORA 4.0 (19 columns, six closed lists)
    ("B_02.01.0020", "Standalone arrangement"), ("B_02.01.0020", "Overarching arrangement"),
    ("B_02.01.0020", "Subsequent or associated arrangement"), ("B_02.02.0170", "Low"), ("B_02.02.0170", "Medium"),
    ("B_02.02.0170", "High"), ("B_06.01.0100", "Low"), ("B_06.01.0100", "Medium"), ("B_06.01.0100", "High"),
    ("B_07.01.0050", "Not substitutable"), ("B_07.01.0050", "Highly complex substitutability"),
    ("B_07.01.0050", "Medium complexity in terms of substitutability"), ("B_07.01.0050", "Easily substitutable"),
    ("B_07.01.0090", "Easy"), ("B_07.01.0090", "Difficult"), ("B_07.01.0090", "Highly complex"),
    ("B_07.01.0100", "Low"), ("B_07.01.0100", "Medium"), ("B_07.01.0100", "High")]


def test_b9901_defines_the_options_the_register_derives_and_the_firm_defines_the_rest(complete, tmp_path):
    import yaml
    files, (a, spec, book) = complete
    cols = spec.templates["B_99.01"].columns
    assert list(cols) == [f"c{n:04d}" for n in range(10, 200, 10)]
    for (code, col), (field_code, option) in zip(cols.items(), B9901_OPTIONS, strict=True):
        assert field_code in col.label and col.label.endswith(f": {option}"), code
    [row] = build_register(a, book, spec, REF).templates["B_99.01"].to_dict("records")
    assert "confidential or regulated" in row["c0060"] and "public" in row["c0040"]  # the rule B_02.02 c0170 applies
    assert "high or critical" in row["c0090"] and "high or critical" in row["c0190"]
    assert all(row[c] == "" for c in ("c0100", "c0110", "c0120", "c0130", "c0140", "c0150", "c0160"))  # judgement
    profile = yaml.safe_load(Path(files["profile"]).read_text())
    profile["dora"]["definitions"] = {"c0100": "No other provider offers the model under our contract terms",
                                      "c0060": "Client data", "c0999": "?"}
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    a2, spec2, book2 = _demo_of({**files, "profile": str(tmp_path / "profile.yaml")})
    reg = build_register(a2, book2, spec2, REF)
    [row] = reg.templates["B_99.01"].to_dict("records")
    assert row["c0100"].startswith("No other provider") and row["c0060"] == "Client data"
    [f] = reg.findings
    assert (f.template, f.column, f.kind) == ("B_99.01", "c0999", "invalid") and "c0010 to c0190" in f.message


def test_subsequent_arrangements_name_their_overarching_contract(complete, tmp_path):
    files, (a, spec, book) = complete
    text = Path(files["contracts"]).read_text().replace(
        "contract_ref,provider_id,start,end,notice_period_days,provider_notice_period_days,annual_spend,committed_spend,"
        "currency,governing_law,termination_rights,exit_assistance,ict_service_type,last_audit,deployments",
        "contract_ref,provider_id,start,end,notice_period_days,provider_notice_period_days,annual_spend,committed_spend,"
        "currency,governing_law,termination_rights,exit_assistance,ict_service_type,last_audit,deployments,"
        "overarching_contract")
    lines = [ln + (",MSFT-EA-2024-017" if ln.startswith("MSFT-MACC-2025-003") else "") for ln in text.splitlines()]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    book2 = load_book(Path(files["providers"]), tmp_path / "c.csv", a.lib, spec.lists["ict_service_type"])
    assert book2.errors == []
    reg = build_register(a, book2, spec, REF)
    b0201 = reg.templates["B_02.01"].set_index("c0010")
    assert b0201.loc["MSFT-EA-2024-017", "c0020"] == "eba_CO:x2" and b0201.loc["MSFT-EA-2024-017", "c0030"] == ""
    assert tuple(b0201.loc["MSFT-MACC-2025-003", ["c0020", "c0030"]]) == ("eba_CO:x3", "MSFT-EA-2024-017")
    assert b0201.loc["AWS-EDP-2024-221", "c0020"] == "eba_CO:x1" and reg.findings == []
    # the import of the package gives the link back
    from risk_models.dora.import_package import book_frames, read_package
    tables, _ = read_package(write_eba_csv(reg, spec, root="r"), spec.taxonomy.module)
    _, contracts = book_frames(tables)
    assert contracts.set_index("contract_ref").loc["MSFT-MACC-2025-003", "overarching_contract"] == "MSFT-EA-2024-017"
    # a reference to no contract, or to a contract that is itself subsequent, is refused with its cell
    bad = [ln.replace(",MSFT-EA-2024-017", ",NOPE") if ln.startswith("MSFT-MACC") else
           ln + (",MSFT-MACC-2025-003" if ln.startswith("AWS-EDP") else "") for ln in lines]
    (tmp_path / "bad.csv").write_text("\n".join(bad) + "\n")
    errs = load_book(Path(files["providers"]), tmp_path / "bad.csv", a.lib, spec.lists["ict_service_type"]).errors
    assert {(e.key, e.column, e.value) for e in errs} == {("MSFT-MACC-2025-003", "overarching_contract", "NOPE"), (
        "AWS-EDP-2024-221", "overarching_contract", "MSFT-MACC-2025-003")}
    assert "one level" in next(e.message for e in errs if e.key == "AWS-EDP-2024-221")


def test_the_chain_behind_each_service_feeds_b0502_ranks_with_ctpp_status(complete, tmp_path):
    from risk_models.dora.chain import supply_chain
    files, (a, spec, book) = complete
    # the Azure OpenAI contract bought through a reseller: reseller 1 -> Microsoft 2 -> OpenAI 3
    (tmp_path / "c.csv").write_text(Path(files["contracts"]).read_text().replace(
        "MSFT-EA-2024-017,MSFT-IE", "MSFT-EA-2024-017,ONPREM"))
    book2 = load_book(Path(files["providers"]), tmp_path / "c.csv", a.lib, spec.lists["ict_service_type"])
    chain = supply_chain(a, book2)
    one = chain[chain["deployment_id"] == "DEP-001"].sort_values("rank")
    assert list(zip(one["rank"], one["provider_id"], one["role"], one["recipient_id"], strict=True)) == [
        (1, "ONPREM", "contracted provider", ""), (2, "MSFT-IE", "channel provider", "ONPREM"),
        (3, "OPENAI-IE", "model vendor", "MSFT-IE")]
    assert list(one["ctpp"]) == ["", "designated", ""]  # Microsoft Ireland Operations Ltd is on the ESAs' list
    region = a.frame.set_index("deployment_id").loc["DEP-001", "region"]
    assert set(one["region"]) == {region} and len(set(one["country"])) == 1 and one["country"].iat[0] != ""
    # the OpenAI API runs on Microsoft's cloud: rank 2 hosting cloud, receiving nothing but serving OpenAI
    api = chain[(chain["contract_ref"] == "OAI-ENT-2025-114") & (chain["rank"] == 2)]
    assert set(api["provider_id"]) == {"MSFT-IE"} and set(api["role"]) == {"hosting cloud"}
    assert set(api["recipient_id"]) == {"OPENAI-IE"} and set(api["ctpp"]) == {"designated"}
    reg = build_register(a, book2, spec, REF)
    b0502 = reg.templates["B_05.02"]
    lei = {p: book2.provider_by_id[p]["lei"] for p in ("ONPREM", "MSFT-IE", "OPENAI-IE")}
    rows = {(r["c0050"], r["c0030"], r["c0060"]) for r in b0502[b0502["c0010"] == "MSFT-EA-2024-017"].to_dict("records")}
    assert rows == {(1, lei["ONPREM"], lei["ONPREM"]), (2, lei["MSFT-IE"], lei["ONPREM"]),
                    (3, lei["OPENAI-IE"], lei["MSFT-IE"])}
    # rule 805: the recipient is a key of B_05.02, never blank; every provider of the chain is in B_05.01
    assert (b0502["c0060"] != "").all() and set(b0502["c0030"]) <= set(reg.templates["B_05.01"]["c0010"])


# --- the EBA's validation rules, each finding with its rule id -------------------------------------
def _edited(reg, template: str, row: int, **cells):
    import copy
    r = copy.deepcopy(reg)
    for col, v in cells.items():
        r.templates[template].loc[row, col] = v
    return r


@pytest.mark.parametrize(("template", "row", "cells", "rule", "column"), [
    ("B_01.02", 0, {"c0100": ""}, "v8803_m", "c0100"),
    ("B_01.02", 0, {"c0110": -5.0}, "v22913_s", "c0110"),
    ("B_01.02", 0, {"c0060": "not-an-lei"}, "v8826_m", "c0060"),
    ("B_02.01", 1, {"c0020": "eba_CO:x3", "c0030": ""}, "v22912_m", "c0030"),
    ("B_02.01", 0, {"c0050": -1.0}, "v23716_s", "c0050"),
    ("B_02.02", 0, {"c0080": "2020-01-01"}, "v8816_m", "c0080"),
    ("B_05.01", 0, {"c0020": "eba_qCO:qx2004"}, "v8817_m", "c0020"),
    ("B_05.01", 0, {"c0030": "IE1234567T", "c0040": ""}, "v8823_m", "c0040"),
    ("B_05.01", 0, {"c0030": "IE1234567T", "c0040": "eba_qCO:qx2004"}, "v8818_m", "c0040"),
    ("B_05.01", 0, {"c0090": ""}, "v8824_m", "c0090"),
    ("B_07.01", 0, {"c0050": "eba_ZZ:x959", "c0060": ""}, "v8825_m", "c0060"),
    ("B_05.01", 0, {"c0060": ""}, "e23674_e", "c0060"),
    ("B_06.01", 0, {"c0070": ""}, "e23682_e", "c0070"),
    ("B_05.01", 0, {"c0110": "DEMO00NOSUCHPARENT99"}, "807", "c0110"),
    ("B_05.02", 0, {"c0060": "DEMO00NOSUCHRECIPIE9"}, "807", "c0060"),
    ("B_06.01", 0, {"c0040": "DEMO00NOTTHEENTITY99"}, "807", "c0040"),
    ("B_05.02", 0, {"c0060": ""}, "805", "c0060"),
])
def test_each_eba_rule_fires_on_its_violation_with_its_id(complete, template, row, cells, rule, column):
    from risk_models.dora.checks import validate_register
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    assert validate_register(reg, spec) == []
    found = [f for f in validate_register(_edited(reg, template, row, **cells), spec) if f.rule == rule]
    assert [(f.template, f.row, f.column) for f in found] == [(template, row + 1, column)], found
    assert f"EBA rule {rule}" in found[0].text()


def test_the_package_passes_the_key_and_foreign_key_rules_with_parents_and_placeholders(complete):
    from risk_models.dora.checks import validate_register
    _, (a, spec, book) = complete
    reg = build_register(a, book, spec, REF)
    b0501 = reg.templates["B_05.01"].set_index("c0010")
    corp = book.provider_by_id["MSFT-CORP"]["lei"]
    # the ultimate parent has a row of its own (807), names itself, reports no expense of its own
    assert b0501.loc[corp, "c0110"] == corp and b0501.loc[corp, "c0100"] == "" and b0501.loc[corp, "c0060"]
    assert b0501.loc[book.provider_by_id["MSFT-IE"]["lei"], "c0110"] == corp
    assert reg.templates["B_01.02"].at[0, "c0090"] == "9999-12-31"  # not deleted (e23676_e needs a value)
    with zipfile.ZipFile(io.BytesIO(write_eba_csv(reg, spec, root="r"))) as z:
        b0401 = list(csv.DictReader(io.StringIO(z.read("r/reports/b_04.01.csv").decode())))
    assert {r["c0040"] for r in b0401} == {"Not Applicable"}  # a key column of B_04.01 (rule 805)
    # B_02.01 <-> B_02.02 and B_02.01 <-> B_05.02: an arrangement with no service, a chain with the wrong rank 1
    gone = reg.templates["B_02.02"].at[0, "c0010"]
    b = _edited(reg, "B_02.02", 0)
    b.templates["B_02.02"] = b.templates["B_02.02"][b.templates["B_02.02"]["c0010"] != gone].reset_index(drop=True)
    its = [(f.template, f.key, f.column) for f in validate_register(b, spec) if f.rule == "ITS"]
    assert ("B_02.01", gone, "c0010") in its  # B_02.02 details every arrangement of B_02.01
    assert ("B_07.01", gone, "c0040") in its  # and the assessment of its service has nothing to assess
    first = reg.templates["B_05.02"].index[reg.templates["B_05.02"]["c0050"] == 1][0]
    other = book.provider_by_id["COHERE"]["lei"]
    its = [f for f in validate_register(_edited(reg, "B_05.02", first, c0030=other, c0060=other), spec)
           if f.rule == "ITS"]
    assert [(f.template, f.column) for f in its] == [("B_05.02", "c0030")] and "rank 1" in its[0].message
    # a duplicate composite key of B_02.02 (rule 806)
    dup = reg.templates["B_02.02"]
    dup_reg = _edited(reg, "B_02.02", 0)
    dup_reg.templates["B_02.02"] = pd.concat([dup, dup.iloc[[0]]], ignore_index=True)
    assert [f.rule for f in validate_register(dup_reg, spec) if f.rule == "806"] == ["806"]


def test_providers_without_an_lei_are_identified_by_the_ebas_other_code_types(complete, tmp_path):
    from risk_models.providers.records import CODE_TYPES, LEI_TYPE
    files, (a, spec, book) = complete
    assert set(CODE_TYPES) | {LEI_TYPE} == set(spec.lists["code_type"])  # the EBA's six types of code
    table = list(csv.reader(io.StringIO(Path(files["providers"]).read_text())))
    extra = {"COHERE": ("", "IE.CRO.123456", "EUID"),  # no LEI: an EU company with its EUID
             "ANTHROPIC-IE": (None, "IE9876543X", "VAT"),  # an LEI and, as additional code, a VAT number
             "ONPREM": ("", "IE1234567T", "vat")}  # only a VAT number: the ITS wants an LEI or EUID (v8817_m)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([*table[0], "code", "code_type"])
    for row in table[1:]:
        lei, code, ctype = extra.get(row[0], (None, "", ""))
        w.writerow([*row[:2], row[2] if lei is None else lei, *row[3:], code, ctype])
    (tmp_path / "p.csv").write_text(out.getvalue())
    book2 = load_book(tmp_path / "p.csv", Path(files["contracts"]), a.lib, spec.lists["ict_service_type"])
    assert book2.errors == []
    reg = build_register(a, book2, spec, REF)
    b0501 = reg.templates["B_05.01"].set_index("c0050")
    assert tuple(b0501.loc["Cohere Inc.", ["c0020", "c0030", "c0110", "c0120"]]) == (
        "eba_qCO:qx2002", "", "IE.CRO.123456", "eba_qCO:qx2002")
    assert b0501.index[b0501["c0010"] == "IE.CRO.123456"].tolist() == ["Cohere Inc."]
    assert tuple(b0501.loc["Anthropic Ireland Limited", ["c0020", "c0030", "c0040"]]) == (
        "eba_qCO:qx2000", "IE9876543X", "eba_qCO:qx2004")
    b0202 = reg.templates["B_02.02"]
    assert set(b0202.loc[b0202["c0010"] == "COH-2023-002", "c0040"]) == {"eba_qCO:qx2002"}
    # the DPM rules: a legal person's code and additional code are an LEI or an EUID
    assert sorted((f.rule, f.template, f.key) for f in reg.findings) == [
        ("v8817_m", "B_05.01", "IE1234567T"), ("v8818_m", "B_05.01", "DEMO00ANTHROPICIE007")]
    bad = (tmp_path / "p.csv").read_text().replace("IE.CRO.123456,EUID", "IE.CRO.123456,DUNS")
    (tmp_path / "bad.csv").write_text(bad)
    errors = load_book(tmp_path / "bad.csv", Path(files["contracts"]), a.lib, spec.lists["ict_service_type"]).errors
    [e] = [e for e in errors if e.file == "bad.csv"]  # (its contract is refused too, naming the provider)
    assert (e.key, e.column, e.value) == ("COHERE", "code_type", "DUNS") and "EUID" in e.message


def test_the_committee_pdf_shows_what_the_ctpps_carry_with_the_providers_pages_figures(demo, tmp_path, capsys):
    import subprocess

    from risk_models.dora.chain import supply_chain
    from risk_models.providers.summary import ctpp_block, ctpp_share, provider_summary
    a, spec, book = demo
    chain = supply_chain(a, book)
    block = ctpp_block(a, book, chain, REF)
    share = ctpp_share(provider_summary(a, book, chain, REF))  # what the Providers page shows
    assert (block["spend_share"], block["critical"], block["critical_total"]) == (
        share["spend_share"], share["critical"], share["critical_total"])
    msft = next(r for r in block["providers"] if r["provider"] == "Microsoft Ireland Operations Limited")
    assert msft["status"] == "Designated CTPP" and msft["share_of_ai_spend"] > 0.2
    # the OpenAI API runs on Microsoft's cloud: Microsoft's chain reaches more deployments than it serves directly
    assert msft["chain_deployments"] > msft["deployments"]
    assert set(block["critical_functions_on_ctpp"]) <= set(block["critical_functions"])
    assert block["functions_basis"] == "deployment criticality"  # the demo profile classifies no function
    assert {"OpenAI Ireland Limited", "Cohere Inc."}.isdisjoint(r["provider"] for r in block["providers"])
    out = tmp_path / "r.pdf"
    args = ["assess", str(DEMO / "inventory.csv"), "--answers", str(DEMO / "answers.yaml"), "--profile",
            str(DEMO / "profile.yaml"), "--trials", "200", "--pdf", str(out)]
    assert main([*args, "--providers", str(DEMO / "providers.csv")]) == 2
    assert "--providers and --contracts go together" in capsys.readouterr().err
    assert main([*args, "--providers", str(DEMO / "providers.csv"), "--contracts", str(DEMO / "contracts.csv")]) == 0
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, check=True).stdout.decode()
    assert "Critical ICT third-party providers" in text and "Microsoft Ireland" in text  # (name wraps)
    assert f"carry {block['spend_share']:.0%} of the AI spend" in " ".join(text.split())
    assert main(args) == 0  # without the files: no section
    plain = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True).stdout.decode()
    assert "Critical ICT third-party providers" not in plain


EBA_COLUMNS = {  # hand-copied column codes of the EBA annotated table layout DORA 4.0, in its order
    "B_01.01": "0010 0020 0030 0040 0050 0060", "B_01.02": "0010 0020 0030 0040 0050 0060 0070 0080 0090 0100 0110",
    "B_01.03": "0010 0020 0030 0040", "B_02.01": "0010 0020 0030 0040 0050",
    "B_02.02": "0010 0020 0030 0040 0050 0060 0070 0080 0090 0100 0110 0120 0130 0140 0150 0160 0170 0180",
    "B_02.03": "0010 0020 0030", "B_03.01": "0010 0020 0030", "B_03.02": "0010 0020 0030", "B_03.03": "0010 0020 0031",
    "B_04.01": "0010 0020 0030 0040", "B_05.01": "0010 0020 0030 0040 0050 0060 0070 0080 0090 0100 0110 0120",
    "B_05.02": "0010 0020 0030 0040 0050 0060 0070", "B_06.01": "0010 0020 0030 0040 0050 0060 0070 0080 0090 0100",
    "B_07.01": "0010 0020 0030 0040 0050 0060 0070 0080 0090 0100 0110 0120",
    "B_99.01": " ".join(f"{n:04d}" for n in range(10, 200, 10))}


def test_every_template_has_the_ebas_columns_in_the_ebas_order():
    from risk_models.dora.model import MODULE_TEMPLATES
    spec = load_roi_spec()
    assert tuple(spec.templates) == MODULE_TEMPLATES == tuple(EBA_COLUMNS)
    for name, codes in EBA_COLUMNS.items():
        assert list(spec.templates[name].columns) == [f"c{c}" for c in codes.split()], name
    assert len(spec.lists["licensed_activity"]) == 131 and "eba_TA:x28" in spec.lists["licensed_activity"]


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["MSFT-IE", "ONPREM", "AWS-EMEA", "OPENAI-IE", "ANTHROPIC-IE", "GOOGLE-IE"]),
                min_size=10, max_size=10))
def test_every_link_of_a_chain_serves_the_link_one_rank_above(complete, owners):
    """Whoever the contracts are with (a reseller, the channel's operator or someone else), each deployment's
    chain has one rank 1, every lower link's recipient is a link one rank above, and no provider twice."""
    import tempfile

    from risk_models.dora.chain import supply_chain
    files, (a, spec, book) = complete
    table = list(csv.reader(io.StringIO(Path(files["contracts"]).read_text())))
    rows = [r if r[0].startswith("#") else [r[0], owners[i % len(owners)], *r[2:]] for i, r in enumerate(table[1:])]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "c.csv"
        with path.open("w", newline="") as f:
            csv.writer(f).writerows([table[0], *rows])
        book2 = load_book(Path(files["providers"]), path, a.lib, spec.lists["ict_service_type"])
    chain = supply_chain(a, book2)
    for _, g in chain.groupby("deployment_id"):
        assert (g["rank"] == 1).sum() == 1
        named = g[g["provider_id"] != ""]
        assert named["provider_id"].is_unique
        for r in g[g["rank"] > 1].itertuples():
            above = g[g["rank"] == r.rank - 1]["provider_id"]
            assert r.recipient_id in set(above) or (r.recipient_id == "" and (above == "").any())
