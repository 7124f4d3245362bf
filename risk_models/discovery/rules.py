"""config/discovery.yaml: which FOCUS rows are AI charges (channel by provider/publisher/service),
which model a SKU or description names, and the defaults of a draft deployment.

Rules are applied to the distinct (provider, publisher, service) triples only, so a million billing
rows cost a handful of regex evaluations.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from risk_models.config.domain import Criticality, DataSensitivity
from risk_models.config.loader import ConfigError, config_dir, parse_model
from risk_models.config.schema import Source, Strict

FIELDS = ("provider", "publisher", "service", "category", "description", "cost", "currency", "period_start",
          "period_end", "region", "resource_id", "resource_name", "subaccount_id", "subaccount_name", "sku", "tags")
REQUIRED_FIELDS = ("provider", "service", "cost", "currency", "period_start", "period_end")


class Rule(Strict):
    id: str
    channel: str
    provider: str | None = None
    publisher: str | None = None
    service: str | None = None

    @field_validator("provider", "publisher", "service")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return v


class Defaults(Strict):
    criticality: Criticality
    data_sensitivity: DataSensitivity


class SupplierChannel(Strict):
    pattern: str
    channel: str


class MlbomRules(Strict):
    deployment_property: str = Field(min_length=1)
    default_channel: str
    supplier_channels: list[SupplierChannel] = []


class DiscoveryFile(Strict):
    as_of: dt.date
    sources: list[Source] = Field(min_length=1)
    columns: dict[str, list[str]]
    model_text_columns: list[str]
    spend_categories: list[str]
    defaults: Defaults
    rules: list[Rule] = Field(min_length=1)
    models: list[str]
    mlbom: MlbomRules

    @field_validator("columns")
    @classmethod
    def _fields(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(v) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
        missing = [f for f in REQUIRED_FIELDS if not v.get(f)]
        if missing:
            raise ValueError(f"no column names for {', '.join(missing)}")
        return v

    @field_validator("models")
    @classmethod
    def _models(cls, v: list[str]) -> list[str]:
        for k, p in enumerate(v):
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"[{k}] {p!r} is not a valid regular expression: {exc}") from None
        return v


def load_discovery(path: Path | None = None, channels: set[str] | None = None) -> DiscoveryFile:
    """The discovery rules; every rule's channel must be a configured channel id."""
    p = path or config_dir() / "discovery.yaml"
    df = parse_model(p, DiscoveryFile)
    if channels is not None:
        bad = [f"{p}: rules[{k}].channel: unknown channel {r.channel!r}; known: {', '.join(sorted(channels))}"
               for k, r in enumerate(df.rules) if r.channel not in channels]
        bad += [f"{p}: mlbom.supplier_channels[{k}].channel: unknown channel {r.channel!r}"
                for k, r in enumerate(df.mlbom.supplier_channels) if r.channel not in channels]
        if df.mlbom.default_channel not in channels:
            bad.append(f"{p}: mlbom.default_channel: unknown channel {df.mlbom.default_channel!r}")
        if bad:
            raise ConfigError("\n".join(bad))
    return df


def classify(provider: pd.Series, publisher: pd.Series, service: pd.Series, rules: list[Rule]) -> pd.DataFrame:
    """Channel and rule id per row ('' where no rule matches: not an AI charge)."""
    keys = pd.DataFrame({"provider": provider.fillna("").astype(str), "publisher": publisher.fillna("").astype(str),
                         "service": service.fillna("").astype(str)})
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(keys))
    u = pd.DataFrame(list(uniq), columns=["provider", "publisher", "service"]) if len(uniq) else keys.iloc[:0]
    channel = np.full(len(u), "", dtype=object)
    rule_id = np.full(len(u), "", dtype=object)
    done = np.zeros(len(u), dtype=bool)
    for r in rules:
        m = ~done
        for field in ("provider", "publisher", "service"):
            pattern = getattr(r, field)
            if pattern is not None:
                rx = re.compile(pattern, re.IGNORECASE)
                m &= np.fromiter((bool(rx.search(v)) for v in u[field]), dtype=bool, count=len(u))
        channel[m], rule_id[m] = r.channel, r.id
        done |= m
    return pd.DataFrame({"channel": channel[codes] if len(codes) else [], "rule": rule_id[codes] if len(codes) else []},
                        index=provider.index)


def find_model(texts: pd.Series, patterns: list[str]) -> pd.Series:
    """The first model name a text mentions, normalised ('Claude 3.5 Sonnet' -> 'claude-3.5-sonnet'); ''."""
    codes, uniq = pd.factorize(texts.fillna("").astype(str))
    u = pd.Series(uniq, dtype=object).astype(str)
    out = pd.Series("", index=u.index, dtype=object)
    for p in patterns:
        todo = out == ""
        if not todo.any():
            break
        found = u[todo].str.extract(f"(?i)(?P<m>{p})", expand=True)["m"]
        out[todo] = found.fillna("")
    out = out.str.strip().str.lower().str.replace(r"[\s_]+", "-", regex=True)
    return pd.Series(out.to_numpy()[codes] if len(codes) else np.array([], dtype=object), index=texts.index,
                     dtype=object)
