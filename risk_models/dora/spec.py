"""config/dora_roi.yaml: the EBA field codes, value lists and package layout of the DORA register
of information, and config/review.yaml: review intervals by rating."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from risk_models.config.loader import config_dir, parse_model
from risk_models.config.schema import Source, Strict


class Column(Strict):
    label: str
    mandatory: Literal["always", "critical", "optional"]
    list: str | None = None
    kind: Literal["text", "country", "currency", "date", "money", "integer"] = "text"
    # mandatory when another column of the row holds a value: "c0140=eba_BT:x28"
    required_if: str | None = Field(default=None, pattern=r"^c\d{4}=\S+$")


class Template(Strict):
    title: str
    columns: dict[str, Column]
    keys: list[str] = []  # key columns (EBA annotated table layout): never empty (rule 805), unique (806)


class Taxonomy(Strict):
    version: str
    module: str = Field(pattern=r"^https?://")


class NbbNaming(Strict):
    """The NBB OneGate file name's fixed parts (config/dora_roi.yaml says where they come from)."""
    authority: str = Field(pattern=r"^[A-Z]+$")
    domain: str = Field(pattern=r"^[A-Z]+$")
    report: str = Field(pattern=r"^[A-Z_]+$")
    source: Source


class Package(Strict):
    report_package_document_type: str
    report_document_type: str
    entity_id_scheme: str
    framework_code: str = Field(pattern=r"^DORA\d{6}$")  # framework + module version of the file name
    module_code: str
    nbb: NbbNaming
    decimals_monetary: int
    decimals_integer: int
    not_applicable_country: str
    not_applicable_text: str = "Not Applicable"  # a text key column with nothing to report (ESAs' RoI FAQ)
    # key columns that cannot be empty in the package (EBA rule 805): "not applicable" when blank
    not_applicable_keys: dict[str, list[str]] = {}


class Derivation(Strict):
    easy_max_weeks: float = Field(gt=0)
    medium_max_weeks: float = Field(gt=0)


class RoiSpec(Strict):
    as_of: dt.date
    regulation: str
    taxonomy: Taxonomy
    sources: list[Source] = Field(min_length=1)
    package: Package
    derivation: Derivation
    lists: dict[str, dict[str, str]]
    templates: dict[str, Template]
    # B_99.01 column -> the register's own definition of that option where it derives it by a fixed rule
    definitions: dict[str, str] = {}

    def label(self, list_name: str, code: str) -> str:
        return self.lists[list_name].get(code, code)


class ReviewPolicy(Strict):
    as_of: dt.date
    source: Source
    interval_months: dict[Literal["low", "medium", "high", "critical"], int]
    due_soon_days: int = Field(ge=0, le=366)


def _check_spec(path: Path, spec: RoiSpec) -> RoiSpec:
    from risk_models.config.loader import ConfigError
    problems = [f"{path}: templates.{t}.columns.{c}.list: unknown list {col.list!r}"
                for t, tpl in spec.templates.items() for c, col in tpl.columns.items()
                if col.list and col.list not in spec.lists]
    problems += [f"{path}: templates.{t}.keys: {k!r} is not a column of {t}"
                 for t, tpl in spec.templates.items() for k in tpl.keys if k not in tpl.columns]
    b9901 = spec.templates.get("B_99.01")
    problems += [f"{path}: definitions.{k}: not a column of B_99.01" for k in spec.definitions
                 if b9901 is None or k not in b9901.columns]
    if spec.derivation.easy_max_weeks > spec.derivation.medium_max_weeks:
        problems.append(f"{path}: derivation: easy_max_weeks must not exceed medium_max_weeks")
    if problems:
        raise ConfigError("\n".join(problems))
    return spec


@lru_cache(maxsize=4)
def load_roi_spec(directory: str | None = None) -> RoiSpec:
    path = Path(directory or config_dir()) / "dora_roi.yaml"
    return _check_spec(path, parse_model(path, RoiSpec))


@lru_cache(maxsize=4)
def load_review_policy(directory: str | None = None) -> ReviewPolicy:
    from risk_models.config.loader import ConfigError
    path = Path(directory or config_dir()) / "review.yaml"
    policy = parse_model(path, ReviewPolicy)
    missing = {"low", "medium", "high", "critical"} - set(policy.interval_months)
    if missing or any(v <= 0 for v in policy.interval_months.values()):
        raise ConfigError(f"{path}: interval_months: give a positive number of months for each of low, medium, "
                          f"high, critical (missing: {sorted(missing) or 'none'})")
    return policy


class Rate(Strict):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    date: dt.date
    per_eur: float = Field(gt=0)


class RateTable(Strict):
    """config/fx_rates.yaml: dated reference rates (units per 1 EUR) to report amounts in one currency."""

    as_of: dt.date
    base: Literal["EUR"]
    max_age_days: int = Field(ge=0, le=366)
    source: Source
    rates: list[Rate]

    def lookup(self, currency: str, on: dt.date) -> Rate | None:
        """The rate of `on` or the latest before it, at most max_age_days older (EUR: 1 on any date)."""
        if currency == "EUR":
            return Rate(currency="EUR", date=on, per_eur=1.0)
        usable = [r for r in self.rates if r.currency == currency and
                  dt.timedelta(0) <= on - r.date <= dt.timedelta(days=self.max_age_days)]
        return max(usable, key=lambda r: r.date) if usable else None


def load_rates(path: str | Path | None = None) -> RateTable:
    """The shipped table, or a replacement file (`--rates FILE`); ConfigError naming file and key."""
    return parse_model(Path(path) if path else Path(config_dir()) / "fx_rates.yaml", RateTable)
