"""pydantic schemas of the YAML libraries in config/ (structure only; cross-file checks
live in config_loader)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from risk_models.models import (
    DIMENSIONS,
    Criticality,
    DataSensitivity,
    FallbackStatus,
    Jurisdiction,
    ProprietaryFeature,
)

Dimension = Literal["continuity", "cost", "contract", "capability", "compliance"]
Confidence = Literal["low", "medium", "high"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    date: dt.date


# --- channels.yaml ---------------------------------------------------------------------
class Channel(Strict):
    display_name: str
    cloud_provider: str
    aliases: list[str] = []


class JurisdictionRule(Strict):
    pattern: str
    group: Jurisdiction


class ChannelsFile(Strict):
    as_of: dt.date
    source: Source
    channels: dict[str, Channel]
    jurisdictions: list[JurisdictionRule]


# --- models.yaml -----------------------------------------------------------------------
class VendorRule(Strict):
    pattern: str
    vendor: str


class ModelsFile(Strict):
    as_of: dt.date
    vendors: dict[str, str]
    rules: list[VendorRule]


# --- questionnaire.yaml ----------------------------------------------------------------
Factors = dict[Dimension, float]


class Option(Strict):
    value: str
    label: str
    factors: Factors

    @field_validator("value", mode="before")
    @classmethod
    def _yaml_bools_as_text(cls, v: object) -> object:
        # YAML 1.1 reads unquoted yes/no as booleans; accept them as the words they are.
        return ("yes" if v else "no") if isinstance(v, bool) else v


class Band(Strict):
    max: float | None
    factors: Factors


class Question(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str
    help: str = ""
    type: Literal["choice", "multi", "bool", "number", "date"]
    unit: str | None = None
    dimensions: list[Dimension] = []
    dora_field: str | None = None
    default: str | float | list[str] | None = None
    options: list[Option] = []
    bands: list[Band] = []
    # Record-only questions are asked and reported (DORA register, AI Act) but never change a score.
    record_only: bool = False
    # The factors apply only to these events' outcomes, as a severity multiplier (e.g. an IP
    # indemnity shrinks the cost of a copyright outcome), not to the deployment's vulnerability.
    scope_events: list[str] = []

    @model_validator(mode="after")
    def _shape_fits_type(self) -> Question:
        if self.record_only:
            if self.scope_events:
                raise ValueError("a record_only question cannot have scope_events")
            moving = [o.value for o in self.options if any(f != 1.0 for f in o.factors.values())]
            moving += [str(b.max) for b in self.bands if any(f != 1.0 for f in b.factors.values())]
            if self.dimensions or moving:
                raise ValueError("a record_only question has no dimensions and no factors other than 1")
        elif not self.dimensions:
            raise ValueError("dimensions: name at least one (or mark the question record_only: true)")
        if self.type in ("choice", "multi", "bool") and not self.options:
            raise ValueError(f"type {self.type} needs options")
        if self.type in ("number", "date"):
            if not self.bands:
                raise ValueError(f"type {self.type} needs bands")
            if self.bands[-1].max is not None:
                raise ValueError("the last band must have max: null (open-ended)")
        return self


class QuestionnaireFile(Strict):
    as_of: dt.date
    source: Source
    questions: list[Question] = Field(min_length=12)


# --- scenarios.yaml --------------------------------------------------------------------
class Match(Strict):
    channels: list[str] = []
    vendors: list[str] = []
    features: list[ProprietaryFeature] = []
    jurisdictions: list[Jurisdiction] = []


class ImpactRule(Strict):
    match: Match
    severity: dict[Dimension, float]

    @field_validator("severity")
    @classmethod
    def _in_range(cls, v: dict[str, float]) -> dict[str, float]:
        for k, s in v.items():
            if not -1.0 <= s <= 1.0:
                raise ValueError(f"severity {k}={s} outside -1..1")
        return v


class Outcome(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    probability: float = Field(ge=0, le=1)
    confidence: Confidence
    rationale: str
    impacts: list[ImpactRule] = []


class Event(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    description: str = ""
    sources: list[Source] = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=1)

    @model_validator(mode="after")
    def _exclusive_outcomes(self) -> Event:
        total = sum(o.probability for o in self.outcomes)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"outcome probabilities sum to {total:.3f}; mutually exclusive outcomes must sum to <= 1"
            )
        return self


class ScenariosFile(Strict):
    as_of: dt.date
    horizon_months: int = Field(default=24, gt=0, le=120)
    events: list[Event] = Field(min_length=1)


# --- fallbacks.yaml --------------------------------------------------------------------
class AppliesTo(Strict):
    channels: list[str] = []
    vendors: list[str] = []


class FallbackOption(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    kind: Literal["channel_switch", "model_switch", "vendor_switch", "control", "contract_lever"]
    target_channel: str | None
    target_vendor: str | None
    applies_to: AppliesTo = AppliesTo()
    allowed_jurisdictions: list[Jurisdiction] = Field(min_length=1)
    max_sensitivity: DataSensitivity
    replaces_features: list[ProprietaryFeature] = []
    cannot_replace_features: list[ProprietaryFeature] = []
    effort_weeks: tuple[float, float]
    one_off_cost_usd: float = Field(ge=0)
    run_cost_delta_pct: float
    capability_gap: Literal["low", "medium", "high"]
    mitigates: dict[Dimension, float]
    source: Source

    @model_validator(mode="after")
    def _ranges(self) -> FallbackOption:
        lo, hi = self.effort_weeks
        if not 0 <= lo <= hi:
            raise ValueError(f"effort_weeks [{lo}, {hi}] must be 0 <= low <= high")
        for k, m in self.mitigates.items():
            if not 0 <= m <= 1:
                raise ValueError(f"mitigates {k}={m} outside 0..1")
        return self


class FallbacksFile(Strict):
    as_of: dt.date
    options: list[FallbackOption] = Field(min_length=12)
    feature_rebuild_weeks: tuple[float, float]
    feature_migration: dict[ProprietaryFeature, str]

    @model_validator(mode="after")
    def _every_feature_has_a_migration(self) -> FallbacksFile:
        missing = [f.value for f in ProprietaryFeature if f not in self.feature_migration]
        if missing:
            raise ValueError(f"feature_migration misses {missing}")
        return self


# --- scoring.yaml ----------------------------------------------------------------------
PerDimension = dict[Dimension, float]


class ScoringFactors(Strict):
    fallback_status: dict[FallbackStatus, PerDimension]
    abstraction_layer: dict[Literal["yes", "no"], PerDimension]
    proprietary_feature_step: PerDimension
    committed_spend_step: PerDimension
    committed_ratio_cap: float = Field(gt=0)


class SimulationParams(Strict):
    pert_low: float = Field(gt=0)
    pert_high: float = Field(gt=1)
    person_week_usd: float = Field(ge=0)
    base_switching_weeks: float = Field(ge=0)
    weeks_per_feature_share: float = Field(ge=0)
    outage_hours: float = Field(ge=0)
    downtime_usd_per_hour: dict[Criticality, float]
    compliance_usd: dict[DataSensitivity, float]

    @model_validator(mode="after")
    def _pert(self) -> SimulationParams:
        if not self.pert_low < 1 < self.pert_high:
            raise ValueError("need pert_low < 1 < pert_high (the mode is 1 x the loss estimate)")
        return self


class ScoringFile(Strict):
    as_of: dt.date
    dimensions: list[Dimension]
    dimension_weights: PerDimension
    base_vulnerability: float = Field(gt=0, le=1)
    calibration: float = Field(gt=0)
    criticality_weight: dict[Criticality, float]
    sensitivity_weight: dict[DataSensitivity, float]
    factors: ScoringFactors
    likelihood_bounds: list[float] = Field(min_length=4, max_length=4)
    impact_bounds: list[float] = Field(min_length=4, max_length=4)
    rating_bounds: dict[Literal["medium", "high", "critical"], float]
    simulation: SimulationParams

    @model_validator(mode="after")
    def _consistent(self) -> ScoringFile:
        if tuple(self.dimensions) != DIMENSIONS:
            raise ValueError(f"dimensions must be {list(DIMENSIONS)}")
        if abs(sum(self.dimension_weights.values()) - 1) > 1e-6:
            raise ValueError("dimension_weights must sum to 1")
        for name in ("likelihood_bounds", "impact_bounds"):
            b = getattr(self, name)
            if b != sorted(b):
                raise ValueError(f"{name} must be increasing")
        crit = [self.criticality_weight[c] for c in Criticality]
        if crit != sorted(crit):
            raise ValueError("criticality_weight must not decrease from low to critical")
        # A better control must never raise exposure (monotonicity of the score).
        fb = self.factors.fallback_status
        for d in DIMENSIONS:
            levels = [fb[s].get(d, 1.0) for s in FallbackStatus]
            if levels != sorted(levels, reverse=True):
                raise ValueError(f"factors.fallback_status.{d} must not increase from none to active")
            if self.factors.abstraction_layer["yes"].get(d, 1.0) > self.factors.abstraction_layer["no"].get(d, 1.0):
                raise ValueError(f"factors.abstraction_layer.yes.{d} must not exceed 'no'")
        return self
