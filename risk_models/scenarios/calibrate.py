"""Fit outage frequency and duration per channel from incident histories, next to what the pack assumes.

Frequency: incidents at or above an impact threshold are a Poisson process; the annual rate is
n / years observed, with the exact (Garwood) interval, and the chance of at least one such incident
in a year is 1 - exp(-rate) — the quantity the baseline event's probability states.
Duration: hours from start to resolution of the counted, resolved incidents; the empirical median
and a lognormal fit (median exp(mu) with a t interval, mean exp(mu + sigma^2 / 2)), compared with
the event's `outage_hours` (the loss model's hours per outage).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from risk_models.config.loader import Library
from risk_models.scenarios.incidents import IMPACTS, History, Incident, IncidentFileError
from risk_models.scenarios.intervals import poisson_rate_interval, t_ppf

YEAR_DAYS = 365.25


@dataclass(frozen=True)
class Options:
    event: str = "provider_outage"  # the baseline template (per channel) whose values are compared
    min_impact: str = "major"
    min_hours: float = 0.0
    components: tuple[str, ...] = ()  # count only incidents naming one of these components (case-insensitive)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    level: float = 0.90


def _template(lib: Library, event: str):
    templates = {t.id: t for t in (lib.baseline.templates if lib.baseline else [])}
    t = templates.get(event)
    if t is None or t.per != "channel":
        per_channel = sorted(k for k, v in templates.items() if v.per == "channel")
        raise IncidentFileError(f"--event {event!r}: not a per-channel baseline event; choose one of "
                                f"{', '.join(per_channel)} (config/baseline_events.yaml)")
    return t


def _verdict(pack: float | None, lo: float | None, hi: float | None) -> str:
    if pack is None or lo is None or hi is None:
        return "no comparison"
    if pack < lo:
        return "pack below the interval"
    if pack > hi:
        return "pack above the interval"
    return "pack within the interval"


def _counted(i: Incident, o: Options, rank: int) -> bool:
    if i.impact not in IMPACTS or IMPACTS.index(i.impact) < rank:
        return False
    if o.components and not {c.casefold() for c in i.components} & {c.casefold() for c in o.components}:
        return False
    return o.min_hours <= 0 or (i.hours is not None and i.hours >= o.min_hours)


def fit_channel(channel: str, histories: list[History], lib: Library, o: Options) -> dict:
    """One channel's fitted frequency and duration, and the pack's values (see the module docstring)."""
    t = _template(lib, o.event)
    seen: dict[tuple[str, dt.datetime], Incident] = {}
    for h in histories:  # the same incident in two snapshots counts once
        for i in h.incidents:
            seen.setdefault((i.id, i.start), i)
    incidents = [i for i in seen.values() if (o.since is None or i.start >= o.since)
                 and (o.until is None or i.start <= o.until)]
    if not incidents and (o.since is None or o.until is None):
        raise IncidentFileError(f"{lib.channel_label(channel)}: no incidents in the period; give --since and --until "
                                "to state the period observed")
    starts = [i.start for i in incidents]
    ends = [x for i in incidents for x in (i.start, i.end) if x is not None] + \
        [h.period_end for h in histories if h.period_end is not None]
    start = o.since or min(starts)
    end = o.until or max(ends)
    years = (end - start).total_seconds() / 86400 / YEAR_DAYS
    if years <= 0:
        raise IncidentFileError(f"{lib.channel_label(channel)}: the period observed ({start:%d %b %Y} to "
                                f"{end:%d %b %Y}) is empty; give --since and --until")
    counted = [i for i in incidents if _counted(i, o, IMPACTS.index(o.min_impact))]
    n = len(counted)
    rate = n / years
    r_lo, r_hi = poisson_rate_interval(n, years, o.level)
    h = lib.baseline.horizon_months
    p_pack = t.probability.get(channel)
    p_pack = None if p_pack is None else 1 - (1 - p_pack) ** (12 / h)  # per year, as fitted
    hours = np.array([i.hours for i in counted if i.hours is not None and i.hours > 0], dtype=float)
    dur: dict = {"n": int(len(hours)), "median_hours": None, "lognormal_median_hours": None,
                 "lognormal_median_interval": None, "lognormal_mean_hours": None, "sigma": None}
    if len(hours):
        dur["median_hours"] = round(float(np.median(hours)), 2)
        logs = np.log(hours)
        mu = float(logs.mean())
        dur["lognormal_median_hours"] = round(math.exp(mu), 2)
        if len(hours) >= 2:
            s = float(logs.std(ddof=1))
            half = t_ppf(1 - (1 - o.level) / 2, len(hours) - 1) * s / math.sqrt(len(hours))
            dur["lognormal_median_interval"] = [round(math.exp(mu - half), 2), round(math.exp(mu + half), 2)]
            dur["lognormal_mean_hours"] = round(math.exp(mu + s * s / 2), 2)
            dur["sigma"] = round(s, 3)
    iv = dur["lognormal_median_interval"] or [None, None]
    return {
        "channel": channel, "channel_label": lib.channel_label(channel),
        "sources": sorted({hh.source for hh in histories}),
        "period_start": start.date().isoformat(), "period_end": end.date().isoformat(), "years": round(years, 3),
        "incidents_in_file": len(incidents), "incidents_counted": n,
        "rate_per_year": round(rate, 3), "rate_interval": [round(r_lo, 3), round(r_hi, 3)],
        "p_year": round(1 - math.exp(-rate), 4),
        "p_year_interval": [round(1 - math.exp(-r_lo), 4), round(1 - math.exp(-r_hi), 4)],
        "pack_p_year": None if p_pack is None else round(p_pack, 4),
        "pack_rate_per_year": None if p_pack is None or p_pack >= 1 else round(-math.log1p(-p_pack), 3),
        "frequency_verdict": _verdict(p_pack, 1 - math.exp(-r_lo), 1 - math.exp(-r_hi)),
        "duration": dur, "pack_outage_hours": t.outage_hours,
        "duration_verdict": _verdict(t.outage_hours, iv[0], iv[1]),
        "horizon_months": h,
    }


def calibrate(histories: list[History], lib: Library, options: Options | None = None) -> dict:
    """Every channel the histories cover, fitted (channels in config order)."""
    o = options or Options()
    if o.min_impact not in IMPACTS:
        raise IncidentFileError(f"--min-impact {o.min_impact!r}: allowed {', '.join(IMPACTS)}")
    t = _template(lib, o.event)
    by_channel: dict[str, list[History]] = {}
    for h in histories:
        by_channel.setdefault(h.channel, []).append(h)
    order = list(lib.channels.channels)
    fits = [fit_channel(c, by_channel[c], lib, o) for c in sorted(by_channel, key=order.index)]
    return {"event": o.event, "event_label": t.label.replace(": {key}", "").replace("{key}", "").strip(),
            "min_impact": o.min_impact, "min_hours": o.min_hours, "components": list(o.components),
            "level": o.level, "channels": fits}
