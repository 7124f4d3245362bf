"""Review cadence: an interval per rating (config/review.yaml), the last review of each deployment
(saved or approved assessments, or a reviews file), the next review date, and what is overdue or
due soon."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from risk_models.dora.spec import ReviewPolicy
from risk_models.inventory.read import DEFAULT_MAX_BYTES, UNCALCULATED, normalise_header, read_file, uncalculated_cells
from risk_models.providers.records import RecordError, _date

STATUS_LABELS = {"never": "Never reviewed", "overdue": "Overdue", "due_soon": "Due soon", "scheduled": "Scheduled"}


def read_reviews(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[dict[str, dt.date], list[RecordError]]:
    """A file of earlier reviews: deployment_id, last_reviewed (YYYY-MM-DD). Latest date per deployment wins."""
    raw, lines = read_file(path, max_bytes)
    uncalc = {int(lines[row]): dict(zip(normalise_header(list(cells)), cells.values(), strict=True))
              for row, cells in uncalculated_cells(raw).items()}
    raw.columns = normalise_header(list(raw.columns))
    name = Path(path).name
    missing = [c for c in ("deployment_id", "last_reviewed") if c not in raw.columns]
    if missing:
        return {}, [RecordError(file=name, line=1, column=c, message=f"missing required column {c!r}") for c in missing]
    out: dict[str, dt.date] = {}
    errors = []
    for dep, text, line in zip(raw["deployment_id"].astype(str).str.strip(), raw["last_reviewed"].astype(str).str.strip(),
                               lines, strict=True):
        formulas = {c: v for c, v in uncalc.get(int(line), {}).items() if c in ("deployment_id", "last_reviewed")}
        if dep.startswith("#") or (not dep and not text and not formulas):
            continue
        if formulas:  # a formula saved without its value: unknown, not "no date"
            errors.extend(RecordError(file=name, line=int(line), key=dep or None, column=c, value=v,
                                      message=UNCALCULATED) for c, v in formulas.items())
            continue
        d = _date(text)
        if not dep or d is None:
            errors.append(RecordError(file=name, line=int(line), key=dep or None,
                                      column="deployment_id" if not dep else "last_reviewed", value=text if dep else dep,
                                      message="required" if not dep else "not a valid date: use YYYY-MM-DD"))
            continue
        out[dep] = max(d, out.get(dep, d))
    return out, errors


def merge_reviews(*sources: dict[str, dt.date]) -> dict[str, dt.date]:
    out: dict[str, dt.date] = {}
    for src in sources:
        for dep, d in src.items():
            out[dep] = max(d, out.get(dep, d))
    return out


def review_schedule(frame: pd.DataFrame, ratings: pd.Series, last_reviewed: dict[str, dt.date],
                    policy: ReviewPolicy, today: dt.date) -> pd.DataFrame:
    """One row per deployment: rating, interval, last review, next review, days left and status.
    Never reviewed = due now (counted as overdue)."""
    ids = frame["deployment_id"].astype(str)
    rating = pd.Series(np.asarray(ratings, dtype=object), index=frame.index).astype(str)
    months = rating.map(policy.interval_months).astype(int)
    last = pd.to_datetime(ids.map(last_reviewed), errors="coerce")
    nxt = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    for m in months.unique():  # one vectorised month offset per interval (4 at most)
        sel = months == m
        nxt[sel] = last[sel] + pd.DateOffset(months=int(m))
    today_ts = pd.Timestamp(today)
    nxt = nxt.fillna(today_ts)
    days = (nxt - today_ts).dt.days.astype(int)
    status = np.select([last.isna(), days < 0, days <= policy.due_soon_days], ["never", "overdue", "due_soon"],
                       "scheduled")
    return pd.DataFrame({
        "deployment_id": ids, "name": frame["name"].astype(str), "business_unit": frame["business_unit"].astype(str),
        "rating": rating, "interval_months": months,
        "last_reviewed": [d.date() if pd.notna(d) else None for d in last],
        "next_review": [d.date() for d in nxt], "days_left": days, "status": status,
    })


def due(schedule: pd.DataFrame, within_days: int) -> pd.DataFrame:
    """Never reviewed, overdue, or due within `within_days`: the most overdue first."""
    sel = schedule["status"].isin(["never", "overdue"]) | (schedule["days_left"] <= within_days)
    return schedule[sel].sort_values(["days_left", "deployment_id"], kind="stable").reset_index(drop=True)


def due_records(rows: pd.DataFrame) -> list[dict]:
    return [{"deployment_id": r.deployment_id, "name": r.name, "business_unit": r.business_unit, "rating": r.rating,
             "interval_months": int(r.interval_months),
             "last_reviewed": r.last_reviewed.isoformat() if r.last_reviewed else None,
             "next_review": r.next_review.isoformat(), "days_left": int(r.days_left), "status": r.status,
             "status_label": STATUS_LABELS[r.status]} for r in rows.itertuples(index=False)]


def review_block(frame: pd.DataFrame, ratings: pd.Series, last_reviewed: dict[str, dt.date], policy: ReviewPolicy,
                 today: dt.date) -> dict:
    """What the reports carry about reviews: the policy, counts, and the overdue / due-soon list."""
    sched = review_schedule(frame, ratings, last_reviewed, policy, today)
    rows = due(sched, policy.due_soon_days)
    counts = sched["status"].value_counts()
    return {"as_of": today.isoformat(), "interval_months": dict(policy.interval_months),
            "due_soon_days": policy.due_soon_days,
            "counts": {k: int(counts.get(k, 0)) for k in STATUS_LABELS}, "due": due_records(rows)}
