"""Last review date per deployment from the saved assessments: saving an assessment (results
payload key `reviewed_on`) or approving it (`approved_on`, or `approval.approved_at`, written by
team mode) reviews every deployment in it. Saves made before review dates existed count for none."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from risk_models.storage import repository as repo


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def reviewed_on(results: dict) -> dt.date | None:
    """The review date one saved results payload records (the later of saved and approved)."""
    approval = results.get("approval")
    dates = [_date(results.get("reviewed_on")), _date(results.get("approved_on")),
             _date(approval.get("approved_at")) if isinstance(approval, dict) else None]
    dates = [d for d in dates if d]
    return max(dates) if dates else None


def review_dates(engine: Engine) -> dict[str, dt.date]:
    """deployment_id -> latest review date over every readable saved assessment."""
    out: dict[str, dt.date] = {}
    for row in repo.list_assessments(engine):
        try:
            results = repo.load(engine, row["id"]).results
        except repo.DamagedAssessment:
            continue  # `history check` reports damage; a damaged save reviews nothing
        d = reviewed_on(results)
        if d is None:
            continue
        for dep in results.get("deployments", []):
            key = str(dep.get("deployment_id"))
            out[key] = max(d, out.get(key, d))
    return out
