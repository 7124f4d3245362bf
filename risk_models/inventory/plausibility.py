"""Plausibility warnings on a validated inventory: rows that are valid but probably wrong, listed
like row errors (line, deployment, column, value, message) and never rejected: a model not offered
on that channel or in that region (config/availability.yaml, sourced), a closed model marked
self-hosted, a cloud channel with an on-premises region or another cloud's region code.

`availability_message` is the one reading of the availability table: the fallback recommender asks
it about every option's target state, so a feasible option never lands on a warning."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from risk_models.config.domain import RowError
from risk_models.config.loader import Library
from risk_models.inventory.regions import foreign_region_message


def availability_message(lib: Library, channel: str, vendor: str, model: str, jur: str) -> str | None:
    """Why `model` (of `vendor`) on `channel` in jurisdiction group `jur` is implausible; None if it is not."""
    rules = lib.availability.channels.get(channel) if lib.availability else None
    if not rules:
        return None  # channel not checked ("other", or a channel the table does not cover)
    matching = [r for r in rules if r.vendor == vendor and re.match(r.models, model, re.IGNORECASE)]
    label = lib.channel_label(channel)
    if not matching:
        if channel == "self_hosted":
            return f"{model} is not an open-weight model: it cannot be self-hosted (check the channel or the model)"
        return f"{model} is not offered on {label} per the availability table"
    where = {j for r in matching for j in r.jurisdictions}
    if all(r.jurisdictions for r in matching) and jur not in where and jur != "on_prem":
        regions = ", ".join(sorted(j.upper() for j in where))
        return f"{model} on {label} is offered in {regions} regions only"
    return None


def plausibility_warnings(frame: pd.DataFrame, lib: Library,
                          answers: Mapping[str, Mapping[str, object]] | None = None) -> list[RowError]:
    if not len(frame):
        return []
    out: list[RowError] = _exit_plan_contradictions(frame, lib, answers or {})
    keys = frame[["channel", "model_vendor", "model", "jurisdiction"]].astype(str)
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(keys))
    messages = [availability_message(lib, *u) for u in uniq]
    lines = frame["line"].tolist() if "line" in frame else [None] * len(frame)
    deps, models, regions = (frame[c].astype(str).tolist() for c in ("deployment_id", "model", "region"))
    for i in np.flatnonzero([messages[c] is not None for c in codes]).tolist():
        out.append(RowError(line=_int(lines[i]), deployment_id=deps[i], column="model", value=models[i],
                            message=messages[codes[i]]))
    channels = frame["channel"].to_numpy()
    cloud_on_prem = (channels != "self_hosted") & (frame["jurisdiction"] == "on_prem").to_numpy()
    for i in np.flatnonzero(cloud_on_prem).tolist():
        out.append(RowError(
            line=_int(lines[i]), deployment_id=deps[i], column="region", value=regions[i],
            message=f"an on-premises region on a cloud channel ({lib.channel_label(channels[i])}); "
                    "use the provider's region code, or channel Self-hosted"))
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(frame[["channel", "region"]].astype(str)))
    foreign = [foreign_region_message(lib, *u) for u in uniq]
    for i in np.flatnonzero(np.array([m is not None for m in foreign], dtype=bool)[codes]).tolist():
        out.append(RowError(line=_int(lines[i]), deployment_id=deps[i], column="region", value=regions[i],
                            message=foreign[codes[i]]))
    return sorted(out, key=lambda e: (e.line or 0, e.column or ""))


# what each exit-plan answer says about the fallback (an inventory status it contradicts)
_EXIT_PLAN_FITS = {"none": {"none"}, "documented": {"documented"}, "tested": {"tested", "active"}}


def _exit_plan_contradictions(frame: pd.DataFrame, lib: Library,
                              answers: Mapping[str, Mapping[str, object]]) -> list[RowError]:
    """An exit-plan answer that contradicts the inventory's fallback status: listed, not resolved
    (the answer is used; the user corrects one of them)."""
    q = lib.questions.get("exit_plan_exists")
    if q is None or not answers:
        return []
    labels = {o.value: o.label for o in q.options}
    lines = frame["line"].tolist() if "line" in frame else [None] * len(frame)
    out = []
    for i, (dep, status) in enumerate(zip(frame["deployment_id"].tolist(), frame["fallback_status"].tolist(),
                                          strict=True)):
        given = answers.get(dep, {}).get("exit_plan_exists")
        if given is not None and status not in _EXIT_PLAN_FITS.get(str(given), {status}):
            out.append(RowError(
                line=_int(lines[i]), deployment_id=dep, column="fallback_status", value=str(status),
                message=f"the questionnaire answers '{labels.get(given, given)}' to \"{q.text}\" but the "
                        f"inventory's fallback status is '{status}'; the answer is used — correct the one that is wrong"))
    return out


def _int(x) -> int | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else int(x)
