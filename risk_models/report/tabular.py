"""Exports of an assessment report: CSV of deployments with scores.

Spreadsheet-bound text is formula-neutralised (OWASP CSV injection); numbers stay numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from risk_models.config.labels import human, report_labels
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


def deployments_csv(report: dict, ids: bool = False) -> bytes:
    """The deployments as CSV: for people (labelled headers and values, whole dollars, ISO dates) or, with
    `ids`, the machine form of the JSON report (snake_case columns, ids and raw values) for pipelines."""
    if not ids:
        return _people_csv(with_option_details(report))
    flat = deployments_table(report)
    for col in TEXT_COLUMNS:
        if col in flat:
            flat[col] = escape_text(flat[col].fillna("").astype(str))
    return flat.to_csv(index=False, lineterminator="\r\n").encode("utf-8")  # CRLF: cells with CR/LF are quoted


@dataclass(frozen=True)
class Col:
    header: str
    get: Callable[[dict], object]
    kind: str = "text"  # text, money, pct, date, number, int, weeks, ratio


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _words(value: object) -> str:
    return str(value).replace("_", " ") if value is not None else ""


def _yes(value: object) -> str:
    return "yes" if value else "no"


def deployment_columns(rep: dict) -> list[Col]:
    """The Deployments columns people read (the XLSX sheet and the default CSV): labels, not ids."""
    labels = report_labels(rep)
    deps = rep["deployments"]
    dims = list(deps[0]["dimensions"]) if deps else []
    parts = list(deps[0]["expected_loss_breakdown_usd"]) if deps else []
    lenses = rep.get("lenses") or {}
    cols = [Col("Deployment", lambda d: d["deployment_id"]), Col("Name", lambda d: d["name"]),
            Col("Business unit", lambda d: d["business_unit"]), Col("Use case", lambda d: d["use_case"]),
            Col("Owner", lambda d: d["owner"]), Col("Channel", lambda d: human("channel", d["channel"], labels)),
            Col("Model", lambda d: d["model"]),
            Col("Model vendor", lambda d: human("model_vendor", d["model_vendor"], labels)),
            Col("Region", lambda d: d["region"]), Col("Jurisdiction", lambda d: _words(d["jurisdiction"])),
            Col("Annual spend", lambda d: d["annual_spend_usd"], "money"),
            Col("Committed spend", lambda d: d["committed_spend_usd"], "money"),
            Col("Contract ends", lambda d: _date(d["contract_end"]), "date"),
            Col("Criticality", lambda d: d["criticality"]), Col("Data sensitivity", lambda d: d["data_sensitivity"]),
            Col("Fallback status", lambda d: d["fallback_status"]),
            Col("Abstraction layer", lambda d: _yes(d["abstraction_layer"])),
            Col("Proprietary features", lambda d: ", ".join(human("feature", f, labels)
                                                            for f in d["proprietary_features"])),
            Col("Score", lambda d: d["score"], "number"), Col("Score without controls", lambda d: d["inherent_score"],
                                                              "number"),
            Col("Likelihood (1–5)", lambda d: d["likelihood"], "int"), Col("Impact (1–5)", lambda d: d["impact"], "int"),
            Col("Rating", lambda d: d["rating"])]
    cols += [Col(f"{k.capitalize()} score", lambda d, k=k: d["dimensions"][k], "number") for k in dims]
    cols += [Col("Top driver", lambda d: next((x["label"] for x in d["drivers"] if x["kind"] == "outcome"), "")),
             Col("Expected loss / yr", lambda d: d["expected_loss_usd"], "money")]
    cols += [Col(f"{v['label']} loss / yr", lambda d, k=k: d["expected_loss_by_lens_usd"][k], "money")
             for k, v in lenses.items() if deps and "expected_loss_by_lens_usd" in deps[0]]
    cols += [Col(f"Loss: {k.replace('_', ' ')} / yr", lambda d, k=k: d["expected_loss_breakdown_usd"][k], "money")
             for k in parts]
    cols += [Col("Recommended exit", lambda d: next((f["label"] for f in d["fallbacks"]
                                                     if f["option_id"] == d.get("recommended_exit")), "")),
             Col("Questions assumed", lambda d: len(d["assumed"]), "int")]
    return cols



def _people_csv(rep: dict) -> bytes:
    cols = deployment_columns(rep)

    def cell(c: Col, d: dict) -> object:
        v = c.get(d)
        if v is None:
            return ""
        if c.kind == "money":
            return round(v)
        if c.kind == "date":
            return v.isoformat()
        return v

    frame = pd.DataFrame([[cell(c, d) for c in cols] for d in rep["deployments"]], columns=[c.header for c in cols])
    for c in cols:
        if c.kind == "text":
            frame[c.header] = escape_text(frame[c.header].astype(str))
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
