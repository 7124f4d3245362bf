"""Provider incident histories, read into one record per incident for `scenarios calibrate`.

Two formats:
* Atlassian Statuspage `incidents.json` (the public `/api/v2/incidents.json` of status.openai.com,
  status.anthropic.com and most other provider status pages): `{"page": {name, url, updated_at},
  "incidents": [{id, name, created_at, started_at?, resolved_at, impact, components: [{name}]}]}`;
  a bare list of incidents (the management API's answer) is read too.
* A CSV of post-incident reviews (Azure and AWS publish them as prose; the user transcribes them):
  columns start, end, service, region, impact (docs/scenario-library.md).

Impact is Statuspage's scale: none < minor < major < critical (`maintenance` = planned, never counted).
Every error names the file, the record (incident index or CSV line) and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path

from risk_models.config.loader import Library, norm_key
from risk_models.io.safe_yaml import UnsafeInputError, load_user_json

IMPACTS = ("none", "minor", "major", "critical")
PLANNED = "maintenance"
CSV_COLUMNS = ("start", "end", "service", "region", "impact")
MAX_BYTES = 20 * 1024 * 1024


class IncidentFileError(ValueError):
    """An incident file cannot be read; the message names file, record and field."""


@dataclass(frozen=True)
class Incident:
    id: str
    name: str
    start: dt.datetime  # timezone-aware (UTC when the file gives no offset)
    end: dt.datetime | None  # None: not resolved in the file
    impact: str  # one of IMPACTS
    components: tuple[str, ...] = ()
    region: str = ""

    @property
    def hours(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds() / 3600


@dataclass
class History:
    """The incidents of one channel in one file, and the period the file covers."""

    channel: str
    source: str  # the file name, and the status page's name where it has one
    incidents: list[Incident] = field(default_factory=list)
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None


def _parse_time(value: object, where: str) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise IncidentFileError(f"{where}: {value!r} is not a date-time; expected ISO 8601, e.g. 2024-12-11T15:16:00-08:00")
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise IncidentFileError(f"{where}: {value!r} is not a date-time; expected ISO 8601, "
                                "e.g. 2024-12-11T15:16:00-08:00") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _impact(value: object, where: str) -> str:
    v = str(value).strip().casefold() if value is not None else ""
    if v not in (*IMPACTS, PLANNED):
        raise IncidentFileError(f"{where}: {value!r} is not an impact; allowed: {', '.join(IMPACTS)} (or {PLANNED})")
    return v


def channel_of(lib: Library, name: str, where: str) -> str:
    """The channel a status page or service name is an alias of (config/channels.yaml)."""
    cid = lib.channel_aliases.get(norm_key(name))
    if cid:
        return cid
    known = sorted({lib.channel_label(c) for c in lib.channels.channels})
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise IncidentFileError(f"{where}: {name!r} is not a known channel{hint}; known: {', '.join(known)}; "
                            "or name the channel with --channel")


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise IncidentFileError(f"{path}: {size / 2**20:.1f} MB is larger than the {MAX_BYTES // 2**20} MB allowed")
        return path.read_bytes()
    except FileNotFoundError:
        raise IncidentFileError(f"{path}: file not found") from None
    except OSError as exc:
        raise IncidentFileError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_statuspage(path: Path, lib: Library, channel: str | None = None) -> History:
    """A Statuspage incidents.json (or a bare list of its incidents: then `channel` is required)."""
    try:
        data = load_user_json(_read(path))
    except (ValueError, UnsafeInputError) as exc:
        if isinstance(exc, IncidentFileError):
            raise
        raise IncidentFileError(f"{path}: not valid JSON ({' '.join(str(exc).split())})") from None
    page: dict = {}
    if isinstance(data, dict):
        page = data.get("page") or {}
        if not isinstance(page, dict):
            raise IncidentFileError(f"{path}: field 'page': expected an object with name, url, updated_at")
        if "incidents" not in data:
            raise IncidentFileError(f"{path}: no field 'incidents' (a Statuspage incidents.json has "
                                    "{\"page\": {...}, \"incidents\": [...]})")
        records = data["incidents"]
    else:
        records = data
    if not isinstance(records, list):
        raise IncidentFileError(f"{path}: field 'incidents': expected a list of incidents")
    name = str(page.get("name") or "")
    if channel is None:
        if not name:
            raise IncidentFileError(f"{path}: field 'page.name' is missing; name the channel with --channel")
        channel = channel_of(lib, name, f"{path}: field 'page.name'")
    elif channel not in lib.channels.channels:
        raise IncidentFileError(f"--channel {channel!r}: unknown channel; known: {', '.join(sorted(lib.channels.channels))}")
    h = History(channel, f"{path.name}" + (f" ({name})" if name else ""))
    for i, r in enumerate(records):
        where = f"{path}: incident {i}"
        if not isinstance(r, dict):
            raise IncidentFileError(f"{where}: expected an object, got {type(r).__name__}")
        rid = str(r.get("id") or i)
        where = f"{path}: incident {i} ({rid})"
        for req in ("created_at", "impact"):
            if req not in r:
                raise IncidentFileError(f"{where}: field {req!r} is missing")
        impact = _impact(r["impact"], f"{where}: field 'impact'")
        start = _parse_time(r.get("started_at") or r["created_at"],
                            f"{where}: field {'started_at' if r.get('started_at') else 'created_at'!r}")
        end = None if r.get("resolved_at") in (None, "") else _parse_time(r["resolved_at"], f"{where}: field 'resolved_at'")
        if end is not None and end < start:
            raise IncidentFileError(f"{where}: field 'resolved_at': {r['resolved_at']} is before the start {start.isoformat()}")
        comps = r.get("components") or []
        if not isinstance(comps, list) or not all(isinstance(c, dict) for c in comps):
            raise IncidentFileError(f"{where}: field 'components': expected a list of objects with a name")
        h.incidents.append(Incident(rid, str(r.get("name") or ""), start, end, impact,
                                    tuple(str(c.get("name") or "") for c in comps)))
    if page.get("updated_at"):
        h.period_end = _parse_time(page["updated_at"], f"{path}: field 'page.updated_at'")
    return h


def read_reviews_csv(path: Path, lib: Library, channel: str | None = None) -> list[History]:
    """Post-incident reviews as CSV (CSV_COLUMNS), one History per channel the `service` column names."""
    try:
        text = _read(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IncidentFileError(f"{path}: not UTF-8 text") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header = [c.strip().casefold() for c in next(rows, [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise IncidentFileError(f"{path}: line 1: missing column(s) {', '.join(missing)}; "
                                f"expected {', '.join(CSV_COLUMNS)}")
    col = {c: header.index(c) for c in CSV_COLUMNS}
    by_channel: dict[str, History] = {}
    for line, row in enumerate(rows, start=2):
        if not any(v.strip() for v in row):
            continue
        row = row + [""] * (len(header) - len(row))

        def cell(name: str, row=row) -> str:
            return row[col[name]].strip()

        def where(name: str, line=line) -> str:
            return f"{path}: line {line}, column {name!r}"

        cid = channel or channel_of(lib, cell("service"), where("service"))
        start = _parse_time(cell("start"), where("start"))
        end = _parse_time(cell("end"), where("end")) if cell("end") else None
        if end is not None and end < start:
            raise IncidentFileError(f"{where('end')}: {cell('end')} is before the start {cell('start')}")
        impact = _impact(cell("impact"), where("impact"))
        h = by_channel.setdefault(cid, History(cid, path.name))
        h.incidents.append(Incident(f"line {line}", cell("service"), start, end, impact, region=cell("region")))
    if not by_channel:
        raise IncidentFileError(f"{path}: no incidents (only a header line)")
    return list(by_channel.values())


def read_incident_file(path: Path, lib: Library, channel: str | None = None) -> list[History]:
    """By extension: .json (Statuspage) or .csv (post-incident reviews)."""
    suffix = path.suffix.casefold()
    if suffix == ".json":
        return [read_statuspage(path, lib, channel)]
    if suffix == ".csv":
        return read_reviews_csv(path, lib, channel)
    raise IncidentFileError(f"{path}: unknown format {path.suffix or '(no extension)'}; expected a Statuspage "
                            "incidents .json or a post-incident review .csv")
