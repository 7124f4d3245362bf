from __future__ import annotations

import os
from pathlib import Path

import pytest

from risk_models.config_loader import Library, load_library

ROOT = Path(__file__).resolve().parent.parent
DEMO_INVENTORY = ROOT / "config" / "demo" / "inventory.csv"
DEMO_ANSWERS = ROOT / "config" / "demo" / "answers.yaml"


@pytest.fixture(scope="session", autouse=True)
def _private_database(tmp_path_factory) -> None:
    """Tests never touch the user's real assessment database."""
    os.environ["AI_VENDOR_RISK_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    os.environ.pop("DATABASE_URL", None)


@pytest.fixture(scope="session")
def lib() -> Library:
    return load_library()
