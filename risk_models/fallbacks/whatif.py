"""Portfolio what-if: apply fallback options and compare scores, heatmap, concentration and
simulated loss before and after. The inventory after the plan is built by target_state and
assessed exactly like any inventory (same engine, same seed), so a switched deployment scores
what the same row would score natively."""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.engine.assessment import Assessment, heatmap_cells
from risk_models.engine.concentration import concentration
from risk_models.engine.score import RATINGS, score
from risk_models.engine.simulation import simulate
from risk_models.fallbacks.recommend import Recommendations
from risk_models.fallbacks.target_state import apply_plan


class WhatIfError(ValueError):
    """The requested plan names unknown deployments/options or infeasible options."""


def top_plan(a: Assessment, rec: Recommendations, min_rating: str) -> dict[str, list[str]]:
    """The top recommendation for every deployment rated `min_rating` or worse (options that cost
    more than they save are never picked)."""
    if min_rating not in RATINGS:
        raise WhatIfError(f"unknown rating {min_rating!r}; use one of {', '.join(RATINGS)}")
    worst = set(RATINGS[RATINGS.index(min_rating):])
    plan = {}
    for i, rating in enumerate(a.residual.table["rating"]):
        k = rec.top(i)
        if rating in worst and k is not None:
            plan[str(a.frame["deployment_id"].iat[i])] = [rec.options[k].id]
    return plan


def _summary(frame: pd.DataFrame, scores, sim, lib) -> dict:
    t = scores.table
    s = sim.summary(frame)
    return {
        "ratings": {r: int((t["rating"] == r).sum()) for r in RATINGS},
        "mean_score": round(float(t["score"].mean()), 2) if len(t) else 0.0,
        "expected_annual_loss_usd": s["expected_annual_loss_usd"], "var95_usd": s["var95_usd"],
        "var99_usd": s["var99_usd"], "heatmap": heatmap_cells(t, lib.scoring.rating_bounds),
        "concentration": concentration(frame, lib), "lec": s["lec"],
    }


def _validate(a: Assessment, rec: Recommendations, plan: dict[str, list[str]]) -> dict:
    index = {d: i for i, d in enumerate(a.frame["deployment_id"])}
    options = {o.id: k for k, o in enumerate(rec.options)}
    feas = rec.feasible()
    problems, resolved = [], {}
    for dep, opt_ids in plan.items():
        if dep not in index:
            problems.append(f"{dep}: unknown deployment")
            continue
        for oid in opt_ids:
            if oid not in options:
                problems.append(f"{dep}: unknown option {oid!r}; known: {', '.join(options)}")
            elif not feas[options[oid], index[dep]]:
                k = options[oid]
                problems.append(f"{dep}: {oid} is not feasible ({'; '.join(rec.reasons[k][index[dep]])})")
            else:
                resolved.setdefault(dep, []).append(rec.options[options[oid]])
    if problems:
        raise WhatIfError("; ".join(problems))
    return resolved


def whatif(a: Assessment, rec: Recommendations, plan: dict[str, list[str]]) -> dict:
    lib = a.lib
    frame_after, answers_after = apply_plan(a.frame, a.answers, _validate(a, rec, plan), lib)
    after = score(frame_after, answers_after, lib, a.probabilities)
    sim_after = simulate(frame_after, after, lib, a.simulation.trials, a.seed)
    b, t = a.residual.table, after.table
    loss_b, loss_a = a.simulation.expected_by_deployment, sim_after.expected_by_deployment
    changed = np.flatnonzero((np.abs(t["score"].to_numpy() - b["score"].to_numpy()) > 1e-9)
                             | (np.abs(loss_a - loss_b) > 1e-6)
                             | a.frame["deployment_id"].isin(list(plan)).to_numpy())
    return {
        "applied": plan,
        "before": _summary(a.frame, a.residual, a.simulation, lib),
        "after": _summary(frame_after, after, sim_after, lib),
        "deployments": [{"deployment_id": str(a.frame["deployment_id"].iat[i]),
                         "options": plan.get(str(a.frame["deployment_id"].iat[i]), []),
                         "channel_before": str(a.frame["channel"].iat[i]),
                         "channel_after": str(frame_after["channel"].iat[i]),
                         "model_after": str(frame_after["model"].iat[i]),
                         "score_before": round(float(b["score"].iat[i]), 2),
                         "score_after": round(float(t["score"].iat[i]), 2),
                         "rating_before": str(b["rating"].iat[i]), "rating_after": str(t["rating"].iat[i]),
                         "expected_loss_before_usd": round(float(loss_b[i]), 2),
                         "expected_loss_after_usd": round(float(loss_a[i]), 2)}
                        for i in changed],
        "scores_after": after,
        "frame_after": frame_after,
    }
