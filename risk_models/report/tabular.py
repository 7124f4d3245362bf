"""Exports of an assessment report: CSV of deployments with scores.

Spreadsheet-bound text is formula-neutralised (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import pandas as pd

from risk_models.inventory.read import escape_text
from risk_models.report.options import with_option_details

TEXT_COLUMNS = ("deployment_id", "name", "business_unit", "use_case", "owner", "model", "region", "top_driver",
                "recommended_fallback")


def deployments_table(report: dict) -> pd.DataFrame:
    """One flat row per deployment: inventory columns, scores, dimensions, top driver, loss."""
    report = with_option_details(report)
    deps = pd.DataFrame(report["deployments"])
    if deps.empty:
        return deps
    dims = list(report["deployments"][0]["dimensions"])
    flat = deps.drop(columns=["drivers", "dimensions", "assumed", "fallbacks", "exit_plan", "recommended_exit", "answers",
                              "expected_loss_breakdown_usd", "expected_loss_by_lens_usd", "score_by_lens"],
                      errors="ignore").assign(
        proprietary_features=deps["proprietary_features"].map(";".join),
        top_driver=deps["drivers"].map(lambda d: next((x["label"] for x in d if x["kind"] == "outcome"), "")),
        assumed_questions=deps["assumed"].map(len),
        recommended_fallback=[recommended_exit_label(d) for d in report["deployments"]],
    )
    for k in dims:
        flat[f"dim_{k}"] = deps["dimensions"].map(lambda d, k=k: d[k])
    if "expected_loss_breakdown_usd" in deps:
        for k in report["deployments"][0]["expected_loss_breakdown_usd"]:
            flat[f"loss_{k}_usd"] = deps["expected_loss_breakdown_usd"].map(lambda d, k=k: d[k])
    for key, prefix in (("expected_loss_by_lens_usd", "loss_{}_usd"), ("score_by_lens", "score_{}")):
        if key in deps:
            for k in report["deployments"][0][key]:
                flat[prefix.format(k)] = deps[key].map(lambda d, k=k: d[k])
    return flat


def recommended_exit_label(d: dict) -> str:
    """The recommended exit target (best switch) of a deployment record, by its label."""
    target = d.get("recommended_exit")
    return next((f["label"] for f in d.get("fallbacks", []) if f["option_id"] == target), "")


def deployments_csv(report: dict) -> bytes:
    flat = deployments_table(report)
    for col in TEXT_COLUMNS:
        if col in flat:
            flat[col] = escape_text(flat[col].fillna("").astype(str))
    return flat.to_csv(index=False, lineterminator="\r\n").encode("utf-8")  # CRLF: cells with CR/LF are quoted
