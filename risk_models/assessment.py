"""One assessment = import result + answers + scenario probabilities -> scores, concentration,
simulation, heatmap; and its JSON report (documented in the README)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk_models.answers import AnswerMap, answer_factors
from risk_models.concentration import concentration, concentration_by_business_unit
from risk_models.config_loader import Library
from risk_models.inventory_import import ImportResult
from risk_models.scoring import Scores, factor_summary, score
from risk_models.simulation import SimulationResult, simulate

SCHEMA_VERSION = 1
DRIVER_LIMIT = 8  # outcome drivers kept per deployment (the rest add up into "other outcomes")


@dataclass
class Assessment:
    lib: Library
    inventory: ImportResult
    answers: AnswerMap
    probabilities: dict[str, float]
    residual: Scores
    inherent: Scores
    simulation: SimulationResult
    seed: int

    @property
    def frame(self) -> pd.DataFrame:
        return self.inventory.frame


def assess(inventory: ImportResult, answers: AnswerMap, lib: Library, probabilities: dict[str, float] | None = None,
           trials: int = 10_000, seed: int = 0) -> Assessment:
    probs = dict(probabilities or {})
    frame = inventory.frame
    residual = score(frame, answers, lib, probs)
    inherent = score(frame, answers, lib, probs, controls=False)
    sim = simulate(frame, residual, lib, trials, seed)
    return Assessment(lib, inventory, answers, probs, residual, inherent, sim, seed)


def heatmap_cells(table: pd.DataFrame) -> list[dict]:
    cells = []
    for lik in range(5, 0, -1):
        for imp in range(1, 6):
            ids = table.loc[(table["likelihood"] == lik) & (table["impact"] == imp), "deployment_id"]
            cells.append({"likelihood": lik, "impact": imp, "count": len(ids), "deployment_ids": list(ids)})
    return cells


def _question_label(lib: Library, qid: str, value: object) -> str:
    q = lib.questions[qid]
    if isinstance(value, list):
        shown = ", ".join(value)
    elif isinstance(value, float) and value.is_integer():
        shown = f"{int(value)}{' ' + q.unit if q.unit else ''}"
    else:
        shown = "never" if value is None else str(value)
    return f"{q.text}: {shown}"


def factor_summaries(a: Assessment) -> np.ndarray:
    """(n, factors): each factor's one-number summary per deployment."""
    w = a.lib.scoring.dimension_weights
    return np.column_stack([factor_summary(f, w) for f in a.residual.factors])


class _Labels:
    """Driver labels; cached because 20,000 deployments share a few hundred distinct labels."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib
        self.cache: dict[tuple, str] = {}

    def question(self, qid: str, answered: dict) -> str:
        value = answered.get(qid, self.lib.questions[qid].default)
        key = (qid, repr(value), qid in answered)
        if key not in self.cache:
            self.cache[key] = _question_label(self.lib, qid, value) + ("" if qid in answered else " (assumed)")
        return self.cache[key]

    def factor(self, fid: str, row: dict, answered: dict) -> str:
        if fid == "fallback_status":
            return f"fallback {row['fallback_status']}"
        if fid == "abstraction_layer":
            return "abstraction layer" if row["abstraction_layer"] else "no abstraction layer"
        if fid == "proprietary_features":
            feats = row["proprietary_features"].split(";") if row["proprietary_features"] else []
            return f"{len(feats)} proprietary feature{'s' if len(feats) != 1 else ''} ({', '.join(feats)})"
        if fid == "committed_spend":
            return f"committed spend ${row['committed_spend_usd']:,.0f}"
        return self.question(fid.removeprefix("q:"), answered)


def drivers(a: Assessment, i: int, summaries: np.ndarray | None = None, labels: _Labels | None = None,
            row: dict | None = None) -> list[dict]:
    """Outcome drivers (score points, add up to the score) then non-neutral factors (x value)."""
    s = a.residual
    summaries = factor_summaries(a) if summaries is None else summaries
    labels = labels or _Labels(a.lib)
    row = row if row is not None else a.frame.iloc[i].to_dict()
    pts = s.outcome_points[i]
    order = [j for j in np.argsort(-np.abs(pts), kind="stable") if abs(pts[j]) >= 0.005]
    out = [{"kind": "outcome", "id": s.outcomes.ids[j], "label": s.outcomes.labels[j], "value": round(float(pts[j]), 2)}
           for j in order[:DRIVER_LIMIT]]
    if order[DRIVER_LIMIT:]:
        out.append({"kind": "outcome", "id": "other_outcomes", "label": f"{len(order) - DRIVER_LIMIT} other outcomes",
                    "value": round(float(sum(pts[j] for j in order[DRIVER_LIMIT:])), 2)})
    answered = a.answers.get(row["deployment_id"], {})
    for k in np.flatnonzero(np.abs(summaries[i] - 1) >= 0.005):
        f = s.factors[k]
        out.append({"kind": "factor", "id": f.id, "label": labels.factor(f.id, row, answered),
                    "value": round(float(summaries[i, k]), 3)})
    return out


def _money(x: float) -> float:
    return round(float(x), 2)


def deployment_records(a: Assessment) -> list[dict]:
    t = a.residual.table
    dims = list(a.lib.scoring.dimensions)
    summaries, labels = factor_summaries(a), _Labels(a.lib)
    cols = {c: t[c].tolist() for c in ("score", "likelihood", "impact", "rating", *dims)}
    inherent = a.inherent.table["score"].tolist()
    expected = a.simulation.expected_by_deployment.tolist()
    out = []
    for i, row in enumerate(a.frame.to_dict("records")):
        out.append({
            "deployment_id": row["deployment_id"], "name": row["name"], "business_unit": row["business_unit"],
            "use_case": row["use_case"], "owner": row["owner"], "channel": row["channel"], "model": row["model"],
            "model_vendor": row["model_vendor"], "region": row["region"], "jurisdiction": row["jurisdiction"],
            "annual_spend_usd": _money(row["annual_spend_usd"]), "committed_spend_usd": _money(row["committed_spend_usd"]),
            "contract_end": row["contract_end"].isoformat() if row["contract_end"] else None,
            "criticality": row["criticality"], "data_sensitivity": row["data_sensitivity"],
            "fallback_status": row["fallback_status"], "abstraction_layer": bool(row["abstraction_layer"]),
            "proprietary_features": row["proprietary_features"].split(";") if row["proprietary_features"] else [],
            "score": round(cols["score"][i], 2), "inherent_score": round(inherent[i], 2),
            "likelihood": int(cols["likelihood"][i]), "impact": int(cols["impact"][i]), "rating": cols["rating"][i],
            "dimensions": {d: round(cols[d][i], 2) for d in dims},
            "drivers": drivers(a, i, summaries, labels, row), "assumed": a.residual.assumed[i],
            "expected_loss_usd": _money(expected[i]),
        })
    return out


def scenario_library_record(a: Assessment) -> dict:
    sc = a.lib.scenarios
    events = {e.id: e for e in sc.events}
    outs = a.residual.outcomes
    return {
        "as_of": sc.as_of.isoformat(), "horizon_months": sc.horizon_months,
        "outcomes": [{
            "id": oid, "event": outs.event_ids[j], "event_label": outs.event_labels[j], "label": outs.labels[j],
            "probability": round(float(outs.probability[j]), 4),
            "default_probability": next(o.probability for o in events[outs.event_ids[j]].outcomes if o.id == oid),
            "confidence": next(o.confidence for o in events[outs.event_ids[j]].outcomes if o.id == oid),
            "sources": [s.model_dump(mode="json") for s in events[outs.event_ids[j]].sources],
        } for j, oid in enumerate(outs.ids)],
    }


def report(a: Assessment, generated_at: dt.datetime | None = None) -> dict:
    """The JSON report of `assess` (same inputs and seed -> identical apart from generated_at)."""
    now = generated_at or dt.datetime.now(dt.UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.isoformat(timespec="seconds"),
        "scenario_library": scenario_library_record(a),
        "inventory": {"valid_rows": len(a.frame), "rejected": [e.model_dump() for e in a.inventory.errors]},
        "deployments": deployment_records(a),
        "concentration": concentration(a.frame, a.lib),
        "concentration_by_business_unit": concentration_by_business_unit(a.frame, a.lib),
        "simulation": a.simulation.summary(a.frame),
        "heatmap": {"cells": heatmap_cells(a.residual.table)},
    }


def stress_delta(base: Assessment, stressed: Assessment, outcome_ids: list[str]) -> dict:
    """Per-deployment and portfolio change when the given outcomes are certain."""
    b, s = base.residual.table, stressed.residual.table
    delta = (s["score"] - b["score"]).to_numpy()
    loss_b, loss_s = base.simulation.expected_by_deployment, stressed.simulation.expected_by_deployment
    bs, ss = base.simulation.summary(base.frame), stressed.simulation.summary(stressed.frame)
    return {
        "outcomes": outcome_ids,
        "portfolio": {k: {"before": bs[k], "after": ss[k], "delta": round(ss[k] - bs[k], 2)}
                      for k in ("expected_annual_loss_usd", "var90_usd", "var95_usd", "var99_usd")}
        | {"high_or_critical": {"before": int(b["rating"].isin(["high", "critical"]).sum()),
                                "after": int(s["rating"].isin(["high", "critical"]).sum())}},
        "deployments": [
            {"deployment_id": str(b["deployment_id"].iat[i]), "score_before": round(float(b["score"].iat[i]), 2),
             "score_after": round(float(s["score"].iat[i]), 2), "score_delta": round(float(delta[i]), 2),
             "rating_before": str(b["rating"].iat[i]), "rating_after": str(s["rating"].iat[i]),
             "expected_loss_delta_usd": round(float(loss_s[i] - loss_b[i]), 2)}
            for i in np.argsort(-delta, kind="stable")
        ],
    }


__all__ = ["Assessment", "assess", "report", "stress_delta", "heatmap_cells", "answer_factors"]
