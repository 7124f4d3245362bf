"""One assessment = import result + answers + scenario probabilities -> scores, concentration,
simulation, heatmap; and its JSON report (documented in the README)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk_models.answers import AnswerMap
from risk_models.config_loader import Library
from risk_models.fallbacks import Recommendations, recommend
from risk_models.inventory_import import ImportResult
from risk_models.scoring import Scores, factor_summary, rating_of, score
from risk_models.simulation import SimulationResult, simulate

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
    _recommendations: Recommendations | None = None

    def recommendations(self) -> Recommendations:
        """Fallback options for every deployment (computed once, on first use)."""
        if self._recommendations is None:
            self._recommendations = recommend(self.frame, self.answers, self.lib, self.residual, self.probabilities)
        return self._recommendations

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


def heatmap_cells(table: pd.DataFrame, rating_bounds: dict[str, float]) -> list[dict]:
    """The 25 cells with their counts, members and the rating of the cell itself."""
    cells = []
    for lik in range(5, 0, -1):
        for imp in range(1, 6):
            ids = table.loc[(table["likelihood"] == lik) & (table["impact"] == imp), "deployment_id"]
            cells.append({"likelihood": lik, "impact": imp, "rating": str(rating_of(lik * imp, rating_bounds)),
                          "count": len(ids), "deployment_ids": list(ids)})
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
    return np.column_stack([factor_summary(a.residual, f, w) for f in a.residual.factors])


class DriverLabels:
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
        if fid == "out_of_contract":
            end = row["contract_end"]
            return f"out of contract since {end:%d %b %Y} (rolling terms)" if end else "out of contract"
        return self.question(fid.removeprefix("q:"), answered)


@dataclass
class DriverContext:
    """What drivers and exit plans of every deployment share, computed once for the whole
    inventory (a 20,000-row report must not sort or look up pandas rows per deployment)."""

    summaries: np.ndarray  # (n, factors) effective factor per deployment
    shown: np.ndarray  # (n, factors) bool: factor differs from neutral
    order: np.ndarray  # (n, outcomes) outcome indices by |score points|, largest first
    counts: np.ndarray  # (n,) outcomes with |points| >= 0.005
    labels: DriverLabels
    rows: list[dict]  # the inventory rows as dicts


def driver_context(a: Assessment) -> DriverContext:
    pts = a.residual.outcome_points
    summaries = factor_summaries(a)
    return DriverContext(summaries, np.abs(summaries - 1) >= 0.005, np.argsort(-np.abs(pts), axis=1, kind="stable"),
                         (np.abs(pts) >= 0.005).sum(axis=1), DriverLabels(a.lib), a.frame.to_dict("records"))


def drivers(a: Assessment, i: int, summaries: np.ndarray | None = None, labels: DriverLabels | None = None,
            row: dict | None = None, ctx: DriverContext | None = None) -> list[dict]:
    """Outcome drivers (score points, add up to the score) then non-neutral factors (x value)."""
    s = a.residual
    if ctx is None:
        summaries = factor_summaries(a) if summaries is None else summaries
        pts_all = s.outcome_points[i:i + 1]
        order = np.argsort(-np.abs(pts_all), axis=1, kind="stable")[0]
        ctx = DriverContext(summaries, np.abs(summaries - 1) >= 0.005, order[None, :],
                            (np.abs(pts_all) >= 0.005).sum(axis=1), labels or DriverLabels(a.lib),
                            [row if row is not None else a.frame.iloc[i].to_dict()])
        k_row = 0
    else:
        k_row = i
    pts = s.outcome_points[i]
    order = ctx.order[k_row][:ctx.counts[k_row]]
    out = [{"kind": "outcome", "id": s.outcomes.ids[j], "label": s.outcomes.labels[j], "value": round(float(pts[j]), 2)}
           for j in order[:DRIVER_LIMIT]]
    if len(order) > DRIVER_LIMIT:
        out.append({"kind": "outcome", "id": "other_outcomes", "label": f"{len(order) - DRIVER_LIMIT} other outcomes",
                    "value": round(float(pts[order[DRIVER_LIMIT:]].sum()), 2)})
    row = ctx.rows[k_row]
    answered = a.answers.get(row["deployment_id"], {})
    for k in np.flatnonzero(ctx.shown[i]):
        f = s.factors[k]
        out.append({"kind": "factor", "id": f.id, "label": ctx.labels.factor(f.id, row, answered),
                    "value": round(float(ctx.summaries[i, k]), 3)})
    return out
