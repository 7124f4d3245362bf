"""Domain models shared by import, scoring, CLI and dashboard (pydantic v2 at boundaries)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Criticality(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class DataSensitivity(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    regulated = "regulated"


class FallbackStatus(StrEnum):
    none = "none"
    documented = "documented"
    tested = "tested"
    active = "active"


class Jurisdiction(StrEnum):
    us = "us"
    eu = "eu"
    uk = "uk"
    apac = "apac"
    other = "other"
    on_prem = "on_prem"


class ProprietaryFeature(StrEnum):
    fine_tuning = "fine_tuning"
    assistants = "assistants"
    on_your_data = "on_your_data"
    batch = "batch"
    vector_store = "vector_store"
    agents = "agents"
    provisioned_throughput = "provisioned_throughput"


DIMENSIONS: tuple[str, ...] = ("continuity", "cost", "contract", "capability", "compliance")

# Inventory columns in the order of DESIGN.md; also the column order of templates and exports.
INVENTORY_COLUMNS: tuple[str, ...] = (
    "deployment_id",
    "name",
    "business_unit",
    "use_case",
    "owner",
    "channel",
    "model",
    "region",
    "annual_spend_usd",
    "criticality",
    "data_sensitivity",
    "contract_end",
    "committed_spend_usd",
    "fallback_status",
    "proprietary_features",
    "abstraction_layer",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "deployment_id",
    "channel",
    "model",
    "annual_spend_usd",
    "criticality",
    "data_sensitivity",
)


class Deployment(BaseModel):
    """One validated inventory row with normalised types."""

    model_config = ConfigDict(frozen=True)

    deployment_id: str = Field(min_length=1)
    name: str = ""
    business_unit: str = ""
    use_case: str = ""
    owner: str = ""
    channel: str
    model: str
    model_vendor: str
    region: str = ""
    jurisdiction: Jurisdiction
    annual_spend_usd: float = Field(ge=0)
    criticality: Criticality
    data_sensitivity: DataSensitivity
    contract_end: dt.date | None = None
    committed_spend_usd: float = Field(default=0.0, ge=0)
    fallback_status: FallbackStatus = FallbackStatus.none
    proprietary_features: frozenset[ProprietaryFeature] = frozenset()
    abstraction_layer: bool = False


class RowError(BaseModel):
    """A rejected cell: where it is, what it held and why it is wrong."""

    line: int | None = Field(description="1-based file line; header = line 1; None = whole file")
    deployment_id: str | None = None
    column: str | None = None
    value: str | None = None
    message: str
