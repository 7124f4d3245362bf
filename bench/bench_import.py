"""Validate a generated 20,000-row inventory vs plain pandas.read_csv of the same file, then import a
generated 1,000,000-row FOCUS Parquet export (discover focus) in its own process.

Prints times and the ratio measured side by side in one run (targets: < 3 s, < 10x read_csv; FOCUS
import < 20 s and < 1 GiB peak RSS — measured, not asserted).
Run: .venv/bin/python bench/bench_import.py [ROWS]
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
import pandas as pd

from risk_models.config.loader import load_library
from risk_models.inventory.read import import_bytes


def make_inventory(n: int, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    pick = lambda xs: rng.choice(np.array(xs, dtype=object), n)  # noqa: E731
    df = pd.DataFrame({
        "deployment_id": [f"D{i:06d}" for i in range(n)],
        "name": pick(["Chatbot", "Summariser", "=HYPERLINK(\"x\")", "Übersetzer 翻訳", "<script>x</script>"]),
        "business_unit": pick(["Retail", "Wealth", "Claims", "Tech", "HR"]),
        "use_case": pick(["chat", "rag", "extraction"]),
        "owner": pick(["A", "B", "C"]),
        "channel": pick(["Azure OpenAI", "AOAI", "openai", "Amazon Bedrock", "Vertex AI", "Anthropic", "on-prem"]),
        "model": pick(["gpt-4o", "gpt-5", "claude-sonnet-4-5", "gemini-2.5-pro", "llama-3.1-70b", "gpt-oss-120b"]),
        "region": pick(["westeurope", "eastus2", "us-east-1", "europe-west4", "uksouth", "on-prem-dc"]),
        "annual_spend_usd": [f"${x:,.0f}" for x in rng.uniform(1e3, 1e6, n)],
        "criticality": pick(["low", "Medium", "HIGH", "critical"]),
        "data_sensitivity": pick(["public", "internal", "confidential", "regulated"]),
        "contract_end": pick(["", "2027-03-22", "2028/01/31"]),
        "committed_spend_usd": pick(["", "10000", "$250,000"]),
        "fallback_status": pick(["none", "documented", "tested", "active", ""]),
        "proprietary_features": pick(["", "batch", "assistants;on_your_data", "fine_tuning;batch;agents"]),
        "abstraction_layer": pick(["yes", "no", "TRUE", "0"]),
    })
    return df.to_csv(index=False).encode()


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--focus-child":
        focus_child(sys.argv[2])
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    lib = load_library()
    data = make_inventory(n)
    res = import_bytes(data, "bench.csv", lib)
    assert len(res.frame) == n and not res.errors, res.errors[:3]
    t_read = best_of(lambda: pd.read_csv(io.BytesIO(data)))
    t_val = best_of(lambda: import_bytes(data, "bench.csv", lib))
    print(f"rows: {n:,}  file: {len(data) / 1e6:.1f} MB")
    print(f"pandas.read_csv:          {t_read:.3f} s")
    print(f"import + validate:        {t_val:.3f} s   (target < 3 s: {'OK' if t_val < 3 else 'MISSED'})")
    print(f"ratio validate/read_csv:  {t_val / t_read:.1f}x  (target <= 10x: {'OK' if t_val / t_read <= 10 else 'MISSED'})")
    bench_focus()


# --- FOCUS billing export (discover focus) ------------------------------------------------------
FOCUS_ROWS = 1_000_000


def write_focus_parquet(path, n: int = FOCUS_ROWS, seed: int = 2, chunk: int = 100_000) -> None:
    """A FOCUS 1.0 export as AWS/Azure/GCP write it: 3 billing months, ~20 % AI rows on 300 resources,
    the rest compute/storage; written in row groups so the generator itself stays small."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    months = pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"], utc=True)
    ai = [("Microsoft", "Azure OpenAI Service", "gpt-4o-0513 Inp regnl Tokens", "swedencentral"),
          ("AWS", "Amazon Bedrock", "Claude 3.5 Sonnet input tokens", "us-east-1"),
          ("Google Cloud", "Vertex AI", "Gemini 2.5 Pro Input Text Tokens", "europe-west4"),
          ("Oracle", "Generative AI", "Cohere Command R+", "eu-frankfurt-1")]
    other = [("AWS", "Amazon Elastic Compute Cloud", "c7g.large", "us-east-1"),
             ("Microsoft", "Virtual Machines", "D2s v5", "westeurope"),
             ("Google Cloud", "Cloud Storage", "Standard storage", "europe-west4")]
    writer = None
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        is_ai = rng.random(m) < 0.2
        kind = np.where(is_ai, rng.integers(0, len(ai), m), rng.integers(0, len(other), m))
        table = np.array([*ai, *other], dtype=object)[np.where(is_ai, kind, kind + len(ai))]
        res = rng.integers(0, 300, m)
        month = rng.integers(0, 3, m)
        cost = rng.gamma(2.0, 3.0, m)
        t = pa.table({
            "BilledCost": cost, "EffectiveCost": cost, "BillingCurrency": np.full(m, "USD"),
            "BillingPeriodStart": months[month], "BillingPeriodEnd": months[month + 1],
            "ChargeCategory": np.full(m, "Usage"), "ChargeDescription": table[:, 2],
            "ProviderName": table[:, 0], "PublisherName": table[:, 0], "ServiceName": table[:, 1],
            "RegionId": table[:, 3], "ResourceId": np.char.add("res-", res.astype(str)),
            "ResourceName": np.char.add("name-", res.astype(str)), "SkuId": np.full(m, "SKU"),
            "SubAccountId": np.char.add("acct-", (res % 20).astype(str)),
            "Tags": np.char.add(np.char.add('{"ai-deployment": "DEP-', (res % 50).astype(str)), '"}'),
        })
        writer = writer or pq.ParquetWriter(path, t.schema)
        writer.write_table(t)
    writer.close()


def focus_child(path: str) -> None:
    """Runs in its own process so its peak RSS is the import's alone."""
    import resource

    from risk_models.discovery.draft import draft_frame
    from risk_models.discovery.focus import read_focus
    from risk_models.discovery.rules import load_discovery

    lib = load_library()
    disc = load_discovery(channels=set(lib.channels.channels))
    t = time.perf_counter()
    imp = read_focus([path], disc)
    draft = draft_frame(imp, disc, lib)
    secs = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024)  # KiB -> GiB
    print(f"{imp.total_rows:,} rows, {imp.ai_rows:,} AI rows -> {len(draft)} draft deployments; "
          f"{secs:.2f} s (target < 20 s: {'OK' if secs < 20 else 'MISSED'}); peak RSS {rss:.2f} GiB "
          f"(target < 1 GiB: {'OK' if rss < 1 else 'MISSED'})")


def bench_focus(n: int = FOCUS_ROWS) -> None:
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "focus.parquet"
        t = time.perf_counter()
        write_focus_parquet(path, n)
        print(f"FOCUS export: {n:,} rows Parquet, {path.stat().st_size / 1e6:.1f} MB (generated in "
              f"{time.perf_counter() - t:.1f} s)")
        subprocess.run([sys.executable, "-m", "bench.bench_import", "--focus-child", str(path)], check=True)


if __name__ == "__main__":
    main()
