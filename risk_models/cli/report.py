"""What `assess` adds to a report meant for people: human labels, the logo, a what-if plan
(`--apply-top RATING`, the same plan as the app's "apply the top recommendation" button) and the
changes since the comparison baseline (`--compare`, see risk_models.report.changes)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from risk_models.config.loader import Library, with_profile
from risk_models.config.profile import OrgProfile, encode_logo
from risk_models.engine.assessment import Assessment
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.fallbacks.whatif import WhatIfError, top_plan
from risk_models.report.changes import comparison_baseline, review_of
from risk_models.report.plan import plan_record


class ReportArgsError(ValueError):
    """A bad --logo / --apply-top value (the CLI turns it into a one-line error, exit 2)."""


def add_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--apply-top", metavar="RATING", help="reports include a Plan section: the top recommendation "
                    "applied to every deployment rated RATING or worse (as the app's button does)")
    sp.add_argument("--compare", action="store_true", help="reports include the changes since the last approved "
                    "saved assessment, else the most recent saved one whose figures differ")


def add_logo_argument(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--logo", metavar="FILE", help="PNG or JPEG logo for the report's title page (saved with the "
                    "organisation profile)")


def with_logo(lib: Library, path: str | None) -> Library:
    if not path:
        return lib
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReportArgsError(f"--logo {path}: cannot read ({exc.strerror})") from None
    try:
        profile = OrgProfile.model_validate(lib.profile.model_dump() | {"logo": encode_logo(data)})
    except ValueError as exc:
        raise ReportArgsError(f"--logo {path}: {str(exc).splitlines()[-1].strip()}") from None
    return with_profile(lib, profile)


def enrich(rep: dict, a: Assessment, args: argparse.Namespace, organisation: str) -> dict | None:
    """Add the plan to `rep` (in place); return the comparison diff, if asked for."""
    if getattr(args, "apply_top", None):
        rec = recommendations_of(a)
        try:
            rep["plan"] = plan_record(a, rec, top_plan(a, rec, args.apply_top))
        except WhatIfError as exc:
            raise ReportArgsError(f"--apply-top {args.apply_top}: {exc}") from None
    if not getattr(args, "compare", False):
        return None
    from risk_models.storage import repository as repo
    from risk_models.storage.db import database_url, make_engine
    engine = make_engine(database_url())
    saved = [repo.load(engine, r["id"]) for r in repo.list_assessments(engine)]
    current = repo.Saved(0, "this assessment", "", dt.datetime.now(dt.UTC), "", repo.snapshot(a, organisation))
    rep["review"] = review_of(saved, current)  # the title page says who submitted and approved it
    base = comparison_baseline(saved, current)
    return repo.diff(base, current) if base is not None else None
