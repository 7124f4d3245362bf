"""Explainable exposure scores, vectorised over deployments x outcomes x dimensions.

exposure(d,o,k) = P(o) x severity(o,d,k) x vulnerability(d,k) x weight(d,k)

* severity: max of the adverse impact rules of outcome o matching d (favourable rules, with
  negative severity, are kept apart as "relief": they shrink the adverse total multiplicatively, so
  exposure never drops below 0 and better controls can never raise a score);
* vulnerability: base x named factors (fallback, abstraction layer, proprietary features, committed
  spend, questionnaire answers), capped at 1;
* weight: criticality, and data sensitivity for compliance.
score = 100 x (1 - exp(-calibration x sum_k w_k x exposure_k)); outcome drivers are the outcome
shares of that sum rescaled to score points, so they add up to the score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk_models.answers import AnswerMap, answer_factor_arrays
from risk_models.config_loader import Library
from risk_models.config_schema import ScenariosFile
from risk_models.inventory_import import FEATURES
from risk_models.models import DIMENSIONS, FallbackStatus

RATINGS = ("low", "medium", "high", "critical")
MAX_RELIEF = 0.9


@dataclass(frozen=True)
class OutcomeTable:
    """The scenario library flattened to one row per outcome (probabilities may be overridden)."""

    ids: list[str]
    labels: list[str]
    event_ids: list[str]
    event_labels: list[str]
    probability: np.ndarray

    @property
    def event_index(self) -> np.ndarray:
        return pd.factorize(pd.Series(self.event_ids))[0]


def outcome_table(scenarios: ScenariosFile, overrides: dict[str, float] | None = None) -> OutcomeTable:
    outs = [(e, o) for e in scenarios.events for o in e.outcomes]
    over = overrides or {}
    return OutcomeTable(
        ids=[o.id for _, o in outs],
        labels=[o.label for _, o in outs],
        event_ids=[e.id for e, _ in outs],
        event_labels=[e.label for e, _ in outs],
        probability=np.array([over.get(o.id, o.probability) for _, o in outs], dtype=float),
    )


def stressed_probabilities(scenarios: ScenariosFile, outcome_ids: list[str]) -> dict[str, float]:
    """Set each named outcome to certainty and its siblings (same event) to zero."""
    known = {o.id: e for e in scenarios.events for o in e.outcomes}
    unknown = [i for i in outcome_ids if i not in known]
    if unknown:
        raise KeyError(f"unknown outcome(s) {unknown}; known: {', '.join(known)}")
    events = {known[i].id: i for i in outcome_ids}
    if len(events) < len(outcome_ids):
        raise KeyError("stress at most one outcome per event: outcomes of an event are mutually exclusive")
    out: dict[str, float] = {}
    for e in scenarios.events:
        if e.id in events:
            out.update({o.id: 1.0 if o.id == events[e.id] else 0.0 for o in e.outcomes})
    return out


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """(n, features) bool: which proprietary features each deployment uses."""
    s = frame["proprietary_features"].astype(str)
    return np.column_stack([s.str.contains(rf"(?:^|;){f}(?:;|$)", regex=True).to_numpy() for f in FEATURES]) \
        if len(s) else np.zeros((0, len(FEATURES)), dtype=bool)


def severity_tensors(frame: pd.DataFrame, scenarios: ScenariosFile) -> tuple[np.ndarray, np.ndarray]:
    """Adverse (>= 0) and favourable (<= 0) severity, each (n, outcomes, dims)."""
    n = len(frame)
    feats = feature_matrix(frame)
    cols = {"channels": frame["channel"], "vendors": frame["model_vendor"], "jurisdictions": frame["jurisdiction"]}
    outs = [o for e in scenarios.events for o in e.outcomes]
    pos = np.zeros((n, len(outs), len(DIMENSIONS)))
    neg = np.zeros_like(pos)
    for j, out in enumerate(outs):
        for rule in out.impacts:
            mask = np.ones(n, dtype=bool)
            for key, col in cols.items():
                values = [str(v) for v in getattr(rule.match, key)]
                if values:
                    mask &= col.isin(values).to_numpy()
            if rule.match.features:
                mask &= feats[:, [FEATURES.index(f) for f in rule.match.features]].any(axis=1)
            sev = np.array([rule.severity.get(d, 0.0) for d in DIMENSIONS])
            hit = mask[:, None] * sev[None, :]
            if (sev >= 0).all():
                pos[:, j, :] = np.maximum(pos[:, j, :], hit)
            else:
                neg[:, j, :] = np.minimum(neg[:, j, :], hit)
    return pos, neg


@dataclass(frozen=True)
class Factor:
    id: str
    values: np.ndarray  # (n, dims) multipliers
    dims: tuple[int, ...]  # dimensions the factor can touch (for its one-number summary)


def feature_count(frame: pd.DataFrame) -> np.ndarray:
    s = frame["proprietary_features"].astype(str)
    return np.where(s == "", 0, s.str.count(";") + 1).astype(float)


def vulnerability_factors(
    frame: pd.DataFrame, answers: AnswerMap, lib: Library, ref: dt.date, controls: bool = True
) -> tuple[list[Factor], list[list[str]]]:
    """Named multiplicative factors; controls=False gives the inherent (no-control) view."""
    sc = lib.scoring.factors
    n = len(frame)

    def table(levels, mapping) -> np.ndarray:
        return np.array([[mapping[lv].get(d, 1.0) for d in DIMENSIONS] for lv in levels])

    def touched(t: np.ndarray) -> tuple[int, ...]:
        return tuple(int(i) for i in np.flatnonzero((t != 1).any(axis=0)))

    fb_levels = list(FallbackStatus)
    fb_t = table(fb_levels, sc.fallback_status)
    fb_idx = pd.Categorical(frame["fallback_status"], categories=[s.value for s in fb_levels]).codes
    ab_t = table(["no", "yes"], sc.abstraction_layer)
    ab_idx = frame["abstraction_layer"].astype(bool).to_numpy().astype(int)
    if not controls:
        fb_idx, ab_idx = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    step_f = np.array([sc.proprietary_feature_step.get(d, 0.0) for d in DIMENSIONS])
    step_c = np.array([sc.committed_spend_step.get(d, 0.0) for d in DIMENSIONS])
    spend = frame["annual_spend_usd"].to_numpy(float)
    committed = frame["committed_spend_usd"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(spend > 0, committed / spend, np.where(committed > 0, np.inf, 0.0))
    ratio = np.minimum(ratio, sc.committed_ratio_cap)
    factors = [
        Factor("fallback_status", fb_t[fb_idx], touched(fb_t)),
        Factor("abstraction_layer", ab_t[ab_idx], touched(ab_t)),
        Factor("proprietary_features", 1 + feature_count(frame)[:, None] * step_f, touched(step_f[None] + 1)),
        Factor("committed_spend", 1 + ratio[:, None] * step_c, touched(step_c[None] + 1)),
    ]
    arrays, assumed = answer_factor_arrays(list(frame["deployment_id"]), answers, lib.questions, ref,
                                           use_defaults_only=not controls)
    for qid, arr in arrays.items():
        dims = tuple(DIMENSIONS.index(d) for d in lib.questions[qid].dimensions)
        factors.append(Factor(f"q:{qid}", arr, dims))
    return factors, assumed


def weights(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    sc = lib.scoring
    crit = frame["criticality"].map({c.value: w for c, w in sc.criticality_weight.items()}).to_numpy(float)
    sens = frame["data_sensitivity"].map({s.value: w for s, w in sc.sensitivity_weight.items()}).to_numpy(float)
    w = np.repeat(crit[:, None], len(DIMENSIONS), axis=1)
    w[:, DIMENSIONS.index("compliance")] *= sens
    return w


def rating_of(product: np.ndarray, bounds: dict[str, float]) -> np.ndarray:
    """Rating from likelihood x impact (1-25): the one place the config's rating_bounds are read."""
    p = np.asarray(product)
    idx = (p >= bounds["medium"]).astype(int) + (p >= bounds["high"]) + (p >= bounds["critical"])
    return np.array(RATINGS)[idx]


def band(values: np.ndarray, bounds: list[float]) -> np.ndarray:
    """1..5 by the increasing bounds (value >= bounds[i] -> level i + 2)."""
    return 1 + np.searchsorted(np.asarray(bounds), values, side="right")


@dataclass
class Scores:
    """Per-deployment results plus the arrays behind the drivers and the simulation."""

    table: pd.DataFrame  # deployment_id, score, likelihood, impact, rating, p_hit, dimension columns
    outcome_points: np.ndarray  # (n, outcomes) score points per outcome, rows add up to score
    factors: list[Factor]
    assumed: list[list[str]]
    severity: np.ndarray  # (n, outcomes, dims) adverse severity
    favourable: np.ndarray  # (n, outcomes, dims) favourable severity (<= 0)
    relief: np.ndarray  # (n, dims) share removed by favourable outcomes
    vulnerability: np.ndarray  # (n, dims)
    outcomes: OutcomeTable


def score(
    frame: pd.DataFrame, answers: AnswerMap, lib: Library, probabilities: dict[str, float] | None = None,
    controls: bool = True, ref: dt.date | None = None,
) -> Scores:
    """Score every deployment of a validated inventory frame against the scenario library."""
    sc = lib.scoring
    ref = ref or lib.scenarios.as_of
    outcomes = outcome_table(lib.scenarios, probabilities)
    pos, neg = severity_tensors(frame, lib.scenarios)
    factors, assumed = vulnerability_factors(frame, answers, lib, ref, controls)
    vuln = np.full((len(frame), len(DIMENSIONS)), sc.base_vulnerability)
    for f in factors:
        vuln = vuln * f.values
    vuln = np.minimum(vuln, 1.0)
    return _combine(frame, lib, outcomes, pos, neg, vuln, factors, assumed)


def _combine(frame, lib, outcomes, pos, neg, vuln, factors, assumed) -> Scores:
    sc = lib.scoring
    p = outcomes.probability[None, :, None]
    dim_w = np.array([sc.dimension_weights[d] for d in DIMENSIONS])
    adverse = p * pos * (vuln * weights(frame, lib))[:, None, :]  # (n, o, k)
    total_adverse = adverse.sum(axis=1)  # (n, k)
    relief_raw = (p * -neg).sum(axis=1)
    relief = np.minimum(relief_raw, MAX_RELIEF)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(relief_raw > 0, relief / relief_raw, 0.0)
    contrib = adverse - total_adverse[:, None, :] * (p * -neg) * shrink[:, None, :]  # sums to final
    final = total_adverse * (1 - relief)  # (n, k)
    raw = sc.calibration * final @ dim_w
    scores = 100 * (1 - np.exp(-raw))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_raw = np.where(raw > 0, scores / raw, 0.0)
    points = per_raw[:, None] * sc.calibration * (contrib @ dim_w)

    hit = pos.max(axis=2) > 0  # (n, o)
    ev = outcomes.event_index
    p_event = np.zeros((len(frame), ev.max() + 1 if len(ev) else 0))
    np.add.at(p_event.T, ev, (outcomes.probability[None, :] * hit).T)
    p_hit = 1 - np.prod(1 - np.minimum(p_event, 1), axis=1)
    p_adverse = (outcomes.probability[None, :] * hit).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        impact_raw = np.where(p_adverse > 0, (final @ dim_w) / p_adverse, 0.0)
    likelihood = np.where(p_hit > 0, band(p_hit, sc.likelihood_bounds), 1)
    impact = np.where(p_hit > 0, band(impact_raw, sc.impact_bounds), 1)

    table = pd.DataFrame({
        "deployment_id": frame["deployment_id"].to_numpy(),
        "score": scores, "likelihood": likelihood, "impact": impact,
        "rating": rating_of(likelihood * impact, sc.rating_bounds), "p_hit": p_hit, "impact_raw": impact_raw,
    })
    for k, d in enumerate(DIMENSIONS):
        table[d] = 100 * (1 - np.exp(-sc.calibration * final[:, k]))
    return Scores(table, points, factors, assumed, pos, neg, relief, vuln, outcomes)


def rescore(frame: pd.DataFrame, lib: Library, base: Scores, vulnerability: np.ndarray) -> Scores:
    """The same deployments with another vulnerability (e.g. after a fallback option), everything
    else unchanged: lower vulnerability can only lower scores."""
    return _combine(frame, lib, base.outcomes, base.severity, base.favourable, np.minimum(vulnerability, 1.0),
                    base.factors, base.assumed)


def factor_summary(f: Factor, dim_weights: dict[str, float]) -> np.ndarray:
    """One number per deployment: the factor's weighted mean over the dimensions it touches."""
    if not f.dims:
        return np.ones(len(f.values))
    w = np.array([dim_weights[DIMENSIONS[i]] for i in f.dims])
    return f.values[:, list(f.dims)] @ w / w.sum()

