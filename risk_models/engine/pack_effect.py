"""What switching scenario packs does to a portfolio: the same inventory and answers assessed under both
packs (expected loss, VaR 95 and the ratings that moved)."""

from __future__ import annotations

from risk_models.config.loader import Library, with_scenario_pack
from risk_models.config.schema import ScenariosFile
from risk_models.engine.assessment import Assessment, assess
from risk_models.inventory.read import ImportResult
from risk_models.questionnaire.answers import AnswerMap
from risk_models.scenarios.diff import RATINGS


def effect_of(before: Assessment, after: Assessment) -> dict:
    """Portfolio effect of switching packs: expected loss, VaR 95 and the ratings that moved."""
    sb, sa = before.simulation.summary(before.frame), after.simulation.summary(after.frame)
    tb, ta = before.residual.table, after.residual.table
    moved = [{"deployment_id": str(d), "name": str(n), "rating_before": str(rb), "rating_after": str(ra),
              "score_before": round(float(xb), 2), "score_after": round(float(xa), 2)}
             for d, n, rb, ra, xb, xa in zip(before.frame["deployment_id"], before.frame["name"], tb["rating"],
                                             ta["rating"], tb["score"], ta["score"], strict=True) if rb != ra]
    order = {r: i for i, r in enumerate(RATINGS)}
    moved.sort(key=lambda m: (order.get(m["rating_after"], 9), -m["score_after"]))
    return {
        "deployments": len(before.frame),
        "portfolio": {k: {"before": round(sb[k], 2), "after": round(sa[k], 2), "delta": round(sa[k] - sb[k], 2)}
                      for k in ("expected_annual_loss_usd", "var95_usd")},
        "ratings": {r: {"before": int((tb["rating"] == r).sum()), "after": int((ta["rating"] == r).sum())}
                    for r in RATINGS},
        "ratings_moved": moved,
    }


def portfolio_effect(inventory: ImportResult, answers: AnswerMap, lib: Library, old: ScenariosFile,
                     new: ScenariosFile, trials: int = 10_000, seed: int = 0) -> dict:
    """Assess the same inventory and answers under both packs (same seed, default probabilities)."""
    before = assess(inventory, answers, with_scenario_pack(lib, old), trials=trials, seed=seed)
    after = assess(inventory, answers, with_scenario_pack(lib, new), trials=trials, seed=seed)
    return effect_of(before, after)
