"""PDF section: reviews overdue or due soon (review cadence by rating). Kept apart from pdf.py so
the executive-summary layout can change without touching it; reports without a `reviews` block
(older callers) get no section."""

from __future__ import annotations

import datetime as dt

from reportlab.platypus import Paragraph, Spacer

ROW_LIMIT = 25  # the committee needs the worst ones; the app and `due --json` list them all


def section_reviews(rep: dict, styles: dict, width: float) -> list:
    from risk_models.report.fonts import markup
    from risk_models.report.pdf import _rating_cell, _table, clip
    block = rep.get("reviews")
    if not block:
        return []
    c = block["counts"]
    policy = ", ".join(f"{k} every {v} months" for k, v in block["interval_months"].items())
    as_of = dt.date.fromisoformat(block["as_of"])
    out = [Paragraph("Reviews overdue or due soon", styles["h1"]),
           Paragraph(markup(f"As of {as_of:%d %b %Y}: {c['overdue']} overdue, {c['never']} never reviewed, "
                            f"{c['due_soon']} due within {block['due_soon_days']} days, {c['scheduled']} on schedule. "
                            f"Review interval by rating: {policy}. Saving or approving an assessment records a review "
                            "of every deployment in it."), styles["body"]), Spacer(1, 4)]
    rows = [["Deployment", "Rating", "Last reviewed", "Next review", "Status"]]
    for r in block["due"][:ROW_LIMIT]:
        last = dt.date.fromisoformat(r["last_reviewed"]).strftime("%d %b %Y") if r["last_reviewed"] else "never"
        rows.append([f"{clip(r['deployment_id'])} — {clip(r['name'])}", _rating_cell(r["rating"], styles), last,
                     f"{dt.date.fromisoformat(r['next_review']):%d %b %Y}", r["status_label"]])
    if len(rows) == 1:
        return out + [Paragraph("None: every review is on schedule.", styles["body"])]
    out.append(_table(rows, [width * .44, width * .12, width * .15, width * .15, width * .14], styles, long=True))
    if len(block["due"]) > ROW_LIMIT:
        out.append(Paragraph(f"… and {len(block['due']) - ROW_LIMIT} more (Providers & contracts page, or "
                             "`python -m risk_models due`).", styles["small"]))
    return out
