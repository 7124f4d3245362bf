"""One assessment = import result + answers + scenario probabilities -> scores, concentration,
simulation, heatmap; and its JSON report (documented in docs/report-schema.md)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
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
from risk_models.questionnaire.answers import AnswerMap, rows_by_answers, with_inventory_facts
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
    # one pass over the table (not a mask per cell); members stay in the table's order
    members: dict[tuple[int, int], list] = {}
    for lik, imp, dep in zip(table["likelihood"].tolist(), table["impact"].tolist(), table["deployment_id"].tolist(),
                             strict=True):
        members.setdefault((int(lik), int(imp)), []).append(dep)
    return [{"likelihood": lik, "impact": imp, "rating": str(rating_of(lik * imp, rating_bounds)),
             "count": len(ids), "deployment_ids": ids}
            for lik in range(5, 0, -1) for imp in range(1, 6) for ids in [members.get((lik, imp), [])]]


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

    def column(self, fid: str, n: int, where: np.ndarray, values: np.ndarray | None,
               groups: list[tuple[Mapping, list[int]]]) -> np.ndarray:
        """The factor's label at the positions `where` of n (None elsewhere), formatted once per distinct
        input. `values`: the factor's inventory column (None for a question); `groups`: the answers in
        effect (inventory facts included, as the engine scored them) with the positions that gave them."""
        out = np.full(n, None, dtype=object)
        if not len(where):
            return out
        if fid.startswith("q:"):
            qid = fid[2:]
            out[where] = self.question(qid, {})  # most rows: the default answer
            for per, rows in groups:
                if qid in per:
                    out[rows] = self.question(qid, per)
            shown = np.zeros(n, dtype=bool)
            shown[where] = True
            out[~shown] = None
            return out
        codes, uniques = pd.factorize(values[where], use_na_sentinel=False)
        column = FACTOR_COLUMNS[fid]
        out[where] = np.array([self.factor(fid, {column: u}, {}) for u in uniques], dtype=object)[codes]
        return out


# the inventory column each inventory factor's label is worded from
FACTOR_COLUMNS = {"fallback_status": "fallback_status", "abstraction_layer": "abstraction_layer",
                  "proprietary_features": "proprietary_features", "committed_spend": "committed_spend_usd",
                  "out_of_contract": "contract_end"}


def frame_rows(frame: pd.DataFrame) -> list[dict]:
    """The rows as dicts (column lists zipped: several times faster than DataFrame.to_dict on
    Arrow-backed columns)."""
    cols = list(frame.columns)
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*(frame[c].tolist() for c in cols), strict=True)]


@dataclass
class FactorDrivers:
    """The non-neutral factors of a set of deployments, as whole arrays (the JSON report serialises
    them column by column; `records` gives the per-deployment driver records the app shows)."""

    ids: list[str]  # factor ids, in the scores' order
    shown: np.ndarray  # (m, factors) bool: the factor moves the deployment's score
    values: np.ndarray  # (m, factors) effective multiplier, rounded to 3 decimals
    labels: list[np.ndarray]  # per factor: its label at each position where it is shown (else None)

    def distinct_labels(self) -> list[str]:
        """Every label shown, once, in order of first use (deployment by deployment, factors in order)."""
        if not self.labels:
            return []
        return pd.unique(np.stack(self.labels, axis=1)[self.shown]).tolist()

    def records(self) -> list[list[dict]]:
        """Per deployment, its shown factors as driver records (kind, id, label, value)."""
        values = self.values[self.shown].tolist()  # row by row, factors in order
        offsets = np.concatenate([[0], np.cumsum(self.shown.sum(axis=1))]).tolist()
        # a few distinct sets of shown factors: one integer per set (bits), or the rows themselves
        key = self.shown @ (1 << np.arange(self.shown.shape[1], dtype=np.int64)) if self.shown.shape[1] < 63 \
            else np.unique(self.shown, axis=0, return_inverse=True)[1].ravel()
        _, first, pattern_of = np.unique(key, return_index=True, return_inverse=True)
        shown_lists = [np.flatnonzero(self.shown[f]).tolist() for f in first.tolist()]
        out = []
        for j, pat in enumerate(pattern_of.ravel().tolist()):
            ks, o = shown_lists[pat], offsets[j]
            out.append([{"kind": "factor", "id": self.ids[k], "label": self.labels[k][j], "value": v}
                        for k, v in zip(ks, values[o:o + len(ks)], strict=True)])
        return out


@dataclass
class DriverContext:
    """What the drivers and exit plans of a set of deployments need, computed for all of them at
    once: a 20,000-row report must not sort or look up pandas rows per deployment. Position j in
    the context is the j-th deployment asked for."""

    rows: list[dict]  # inventory rows as dicts
    top_order: np.ndarray  # (m, <= DRIVER_LIMIT) outcomes by |points|, largest first
    top_values: np.ndarray  # (m, <= DRIVER_LIMIT) their points, rounded to 2
    top_count: np.ndarray  # (m,) how many of them are drivers (|points| >= 0.005)
    other_count: np.ndarray  # (m,) outcomes beyond DRIVER_LIMIT that are drivers
    other_value: np.ndarray  # (m,) their points together, rounded to 2
    factor_drivers: FactorDrivers
    triggers: list[list[tuple[int, float]]]  # exit-plan trigger outcomes: (outcome, points), largest first
    ratings: list[str]
    scores: list[float]
    reference_date: dt.date  # the assessment's date (contracts are measured against it)
    plan_parts: dict = field(default_factory=dict)  # per set-up and target, what its exit plan says

    @cached_property
    def top(self) -> list[list[int]]:
        """Per deployment, its outcome drivers (indices into the outcomes)."""
        return [r[:c] for r, c in zip(self.top_order.tolist(), self.top_count.tolist(), strict=True)]

    @cached_property
    def top_points(self) -> list[list[float]]:
        return [r[:c] for r, c in zip(self.top_values.tolist(), self.top_count.tolist(), strict=True)]

    @cached_property
    def other(self) -> list[tuple[int, float]]:
        """Per deployment, (number of other outcomes, their points)."""
        return list(zip(self.other_count.tolist(), self.other_value.tolist(), strict=True))

    @cached_property
    def factors(self) -> list[list[dict]]:
        """Per deployment, its non-neutral factors as driver records (id, label, effective value)."""
        return self.factor_drivers.records()


TRIGGER_LIMIT = 5


def driver_context(a: Assessment, index: list[int] | None = None) -> DriverContext:
    idx = np.arange(len(a.frame)) if index is None else np.asarray(index, dtype=int)
    s = a.residual
    pts = s.outcome_points[idx]
    summaries = factor_summaries(a, None if index is None else idx)
    sub = a.frame if index is None else a.frame.iloc[idx]
    rows = frame_rows(sub)
    order = np.argsort(-np.abs(pts), axis=1, kind="stable")
    counts = (np.abs(pts) >= 0.005).sum(axis=1)
    sorted_pts = np.take_along_axis(pts, order, axis=1)
    pos = np.arange(pts.shape[1])[None, :]
    other = np.where((pos >= DRIVER_LIMIT) & (pos < counts[:, None]), sorted_pts, 0.0).sum(axis=1)
    factors = _factor_drivers(a, summaries, sub)
    # exit-plan triggers: the largest positive outcomes; in the |points| order above the positive ones
    # keep their own order (ties by outcome), so they are its first entries above 0.05 points
    hit = sorted_pts > 0.05
    r, c = np.nonzero(hit & (np.cumsum(hit, axis=1) <= TRIGGER_LIMIT))
    bounds = np.searchsorted(r, np.arange(len(idx) + 1)).tolist()
    t_out, t_val = order[r, c].tolist(), sorted_pts[r, c].tolist()
    triggers = [list(zip(t_out[b0:b1], t_val[b0:b1], strict=True)) for b0, b1 in zip(bounds, bounds[1:], strict=False)]
    table = s.table.iloc[idx]
    return DriverContext(rows, order[:, :DRIVER_LIMIT], np.round(sorted_pts[:, :DRIVER_LIMIT], 2),
                         np.minimum(counts, DRIVER_LIMIT), np.maximum(counts - DRIVER_LIMIT, 0), np.round(other, 2),
                         factors, triggers, table["rating"].astype(str).tolist(), table["score"].tolist(),
                         a.lib.reference_date)


def _factor_drivers(a: Assessment, summaries: np.ndarray, sub: pd.DataFrame) -> FactorDrivers:
    """The non-neutral factors (effective multiplier, label) of the deployments in `sub`."""
    factors = a.residual.factors
    shown = np.abs(summaries - 1) >= 0.005  # (m, factors)
    labels = DriverLabels(a.lib)
    groups = rows_by_answers(sub["deployment_id"].tolist(), a.answers_in_effect)
    columns = {c: sub[c].to_numpy(dtype=object) for c in FACTOR_COLUMNS.values()}
    by_factor = [labels.column(f.id, len(sub), np.flatnonzero(shown[:, k]),
                               None if f.id.startswith("q:") else columns[FACTOR_COLUMNS[f.id]], groups)
                 for k, f in enumerate(factors)]
    return FactorDrivers([f.id for f in factors], shown, np.round(summaries, 3), by_factor)


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
    return drivers_of(a, [i])[0]


def drivers_of(a: Assessment, rows: list[int]) -> list[list[dict]]:
    """Drivers of several distinct deployments worked out together (the demo's top ten: 6 ms, one at a time
    49 ms)."""
    if not rows:
        return []
    ctx = driver_context(a, rows)
    return [context_drivers(a, ctx, j) for j in range(len(rows))]
