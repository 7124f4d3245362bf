from __future__ import annotations

from pathlib import Path

import pytest

from risk_models.config_loader import Library, load_library

ROOT = Path(__file__).resolve().parent.parent
DEMO_INVENTORY = ROOT / "config" / "demo" / "inventory.csv"
DEMO_ANSWERS = ROOT / "config" / "demo" / "answers.yaml"


@pytest.fixture(scope="session")
def lib() -> Library:
    return load_library()
