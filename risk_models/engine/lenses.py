"""Two lenses on every figure: litigation & regulatory (the scenario pack's events) and the operational
baseline (outages, price and quota changes, retirements, vendor failure). Both the score and the
closed-form expected loss are sums over outcomes (score points are the outcome drivers), so the two
lenses, and the events of the pack one by one, add up to the whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk_models.engine.assessment import Assessment
from risk_models.engine.simulation import expected_loss_components

LENSES = {"litigation_regulatory": "Litigation & regulatory", "operational": "Operational baseline"}


def pack_outcomes(a: Assessment) -> np.ndarray:
    """(outcomes,) 1.0 where the outcome belongs to an event of the scenario pack, else 0.0 (baseline)."""
    pack = {e.id for e in a.lib.scenarios.events}
    return np.array([e in pack for e in a.residual.outcomes.event_ids], dtype=float)


def event_outcomes(a: Assessment, event_id: str) -> np.ndarray:
    return np.array([e == event_id for e in a.residual.outcomes.event_ids], dtype=float)


def expected_loss_of(a: Assessment, outcomes: np.ndarray) -> np.ndarray:
    """(n,) closed-form expected annual loss from the outcomes in the 0/1 mask."""
    return expected_loss_components(a.frame, a.residual, a.lib, outcomes).sum(axis=1)


def score_points_of(a: Assessment, outcomes: np.ndarray) -> np.ndarray:
    """(n,) the score points the outcomes in the mask add (the outcome drivers' sum)."""
    return a.residual.outcome_points @ outcomes if a.residual.outcome_points.shape[1] else np.zeros(len(a.frame))


@dataclass(frozen=True)
class LensSplit:
    """Per deployment: score points and expected loss, litigation & regulatory vs operational."""

    score: dict[str, np.ndarray]
    loss: dict[str, np.ndarray]

    def portfolio(self) -> dict[str, dict[str, float]]:
        return {k: {"expected_annual_loss_usd": round(float(self.loss[k].sum()), 2)} for k in LENSES}


def lens_split(a: Assessment) -> LensSplit:
    pack = pack_outcomes(a)
    masks = {"litigation_regulatory": pack, "operational": 1.0 - pack}
    return LensSplit({k: score_points_of(a, m) for k, m in masks.items()},
                     {k: expected_loss_of(a, m) for k, m in masks.items()})
