"""Hypothesis strategies and helpers for engine tests: valid inventory frames."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from risk_models.inventory.read import FEATURES, import_bytes

CHANNELS = ["azure_openai", "openai_api", "aws_bedrock", "google_vertex", "anthropic_api", "self_hosted", "other"]
MODELS = ["gpt-4o", "gpt-oss-20b", "claude-sonnet-4-5", "gemini-2.5-pro", "llama-3.1-70b", "mistral-large", "nova-pro"]
REGIONS = ["westeurope", "us-east-1", "uksouth", "japaneast", "on-prem-dc1", "elsewhere"]
LEVELS = {"criticality": ["low", "medium", "high", "critical"],
          "data_sensitivity": ["public", "internal", "confidential", "regulated"],
          "fallback_status": ["none", "documented", "tested", "active"]}


@st.composite
def deployment(draw, i: int = 0) -> dict:
    return {
        "deployment_id": f"D{i}", "name": f"dep {i}", "business_unit": draw(st.sampled_from(["A", "B", "C"])),
        "channel": draw(st.sampled_from(CHANNELS)), "model": draw(st.sampled_from(MODELS)),
        "region": draw(st.sampled_from(REGIONS)),
        "annual_spend_usd": draw(st.floats(0, 2e6).map(lambda x: round(x, 2))),
        "committed_spend_usd": draw(st.floats(0, 4e6).map(lambda x: round(x, 2))),
        **{k: draw(st.sampled_from(v)) for k, v in LEVELS.items()},
        "proprietary_features": ";".join(sorted(draw(st.sets(st.sampled_from(FEATURES))))),
        "abstraction_layer": draw(st.booleans()),
    }


@st.composite
def inventories(draw, min_size: int = 1, max_size: int = 12) -> list[dict]:
    n = draw(st.integers(min_size, max_size))
    return [draw(deployment(i)) for i in range(n)]


def frame_of(lib, records: list[dict]) -> pd.DataFrame:
    res = import_bytes(json.dumps(records).encode(), "inv.json", lib)
    assert not res.errors, res.errors
    return res.frame


def random_inventory(seed: int, n: int = 200) -> list[dict]:
    """A seeded random inventory of `n` rows over the same values as `deployment` (portfolio-level
    properties need many rows at once, which hypothesis would shrink to a few identical ones)."""
    g = np.random.default_rng(seed)
    return [{
        "deployment_id": f"D{i}", "name": f"dep {i}", "business_unit": str(g.choice(["A", "B", "C"])),
        "channel": str(g.choice(CHANNELS)), "model": str(g.choice(MODELS)), "region": str(g.choice(REGIONS)),
        "annual_spend_usd": round(float(g.uniform(0, 2e6)), 2),
        "committed_spend_usd": round(float(g.uniform(0, 4e6)), 2) if g.random() < 0.5 else 0.0,
        **{k: str(g.choice(v)) for k, v in LEVELS.items()},
        "proprietary_features": ";".join(sorted({str(f) for f in g.choice(FEATURES, int(g.integers(0, 3)))})),
        "abstraction_layer": bool(g.random() < 0.5),
    } for i in range(n)]
