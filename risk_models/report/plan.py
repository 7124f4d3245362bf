"""The "Plan" part of a report: a what-if plan (fallback options applied to deployments) with the
portfolio before and after — ratings, matrix, expected loss, VaR, concentration — and the list of
actions with their effort and cost. Built from `whatif`, so the PDF, the app and the CLI show the
same plan figures."""

from __future__ import annotations

from risk_models.engine.assessment import Assessment
from risk_models.fallbacks.recommend import Recommendations
from risk_models.fallbacks.whatif import whatif

SUMMARY_KEYS = ("ratings", "mean_score", "expected_annual_loss_usd", "var95_usd", "var99_usd", "heatmap",
                "concentration")


def plan_record(a: Assessment, rec: Recommendations, plan: dict[str, list[str]], result: dict | None = None) -> dict:
    """JSON-able plan section; `result` = an already computed `whatif(a, rec, plan)` (WhatIfError
    propagates for a plan that no longer fits the inventory)."""
    w = result if result is not None else whatif(a, rec, plan)
    index = {d: i for i, d in enumerate(a.frame["deployment_id"])}
    actions = []
    for dep, option_ids in plan.items():
        i = index[dep]
        by_id = {r["option_id"]: r for r in rec.records(i, a.lib)}
        for oid in option_ids:
            r = by_id[oid]
            actions.append({
                "deployment_id": dep, "name": str(a.frame["name"].iat[i]), "channel": str(a.frame["channel"].iat[i]),
                "option_id": oid, "option": r["label"], "effort_weeks": list(r["effort_weeks"]),
                "one_off_cost_usd": round(float(r["one_off_cost_usd"]), 2),
                "run_cost_delta_usd": r["run_cost_delta_usd"],
                "expected_loss_reduction_usd": round(float(r["expected_loss_reduction_usd"]), 2),
                "loss_avoided_per_usd": r["loss_avoided_per_usd"], "required": r["required"],
            })
    # requirements first, then by loss avoided per dollar spent once (run cost is its own column)
    actions.sort(key=lambda x: (not x["required"], -x["loss_avoided_per_usd"]))
    return {"applied": {k: list(v) for k, v in plan.items()},
            "before": {k: w["before"][k] for k in SUMMARY_KEYS},
            "after": {k: w["after"][k] for k in SUMMARY_KEYS},
            "actions": actions}
