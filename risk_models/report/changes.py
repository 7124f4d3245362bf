"""Which saved assessment a report's "changes since" compares with — one rule for the PDF, the app
and the CLI: the last *approved* assessment when any saved one carries that status, else the most
recent saved assessment whose figures differ from the current ones (comparing with an identical
save, e.g. the one just made, would show every change as zero)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module on every command; SQLAlchemy only when storage is used
    from risk_models.storage.repository import Saved

APPROVED = "approved"
DEFAULT_STATUS = "saved"


def saved_status(saved: Saved) -> str:
    """The review status of a saved assessment: team mode's review column ("draft", "submitted",
    "approved", "returned"); a status kept in the payload by older tools counts when it says approved."""
    legacy = saved.results.get("status", saved.payloads.get("status"))
    if saved.status == APPROVED or legacy == APPROVED:
        return APPROVED
    return saved.status or DEFAULT_STATUS


def figures(results: dict) -> tuple:
    """What a reader compares: portfolio loss figures and every deployment's score, cell and loss."""
    sim = results.get("simulation") or {}
    deps = tuple(sorted((d["deployment_id"], round(float(d["score"]), 2), d["rating"], int(d["likelihood"]),
                         int(d["impact"]), round(float(d["expected_loss_usd"]))) for d in results.get("deployments", [])))
    return (round(float(sim.get("expected_annual_loss_usd", 0))), round(float(sim.get("var95_usd", 0))), deps)


def comparison_baseline(saved_records: Sequence[Saved], current: Saved) -> Saved | None:
    """The saved assessment to compare `current` with, or None when there is nothing to compare."""
    ordered = _newest_first(saved_records)
    approved = [s for s in ordered if saved_status(s) == APPROVED and s.id != current.id]
    if approved:
        return approved[0]
    now = figures(current.results)
    return next((s for s in ordered if s.id != current.id and figures(s.results) != now), None)


def _newest_first(saved_records: Sequence[Saved]) -> list[Saved]:
    return sorted(saved_records, key=lambda s: (s.created_at, s.id), reverse=True)


def review_of(saved_records: Sequence[Saved], current: Saved) -> dict:
    """The review of the saved assessment whose figures are the current ones (an approved one first,
    else the newest), for the report's title page; {"status": "not saved"} when none matches."""
    now = figures(current.results)
    same = [s for s in _newest_first(saved_records) if s.id != current.id and figures(s.results) == now]
    if not same:
        return {"status": "not saved"}
    s = next((x for x in same if saved_status(x) == APPROVED), same[0])
    when = lambda t: t.date().isoformat() if t else None  # noqa: E731
    return {"status": saved_status(s), "assessment_id": s.id, "label": s.label, "saved_by": s.author,
            "submitted_by": s.submitted_by, "submitted_on": when(s.submitted_at),
            "reviewed_by": s.reviewed_by, "reviewed_on": when(s.reviewed_at), "comment": s.review_comment}


def review_text(review: dict) -> str:
    """One line for people: who submitted and who approved or returned it, and when."""
    status = review.get("status", "not saved")
    if status == "not saved":
        return "Not saved — no review recorded"
    saved = f"saved as #{review['assessment_id']} {review.get('label') or ''}".strip()
    sub = (f"submitted by {review['submitted_by']} on {review['submitted_on']}"
           if review.get("submitted_by") else "not submitted")
    if status == APPROVED:
        return f"Approved by {review.get('reviewed_by') or 'an approver'} on {review.get('reviewed_on') or '—'} ({sub}; {saved})"
    if status == "returned":
        why = f": {review['comment']}" if review.get("comment") else ""
        return f"Returned by {review.get('reviewed_by')} on {review.get('reviewed_on')}{why} ({sub}; {saved})"
    if status == "submitted":
        return f"Awaiting approval ({sub}; {saved})"
    return f"Draft, not yet submitted for approval ({saved})"
