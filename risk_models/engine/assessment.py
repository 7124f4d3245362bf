"""One assessment = import result + answers + scenario probabilities -> scores, concentration,
simulation, heatmap; and its JSON report (documented in docs/report-schema.md)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from risk_models.config.labels import human
from risk_models.config.loader import Library
from risk_models.engine.score import Scores, factor_summary, rating_of, score
from risk_models.engine.simulation import SimulationResult, simulate
from risk_models.engine.uncertainty import intervals as parameter_intervals
from risk_models.inventory.read import ImportResult
from risk_models.questionnaire.answers import AnswerMap, with_inventory_facts
from risk_models.questionnaire.report_answers import answer_text

DRIVER_LIMIT = 8  # outcome drivers kept per deployment (the rest add up into "other outcomes")


_INTERVALS_LOCK = threading.Lock()


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
    # fallback options, computed once on first use by fallbacks.recommend.recommendations_of (a layer above)
    _recommendations: object | None = None
    _intervals: dict | None = None

    @property
    def frame(self) -> pd.DataFrame:
        return self.inventory.frame

    @property
    def intervals(self) -> dict | None:
        """90 % intervals of the expected annual loss and VaR from the parameters' uncertainty
        (engine.uncertainty), worked out on first use; None when the assumptions carry no spreads."""
        if self._intervals is None:
            with _INTERVALS_LOCK:  # an assessment shared by threads (the app's cache) works them out once
                if self._intervals is None:
                    found = parameter_intervals(self.frame, self.residual, self.lib, self.simulation)
                    self._intervals = found.as_dict() if found else {}
        return self._intervals or None

    def simulation_summary(self) -> dict:
        """The simulation's figures with their 90 % intervals (the report's `simulation`)."""
        return self.simulation.summary(self.frame) | {"intervals": self.intervals}

    @cached_property
    def answers_in_effect(self) -> AnswerMap:
        """The answers the engine scores: the user's (`answers`, what is saved) plus what the inventory
        answers where the questionnaire is open (the exit plan of a tested fallback)."""
        f = self.frame
        return with_inventory_facts(f["deployment_id"].tolist(), f["fallback_status"].tolist(), self.answers,
                                    self.lib.questions)


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
    """'Question: answer' with the answer as the questionnaire words it (option labels, units)."""
    q = lib.questions[qid]
    shown = answer_text(q, value)
    if isinstance(shown, float) and shown.is_integer():
        unit = q.unit[:-1] if q.unit and shown == 1 and q.unit.endswith("s") else q.unit  # "1 hour"
        shown = f"{int(shown)}{' ' + unit if unit else ''}"
    return f"{q.text}: {'never' if shown is None else shown}"


FALLBACK_LABELS = {"none": "no fallback", "documented": "fallback documented", "tested": "fallback tested",
                   "active": "active fallback"}


def factor_summaries(a: Assessment, rows: np.ndarray | None = None) -> np.ndarray:
    """(n, factors): each factor's one-number summary per deployment (or per one of `rows`)."""
    w = a.lib.scoring.dimension_weights
    return np.column_stack([factor_summary(a.residual, f, w, rows) for f in a.residual.factors])


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
            return FALLBACK_LABELS.get(row["fallback_status"], f"fallback {row['fallback_status']}")
        if fid == "abstraction_layer":
            return "abstraction layer" if row["abstraction_layer"] else "no abstraction layer"
        if fid == "proprietary_features":
            feats = row["proprietary_features"].split(";") if row["proprietary_features"] else []
            names = ", ".join(human("feature", f) for f in feats)
            return f"{len(feats)} proprietary feature{'s' if len(feats) != 1 else ''} ({names})"
        if fid == "committed_spend":
            return f"committed spend ${row['committed_spend_usd']:,.0f}"
        if fid == "out_of_contract":
            end = row["contract_end"]
            return f"out of contract since {end:%d %b %Y} (rolling terms)" if end else "out of contract"
        return self.question(fid.removeprefix("q:"), answered)

    def column(self, fid: str, rows: list[dict], answers: AnswerMap, where: list[int]) -> dict[int, str]:
        """The factor's label for the rows at `where`, formatted once per distinct input."""
        if fid.startswith("q:"):
            out = dict.fromkeys(where, self.question(fid[2:], {}))  # most rows: the default answer
        # `answers`: the answers in effect (inventory facts included), as the engine scored them
            if answers:
                out.update({j: self.question(fid[2:], answers[d]) for j in where
                            if (d := rows[j]["deployment_id"]) in answers})
            return out
        keys = {"fallback_status": ("fallback_status",), "abstraction_layer": ("abstraction_layer",),
                "proprietary_features": ("proprietary_features",), "committed_spend": ("committed_spend_usd",),
                "out_of_contract": ("contract_end",)}[fid]
        seen: dict[tuple, str] = {}
        out = {}
        for j in where:
            key = tuple(rows[j][k] for k in keys)
            if key not in seen:
                seen[key] = self.factor(fid, rows[j], {})
            out[j] = seen[key]
        return out


def frame_rows(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts (column lists zipped: several times faster than DataFrame.to_dict on
    Arrow-backed columns)."""
    cols = list(frame.columns)
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*(frame[c].tolist() for c in cols), strict=True)]


@dataclass
class DriverContext:
    """What the drivers and exit plans of a set of deployments need, computed for all of them at
    once: a 20,000-row report must not sort or look up pandas rows per deployment. Position j in
    the context is the j-th deployment asked for."""

    rows: list[dict]  # inventory rows as dicts
    top: list[list[int]]  # outcome drivers (largest |points| first, at most DRIVER_LIMIT)
    top_points: list[list[float]]
    other: list[tuple[int, float]]  # (number of other outcomes, their points)
    factors: list[list[dict]]  # non-neutral factors as driver records (id, label, effective value)
    triggers: list[list[tuple[int, float]]]  # exit-plan trigger outcomes: (outcome, points), largest first
    ratings: list[str]
    scores: list[float]
    plan_parts: dict = field(default_factory=dict)  # per set-up and target, what its exit plan says


TRIGGER_LIMIT = 5


def driver_context(a: Assessment, index: list[int] | None = None) -> DriverContext:
    idx = np.arange(len(a.frame)) if index is None else np.asarray(index, dtype=int)
    s = a.residual
    pts = s.outcome_points[idx]
    summaries = factor_summaries(a, None if index is None else idx)
    rows = frame_rows(a.frame if index is None else a.frame.iloc[idx])
    order = np.argsort(-np.abs(pts), axis=1, kind="stable")
    counts = (np.abs(pts) >= 0.005).sum(axis=1)
    sorted_pts = np.take_along_axis(pts, order, axis=1)
    pos = np.arange(pts.shape[1])[None, :]
    other = np.where((pos >= DRIVER_LIMIT) & (pos < counts[:, None]), sorted_pts, 0.0).sum(axis=1)
    keep = np.minimum(counts, DRIVER_LIMIT).tolist()
    top = [r[:c] for r, c in zip(order[:, :DRIVER_LIMIT].tolist(), keep, strict=True)]
    top_points = [r[:c] for r, c in zip(np.round(sorted_pts[:, :DRIVER_LIMIT], 2).tolist(), keep, strict=True)]
    n_other = np.maximum(counts - DRIVER_LIMIT, 0).tolist()
    factors = _factor_drivers(a, summaries, rows)
    # exit-plan triggers: the largest positive outcomes; in the |points| order above the positive ones
    # keep their own order (ties by outcome), so they are its first entries above 0.05 points
    hit = sorted_pts > 0.05
    r, c = np.nonzero(hit & (np.cumsum(hit, axis=1) <= TRIGGER_LIMIT))
    bounds = np.searchsorted(r, np.arange(len(idx) + 1)).tolist()
    t_out, t_val = order[r, c].tolist(), sorted_pts[r, c].tolist()
    triggers = [list(zip(t_out[b0:b1], t_val[b0:b1], strict=True)) for b0, b1 in zip(bounds, bounds[1:], strict=False)]
    table = s.table.iloc[idx]
    return DriverContext(rows, top, top_points,
                         list(zip(n_other, np.round(other, 2).tolist(), strict=True)), factors, triggers,
                         table["rating"].astype(str).tolist(), table["score"].tolist())


def _factor_drivers(a: Assessment, summaries: np.ndarray, rows: list[dict]) -> list[list[dict]]:
    """Per deployment, its non-neutral factors as driver records (effective multiplier, label)."""
    factors = a.residual.factors
    shown = np.abs(summaries - 1) >= 0.005  # (m, factors)
    labels = DriverLabels(a.lib)
    by_factor = [labels.column(f.id, rows, a.answers_in_effect, np.flatnonzero(shown[:, k]).tolist())
                 for k, f in enumerate(factors)]
    values = np.round(summaries[shown], 3).tolist()  # row by row, factors in order
    offsets = np.concatenate([[0], np.cumsum(shown.sum(axis=1))]).tolist()
    # a few distinct sets of shown factors: one integer per set (bits), or the rows themselves
    key = shown @ (1 << np.arange(shown.shape[1], dtype=np.int64)) if shown.shape[1] < 63 \
        else np.unique(shown, axis=0, return_inverse=True)[1].ravel()
    _, first, pattern_of = np.unique(key, return_index=True, return_inverse=True)
    shown_lists = [np.flatnonzero(shown[f]).tolist() for f in first.tolist()]
    ids = [f.id for f in factors]
    out = []
    for j, pat in enumerate(pattern_of.ravel().tolist()):
        ks, o = shown_lists[pat], offsets[j]
        out.append([{"kind": "factor", "id": ids[k], "label": by_factor[k][j], "value": v}
                    for k, v in zip(ks, values[o:o + len(ks)], strict=True)])
    return out


OTHER_OUTCOMES = "other_outcomes"  # the driver that sums the outcomes beyond the first DRIVER_LIMIT
FACTOR_NAMES = {"fallback_status": "Fallback status", "abstraction_layer": "Abstraction layer",
                "proprietary_features": "Proprietary features", "committed_spend": "Committed spend",
                "out_of_contract": "Out of contract"}


def other_outcomes_label(count: int) -> str:
    return f"{count} other outcomes"


def driver_catalogue(a: Assessment) -> dict[str, dict]:
    """What every driver id names (the JSON report lists it once): outcomes, the other outcomes, factors."""
    o = a.residual.outcomes
    out = {oid: {"kind": "outcome", "label": label} for oid, label in zip(o.ids, o.labels, strict=True)}
    out[OTHER_OUTCOMES] = {"kind": "outcome", "label": "Other outcomes"}
    for f in a.residual.factors:
        qid = f.id.removeprefix("q:")
        name = a.lib.questions[qid].text if f.id.startswith("q:") and qid in a.lib.questions else FACTOR_NAMES.get(f.id, f.id)
        out[f.id] = {"kind": "factor", "label": name}
    return out


def context_drivers(a: Assessment, ctx: DriverContext, j: int) -> list[dict]:
    """Outcome drivers (score points, add up to the score) then non-neutral factors (x value)."""
    o = a.residual.outcomes
    out = [{"kind": "outcome", "id": o.ids[k], "label": o.labels[k], "value": v}
           for k, v in zip(ctx.top[j], ctx.top_points[j], strict=True)]
    n_other, rest = ctx.other[j]
    if n_other:
        out.append({"kind": "outcome", "id": OTHER_OUTCOMES, "label": other_outcomes_label(n_other), "value": rest})
    out += ctx.factors[j]
    return out


def top_outcome_label(a: Assessment, i: int) -> str | None:
    """The outcome adding the most points to deployment i's score (its first driver), if any."""
    pts = np.abs(a.residual.outcome_points[i])
    k = int(pts.argmax()) if len(pts) else -1  # the first of equals, as the drivers' stable order
    return a.residual.outcomes.labels[k] if k >= 0 and pts[k] >= 0.005 else None


def drivers(a: Assessment, i: int) -> list[dict]:
    """Drivers of deployment i (see context_drivers)."""
    return context_drivers(a, driver_context(a, [i]), 0)
