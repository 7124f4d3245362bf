"""Shapes of the stored payloads, validated before anything imported is stored: a malformed export
must be one clear error at import, never a row that later crashes `history diff` or the History page.

Only the keys the readers use are required; extra keys (newer payloads) are kept as they are."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from risk_models.config.domain import RowError


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    return v


class InventoryPayload(_Open):
    rows: list[dict[str, str | int | float | bool | None]]
    lines: list[int]
    rejected: list[RowError]

    @model_validator(mode="after")
    def _lines_match_rows(self) -> InventoryPayload:
        if len(self.lines) != len(self.rows):
            raise ValueError(f"{len(self.rows)} rows but {len(self.lines)} line numbers")
        return self


class PackRef(_Open):
    """Which scenario pack was used (read by `history show`/`diff` and the History page)."""
    id: str | None = None
    version: str | None = None
    hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ScenariosPayload(_Open):
    as_of: dt.date
    horizon_months: int = Field(gt=0, le=120)
    probabilities: dict[str, float]
    labels: dict[str, str] = {}
    pack: PackRef | None = None
    library: dict[str, Any] | None = None  # re-validated against the configuration when reopened

    @field_validator("probabilities")
    @classmethod
    def _probabilities(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, p in v.items() if not (math.isfinite(p) and 0 <= p <= 1)]
        if bad:
            raise ValueError(f"probabilities outside 0..1: {', '.join(bad[:5])}")
        return v


class DeploymentResult(_Open):
    deployment_id: str
    name: str
    score: float = Field(ge=0, le=100)
    inherent_score: float = Field(ge=0, le=100)
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    rating: str = Field(pattern="^(low|medium|high|critical)$")
    expected_loss_usd: float = Field(ge=0)

    _finite_loss = field_validator("expected_loss_usd")(_finite)


class SimulationSummary(_Open):
    trials: int = Field(ge=1)
    expected_annual_loss_usd: float = Field(ge=0)
    var90_usd: float = Field(ge=0)
    var95_usd: float = Field(ge=0)
    var99_usd: float = Field(ge=0)

    _finite_values = field_validator("expected_annual_loss_usd", "var90_usd", "var95_usd", "var99_usd")(_finite)


class ProviderFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    data: str = Field(pattern=r"^[A-Za-z0-9+/]*={0,2}$")  # base64


class WorkspaceExtras(_Open):
    """What reopening restores beyond the inputs: provider and contract files, the what-if plan."""
    providers: dict[str, ProviderFile] | None = None
    plan: dict[str, list[str]] = {}

    @field_validator("providers")
    @classmethod
    def _both_files(cls, v: dict[str, ProviderFile] | None) -> dict[str, ProviderFile] | None:
        if v and set(v) != {"providers", "contracts"}:
            raise ValueError("expected the files 'providers' and 'contracts'")
        return v


class ResultsPayload(_Open):
    organisation: str = ""
    deployments: list[DeploymentResult]
    simulation: SimulationSummary
    concentration: dict[str, Any] = {}
    organisation_profile: dict[str, Any] | None = None
    assumptions: dict[str, Any] | None = None
    register_version: dict[str, Any] | None = Field(default=None, alias="register")
    workspace: WorkspaceExtras | None = None
    reviewed_on: dt.date | None = None

    @field_validator("deployments")
    @classmethod
    def _unique_ids(cls, v: list[DeploymentResult]) -> list[DeploymentResult]:
        ids = [d.deployment_id for d in v]
        if len(set(ids)) != len(ids):
            raise ValueError("a deployment_id appears twice")
        return v
