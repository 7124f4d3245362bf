"""A scenario library pack: who made it (id, version, maintainer), how old it is, and a hash of
its content so a saved assessment can say exactly which pack it used."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from risk_models.config.loader import ConfigError, Library, config_dir, load_scenarios, parse_model
from risk_models.config.schema import ScenariosFile
from risk_models.io.safe_yaml import UnsafeInputError, load_user_yaml

DEFAULT_MAX_AGE_DAYS = 90
MAX_PACK_BYTES = 1024 * 1024  # 13x the shipped pack (74 KB with its cases and dates); parsing a larger text took seconds


class LibrarySettings(BaseModel):
    """config/library.yaml (optional: a missing file means the defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    as_of: dt.date | None = None
    max_age_days: int = Field(default=DEFAULT_MAX_AGE_DAYS, gt=0, le=3650)


def load_settings(directory: Path | str | None = None) -> LibrarySettings:
    path = Path(directory or config_dir()) / "library.yaml"
    return parse_model(path, LibrarySettings) if path.exists() else LibrarySettings()


def pack_hash(sf: ScenariosFile) -> str:
    """SHA-256 of the pack's validated content (formatting and comments do not change it)."""
    canon = json.dumps(sf.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode()).hexdigest()


@dataclass(frozen=True)
class PackAge:
    as_of: dt.date
    today: dt.date
    max_age_days: int

    @property
    def days(self) -> int:
        return (self.today - self.as_of).days

    @property
    def stale(self) -> bool:
        return self.days > self.max_age_days

    def text(self) -> str:
        """'24 days old' / 'dated 3 days in the future' — for people."""
        d = self.days
        if d < 0:
            return f"dated {-d} day{'s' if d != -1 else ''} in the future"
        return "dated today" if d == 0 else f"{d:,} day{'s' if d != 1 else ''} old"

    def warning(self) -> str | None:
        if not self.stale:
            return None
        return (f"The scenario library is {self.days:,} days old (as of {self.as_of:%d %b %Y}; the limit is "
                f"{self.max_age_days} days): court cases, contracts and regulation may have moved since. "
                "Load a current pack or review the facts before relying on the results.")


def pack_age(sf: ScenariosFile | dt.date, today: dt.date | None = None, max_age_days: int | None = None) -> PackAge:
    as_of = sf if isinstance(sf, dt.date) else sf.as_of
    limit = max_age_days if max_age_days is not None else load_settings().max_age_days
    return PackAge(as_of, today or dt.date.today(), limit)


def pack_label(sf: ScenariosFile) -> str:
    """'ai-vendor-risk-core 2026.11.25' or 'unversioned pack' for packs without id/version."""
    if not sf.id:
        return "unversioned pack"
    return f"{sf.id} {sf.version}" if sf.version else sf.id


def pack_label_of(record: dict) -> str:
    """pack_label() for a recorded pack (a report's or a saved assessment's dict)."""
    if not record.get("id"):
        return "unversioned pack"
    return f"{record['id']} {record['version']}" if record.get("version") else str(record["id"])


def pack_record(sf: ScenariosFile, today: dt.date | None = None, max_age_days: int | None = None) -> dict:
    """What a saved assessment or a report records about the pack it used."""
    age = pack_age(sf, today, max_age_days)
    return {"id": sf.id, "version": sf.version, "maintainer": sf.maintainer, "as_of": sf.as_of.isoformat(),
            "hash": pack_hash(sf), "age_days": age.days, "max_age_days": age.max_age_days, "stale": age.stale}


def parse_pack(data: bytes, name: str, lib: Library) -> ScenariosFile:
    """A pack from uploaded bytes, validated against the library's channels and vendors
    (ConfigError naming the file, event and key otherwise)."""
    if len(data) > MAX_PACK_BYTES:
        raise ConfigError(f"{name}: {len(data) / 1024:,.0f} KB is too large for a scenario pack (limit "
                          f"{MAX_PACK_BYTES // 1024:,} KB)")
    try:
        raw = load_user_yaml(data.decode("utf-8-sig"))  # libyaml, no aliases, bounded nesting
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not UTF-8 text; a scenario pack is a YAML file") from None
    except UnsafeInputError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: expected a scenario pack (a mapping with id, version, as_of, events)")
    _check_size(raw, name)
    return load_scenarios(Path(name), set(lib.channels.channels), set(lib.models.vendors), raw)


# The engine holds a few deployments x outcomes arrays: 650 events against 20,000 deployments tried to
# allocate 5.35 GiB. A pack is bounded to a few times the shipped one (16 events, 31 outcomes), checked on
# the parsed file before any validation.
MAX_PACK_EVENTS = 60
MAX_PACK_OUTCOMES = 120


def _check_size(raw: dict, name: str) -> None:
    events = raw.get("events")
    if not isinstance(events, list):
        return  # the schema names what is wrong
    outcomes = sum(len(e["outcomes"]) for e in events if isinstance(e, dict) and isinstance(e.get("outcomes"), list))
    if len(events) > MAX_PACK_EVENTS or outcomes > MAX_PACK_OUTCOMES:
        raise ConfigError(f"{name}: the pack has {len(events):,} events with {outcomes:,} outcomes; at most "
                          f"{MAX_PACK_EVENTS} events and {MAX_PACK_OUTCOMES} outcomes are allowed (each outcome is "
                          "simulated for every deployment)")


def report_pack_age(rep: dict) -> tuple[str, PackAge]:
    """Label and age of the pack a report used, measured on the report's generation date
    (reports without a recorded pack — older JSON — fall back to the as_of date and config limit)."""
    lib = rep["scenario_library"]
    pack = lib.get("pack") or {}
    generated = str(rep.get("generated_at") or dt.date.today().isoformat())[:10]
    limit = pack.get("max_age_days") or load_settings().max_age_days
    return pack_label_of(pack), PackAge(dt.date.fromisoformat(lib["as_of"]), dt.date.fromisoformat(generated), limit)
