"""Last review dates for the app: the demo's earlier reviews (demo organisation only) and every
saved or approved assessment in the database."""

from __future__ import annotations

import datetime as dt

from dashboard.state.session import DEMO_DIR
from dashboard.state.storage import storage
from dashboard.state.workspace import is_demo
from risk_models.dora.review import merge_reviews, read_reviews
from risk_models.storage.db import StorageError


def current_review_dates() -> tuple[dict[str, dt.date], str | None]:
    """(deployment_id -> last review, a problem reading saved reviews or None)."""
    sources = [read_reviews(DEMO_DIR / "reviews.csv")[0]] if is_demo() else []
    problem = None
    try:
        from risk_models.storage.reviews import review_dates
        sources.append(review_dates(storage()))
    except StorageError as exc:
        problem = str(exc)
    return merge_reviews(*sources), problem
