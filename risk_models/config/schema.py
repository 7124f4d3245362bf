"""pydantic schemas of the YAML libraries in config/ (structure only; cross-file checks
live in config.loader). Over 500 lines: one small model per file and section, no logic beyond field
validators, read side by side with the YAML."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from risk_models.config.domain import (
    DIMENSIONS,
    Criticality,
    DataSensitivity,
    FallbackStatus,
    Jurisdiction,
    ProprietaryFeature,
)

Dimension = Literal["continuity", "cost", "contract", "capability", "compliance"]
Confidence = Literal["low", "medium", "high"]
# What a model does; a fallback never changes it (an embedding deployment moves to an embedding model).
TaskKind = Literal["chat", "embedding", "rerank", "image_generation", "video_generation", "speech_to_text",
                   "text_to_speech", "moderation"]
Modality = Literal["text", "image", "audio", "video"]
CloudRegions = Literal["aws", "azure", "gcp", "oci"]


# option kinds that move the workload (another channel, model or vendor); the rest are levers
SWITCH_KINDS = ("channel_switch", "model_switch", "vendor_switch")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    date: dt.date


# --- channels.yaml ---------------------------------------------------------------------
class Hosting(Strict):
    """The cloud a channel's service runs on when its provider is not a cloud itself (a fourth party:
    the OpenAI API on Microsoft Azure), with the statement that says so."""

    cloud: str
    source: Source


class Channel(Strict):
    display_name: str
    cloud_provider: str
    aliases: list[str] = []
    # the cloud whose region codes (config/regions.yaml) this channel uses: a code of another cloud is
    # implausible there, and a switch to this channel moves to a region of this cloud
    region_codes: CloudRegions | None = None
    hosted_on: Hosting | None = None  # absent: the channel runs on its own provider's cloud

    @property
    def hosting_cloud(self) -> str:
        """The cloud whose infrastructure serves the channel (concentration by hosting cloud)."""
        return self.hosted_on.cloud if self.hosted_on else self.cloud_provider


class JurisdictionRule(Strict):
    pattern: str
    group: Jurisdiction


class ChannelsFile(Strict):
    as_of: dt.date
    source: Source
    channels: dict[str, Channel]
    jurisdictions: list[JurisdictionRule]


# --- regions.yaml ----------------------------------------------------------------------
class Region(Strict):
    country: str = Field(pattern=r"^[A-Z]{2}$")
    group: Literal["us", "eu", "uk", "apac", "other"]
    name: str = ""


class RegionsFile(Strict):
    """Cloud region code -> country and jurisdiction group (data residency only)."""

    as_of: dt.date
    sources: list[Source] = Field(min_length=1)
    clouds: dict[Literal["aws", "azure", "gcp", "oci"], dict[str, Region]]
    generic: dict[str, Literal["us", "eu", "uk", "apac", "other"]] = {}


# --- availability.yaml -----------------------------------------------------------------
class AvailabilityRule(Strict):
    vendor: str
    models: str  # regex, case-insensitive, matched at the start of the model name
    jurisdictions: list[Literal["us", "eu", "uk", "apac", "other"]] = []  # empty = wherever the channel is
    source: Source
    note: str = ""


class AvailabilityFile(Strict):
    """Which models each channel offers, and where (for plausibility warnings on import)."""

    as_of: dt.date
    channels: dict[str, list[AvailabilityRule]]


# --- models.yaml -----------------------------------------------------------------------
class VendorRule(Strict):
    pattern: str
    vendor: str


class TaskRule(Strict):
    """Models whose name matches `pattern` (searched anywhere, case-insensitive) do `task`."""

    pattern: str
    task: TaskKind
    inputs: list[Modality] = Field(min_length=1)
    output: Literal["text", "vector", "scores", "labels", "image", "video", "audio"]
    examples: list[str] = Field(min_length=1)  # names the rule must classify (checked on load)
    basis: Literal["sourced", "assumption"] = "sourced"
    source: Source | None = None
    note: str = ""

    @model_validator(mode="after")
    def _sourced_has_source(self) -> TaskRule:
        if self.basis == "sourced" and self.source is None:
            raise ValueError("basis: sourced needs a source")
        return self


class ModelsFile(Strict):
    as_of: dt.date
    vendors: dict[str, str]
    rules: list[VendorRule]
    tasks: list[TaskRule] = Field(min_length=1)

    def task_rule(self, model: str) -> TaskRule:
        """The first task rule matching the model name (the last rule matches every name)."""
        name = model.strip()
        return next((t for t in self.tasks if re.search(t.pattern, name, re.IGNORECASE)), self.tasks[-1])


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
    jurisdictions: list[Jurisdiction] = []  # where the data is processed (the region's group)
    regimes: list[str] = []  # the organisation is subject to one of these (organisation profile)
    entities: list[Jurisdiction] = []  # the organisation is established in one of these (organisation profile)


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
    # How long an outage this outcome causes lasts; 0 = it cannot cause an outage (no downtime loss).
    outage_hours: float = Field(default=0.0, ge=0, le=8760)
    # Can happen several times a year (outages, price changes): the loss model counts occurrences,
    # Poisson with the annual frequency -ln(1 - annual probability); the probability stays the chance
    # of at least one. Only for the single outcome of an event.
    repeatable: bool = False


class Milestone(Strict):
    """A dated step of a case or proceeding that a risk officer should re-assess on."""

    date: dt.date
    label: str = Field(min_length=1, max_length=200)  # "Ninth Circuit oral argument"
    kind: Literal["hearing", "ruling", "filing", "deadline", "consultation", "entry_into_force", "decision",
                  "other"] = "other"
    expected: bool = False  # a date announced as expected or planned, not yet fixed
    source: Source
    reassess: str = Field(default="", max_length=300)  # what to re-assess when it comes


class Case(Strict):
    """The proceeding behind a pack event: where it runs, its status on `status_as_of`, its dates."""

    kind: Literal["litigation", "regulation", "competition", "contract", "market"]
    forum: str = Field(min_length=1, max_length=200)  # court or authority
    reference: str | None = Field(default=None, max_length=100)  # docket or case number
    status: str = Field(min_length=1, max_length=400)
    status_as_of: dt.date
    milestones: list[Milestone] = []  # none = "no date announced"


class Event(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    description: str = ""
    sources: list[Source] = Field(min_length=1)
    outcomes: list[Outcome] = Field(min_length=1)
    case: Case | None = None  # the proceeding and its dates (scenario pack events)
    # Horizon of this event's probabilities when it differs from its library's (baseline events: 12).
    horizon_months: int | None = Field(default=None, gt=0, le=120)
    family: str | None = None  # the baseline template an expanded event comes from

    @model_validator(mode="after")
    def _exclusive_outcomes(self) -> Event:
        if len(self.outcomes) > 1 and any(o.repeatable for o in self.outcomes):
            raise ValueError("repeatable: only an event with a single outcome can repeat within a year")
        total = sum(o.probability for o in self.outcomes)
        if total > 1.0 + 1e-9:
            raise ValueError(
                f"outcome probabilities sum to {total:.3f}; mutually exclusive outcomes must sum to <= 1"
            )
        return self


class ScenariosFile(Strict):
    """A scenario library pack. id/version/maintainer are optional so that packs written before
    packs were versioned still load (shown as "unversioned"); `library validate` requires them."""

    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)
    version: str | None = Field(default=None, min_length=1, max_length=40)
    as_of: dt.date
    horizon_months: int = Field(default=24, gt=0, le=120)
    maintainer: str | None = Field(default=None, min_length=1, max_length=200)
    events: list[Event] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: object) -> object:
        # YAML reads `version: 2.0` as a float; a version is a label, keep it as written.
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


# --- baseline_events.yaml ------------------------------------------------------------
class BaselineTemplate(Strict):
    """One kind of operational event, expanded into an independent event per channel or vendor."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str  # may contain {key}: the channel's or vendor's display name
    per: Literal["channel", "vendor", "none"]
    description: str = ""
    sources: list[Source] = Field(min_length=1)
    confidence: Confidence
    rationale: str
    outage_hours: float = Field(default=0.0, ge=0, le=8760)
    outcome_label: str | None = None
    probability: dict[str, float] = Field(min_length=1)  # per channel/vendor id (per: none -> {all: p})
    severity: dict[Dimension, float] = {}
    impacts: list[ImpactRule] = []
    exclude_channels: list[str] = []
    repeatable: bool = False  # see Outcome.repeatable
    # per: channel only: the event of a cloud's own channel (Azure OpenAI on Microsoft) also reaches
    # every channel hosted on that cloud (the OpenAI API), see channels.yaml `hosted_on`
    reaches_hosted: bool = False

    @model_validator(mode="after")
    def _shape(self) -> BaselineTemplate:
        for k, p in self.probability.items():
            if not 0 <= p <= 1:
                raise ValueError(f"probability {k}={p} outside 0..1")
        if self.per == "none" and (not self.impacts or list(self.probability) != ["all"]):
            raise ValueError("per: none needs impacts and probability {all: p}")
        if self.reaches_hosted and self.per != "channel":
            raise ValueError("reaches_hosted needs per: channel")
        if self.per != "none" and not self.severity:
            raise ValueError(f"per: {self.per} needs a severity")
        if any(not 0 <= v <= 1 for v in self.severity.values()):
            raise ValueError("baseline severities are adverse: 0..1")
        return self


class BaselineFile(Strict):
    as_of: dt.date
    horizon_months: int = Field(default=12, gt=0, le=120)
    templates: list[BaselineTemplate] = Field(min_length=1)


# --- regimes.yaml ----------------------------------------------------------------------
class Regime(Strict):
    label: str
    source: Source


class RegimesFile(Strict):
    as_of: dt.date
    regimes: dict[str, Regime] = Field(min_length=1)


# --- assumptions.yaml ------------------------------------------------------------------
class _Param(Strict):
    basis: Literal["sourced", "assumption"]
    note: str = ""
    source: Source | None = None

    @model_validator(mode="after")
    def _sourced_has_source(self) -> _Param:
        if self.basis == "sourced" and self.source is None:
            raise ValueError("basis: sourced needs a source")
        return self


class NumberParam(_Param):
    value: float = Field(ge=0, le=1e9)


class CriticalityParam(_Param):
    value: dict[Criticality, float]


class SensitivityParam(_Param):
    value: dict[DataSensitivity, float]


class ConfidenceParam(_Param):
    """A spread factor r >= 1 per confidence level: the parameter lies between its value / r and
    its value x r (a PERT on the log scale, mode at the value)."""

    value: dict[Confidence, float]


class AssumptionsFile(Strict):
    """Loss parameters of the simulation, each with its basis (sourced or organisation assumption)."""

    as_of: dt.date
    person_week_usd: NumberParam
    base_switching_weeks: NumberParam
    weeks_per_feature_share: NumberParam
    downtime_usd_per_hour: CriticalityParam
    compliance_usd: SensitivityParam
    pert_low: NumberParam
    pert_high: NumberParam
    common_factor: NumberParam
    payback_years: NumberParam
    # Parameter uncertainty behind the 90 % intervals (absent in assumptions saved before v3: no interval)
    probability_spread: ConfidenceParam | None = None
    severity_spread: ConfidenceParam | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AssumptionsFile:
        if not self.pert_low.value < 1 < self.pert_high.value:
            raise ValueError("need pert_low < 1 < pert_high (the mode is 1 x the loss estimate)")
        if self.common_factor.value > 1:
            raise ValueError("common_factor must be between 0 and 1")
        if self.payback_years.value <= 0:
            raise ValueError("payback_years must be above 0")
        for name in ("probability_spread", "severity_spread"):
            spread = getattr(self, name)
            if spread is not None and (set(spread.value) != {"low", "medium", "high"}
                                       or any(not 1 <= v <= 100 for v in spread.value.values())):
                raise ValueError(f"{name}: give low, medium and high, each between 1 and 100")
        for name in ("downtime_usd_per_hour", "compliance_usd"):
            values = getattr(self, name).value
            if any(v < 0 or v > 1e9 for v in values.values()):
                raise ValueError(f"{name}: values must be between 0 and 1e9")
        return self

    def table(self) -> list[dict]:
        """One row per parameter: name, value, basis, note, source (for the app and the reports)."""
        return [{"parameter": name, "value": getattr(self, name).value, "basis": getattr(self, name).basis,
                 "note": getattr(self, name).note,
                 "source": getattr(self, name).source.model_dump(mode="json") if getattr(self, name).source else None}
                for name in type(self).model_fields if name != "as_of" and getattr(self, name) is not None]


# --- fallbacks.yaml --------------------------------------------------------------------
class AppliesTo(Strict):
    channels: list[str] = []
    vendors: list[str] = []


class OptionAfter(Strict):
    """What the deployment looks like after the option: the engine scores that state (target state),
    so a switch is scored exactly like a native deployment on the target and a lever changes only the
    factors it acts on."""

    # switches: the target model per task kind (a deployment of a kind not listed cannot take the
    # option); empty = the same model, wherever the availability table offers it
    models: dict[TaskKind, str] = {}
    region: str | None = None  # where a switch runs when the current region is not served
    fallback_status: FallbackStatus | None = None  # at least this after the option
    abstraction_layer: bool | None = None  # True: a gateway is in place afterwards
    committed_ratio_cap: float | None = Field(default=None, ge=0)  # committed spend <= cap x annual spend
    answers: dict[str, str | float | list[str]] = {}  # questionnaire answers it secures (never worsens)

    @property
    def model(self) -> str | None:
        """The target model of a chat deployment (the option's headline model); None = the same model."""
        return self.models.get("chat")


class RequiredBy(Strict):
    """A regulation that makes the option a requirement (not a choice weighed by its return) for the
    deployments it names: e.g. DORA Art. 28(8) — a tested exit for ICT services supporting critical or
    important functions (the deployments of high or critical criticality)."""

    regime: str  # a key of regimes.yaml; applies when the organisation's profile lists it
    criticality: list[Criticality] = Field(min_length=1)
    label: str = Field(min_length=1)  # what people read, e.g. "DORA Art. 28(8)"


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
    # Levers only (an organisation assumption: the lever's own running cost as a share of spend). A
    # switch's run-cost change comes from the price table (config/prices.yaml), never from a percentage.
    run_cost_delta_pct: float | None = None
    required_by: RequiredBy | None = None
    capability_gap: Literal["low", "medium", "high"]
    after: OptionAfter = OptionAfter()
    source: Source
    terms: str = ""  # data-processing or availability terms that decide feasibility (cited in source)

    @property
    def is_switch(self) -> bool:
        return self.kind in SWITCH_KINDS

    @model_validator(mode="after")
    def _ranges(self) -> FallbackOption:
        lo, hi = self.effort_weeks
        if not 0 <= lo <= hi:
            raise ValueError(f"effort_weeks [{lo}, {hi}] must be 0 <= low <= high")
        if self.is_switch and not (self.target_channel and self.target_vendor):
            raise ValueError("a switch needs target_channel and target_vendor")
        if not self.is_switch and (self.target_channel or self.target_vendor or self.after.models or self.after.region):
            raise ValueError("controls and contract levers keep channel, vendor, model and region")
        if self.is_switch and self.run_cost_delta_pct is not None:
            raise ValueError("a switch's run-cost change comes from config/prices.yaml: remove run_cost_delta_pct")
        if not self.is_switch and self.run_cost_delta_pct is None:
            raise ValueError("a control or contract lever needs run_cost_delta_pct (its own running cost)")
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


# --- prices.yaml -----------------------------------------------------------------------
class Price(Strict):
    """List price of a model on a channel, USD per 1M tokens (standard on-demand)."""

    channel: str
    model: str = Field(min_length=1)
    input_usd_per_mtok: float = Field(gt=0)
    output_usd_per_mtok: float | None = Field(gt=0)  # None: billed on input tokens only (embeddings)
    as_of: dt.date
    source: Source
    seen_in: str | None = Field(default=None, pattern=r"^https?://")


class SpendMix(Strict):
    input_token_share: NumberParam

    @field_validator("input_token_share")
    @classmethod
    def _share(cls, v: NumberParam) -> NumberParam:
        if not 0 <= v.value <= 1:
            raise ValueError("input_token_share must be between 0 and 1")
        return v


class PricesFile(Strict):
    as_of: dt.date
    spend_mix: SpendMix
    prices: list[Price]

    @model_validator(mode="after")
    def _unique(self) -> PricesFile:
        seen: set[tuple[str, str]] = set()
        for k, p in enumerate(self.prices):
            key = (p.channel, p.model.casefold())
            if key in seen:
                raise ValueError(f"prices[{k}]: {p.model} on {p.channel} is listed twice")
            seen.add(key)
        return self

    def table(self) -> dict[tuple[str, str], Price]:
        """(channel, model casefolded) -> price."""
        return {(p.channel, p.model.casefold()): p for p in self.prices}


# --- scoring.yaml ----------------------------------------------------------------------
PerDimension = dict[Dimension, float]


class ScoringFactors(Strict):
    fallback_status: dict[FallbackStatus, PerDimension]
    abstraction_layer: dict[Literal["yes", "no"], PerDimension]
    proprietary_feature_step: PerDimension
    committed_spend_step: PerDimension
    committed_years_cap: float = Field(gt=0)
    # A contract whose end date has passed runs on rolling terms the provider can change.
    out_of_contract: PerDimension


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
    rating_bounds: dict[Literal["medium", "high", "critical"], float]

    @model_validator(mode="after")
    def _consistent(self) -> ScoringFile:
        if tuple(self.dimensions) != DIMENSIONS:
            raise ValueError(f"dimensions must be {list(DIMENSIONS)}")
        if abs(sum(self.dimension_weights.values()) - 1) > 1e-6:
            raise ValueError("dimension_weights must sum to 1")
        if self.likelihood_bounds != sorted(self.likelihood_bounds):
            raise ValueError("likelihood_bounds must be increasing")
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
