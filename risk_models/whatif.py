"""Portfolio what-if: apply fallback options and compare scores, heatmap, concentration and
simulated loss before and after (same engine, same seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.assessment import Assessment, heatmap_cells
from risk_models.concentration import concentration
from risk_models.fallbacks import SWITCH_KINDS, Recommendations, option_vulnerability
from risk_models.scoring import RATINGS, rescore
from risk_models.simulation import simulate


class WhatIfError(ValueError):
    """The requested plan names unknown deployments/options or infeasible options."""


def top_plan(a: Assessment, rec: Recommendations, min_rating: str) -> dict[str, list[str]]:
    """The top recommendation for every deployment rated `min_rating` or worse."""
    if min_rating not in RATINGS:
        raise WhatIfError(f"unknown rating {min_rating!r}; use one of {', '.join(RATINGS)}")
    worst = set(RATINGS[RATINGS.index(min_rating):])
    plan = {}
    for i, rating in enumerate(a.residual.table["rating"]):
        k = rec.top(i)
        if rating in worst and k is not None:
            plan[str(a.frame["deployment_id"].iat[i])] = [rec.options[k].id]
    return plan


def _summary(a_frame: pd.DataFrame, scores, sim, lib) -> dict:
    t = scores.table
    s = sim.summary(a_frame)
    return {
        "ratings": {r: int((t["rating"] == r).sum()) for r in RATINGS},
        "mean_score": round(float(t["score"].mean()), 2) if len(t) else 0.0,
        "expected_annual_loss_usd": s["expected_annual_loss_usd"], "var95_usd": s["var95_usd"],
        "var99_usd": s["var99_usd"], "heatmap": heatmap_cells(t, lib.scoring.rating_bounds), "concentration": concentration(a_frame, lib),
        "lec": s["lec"],
    }


def whatif(a: Assessment, rec: Recommendations, plan: dict[str, list[str]]) -> dict:
    frame, lib = a.frame, a.lib
    index = {d: i for i, d in enumerate(frame["deployment_id"])}
    options = {o.id: k for k, o in enumerate(rec.options)}
    feas = rec.feasible()
    vuln = a.residual.vulnerability.copy()
    moved = frame.copy()
    problems = []
    for dep, opt_ids in plan.items():
        if dep not in index:
            problems.append(f"{dep}: unknown deployment")
            continue
        i = index[dep]
        for oid in opt_ids:
            if oid not in options:
                problems.append(f"{dep}: unknown option {oid!r}; known: {', '.join(options)}")
                continue
            k = options[oid]
            if not feas[k, i]:
                problems.append(f"{dep}: {oid} is not feasible ({'; '.join(rec.reasons[k][i])})")
                continue
            o = rec.options[k]
            vuln[i] = option_vulnerability(vuln[i:i + 1], o)[0]
            if o.kind in SWITCH_KINDS:  # the workload (and its spend) moves for concentration purposes
                moved.iat[i, moved.columns.get_loc("channel")] = o.target_channel
                moved.iat[i, moved.columns.get_loc("model_vendor")] = o.target_vendor
    if problems:
        raise WhatIfError("; ".join(problems))
    after = rescore(frame, lib, a.residual, vuln)
    sim_after = simulate(frame, after, lib, a.simulation.trials, a.seed)
    b, t = a.residual.table, after.table
    changed = np.flatnonzero(np.abs(t["score"].to_numpy() - b["score"].to_numpy()) > 1e-9)
    return {
        "applied": plan,
        "before": _summary(frame, a.residual, a.simulation, lib),
        "after": _summary(moved, after, sim_after, lib),
        "deployments": [{"deployment_id": str(frame["deployment_id"].iat[i]),
                         "options": plan.get(str(frame["deployment_id"].iat[i]), []),
                         "score_before": round(float(b["score"].iat[i]), 2),
                         "score_after": round(float(t["score"].iat[i]), 2),
                         "rating_before": str(b["rating"].iat[i]), "rating_after": str(t["rating"].iat[i]),
                         "expected_loss_before_usd": round(float(a.simulation.expected_by_deployment[i]), 2),
                         "expected_loss_after_usd": round(float(sim_after.expected_by_deployment[i]), 2)}
                        for i in changed],
        "scores_after": after,
    }
