"""Loads and cross-checks the YAML libraries in config/; every error names file, key, problem. (Over 500
lines: one cross-check per config file, each short; they share the Library they build.)"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from risk_models.config.domain import DIMENSIONS
from risk_models.config.profile import OrgProfile
from risk_models.config.questions import AnswerError, answer_factors, normalise_answer
from risk_models.config.schema import (
    AssumptionsFile,
    AvailabilityFile,
    BaselineFile,
    ChannelsFile,
    Event,
    FallbacksFile,
    ImpactRule,
    Match,
    ModelsFile,
    Outcome,
    PricesFile,
    Question,
    QuestionnaireFile,
    RegimesFile,
    RegionsFile,
    ScenariosFile,
    ScoringFile,
)
from risk_models.io.safe_yaml import UnsafeInputError, load_user_yaml

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or invalid."""


def config_dir() -> Path:
    return Path(os.environ.get("AI_VENDOR_RISK_CONFIG", DEFAULT_CONFIG_DIR))


def _loc(loc: tuple[object, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    try:
        # --scenarios and --config files come from users too: no aliases, bounded nesting
        return load_user_yaml(text)
    except UnsafeInputError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse_model(path: Path, schema: type[M], data: object | None = None) -> M:
    """Validate YAML data against a schema; errors name the file and the key path."""
    data = read_yaml(path) if data is None else data
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        lines = [f"{path}: {_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def norm_key(text: str) -> str:
    """Case-, space- and punctuation-insensitive key for alias matching."""
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


@dataclass(frozen=True, repr=False)
class Library:
    """All configuration libraries, validated and cross-checked."""

    directory: Path
    channels: ChannelsFile
    models: ModelsFile
    questionnaire: QuestionnaireFile
    scenarios: ScenariosFile
    fallbacks: FallbacksFile
    scoring: ScoringFile
    channel_aliases: dict[str, str] = field(default_factory=dict)
    baseline: BaselineFile | None = None
    regimes: RegimesFile | None = None
    assumptions: AssumptionsFile | None = None
    profile: OrgProfile = OrgProfile()
    regions: RegionsFile | None = None
    availability: AvailabilityFile | None = None
    prices: PricesFile | None = None

    def __repr__(self) -> str:  # the full libraries are far too long for test reports
        return f"Library({self.directory})"

    @cached_property
    def questions(self) -> dict[str, Question]:
        return {q.id: q for q in self.questionnaire.questions}

    @cached_property
    def baseline_events(self) -> list[Event]:
        return expand_baseline(self.baseline, self) if self.baseline else []

    @property
    def events(self) -> list[Event]:
        """Every event the engine scores: the scenario pack's, then the baseline events."""
        return [*self.scenarios.events, *self.baseline_events]

    def horizon_of(self, event: Event) -> int:
        return event.horizon_months or self.scenarios.horizon_months

    def channel_label(self, channel: str) -> str:
        ch = self.channels.channels.get(channel)
        return ch.display_name if ch else channel

    def vendor_label(self, vendor: str) -> str:
        return self.models.vendors.get(vendor, vendor)

    @property
    def reference_date(self) -> dt.date:
        """The assessment date: contracts, notice periods, exit tests and review cadence are measured
        against it. The profile's assessment date (`assess --as-of`, the app's Settings), else today —
        never the scenario pack's date, which only says how current the pack is."""
        return self.profile.reference_date(dt.date.today())


def _check(problems: list[str], path: Path, key: str, ok: bool, message: str) -> None:
    if not ok:
        problems.append(f"{path}: {key}: {message}")


def _check_regex(problems: list[str], path: Path, key: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        problems.append(f"{path}: {key}: invalid regex ({exc})")


def _raise_if(problems: list[str]) -> None:
    if problems:
        raise ConfigError("\n".join(problems))


def _alias_map(path: Path, channels: ChannelsFile) -> dict[str, str]:
    aliases: dict[str, str] = {}
    problems: list[str] = []
    for cid, ch in channels.channels.items():
        for alias in [cid, ch.display_name, *ch.aliases]:
            k = norm_key(alias)
            other = aliases.setdefault(k, cid)
            _check(problems, path, f"channels.{cid}.aliases", other == cid,
                   f"alias {alias!r} already names channel {other!r}")
    for i, rule in enumerate(channels.jurisdictions):
        _check_regex(problems, path, f"jurisdictions[{i}].pattern", rule.pattern)
    _raise_if(problems)
    return aliases


def _check_models(path: Path, models: ModelsFile) -> None:
    problems: list[str] = []
    _check(problems, path, "vendors", "other" in models.vendors, "must define vendor 'other'")
    for i, rule in enumerate(models.rules):
        _check(problems, path, f"rules[{i}].vendor", rule.vendor in models.vendors,
               f"unknown vendor {rule.vendor!r}; known: {sorted(models.vendors)}")
        _check_regex(problems, path, f"rules[{i}].pattern", rule.pattern)
    for i, t in enumerate(models.tasks):
        _check_regex(problems, path, f"tasks[{i}].pattern", t.pattern)
    _raise_if(problems)
    _check(problems, path, f"tasks[{len(models.tasks) - 1}].pattern", models.tasks[-1].pattern == "",
           "the last task rule must match every name (pattern: '') so each model has a task kind")
    for i, t in enumerate(models.tasks):
        for name in t.examples:
            got = models.task_rule(name)
            _check(problems, path, f"tasks[{i}].examples", got is t,
                   f"{name!r} is classified by tasks[{models.tasks.index(got)}] ({got.task}), not by this rule")
    _raise_if(problems)


def question_factor_table(q: Question) -> list[dict[str, float]]:
    """Factors of every possible single answer (options or bands), 1.0 where unset."""
    rows = q.options if q.options else q.bands
    return [{d: r.factors.get(d, 1.0) for d in DIMENSIONS} for r in rows]


def _unique(problems: list[str], path: Path, items: list, field: str, what: str):
    """(index, item, key) of each item, reporting every id seen before as a problem."""
    seen: set[str] = set()
    for i, item in enumerate(items):
        key = f"{field}[{i}] ({item.id})"
        _check(problems, path, key, item.id not in seen, f"duplicate {what} id")
        seen.add(item.id)
        yield i, item, key


def _check_questionnaire(path: Path, qf: QuestionnaireFile) -> None:
    problems: list[str] = []
    for _i, q, key in _unique(problems, path, qf.questions, "questions", "question"):
        values = [o.value for o in q.options]
        if q.type == "bool":
            _check(problems, path, key, sorted(values) == ["no", "yes"],
                   "bool questions need exactly the options 'yes' and 'no'")
        if q.type in ("choice", "bool"):
            _check(problems, path, f"{key}.default", q.default in values,
                   f"default {q.default!r} is not one of {values}")
        if q.type == "multi":
            ok = isinstance(q.default, list) and set(q.default) <= set(values)
            _check(problems, path, f"{key}.default", ok, f"default must be a list of {values}")
        if q.type == "number":
            _check(problems, path, f"{key}.default", isinstance(q.default, int | float),
                   "number questions need a numeric default")
        if q.type == "date":
            _check(problems, path, f"{key}.default", q.default is None,
                   "date questions default to null (= never)")
        if not problems:
            _check_conservative(problems, path, key, q)
    _raise_if(problems)


def _check_conservative(problems: list[str], path: Path, key: str, q: Question) -> None:
    """The default must be at least as vulnerable as every single answer, in every dimension."""
    default = answer_factors(q, q.default)
    for row in question_factor_table(q):
        worse = [d for d in DIMENSIONS if row[d] > default[d] + 1e-12]
        _check(problems, path, f"{key}.default", not worse,
               f"default is not the conservative answer: another answer is worse in {worse}")


def _check_rules(
    problems: list[str], path: Path, key: str, channels: set[str], vendors: set[str],
    rule_channels: list[str], rule_vendors: list[str],
) -> None:
    for c in rule_channels:
        _check(problems, path, key, c in channels, f"unknown channel {c!r}; known: {sorted(channels)}")
    for v in rule_vendors:
        _check(problems, path, key, v in vendors, f"unknown vendor {v!r}; known: {sorted(vendors)}")


def _check_scenarios(path: Path, sf: ScenariosFile, channels: set[str], vendors: set[str]) -> None:
    problems: list[str] = []
    seen: set[str] = set()
    for i, ev in enumerate(sf.events):
        _check(problems, path, f"events[{i}].id", ev.id not in seen, f"duplicate id {ev.id!r}")
        seen.add(ev.id)
        for j, out in enumerate(ev.outcomes):
            key = f"events[{i}].outcomes[{j}]"
            _check(problems, path, f"{key}.id", out.id not in seen, f"duplicate id {out.id!r}")
            seen.add(out.id)
            for r, rule in enumerate(out.impacts):
                _check_rules(problems, path, f"{key}.impacts[{r}].match", channels, vendors,
                             rule.match.channels, rule.match.vendors)
                signs = {s > 0 for s in rule.severity.values() if s != 0}
                _check(problems, path, f"{key}.impacts[{r}].severity", len(signs) <= 1,
                       "a rule is either adverse (>= 0) or favourable (<= 0), not both")
    _raise_if(problems)


def _vendor_of(models: ModelsFile, model: str) -> str:
    return next((r.vendor for r in models.rules if re.match(r.pattern, model, re.IGNORECASE)), "other")


def _check_fallbacks(path: Path, ff: FallbacksFile, channels: ChannelsFile, vendors: set[str], models: ModelsFile,
                     questions: dict[str, Question], availability: AvailabilityFile,
                     regions: RegionsFile) -> None:
    problems: list[str] = []
    for _i, opt, key in _unique(problems, path, ff.options, "options", "option"):
        targets_c = [opt.target_channel] if opt.target_channel else []
        targets_v = [opt.target_vendor] if opt.target_vendor else []
        _check_rules(problems, path, key, set(channels.channels), vendors,
                     targets_c + opt.applies_to.channels, targets_v + opt.applies_to.vendors)
        both = set(opt.replaces_features) & set(opt.cannot_replace_features)
        _check(problems, path, key, not both, f"features both replaced and not: {sorted(both)}")
        targets = opt.after.models
        for task, model in targets.items():
            where = f"{key}.after.models.{task}"
            kind = models.task_rule(model).task
            _check(problems, path, where, kind == task,
                   f"model {model!r} is a {kind} model (config/models.yaml tasks), not {task}")
            vendor = _vendor_of(models, model)
            rules = availability.channels.get(opt.target_channel or "", [])
            _check(problems, path, where, not rules or any(
                r.vendor == vendor and re.match(r.models, model, re.IGNORECASE) for r in rules),
                f"model {model!r} is not offered on {opt.target_channel} per config/availability.yaml")
        if targets:
            # the headline target (chat, else the only one) belongs to the option's target vendor
            head = opt.after.model or next(iter(targets.values()))
            vendor = _vendor_of(models, head)
            _check(problems, path, f"{key}.after.models", vendor == opt.target_vendor,
                   f"model {head!r} belongs to vendor {vendor!r}, not the target vendor {opt.target_vendor!r}")
        elif opt.is_switch:
            _check(problems, path, f"{key}.after.models", opt.applies_to.vendors == [opt.target_vendor],
                   "a switch that keeps the same model must apply to the target vendor's models only")
        cloud = channels.channels[opt.target_channel].region_codes \
            if opt.target_channel in channels.channels else None
        if opt.after.region and cloud:
            _check(problems, path, f"{key}.after.region", opt.after.region in regions.clouds.get(cloud, {}),
                   f"{opt.after.region!r} is not a {cloud} region code (config/regions.yaml); "
                   f"{opt.target_channel} uses {cloud} regions")
        for qid, value in opt.after.answers.items():
            q = questions.get(qid)
            _check(problems, path, f"{key}.after.answers.{qid}", q is not None, "unknown question")
            if q is not None and value != "reference_date":
                try:
                    normalise_answer(q, value)
                except AnswerError as exc:
                    problems.append(f"{path}: {key}.after.answers.{qid}: {exc}")
    _raise_if(problems)


def hosted_channels(channels: ChannelsFile, key: str) -> list[str]:
    """The channels another provider runs on the cloud whose own channel is `key` (the OpenAI API on
    Microsoft Azure for azure_openai): what an outage of that cloud also takes down."""
    own = channels.channels[key].cloud_provider
    return [c for c, ch in channels.channels.items() if c != key and ch.hosted_on and ch.hosted_on.cloud == own]


def _check_hosting(path: Path, channels: ChannelsFile) -> None:
    clouds = {ch.cloud_provider for ch in channels.channels.values()}
    problems: list[str] = []
    for cid, ch in channels.channels.items():
        if ch.hosted_on:
            _check(problems, path, f"channels.{cid}.hosted_on.cloud", ch.hosted_on.cloud in clouds,
                   f"unknown cloud {ch.hosted_on.cloud!r}; known: {sorted(clouds)}")
    _raise_if(problems)


def expand_baseline(bf: BaselineFile, lib: Library) -> list[Event]:
    """One independent event per channel or vendor of each template (their outages, price
    changes, retirements or failures do not happen together)."""
    events = []
    for t in bf.templates:
        for key, p in t.probability.items():
            if t.per == "channel":
                label = lib.channel_label(key)
                reached = [key, *hosted_channels(lib.channels, key)] if t.reaches_hosted else [key]
                impacts = [ImpactRule(match=Match(channels=reached), severity=t.severity)]
            elif t.per == "vendor":
                label = lib.vendor_label(key)
                channels = [c for c in lib.channels.channels if c not in t.exclude_channels] if t.exclude_channels else []
                impacts = [ImpactRule(match=Match(vendors=[key], channels=channels), severity=t.severity)]
            else:
                label, impacts = "", t.impacts
            suffix = "" if t.per == "none" else f"_{key}"
            title = t.label.format(key=label)
            outcome = Outcome(id=f"{t.id}{suffix}", label=t.outcome_label or title, probability=p,
                              confidence=t.confidence, rationale=t.rationale, impacts=impacts,
                              outage_hours=t.outage_hours, repeatable=t.repeatable)
            events.append(Event(id=f"baseline_{t.id}{suffix}", label=title, description=t.description,
                                sources=t.sources, outcomes=[outcome], horizon_months=bf.horizon_months,
                                family=t.id))
    return events


def _check_baseline(path: Path, bf: BaselineFile, channels: set[str], vendors: set[str], regimes: set[str]) -> None:
    problems: list[str] = []
    for i, t in enumerate(bf.templates):
        key = f"templates[{i}] ({t.id})"
        known = {"channel": channels, "vendor": vendors, "none": {"all"}}[t.per]
        for k in t.probability:
            _check(problems, path, f"{key}.probability", k in known, f"unknown {t.per} {k!r}; known: {sorted(known)}")
        for c in t.exclude_channels:
            _check(problems, path, f"{key}.exclude_channels", c in channels, f"unknown channel {c!r}")
        for r, rule in enumerate(t.impacts):
            _check_rules(problems, path, f"{key}.impacts[{r}].match", channels, vendors, rule.match.channels,
                         rule.match.vendors)
            _check_regimes(problems, path, f"{key}.impacts[{r}].match", regimes, rule.match.regimes)
    _raise_if(problems)


def _check_scope_events(path: Path, qf: QuestionnaireFile, sf: ScenariosFile, bf: BaselineFile) -> None:
    """A question's scope_events name scenario events or baseline templates (families)."""
    known = {e.id for e in sf.events} | {t.id for t in bf.templates}
    problems: list[str] = []
    for i, q in enumerate(qf.questions):
        for ev in q.scope_events:
            _check(problems, path, f"questions[{i}] ({q.id}).scope_events", ev in known,
                   f"unknown event {ev!r}; known: {sorted(known)}")
    _raise_if(problems)


def _check_regimes(problems: list[str], path: Path, key: str, regimes: set[str], named: list[str]) -> None:
    for r in named:
        _check(problems, path, key, r in regimes, f"unknown regime {r!r}; known: {sorted(regimes)}")


def load_profile(path: Path, regimes: RegimesFile, data: object | None = None) -> OrgProfile:
    """An organisation profile file (YAML); regimes must be known ones."""
    profile = parse_model(path, OrgProfile, data)
    problems: list[str] = []
    _check_regimes(problems, path, "regimes", set(regimes.regimes), profile.regimes)
    _raise_if(problems)
    return profile


def with_profile(lib: Library, profile: OrgProfile) -> Library:
    unknown = [r for r in profile.regimes if lib.regimes and r not in lib.regimes.regimes]
    if unknown:
        raise ConfigError(f"organisation profile: unknown regime(s) {unknown}; known: {sorted(lib.regimes.regimes)}")
    return replace(lib, profile=profile)


def with_assumptions(lib: Library, assumptions: AssumptionsFile) -> Library:
    return replace(lib, assumptions=assumptions)


def load_library(directory: Path | str | None = None) -> Library:
    """Load every library from `directory` (default: config/ or $AI_VENDOR_RISK_CONFIG)."""
    return _load_library(Path(directory) if directory else config_dir())


@lru_cache(maxsize=8)
def _load_library(d: Path) -> Library:
    channels = parse_model(d / "channels.yaml", ChannelsFile)
    aliases = _alias_map(d / "channels.yaml", channels)
    _check_hosting(d / "channels.yaml", channels)
    models = parse_model(d / "models.yaml", ModelsFile)
    _check_models(d / "models.yaml", models)
    questionnaire = parse_model(d / "questionnaire.yaml", QuestionnaireFile)
    _check_questionnaire(d / "questionnaire.yaml", questionnaire)
    channel_ids, vendor_ids = set(channels.channels), set(models.vendors)
    scenarios = load_scenarios(d / "scenarios.yaml", channel_ids, vendor_ids)
    scoring = parse_model(d / "scoring.yaml", ScoringFile)
    regimes = parse_model(d / "regimes.yaml", RegimesFile)
    regime_ids = set(regimes.regimes)
    _check_scenario_regimes(d / "scenarios.yaml", scenarios, regime_ids)
    baseline = parse_model(d / "baseline_events.yaml", BaselineFile)
    _check_baseline(d / "baseline_events.yaml", baseline, channel_ids, vendor_ids, regime_ids)
    _check_scope_events(d / "questionnaire.yaml", questionnaire, scenarios, baseline)
    assumptions = parse_model(d / "assumptions.yaml", AssumptionsFile)
    profile = load_profile(d / "profile.yaml", regimes)
    regions = parse_model(d / "regions.yaml", RegionsFile)
    availability = parse_model(d / "availability.yaml", AvailabilityFile)
    _check_availability(d / "availability.yaml", availability, channel_ids, vendor_ids)
    fallbacks = parse_model(d / "fallbacks.yaml", FallbacksFile)
    _check_fallbacks(d / "fallbacks.yaml", fallbacks, channels, vendor_ids, models,
                     {q.id: q for q in questionnaire.questions}, availability, regions)
    _check_required_by(d / "fallbacks.yaml", fallbacks, regime_ids)
    prices = parse_model(d / "prices.yaml", PricesFile)
    _check_prices(d / "prices.yaml", prices, channel_ids)
    return Library(d, channels, models, questionnaire, scenarios, fallbacks, scoring, aliases,
                   baseline, regimes, assumptions, profile, regions, availability, prices)


def _check_required_by(path: Path, ff: FallbacksFile, regimes: set[str]) -> None:
    problems = [f"{path}: options[{k}] ({o.id}).required_by.regime: unknown regime {o.required_by.regime!r}; "
                f"known: {sorted(regimes)}" for k, o in enumerate(ff.options)
                if o.required_by and o.required_by.regime not in regimes]
    _raise_if(problems)


def _check_prices(path: Path, pf: PricesFile, channels: set[str]) -> None:
    problems = [f"{path}: prices[{k}].channel: unknown channel {p.channel!r}; known: {sorted(channels)}"
                for k, p in enumerate(pf.prices) if p.channel not in channels]
    _raise_if(problems)


def _check_availability(path: Path, av: AvailabilityFile, channels: set[str], vendors: set[str]) -> None:
    problems: list[str] = []
    for ch, rules in av.channels.items():
        _check(problems, path, f"channels.{ch}", ch in channels, f"unknown channel; known: {sorted(channels)}")
        for i, rule in enumerate(rules):
            key = f"channels.{ch}[{i}]"
            _check(problems, path, f"{key}.vendor", rule.vendor in vendors, f"unknown vendor {rule.vendor!r}")
            _check_regex(problems, path, f"{key}.models", rule.models)
    _raise_if(problems)


def _check_scenario_regimes(path: Path, sf: ScenariosFile, regimes: set[str]) -> None:
    problems: list[str] = []
    for i, ev in enumerate(sf.events):
        for j, out in enumerate(ev.outcomes):
            for r, rule in enumerate(out.impacts):
                _check_regimes(problems, path, f"events[{i}].outcomes[{j}].impacts[{r}].match", regimes,
                               rule.match.regimes)
    _raise_if(problems)


def load_scenarios(
    path: Path, channel_ids: set[str], vendor_ids: set[str], data: object | None = None
) -> ScenariosFile:
    """Load a scenario library (the default one or a user's edited copy)."""
    sf = parse_model(path, ScenariosFile, data)
    _check_scenarios(path, sf, channel_ids, vendor_ids)
    return sf


def with_scenarios(lib: Library, path: Path) -> Library:
    """The same library with another scenarios file (for `assess --scenarios`)."""
    sf = load_scenarios(path, set(lib.channels.channels), set(lib.models.vendors))
    return with_scenario_pack(lib, sf, path)


def with_scenario_pack(lib: Library, sf: ScenariosFile, path: Path | None = None) -> Library:
    """The same library with an already validated scenario pack (uploads, `library diff`); its
    impact rules may only name regimes the library knows."""
    if lib.regimes:
        _check_scenario_regimes(path or Path("scenario pack"), sf, set(lib.regimes.regimes))
    return replace(lib, scenarios=sf)
