"""Validate a generated 20,000-row inventory vs plain pandas.read_csv of the same file.

Prints times and the ratio measured side by side in one run (targets: < 3 s, < 10x read_csv).
Run: .venv/bin/python bench/bench_import.py [ROWS]
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
import pandas as pd

from risk_models.config_loader import load_library
from risk_models.inventory_import import import_bytes


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


if __name__ == "__main__":
    main()
