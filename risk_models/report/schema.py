"""The JSON report's layout (schema 4) as pydantic models: the published JSON Schema
(docs/report.schema.json) and the field tables of docs/report-schema.md are generated from them, and
the reports the tests write are validated against it. Regenerate both with
`python -m risk_models.report.schema` (tests/test_report_schema.py fails while either is stale)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Id = str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptionInfo(_Model):
    """What a fallback option is, the same for every deployment."""

    label: str
    kind: str
    channel: str | None
    vendor: str | None
    model: str | None = Field(description="the target model of a chat deployment; null: the same model")
    models: dict[str, str] = Field(description="the target model per task kind (chat, embedding, image_generation, "
                                               "...); a deployment of a kind not listed cannot take the option; "
                                               "empty: the same model")
    jurisdictions: list[str]
    run_cost_basis: Literal["price_table", "assumption"] = Field(
        description="price_table: a switch's run-cost change is priced from config/prices.yaml; assumption: a "
                    "lever's own running cost, run_cost_delta_pct of spend")
    run_cost_delta_pct: float | None = Field(description="levers only: their running cost as a % of spend")
    required_by: str | None = Field(description="the regulation that requires the option of the deployments "
                                                "it applies to (records: `required`), e.g. DORA Art. 28(8)")
    capability_gap: Literal["low", "medium", "high"]


class DriverInfo(_Model):
    """What a driver id names."""

    kind: Literal["outcome", "factor"]
    label: str = Field(description="the outcome's label, or the factor's name (its value's text is per record)")


class ExitPlanText(_Model):
    """What every exit plan shares."""

    test_plan: str
    regulatory_basis: list[str]


class Catalogues(_Model):
    """What the records name by id, listed once."""

    options: dict[Id, OptionInfo]
    drivers: dict[Id, DriverInfo]
    labels: dict[str, dict[str, str]] = Field(description="names people read for coded values: channel, "
                                                          "model_vendor, cloud, feature, regime")
    exit_plan: ExitPlanText
    texts: dict[str, str] = Field(description="sentences repeated across records (factor labels, reasons, "
                                              "exit-plan steps and dependencies), by id")


class Driver(_Model):
    """Why a deployment scores as it does: an outcome's score points or a factor's multiplier."""

    id: Id = Field(description="a key of catalogues.drivers")
    value: float = Field(description="score points (outcomes) or multiplier (factors)")
    count: int | None = Field(None, description="other_outcomes only: how many outcomes it sums")
    text: str | None = Field(None, pattern=r"^t[0-9]+$", description="factors only: their label, a key of "
                                                                         "catalogues.texts")


class OptionOutcome(_Model):
    """What one option does for one deployment (what it is: catalogues.options[option_id])."""

    option_id: Id
    feasible: bool
    reasons: list[str] | None = Field(None, description="infeasible options only: keys of catalogues.texts")
    effort_weeks: list[float] = Field(min_length=2, max_length=2)
    risk_reduction: float
    residual_score: float
    residual_expected_loss_usd: float
    expected_loss_reduction_usd: float
    one_off_cost_usd: float
    stranded_commitment_usd: float
    run_cost_delta_usd: float | None = Field(description="change in running cost a year (+ dearer); null: unknown, "
                                                         "no listed price for the current or target model and "
                                                         "channel (the option is ranked on risk alone)")
    loss_avoided_per_usd: float = Field(description="expected loss avoided a year per dollar spent once (one-off "
                                                    "cost and the option's effort): the ranking key; the run-cost "
                                                    "change never enters it")
    repays_one_off: bool = Field(description="lowers the expected loss, and the loss avoided over the payback "
                                             "period exceeds what it costs once")
    required: bool = Field(description="a regulation of the organisation's profile requires it of this deployment "
                                       "(catalogues.options[option_id].required_by)")
    target_model: str | None = Field(description="the model this deployment would run after a switch (the "
                                                 "option's model of its task kind); null for levers and where "
                                                 "the option has no model of its kind")
    capability_gap: Literal["low", "medium", "high"] = Field(
        description="the option's capability gap for this deployment: one level higher for a fine-tuned deployment "
                    "on a switch, and where the target takes in less than the current model (e.g. no images)")
    retraining_weeks: list[float] | None = Field(None, min_length=2, max_length=2, description=(
        "fine-tuned deployments on a switch only: person-weeks (low, high) to re-train the model on the target; "
        "included in effort_weeks"))


class Trigger(_Model):
    """An outcome that would trigger the exit (its label and probability: scenario_library.outcomes)."""

    outcome_id: Id
    score_points: float


class DateToActOn(_Model):
    """A contract date inside the scenario horizon: give notice by it, or renew on better terms."""

    date: str
    action: str


class ExitPlan(_Model):
    """Exit plan of a high or critical deployment (DORA Art. 28(8), EBA outsourcing guidelines section 15)."""

    trigger_events: list[Trigger]
    target_option: Id | None = Field(description="the best switch that lowers the expected loss; null where none does")
    least_bad_option: Id | None = Field(description="where no switch lowers the expected loss: the feasible switch "
                                                    "that raises it least (the documented way back), else null")
    supporting_actions: list[Id]
    steps: list[str] = Field(description="keys of catalogues.texts; the contract step follows from "
                                         "notice_days, committed_spend_usd and contract_end")
    notice_days: float
    notice_assumed: bool
    rto_hours: float
    rto_assumed: bool
    cutover_hours: float | None
    warm_standby_needed: bool
    dates_to_act_on: list[DateToActOn]
    last_tested: str | None
    dependencies: list[str] = Field(description="keys of catalogues.texts")


class Answer(_Model):
    """A questionnaire answer given for the deployment."""

    answer: Any = Field(description="as stored: option value(s), number or ISO date")
    shown: Any = Field(description="as people read it: option labels, numbers, dates")
    record_only: bool = Field(description="kept for the record (the DORA register); moves no score")


class Deployment(_Model):
    """One deployment: its inventory columns (normalised), scores, drivers, expected loss, fallbacks and, when
    rated high or critical, its exit plan."""

    deployment_id: str
    name: str
    business_unit: str
    use_case: str
    owner: str
    channel: str
    model: str
    model_vendor: str
    region: str
    jurisdiction: str
    annual_spend_usd: float
    committed_spend_usd: float
    contract_end: str | None
    criticality: str
    data_sensitivity: str
    fallback_status: str
    abstraction_layer: bool
    proprietary_features: list[str]
    score: float = Field(description="0-100, with current controls")
    inherent_score: float = Field(description="0-100, without controls and with default answers")
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    rating: Literal["low", "medium", "high", "critical"]
    dimensions: dict[str, float] = Field(description="continuity, cost, contract, capability, compliance: 0-100")
    drivers: list[Driver] = Field(description="outcomes by score points (they add up to the score), then factors")
    assumed: list[str] = Field(description="question ids answered by their default")
    answers: dict[str, Answer] = Field(description="the answers given, by question id")
    expected_loss_usd: float = Field(description="closed-form expected annual loss")
    expected_loss_breakdown_usd: dict[str, float] = Field(description="the same by component")
    expected_loss_by_lens_usd: dict[Literal["litigation_regulatory", "operational"], float] = Field(
        description="the same through two lenses that add up to it: the scenario pack's events (litigation & "
                    "regulatory) and the operational baseline (outages, price changes, retirements, vendor failure)")
    score_by_lens: dict[Literal["litigation_regulatory", "operational"], float] = Field(
        description="the score points each lens adds (they add up to the score)")
    recommended_exit: Id | None = Field(description="the best feasible switch (option id), if any")
    fallbacks: list[OptionOutcome] = Field(description="every option, best first")
    exit_plan: ExitPlan | None = Field(None, description="high and critical deployments only")


class SensitivityRow(_Model):
    """One assumption moved to low and high (changes from the base, closed form)."""

    id: Id = Field(description="the parameter (config key), or an event or baseline template and what moves")
    label: str
    group: Literal["Scoring", "Loss", "Event probability", "Event severity", "Outage duration"]
    base_value: str = Field(description="the value in use, as text (a range for per-dimension tables and groups)")
    basis: str = Field(description="where the value comes from")
    expected_loss_low_usd: float = Field(description="change in portfolio expected annual loss at low_factor")
    expected_loss_high_usd: float
    critical_low: int = Field(description="change in the number of critical deployments at low_factor")
    critical_high: int
    mean_score_low: float = Field(description="change in the mean 0-100 score (points) at low_factor")
    mean_score_high: float


class Sensitivity(_Model):
    """`assess --sensitivity`: every assumption moved one at a time (docs/method.md, Sensitivity)."""

    low_factor: float
    high_factor: float
    base: dict[str, float] = Field(description="expected_loss_usd, critical, mean_score of the unmoved assessment")
    not_moved: list[dict[str, str]] = Field(description="parameters left out (id, label, reason)")
    rows: list[SensitivityRow] = Field(description="largest change in expected loss first, then in critical "
                                                   "deployments, then in mean score")


class Interval(_Model):
    low: float = Field(description="5th percentile over the parameter sets (USD)")
    high: float = Field(description="95th percentile over the parameter sets (USD)")


class Intervals(_Model):
    """90 % intervals from the uncertainty of the outcomes' probabilities and severities (PERT ranges by
    confidence, config/assumptions.yaml), not only from sampling noise (docs/method.md)."""

    level: float = Field(description="0.9")
    parameter_sets: int = Field(description="parameter sets drawn for the expected-loss interval")
    var_parameter_sets: int = Field(description="how many of them were each simulated for the VaR intervals")
    years_per_set: int = Field(description="simulated years per parameter set for VaR")
    expected_annual_loss_usd: Interval
    var95_usd: Interval
    var99_usd: Interval


class LossExceedance(_Model):
    loss_usd: float
    probability: float = Field(description="share of simulated years with a larger loss")


class Simulation(_Model):
    """The loss simulation: closed-form expected loss, simulated VaR, loss-exceedance curve."""

    trials: int = Field(description="simulated years")
    seed: int
    expected_annual_loss_usd: float = Field(description="closed form, summed over the deployments")
    simulated_mean_usd: float = Field(description="mean of the simulated years (converges to the closed form)")
    var90_usd: float
    var95_usd: float
    var99_usd: float
    lec: list[LossExceedance]
    by_business_unit: dict[str, float] = Field(description="closed-form expected annual loss per business unit")
    intervals: Intervals | None = Field(None, description="absent when the assumptions carry no parameter spreads")


class Report(BaseModel):
    """The JSON report of `assess --json` and of the app's JSON download (docs/report-schema.md)."""

    model_config = ConfigDict(extra="allow", title="AI vendor-risk assessment report")

    schema_version: Literal[4]
    generated_at: str
    organisation: str
    organisation_profile: dict[str, Any]
    assumptions: list[dict[str, Any]]
    reference_date: str
    inputs_hash: str
    catalogues: Catalogues
    scenario_library: dict[str, Any]
    inventory: dict[str, Any]
    concentration: dict[str, Any]
    concentration_by_business_unit: dict[str, Any]
    simulation: Simulation
    lenses: dict[str, Any] = Field(description="portfolio expected loss, litigation & regulatory vs operational "
                                                "baseline (adds up to simulation.expected_annual_loss_usd)")
    heatmap: dict[str, Any]
    scenario_pack: dict[str, Any]
    sensitivity: Sensitivity | None = Field(None, description="only with `assess --sensitivity`")
    deployments: list[Deployment]


def json_schema() -> str:
    return json.dumps(Report.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


FIELDS_START, FIELDS_END = "<!-- fields:start (generated from risk_models/report/schema.py) -->", "<!-- fields:end -->"


def fields_markdown() -> str:
    """One table per record type of the schema: field, type, description."""
    schema = Report.model_json_schema()
    parts = []
    for name, definition in [("Report", schema), *schema.get("$defs", {}).items()]:
        parts += [f"#### {name}", "", (definition.get("description") or "").replace("\n", " "), "",
                  "| field | type | content |", "|---|---|---|"]
        required = set(definition.get("required", ()))
        for field, spec in definition.get("properties", {}).items():
            optional = "" if field in required else " (optional)"
            parts.append(f"| `{field}` | {_type(spec)}{optional} | {spec.get('description', '')} |")
        parts.append("")
    return "\n".join([FIELDS_START, "", *parts, FIELDS_END])


def _type(spec: dict) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type(s) for s in spec["anyOf"])
    if "enum" in spec or "const" in spec:
        return " \\| ".join(json.dumps(v) for v in spec.get("enum", [spec.get("const")]))
    kind = spec.get("type", "any")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object" and isinstance(spec.get("additionalProperties"), dict):
        return f"map of {_type(spec['additionalProperties'])}"
    return str(kind)


def with_fields(doc: str) -> str:
    """`doc` (docs/report-schema.md) with its generated field tables brought up to date."""
    pattern = re.compile(re.escape(FIELDS_START) + ".*?" + re.escape(FIELDS_END), re.S)
    return pattern.sub(lambda _: fields_markdown(), doc)


def write_docs(docs: Path) -> None:
    (docs / "report.schema.json").write_text(json_schema())
    page = docs / "report-schema.md"
    page.write_text(with_fields(page.read_text()))


if __name__ == "__main__":
    write_docs(Path(__file__).resolve().parents[2] / "docs")
