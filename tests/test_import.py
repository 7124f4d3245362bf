"""Inventory import: formats, messy-but-valid values, and every kind of rejected cell."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from risk_models.inventory.read import InventoryFileError, import_bytes, to_deployments
from tests.conftest import DEMO_INVENTORY

HEADER = ("deployment_id,name,business_unit,use_case,owner,channel,model,region,annual_spend_usd,criticality,"
          "data_sensitivity,contract_end,committed_spend_usd,fallback_status,proprietary_features,abstraction_layer")


def csv_bytes(*rows: str, header: str = HEADER, sep: str = ",") -> bytes:
    text = "\n".join([header, *rows]) + "\n"
    return text.replace(",", sep).encode("utf-8") if sep != "," else text.encode("utf-8")


def errors_by(result, column):
    return [e for e in result.errors if e.column == column]


def test_demo_inventory_is_valid_and_covers_every_channel(lib):
    r = import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib)
    assert r.errors == []
    assert 40 <= len(r.frame) <= 80
    assert set(r.frame["channel"]) == set(lib.channels.channels)
    assert r.frame.groupby("business_unit").size().min() >= 2


def test_messy_but_valid_values_are_normalised(lib):
    r = import_bytes(csv_bytes(
        'A1,Bot,Retail,chat,Ann,  azure OPENAI service ,gpt-4o,westeurope,"$54,500",HIGH,Regulated,2027/03/22,,TESTED,'
        'On Your Data; batch,Yes',
        "A2,Other,Retail,chat,Ann,aoai,o3-mini,eastus,54500.00,low,public,,1000,,,FALSE",
        "A3,Llama,Ops,x,Bo,On-Premises,llama-3.1-70b,,0,medium,internal,,,,,0",
    ), "inv.csv", lib)
    assert r.errors == []
    f = r.frame.set_index("deployment_id")
    assert list(f["channel"]) == ["azure_openai", "azure_openai", "self_hosted"]
    assert list(f["annual_spend_usd"]) == [54500.0, 54500.0, 0.0]
    assert f.loc["A1", "criticality"] == "high" and f.loc["A1", "data_sensitivity"] == "regulated"
    assert str(f.loc["A1", "contract_end"]) == "2027-03-22" and f.loc["A2", "contract_end"] is None
    assert f.loc["A1", "proprietary_features"] == "batch;on_your_data"
    assert f.loc["A1", "abstraction_layer"] and not f.loc["A2", "abstraction_layer"]
    assert f.loc["A2", "fallback_status"] == "none" and f.loc["A2", "committed_spend_usd"] == 1000
    assert list(f["model_vendor"]) == ["openai", "openai", "meta"]
    assert list(f["jurisdiction"]) == ["eu", "us", "on_prem"]


@pytest.mark.parametrize("model,vendor", [
    ("gpt-oss-120b", "openai_open_weights"), ("GPT-5", "openai"), ("o4-mini", "openai"),
    ("text-embedding-3-large", "openai"), ("claude-sonnet-4-5", "anthropic"), ("gemini-2.5-pro", "google"),
    ("llama-3.3-70b", "meta"), ("mixtral-8x7b", "mistral"), ("nova-pro", "amazon"), ("command-r", "cohere"),
    ("qwen2.5-72b", "alibaba"), ("my-own-model", "other"),
])
def test_model_vendor_rules(lib, model, vendor):
    r = import_bytes(csv_bytes(f"A,,,,,openai,{model},us,1,low,public,,,,,no"), "i.csv", lib)
    assert r.frame.loc[0, "model_vendor"] == vendor


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiters_and_bom(lib, sep):
    data = b"\xef\xbb\xbf" + csv_bytes("A,n,b,u,o,Bedrock,claude-3,us-east-1,10,low,public,,,,,no", sep=sep)
    r = import_bytes(data, "inv.csv", lib)
    assert r.errors == [] and r.frame.loc[0, "deployment_id"] == "A"


def test_xlsx_and_json_formats(lib):
    df = pd.DataFrame([{"deployment_id": 7, "channel": "Vertex", "model": "gemini-2.5-flash", "region": "europe-west4",
                        "annual_spend_usd": 1200.5, "criticality": "Critical", "data_sensitivity": "internal",
                        "contract_end": pd.Timestamp("2028-01-31"), "abstraction_layer": True}])
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    r = import_bytes(buf.getvalue(), "inv.xlsx", lib)
    assert r.errors == []
    row = r.frame.iloc[0]
    assert (row.deployment_id, row.channel, row.annual_spend_usd, str(row.contract_end), row.abstraction_layer) == \
        ("7", "google_vertex", 1200.5, "2028-01-31", True)
    data = json.dumps([{"deployment_id": "J1", "channel": "Anthropic", "model": "claude-haiku-4-5",
                        "annual_spend_usd": 5, "criticality": "low", "data_sensitivity": "public",
                        "proprietary_features": ["batch"], "abstraction_layer": False}]).encode()
    r = import_bytes(data, "inv.json", lib)
    assert r.errors == [] and r.frame.loc[0, "proprietary_features"] == "batch"


def test_every_error_kind_names_line_column_value(lib):
    r = import_bytes(csv_bytes(
        "A,,,,,Azur OpenAI,gpt-4o,eu,10,low,public,,,,,no",
        "B,,,,,openai,gpt-4o,eu,-5,low,public,,,,,no",
        "C,,,,,openai,gpt-4o,eu,ten,low,public,,,,,no",
        "D,,,,,openai,gpt-4o,eu,10,extreme,public,,,,,no",
        "E,,,,,openai,gpt-4o,eu,10,low,public,2027-02-30,,,,no",
        "A,,,,,openai,gpt-4o,eu,10,low,public,,,,,no",
        ",,,,,openai,gpt-4o,eu,10,low,public,,,,,no",
        "F,,,,,openai,gpt-4o,eu,10,low,public,,,,telepathy,no",
        "G,,,,,openai,gpt-4o,eu,10,low,public,,,sometimes,,perhaps",
        "H,,,,,openai,gpt-4o,eu,10,low,public,,,,,no",
    ), "inv.csv", lib)
    got = {(e.line, e.column, e.value) for e in r.errors}
    assert (2, "channel", "Azur OpenAI") in got
    assert "did you mean 'Azure OpenAI'" in errors_by(r, "channel")[0].message
    assert (3, "annual_spend_usd", "-5") in got and (4, "annual_spend_usd", "ten") in got
    assert (5, "criticality", "extreme") in got and "low, medium, high, critical" in errors_by(r, "criticality")[0].message
    assert (6, "contract_end", "2027-02-30") in got
    dup = next(e for e in r.errors if e.line == 7)
    assert dup.column == "deployment_id" and "first occurrence (line 2)" in dup.message
    assert (8, "deployment_id", "") in got
    assert (9, "proprietary_features", "telepathy") in got
    assert (10, "fallback_status", "sometimes") in got and (10, "abstraction_layer", "perhaps") in got
    # only the clean row survives; every other row is accounted for
    assert list(r.frame["deployment_id"]) == ["H"]
    assert r.rejected_lines == [2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_missing_required_column_is_one_error(lib):
    header = HEADER.replace(",channel", "")
    rows = [",".join(["X", "", "", "", "", "gpt-4o", "us", "1", "low", "public", "", "", "", "", "no"])] * 50
    r = import_bytes(csv_bytes(*rows, header=header), "inv.csv", lib)
    assert len(r.errors) == 1 and r.errors[0].column == "channel" and r.errors[0].line == 1
    assert "missing required column" in r.errors[0].message and len(r.frame) == 0


def test_hostile_text_is_kept_verbatim(lib):
    name = '=HYPERLINK("http://evil","click") <script>alert(1)</script> Ünïcødé 日本語 العربية'
    r = import_bytes(csv_bytes(f'A,"{name.replace(chr(34), chr(34) * 2)}",BU,x,o,openai,gpt-4o,us,1,low,public,,,,,no'),
                     "inv.csv", lib)
    assert r.errors == [] and r.frame.loc[0, "name"] == name


def test_multiline_cell_keeps_line_numbers_true(lib):
    r = import_bytes(csv_bytes('A,"two\nlines",b,u,o,openai,gpt-4o,us,1,low,public,,,,,no',
                               "B,,b,u,o,openia,gpt-4o,us,1,low,public,,,,,no"), "inv.csv", lib)
    assert [e.line for e in r.errors] == [4]


@pytest.mark.parametrize("data,name,message", [
    (b"\x00\x01\x02binary\x00", "x.csv", "binary file"),
    (b"", "x.csv", "empty"),
    (b"\xff\xfe\x00a", "x.csv", "UTF-16: save it as UTF-8"),  # issue 13: named, not "binary"
    (b"PK\x03\x04garbage", "x.xlsx", "cannot read the workbook"),
    (b'{"not": "a list"}', "x.json", "list of objects"),
    ("naïve".encode("latin-1") + b",x\n", "x.csv", "not UTF-8"),
])
def test_whole_file_problems_are_one_clear_error(lib, data, name, message):
    with pytest.raises(InventoryFileError, match=message):
        import_bytes(data, name, lib)


def test_size_cap(lib):
    # one unit throughout: MB = 1024 x 1024 bytes, as --max-mb and the app's uploader count them (issue 13)
    with pytest.raises(InventoryFileError, match=r"the file is 1\.1 MB; the limit is 1 MB"):
        import_bytes(b"a" * 1_150_000, "big.csv", lib, max_bytes=1024 * 1024)


def test_template_help_row_is_skipped(lib):
    from risk_models.inventory.template import template_csv
    data = template_csv(lib) + b"A,,,,,openai,gpt-4o,us,1,low,public,,,,,no\n"
    r = import_bytes(data, "t.csv", lib)
    assert r.errors == [] and list(r.frame["deployment_id"]) == ["A"] and r.frame.loc[0, "line"] == 3
    assert r.comment_lines == [2]  # reported, not silently dropped


def test_to_deployments_types(lib):
    r = import_bytes(DEMO_INVENTORY.read_bytes(), "inventory.csv", lib)
    deps = to_deployments(r.frame)
    assert len(deps) == len(r.frame)
    d = deps[0]  # DEP-001: 420000, on_your_data;assistants in the CSV
    assert d.deployment_id == "DEP-001"
    assert isinstance(d.proprietary_features, frozenset)
    assert sorted(f.value for f in d.proprietary_features) == ["assistants", "on_your_data"]
    assert isinstance(d.annual_spend_usd, float) and d.annual_spend_usd == 420_000.0


def test_a_channel_is_accepted_by_its_label_or_its_id_and_refused_with_labels(lib):
    """People type the channel's name, pipelines its id: both are the same channel; a misspelling is
    answered with the names people know, not the ids."""
    rows = ["deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity",
            "A,a,Azure OpenAI,gpt-4o,10,low,public", "B,b,azure_openai,gpt-4o,10,low,public",
            "C,c,Google Vertex,gemini-2.5-pro,10,low,public", "D,d,Gogle Vertx AI,gemini-2.5-pro,10,low,public"]
    r = import_bytes("\n".join(rows).encode(), "inv.csv", lib)
    assert list(r.frame["channel"]) == ["azure_openai", "azure_openai", "google_vertex"]
    (err,) = r.errors
    assert "did you mean 'Google Vertex AI'?" in err.message and "Azure OpenAI, OpenAI API" in err.message
    assert "google_vertex" not in err.message and "azure_openai" not in err.message
