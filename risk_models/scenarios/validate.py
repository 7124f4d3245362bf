"""`library validate`: every problem of a pack at once, each naming file, event and key.

Loading a pack stops at the first broken part; a maintainer fixing a pack wants the whole list,
so this walks the raw YAML as well as the schema."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from risk_models.config.domain import Jurisdiction, ProprietaryFeature
from risk_models.config.loader import Library, read_yaml
from risk_models.config.schema import ScenariosFile

PACK_FIELDS = ("id", "version", "maintainer")


def _event_name(raw: dict, i: object) -> str:
    events = raw.get("events")
    if isinstance(i, int) and isinstance(events, list) and i < len(events) and isinstance(events[i], dict):
        return f"event {events[i].get('id', f'#{i + 1}')!r}"
    return "pack"


def _key(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _schema_problem(name: str, raw: dict, err: dict) -> str | None:
    loc = tuple(err["loc"])
    where = _event_name(raw, loc[1]) if len(loc) > 1 and loc[0] == "events" else "pack"
    msg = err["msg"]
    if "outcome probabilities sum to" in msg:
        return None  # reported by the raw check below, which also runs when other fields are broken
    if loc[-1] == "date" and "sources" in loc and err["type"] == "missing":
        msg = "source has no date; every source needs one (YYYY-MM-DD)"
    elif len(loc) >= 2 and loc[-2] == "jurisdictions" and err["type"] == "enum":
        msg = f"unknown jurisdiction {err['input']!r}; known: {[j.value for j in Jurisdiction]}"
    elif len(loc) >= 2 and loc[-2] == "features" and err["type"] == "enum":
        msg = f"unknown proprietary feature {err['input']!r}; known: {[f.value for f in ProprietaryFeature]}"
    return f"{name}: {where}: {_key(loc)}: {msg}"


def _cross_checks(name: str, raw: dict, lib: Library) -> list[str]:
    channels, vendors = set(lib.channels.channels), set(lib.models.vendors)
    regimes = set(lib.regimes.regimes) if lib.regimes else set()
    problems: list[str] = []
    seen: dict[str, str] = {}
    events = raw.get("events") if isinstance(raw.get("events"), list) else []
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            continue
        who = _event_name(raw, i)

        def note(key: str, msg: str, who: str = who) -> None:
            problems.append(f"{name}: {who}: {key}: {msg}")

        ids = [(f"events[{i}].id", ev.get("id"))]
        outcomes = ev.get("outcomes") if isinstance(ev.get("outcomes"), list) else []
        total = 0.0
        for j, out in enumerate(outcomes):
            if not isinstance(out, dict):
                continue
            ids.append((f"events[{i}].outcomes[{j}].id", out.get("id")))
            p = out.get("probability")
            total += p if isinstance(p, int | float) and not isinstance(p, bool) else 0.0
            for r, rule in enumerate(out.get("impacts") or []):
                match = rule.get("match") if isinstance(rule, dict) else None
                if not isinstance(match, dict):
                    continue
                key = f"events[{i}].outcomes[{j}].impacts[{r}].match"
                for c in match.get("channels") or []:
                    if c not in channels:
                        note(f"{key}.channels", f"unknown channel {c!r}; known: {sorted(channels)}")
                for v in match.get("vendors") or []:
                    if v not in vendors:
                        note(f"{key}.vendors", f"unknown vendor {v!r}; known: {sorted(vendors)}")
                for g in match.get("regimes") or []:
                    if g not in regimes:
                        note(f"{key}.regimes", f"unknown regime {g!r}; known: {sorted(regimes)}")
        if total > 1.0 + 1e-9:
            note(f"events[{i}].outcomes", f"outcome probabilities sum to {total:.2f}; mutually exclusive "
                 "outcomes must sum to at most 1 (the rest is 'no change')")
        for key, oid in ids:
            if isinstance(oid, str) and oid in seen:
                note(key, f"duplicate id {oid!r} (also at {seen[oid]}); event and outcome ids must be unique")
            elif isinstance(oid, str):
                seen[oid] = key
    return problems


def validate_pack(path: Path | str, lib: Library) -> list[str]:
    """All problems of the pack at `path` (empty = valid). ConfigError if it cannot be read at all."""
    return validate_pack_data(read_yaml(Path(path)), str(path), lib)


def validate_pack_data(raw: object, name: str, lib: Library, require_metadata: bool = True) -> list[str]:
    """All problems of an already parsed pack; `name` is how messages call the file."""
    path = Path(name)
    if not isinstance(raw, dict):
        return [f"{name}: expected a scenario pack (a mapping with id, version, as_of, horizon_months, "
                "maintainer, events)"]
    problems = [f"{name}: pack: {k}: missing; a published pack needs id, version and maintainer"
                for k in PACK_FIELDS if require_metadata and raw.get(k) in (None, "")]
    try:
        ScenariosFile.model_validate(raw)
    except ValidationError as exc:
        problems += [m for e in exc.errors() if (m := _schema_problem(name, raw, e))]
    problems += _cross_checks(name, raw, lib)
    if not problems:  # severity sign rule and anything else the loader checks
        from risk_models.config.loader import ConfigError, load_scenarios
        try:
            load_scenarios(path, set(lib.channels.channels), set(lib.models.vendors), raw)
        except ConfigError as exc:
            problems += str(exc).splitlines()
    return problems
