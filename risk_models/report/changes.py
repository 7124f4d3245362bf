"""Which saved assessment a report's "changes since" compares with — one rule for the PDF, the app
and the CLI: the last *approved* assessment when any saved one carries that status, else the most
recent saved assessment whose figures differ from the current ones (comparing with an identical
save, e.g. the one just made, would show every change as zero)."""

from __future__ import annotations

from collections.abc import Sequence

from risk_models.storage.repository import Saved

APPROVED = "approved"
DEFAULT_STATUS = "saved"


def saved_status(saved: Saved) -> str:
    """The review status of a saved assessment; saves made before statuses existed are "saved"."""
    status = saved.results.get("status", saved.payloads.get("status", DEFAULT_STATUS))
    return status if isinstance(status, str) and status else DEFAULT_STATUS


def figures(results: dict) -> tuple:
    """What a reader compares: portfolio loss figures and every deployment's score, cell and loss."""
    sim = results.get("simulation") or {}
    deps = tuple(sorted((d["deployment_id"], round(float(d["score"]), 2), d["rating"], int(d["likelihood"]),
                         int(d["impact"]), round(float(d["expected_loss_usd"]))) for d in results.get("deployments", [])))
    return (round(float(sim.get("expected_annual_loss_usd", 0))), round(float(sim.get("var95_usd", 0))), deps)


def comparison_baseline(saved_records: Sequence[Saved], current: Saved) -> Saved | None:
    """The saved assessment to compare `current` with, or None when there is nothing to compare."""
    ordered = sorted(saved_records, key=lambda s: (s.created_at, s.id), reverse=True)
    approved = [s for s in ordered if saved_status(s) == APPROVED and s.id != current.id]
    if approved:
        return approved[0]
    now = figures(current.results)
    return next((s for s in ordered if s.id != current.id and figures(s.results) != now), None)
