"""Discovery from FOCUS billing exports (one sample per cloud's export flavour, each checked with the
FinOps Foundation's focus-validator first) and from CycloneDX ML-BOMs, through the CLI a user runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_models.cli.main import main
from risk_models.discovery.draft import draft_frame, merge_into_raw
from risk_models.discovery.focus import read_focus
from risk_models.discovery.rules import load_discovery
from tests import focus_samples as fs
from tests.conftest import DEMO_INVENTORY, ROOT

FLAVOURS = {"aws": ("aws.csv", fs.aws), "azure": ("azure.csv", fs.azure), "google": ("gcp.parquet", fs.google),
            "oci": ("oci.csv", fs.oci)}


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("focus")
    out = {}
    for k, (name, build) in FLAVOURS.items():
        out[k] = (fs.write_parquet if name.endswith(".parquet") else fs.write_csv)(build(), d / name)
    broken = fs.aws().drop(columns=["BilledCost"])
    out["broken"] = fs.write_csv(broken, d / "broken.csv")
    return out


@pytest.fixture(scope="module")
def validated(samples) -> dict[str, dict]:
    """focus-validator's verdict per sample file, run once for the module (a few seconds per file)."""
    py = Path(os.environ.get("FOCUS_VALIDATOR_PYTHON", ROOT / ".venv-focus" / "bin" / "python"))
    if not py.exists():
        pytest.fail(f"focus-validator venv missing ({py}); create it with `make .venv/.stamp-test`")
    site = subprocess.run([py, "-c", "import focus_validator, os; print(os.path.dirname(os.path.dirname("
                           "focus_validator.__file__)))"], capture_output=True, text=True, check=True).stdout.strip()
    res = subprocess.run([py, ROOT / "tests" / "focus_validate.py", ROOT / "tests" / "focus_override.yaml",
                          *samples.values()], capture_output=True, text=True, cwd=site, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return {Path(r["file"]).name: r for r in map(json.loads, res.stdout.splitlines())}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_validator_really_checks_and_only_preview_names_are_skipped(validated):
    assert validated["broken.csv"]["failed"] == ["BilledCost_Required"]  # it does catch a bad export
    for name in ("aws.csv", "azure.csv", "gcp.parquet", "oci.csv"):
        assert validated[name]["failed"] == [] and validated[name]["checks"] > 100, validated[name]
    skipped = yaml.safe_load((ROOT / "tests" / "focus_override.yaml").read_text())["overrides"]
    assert validated["aws.csv"]["skipped"] == sorted(skipped)
    assert set(skipped) == {"Provider_Required", "Publisher_Required", "InvoiceIssuer_Required",
                            "ResourceID_Required", "SkuPriceId_Nullable"}
    assert {"ProviderName", "PublisherName", "InvoiceIssuerName", "ResourceId"} <= set(fs.FOCUS_10)


@pytest.mark.parametrize("flavour,channel,model,region", [
    ("aws", "aws_bedrock", "claude-3.5-sonnet", "us-east-1"),
    ("azure", "azure_openai", "gpt-4o", "swedencentral"),
    ("google", "google_vertex", "gemini-2.5-pro", "europe-west4"),
    ("oci", "other", "command-r+", "eu-frankfurt-1"),
])
def test_each_clouds_export_becomes_one_draft_deployment(flavour, channel, model, region, samples, validated,
                                                         tmp_path, capsys):
    assert validated[samples[flavour].name]["failed"] == []
    out = tmp_path / "draft.csv"
    code, stdout, err = run(capsys, "discover", "focus", samples[flavour], "--out", out)
    assert code == 0, err
    draft = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(draft) == 1  # the compute/analytics row of the same export is not an AI charge
    d = draft.iloc[0]
    assert (d["channel"], d["model"], d["region"]) == (channel, model, region)
    per_month = float(pd.read_csv(samples[flavour]).iloc[0]["EffectiveCost"]) if samples[flavour].suffix == ".csv" \
        else float(pd.read_parquet(samples[flavour]).iloc[0]["EffectiveCost"])
    assert float(d["annual_spend_usd"]) == pytest.approx(per_month * 3 * 365.25 / 92, abs=0.01)
    assert "1 rows of other services" in stdout and "3.0 months" in stdout
    # the draft is a valid inventory as it stands
    assert run(capsys, "validate", out)[0] == 0


def test_mixed_file_with_tag_key_currency_and_unplaced_rows(tmp_path, capsys):
    rows = [
        fs.row("Microsoft", "Azure OpenAI Service", 1000.0, "/s/aoai-1", "gpt-4.1-mini Inp glbl Tokens", "westeurope",
               tags={"ai-deployment": "DEP-001"}),
        fs.row("AWS", "Amazon Bedrock", 500.0, "arn:b1", "Meta Llama 3.1 70B input tokens", "eu-central-1",
               tags={"ai-deployment": "DEP-001"}),  # the same tag on another cloud: a second deployment
        fs.row("AWS", "AWS Marketplace", 2000.0, "arn:mp", "Claude Enterprise seats", "us-east-1",
               publisher="Anthropic", tags={"ai-deployment": "NEW-SAAS"}, category="Purchase"),
        fs.row("Microsoft", "Azure OpenAI Service", 300.0, "/s/aoai-2", "gpt-4o Outp regnl Tokens", "westeurope",
               tags={}),  # no tag: cannot be placed
        fs.row("Google Cloud", "Vertex AI", 100.0, "//v", "Gemini 2.5 Flash", "europe-west4", currency="EUR",
               tags={"ai-deployment": "DEP-EU"}),
        fs.row("Microsoft", "Azure OpenAI Service", 19.0, "/s/aoai-1", "VAT", "westeurope", category="Tax",
               tags={"ai-deployment": "DEP-001"}),
        fs.row("Microsoft", "Storage", 7.0, "/s/st", "=HYPERLINK(\"x\")", "westeurope", service_category="Storage"),
    ]
    f = fs.write_csv(pd.DataFrame(rows)[fs.FOCUS_10], tmp_path / "mixed.csv")
    out = tmp_path / "draft.csv"
    code, stdout, err = run(capsys, "discover", "focus", f, "--key", "tag:ai-deployment", "--out", out)
    assert code == 1  # some AI rows could not be placed: listed, and the draft is still written
    assert "no 'ai-deployment' tag; e.g. mixed.csv line 5" in err
    assert "billed in EUR; no exchange rate to USD given (--rates)" in err and "mixed.csv line 6" in err
    assert "charge category 'Tax' is not counted as spend" in err
    draft = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("deployment_id")
    assert sorted(draft.index) == ["DEP-001 (AWS Bedrock)", "DEP-001 (Azure OpenAI)", "NEW-SAAS"]
    assert draft.loc["NEW-SAAS", "channel"] == "anthropic_api"
    assert draft.loc["DEP-001 (AWS Bedrock)", "model"] == "llama-3.1-70b"
    assert draft.loc["NEW-SAAS", "model"] == "unknown" and "no model named" in draft.loc["NEW-SAAS", "discovery_note"]
    # one billing month: x12 (365.25 / 31 days)
    assert float(draft.loc["DEP-001 (Azure OpenAI)", "annual_spend_usd"]) == pytest.approx(1000 * 365.25 / 31, abs=0.01)
    # with a rate table the EUR row is converted and placed
    rates = tmp_path / "rates.yaml"
    rates.write_text("EUR: 1.10\n")
    code, _, err = run(capsys, "discover", "focus", f, "--key", "tag:ai-deployment", "--rates", rates, "--out", out)
    draft = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("deployment_id")
    assert float(draft.loc["DEP-EU", "annual_spend_usd"]) == pytest.approx(110 * 365.25 / 31, abs=0.01)
    assert "EUR" not in err


def test_non_ai_rows_only_write_nothing_and_say_why(tmp_path, capsys):
    rows = [fs.row("AWS", "Amazon Elastic Compute Cloud", 10.0, "i-1", "m7g", "us-east-1", service_category="Compute"),
            fs.row("AWS", "Amazon Simple Storage Service", 5.0, "b-1", "S3", "us-east-1", service_category="Storage")]
    f = fs.write_csv(pd.DataFrame(rows)[fs.FOCUS_10], tmp_path / "infra.csv")
    out = tmp_path / "draft.csv"
    code, _, err = run(capsys, "discover", "focus", f, "--out", out)
    assert code == 1 and not out.exists()
    assert "no AI service charges found in 2 billing rows" in err and "Amazon Elastic Compute Cloud (1)" in err


def test_not_a_focus_file_is_a_plain_error(tmp_path, capsys):
    code, _, err = run(capsys, "discover", "focus", DEMO_INVENTORY, "--out", tmp_path / "d.csv")
    assert code == 2 and "missing column(s) provider: ProviderName or Provider" in err and "Traceback" not in err
    bill = fs.write_csv(fs.azure(), tmp_path / "bill.csv")
    code, _, err = run(capsys, "discover", "focus", bill, "--out", bill)
    assert code == 2 and "refusing to overwrite the input billing file" in err
    assert len(pd.read_csv(bill)) == 4


def test_merge_adds_and_updates_spend_and_never_removes(lib, tmp_path, capsys):
    rows = [fs.row("Microsoft", "Azure OpenAI Service", 1000.0, "/s/a", "gpt-4o", "westeurope",
                   tags={"ai-deployment": "DEP-001"}),
            fs.row("AWS", "Amazon Bedrock", 10.0, "arn:x", "Amazon Nova Pro", "us-east-1",
                   tags={"ai-deployment": "BRAND-NEW"})]
    f = fs.write_csv(pd.DataFrame(rows)[fs.FOCUS_10], tmp_path / "bill.csv")
    merged = tmp_path / "merged.csv"
    code, out, err = run(capsys, "discover", "focus", f, "--key", "tag:ai-deployment", "--out", tmp_path / "d.csv",
                         "--against", DEMO_INVENTORY, "--merged", merged)
    assert code == 0, err
    assert "1 new deployment(s), 1 updated (annual spend (usd)), 0 unchanged; none removed" in out
    before = pd.read_csv(DEMO_INVENTORY, dtype=str, keep_default_na=False)
    after = pd.read_csv(merged, dtype=str, keep_default_na=False).set_index("deployment_id")
    assert set(before["deployment_id"]) < set(after.index) and "BRAND-NEW" in after.index
    assert float(after.loc["DEP-001", "annual_spend_usd"]) == pytest.approx(1000 * 365.25 / 31, abs=0.01)
    other = before.set_index("deployment_id").loc["DEP-002"]
    assert after.loc["DEP-002"].to_dict() == other.to_dict()


def test_merge_into_raw_keeps_rows_and_lines():
    raw = pd.DataFrame({"deployment_id": ["A", "B"], "annual_spend_usd": ["$1,000", "5"], "_l": [2, 3]})
    draft = pd.DataFrame({"deployment_id": ["A", "C"], "annual_spend_usd": [1000.0, 7.5], "channel": ["x", "y"]})
    merged, what = merge_into_raw(raw, draft, "_l")
    assert what == {"added": ["C"], "updated": [], "unchanged": ["A"]}  # $1,000 is the same amount
    assert list(merged["deployment_id"]) == ["A", "B", "C"] and list(merged["_l"]) == [2, 3, 4]


MLBOM = {
    "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "components": [
        {"type": "machine-learning-model", "bom-ref": "m1", "name": "claude-sonnet-4-5", "version": "20250929",
         "supplier": {"name": "Anthropic"}, "properties": [{"name": "ai-deployment", "value": "DEP-001"}],
         "modelCard": {"modelParameters": {"task": "text-generation"}}},
        {"type": "machine-learning-model", "bom-ref": "kyc-embedder", "name": "<script>x</script>",
         "supplier": {"name": "Self-hosted platform team"},
         "modelCard": {"considerations": {"useCases": ["KYC document search"]}}},
        {"type": "library", "name": "transformers", "version": "4.57.0"},
    ],
}


def test_mlbom_proposes_model_for_named_deployments_and_drafts_new_ones(tmp_path, capsys):
    f = tmp_path / "bom.json"
    f.write_text(json.dumps(MLBOM))
    out, merged = tmp_path / "draft.csv", tmp_path / "merged.csv"
    code, stdout, err = run(capsys, "discover", "mlbom", f, "--out", out, "--against", DEMO_INVENTORY,
                            "--merged", merged)
    assert code == 0, err
    assert "2 model component(s)" in stdout and "vendor Anthropic (supplier in the BOM: Anthropic)" in stdout
    assert "1 new deployment(s), 1 updated (model)" in stdout
    after = pd.read_csv(merged, dtype=str, keep_default_na=False).set_index("deployment_id")
    assert after.loc["DEP-001", "model"] == "claude-sonnet-4-5"
    assert after.loc["kyc-embedder", "channel"] == "self_hosted"
    assert after.loc["kyc-embedder", "use_case"] == "KYC document search"
    # a BOM that breaks the CycloneDX schema is refused with the reason
    bad = dict(MLBOM, components=[{"type": "machine-learning-model"}])
    f.write_text(json.dumps(bad))
    code, _, err = run(capsys, "discover", "mlbom", f, "--out", out)
    assert code == 2 and "does not follow the CycloneDX 1.6 schema" in err


def test_rules_reject_unknown_channels(lib, tmp_path):
    from risk_models.config.loader import ConfigError
    text = (ROOT / "config" / "discovery.yaml").read_text().replace("channel: aws_bedrock,", "channel: aws_bedrok,", 1)
    p = tmp_path / "discovery.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=r"rules\[2\]\.channel: unknown channel 'aws_bedrok'"):
        load_discovery(p, set(lib.channels.channels))


def test_parquet_map_tags_as_aws_writes_them(lib, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    df = fs.aws()
    t = pa.Table.from_pandas(df.drop(columns=["Tags"]), preserve_index=False)
    tags = pa.array([[("ai-deployment", "DEP-CLAIMS")]] * 3 + [[]], type=pa.map_(pa.string(), pa.string()))
    pq.write_table(t.append_column("Tags", tags), tmp_path / "aws.parquet")
    disc = load_discovery(channels=set(lib.channels.channels))
    imp = read_focus([tmp_path / "aws.parquet"], disc, key="tag:ai-deployment")
    assert imp.groups["key"].unique().tolist() == ["DEP-CLAIMS"] and imp.unplaced == {}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["ai-a", "ai-b", "infra", "ai-untagged", "ai-eur", "ai-tax"]),
                          st.floats(0, 1e5, allow_nan=False), st.integers(0, 2)), min_size=1, max_size=30))
def test_every_row_is_placed_left_out_with_a_reason_or_counted_as_non_ai(lib, rows):
    """Property: placed + unplaced + non-AI rows = all rows, and the draft's spend is the placed cost
    annualised over the billing days covered (row order and batching do not matter)."""
    import tempfile
    spec = {"ai-a": ("Microsoft", "Azure OpenAI Service", {"ai-deployment": "A"}, "USD", "Usage"),
            "ai-b": ("AWS", "Amazon Bedrock", {"ai-deployment": "B"}, "USD", "Usage"),
            "infra": ("AWS", "Amazon EC2", {"ai-deployment": "A"}, "USD", "Usage"),
            "ai-untagged": ("Google Cloud", "Vertex AI", {}, "USD", "Usage"),
            "ai-eur": ("Google Cloud", "Vertex AI", {"ai-deployment": "C"}, "EUR", "Usage"),
            "ai-tax": ("AWS", "Amazon Bedrock", {"ai-deployment": "B"}, "USD", "Tax")}
    frame = pd.DataFrame([fs.row(spec[k][0], spec[k][1], cost, "r", "gpt-4o", "us-east-1", tags=spec[k][2],
                                 currency=spec[k][3], category=spec[k][4], month=m) for k, cost, m in rows])[fs.FOCUS_10]
    disc = load_discovery(channels=set(lib.channels.channels))
    with tempfile.TemporaryDirectory() as d:
        imp = read_focus([fs.write_csv(frame, Path(d) / "x.csv")], disc, key="tag:ai-deployment")
    placed = int(imp.groups["rows"].sum()) if len(imp.groups) else 0
    assert placed + imp.unplaced_rows + imp.non_ai_rows == imp.total_rows == len(rows)
    kinds = [k for k, _, _ in rows]
    assert imp.non_ai_rows == kinds.count("infra") and placed == kinds.count("ai-a") + kinds.count("ai-b")
    if placed:
        draft = draft_frame(imp, disc, lib)
        cost = sum(c for k, c, _ in rows if k in ("ai-a", "ai-b"))
        months = {m for k, _, m in rows if k in ("ai-a", "ai-b")}
        days = sum((pd.Timestamp(fs.MONTHS[m][1]) - pd.Timestamp(fs.MONTHS[m][0])).days for m in months)
        assert draft["annual_spend_usd"].sum() == pytest.approx(cost * 365.25 / days, abs=0.01 * len(draft) + 1e-6)
