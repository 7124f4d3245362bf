"""Explainable exposure scores, vectorised over deployments x outcomes x dimensions. (Over 500 lines: one
pipeline — outcome table, exposure profiles, factors, combination — whose steps share the Profiles, Factor
and Scores types and are read against the formula below.)

exposure(d,o,k) = A(o) x severity(o,d,k) x vulnerability(d,k) x weight(d,k) x relief(d,o,k)

* A(o): the outcome's annual probability, 1 - (1 - P(o))^(12 / horizon), from its own horizon
  probability only (so editing one outcome never moves another's);
* severity: max of the adverse impact rules of o matching d (channel, model vendor, feature, data
  jurisdiction, and the organisation's regulatory regimes and jurisdictions of establishment);
* vulnerability: 1 - exp(-base x product of named factors) — every factor below 1 lowers it, none
  is lost to a cap;
* relief: favourable outcomes of *other* events (an exit path opening up) remove the share
  A(f) x |severity(f)| of what remains, the expectation of "the relief applies in the years f
  happens" — the loss simulation applies it exactly that way;
* weight: criticality, and data sensitivity for compliance.
score = 100 x (1 - exp(-calibration x sum_k w_k sum_o exposure)); outcome drivers are the outcome
shares of that sum rescaled to score points, so they add up to the score.

Kept as one module (a little over 500 lines): the pipeline above reads top to bottom, and its parts
share the (deployments x outcomes x dimensions) arrays they build; split, each part would take them all
as arguments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from risk_models.config.domain import DIMENSIONS, FallbackStatus
from risk_models.config.loader import Library
from risk_models.config.questions import answer_factors
from risk_models.config.schema import Event
from risk_models.inventory.read import FEATURES
from risk_models.questionnaire.answers import (
    AnswerGroups,
    AnswerMap,
    answer_factor_arrays,
    rows_by_answers,
    scoped_answer_factors,
    with_inventory_facts,
)

RATINGS = ("low", "medium", "high", "critical")
MAX_RELIEF = 0.99  # a favourable outcome never removes all of an exposure (keeps logs finite)


def annual_probability(p: np.ndarray, horizon_months: np.ndarray, event_index: np.ndarray) -> np.ndarray:
    """Per outcome: 1 - (1 - p)^(12 / horizon). For horizons of 12 months or more this is never above
    p and depends on nothing but p and the horizon. For shorter horizons an event's outcomes could
    then sum above 1 within a year; only there they are scaled back to a sum of 1."""
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    annual = 1 - (1 - p) ** (12.0 / np.asarray(horizon_months, float))
    if len(annual):
        totals = np.bincount(event_index, weights=annual)
        annual = annual / np.maximum(totals, 1.0)[event_index]
    return annual


MAX_REPEAT_PROBABILITY = 0.99  # a repeatable outcome set to certainty (a stress) counts ln(100) = 4.6 a year


def annual_frequency(annual: np.ndarray, repeatable: np.ndarray) -> np.ndarray:
    """Expected occurrences per year: the annual probability for a once-a-year outcome; for a
    repeatable one the Poisson rate whose chance of at least one occurrence is that probability,
    -ln(1 - A) (capped at MAX_REPEAT_PROBABILITY so that a stress to certainty stays finite)."""
    a = np.asarray(annual, float)
    return np.where(repeatable, -np.log1p(-np.minimum(a, MAX_REPEAT_PROBABILITY)), a)


@dataclass(frozen=True)
class OutcomeTable:
    """The events (scenario pack + baseline) flattened to one row per outcome."""

    ids: list[str]
    labels: list[str]
    event_ids: list[str]
    event_labels: list[str]
    probability: np.ndarray  # over each event's horizon (user overrides applied)
    horizon_months: np.ndarray
    outage_hours: np.ndarray
    repeatable: np.ndarray  # (outcomes,) bool: can happen several times a year (see annual_frequency)

    @property
    def event_index(self) -> np.ndarray:
        return pd.factorize(pd.Series(self.event_ids, dtype=object))[0]

    @property
    def annual(self) -> np.ndarray:
        return annual_probability(self.probability, self.horizon_months, self.event_index)

    @property
    def frequency(self) -> np.ndarray:
        """Expected occurrences per year, what the loss model multiplies: see annual_frequency."""
        return annual_frequency(self.annual, self.repeatable)


def _events(source) -> tuple[list[Event], list[int]]:
    """(events, horizon per event) of a Library (pack + baseline) or of a bare scenarios file."""
    if isinstance(source, Library):
        return source.events, [source.horizon_of(e) for e in source.events]
    return list(source.events), [e.horizon_months or source.horizon_months for e in source.events]


def outcome_table(source, overrides: dict[str, float] | None = None) -> OutcomeTable:
    events, horizons = _events(source)
    outs = [(e, h, o) for e, h in zip(events, horizons, strict=True) for o in e.outcomes]
    over = overrides or {}
    return OutcomeTable(
        ids=[o.id for _, _, o in outs],
        labels=[o.label for _, _, o in outs],
        event_ids=[e.id for e, _, _ in outs],
        event_labels=[e.label for e, _, _ in outs],
        probability=np.array([over.get(o.id, o.probability) for _, _, o in outs], dtype=float),
        horizon_months=np.array([h for _, h, _ in outs], dtype=float),
        outage_hours=np.array([o.outage_hours for _, _, o in outs], dtype=float),
        repeatable=np.array([o.repeatable for _, _, o in outs], dtype=bool),
    )


def stressed_probabilities(source, outcome_ids: list[str]) -> dict[str, float]:
    """Set each named outcome to certainty and its siblings (same event) to zero."""
    events = source.events
    known = {o.id: e for e in events for o in e.outcomes}
    unknown = [i for i in outcome_ids if i not in known]
    if unknown:
        raise KeyError(f"unknown outcome(s) {unknown}; known: {', '.join(known)}")
    picked = {known[i].id: i for i in outcome_ids}
    if len(picked) < len(outcome_ids):
        raise KeyError("stress at most one outcome per event: outcomes of an event are mutually exclusive")
    out: dict[str, float] = {}
    for e in events:
        if e.id in picked:
            out.update({o.id: 1.0 if o.id == picked[e.id] else 0.0 for o in e.outcomes})
    return out


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """(n, features) bool: which proprietary features each deployment uses (looked up per distinct
    feature list: inventories repeat a few combinations)."""
    codes, uniq = pd.factorize(frame["proprietary_features"].astype(str))
    table = np.array([[f in set(u.split(";")) for f in FEATURES] for u in uniq], dtype=bool).reshape(-1, len(FEATURES))
    return table[codes] if len(codes) else np.zeros((0, len(FEATURES)), dtype=bool)


def severity_tensors(
    frame: pd.DataFrame, lib: Library, severity_factors: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Adverse (>= 0) and favourable (<= 0) severity, each (n, outcomes, dims).
    severity_factors: per event id or baseline family, an (n, dims) multiplier from answers that
    blunt that event (e.g. an IP indemnity for copyright outcomes)."""
    n = len(frame)
    feats = feature_matrix(frame)
    # integer codes per column: a rule's mask is a lookup of its allowed values (no per-rule pandas)
    coded = {key: pd.factorize(frame[col].astype(str)) for key, col in
             (("channels", "channel"), ("vendors", "model_vendor"), ("jurisdictions", "jurisdiction"))}
    regimes = set(lib.profile.regimes)
    entities = set(lib.profile.jurisdictions)  # where the regulated entity is established
    outs = [(e, o) for e in lib.events for o in e.outcomes]
    zero = np.zeros((n, len(DIMENSIONS)))
    pos_o, neg_o = [], []
    for _, out in outs:
        p_, n_ = zero, zero
        for rule in out.impacts:
            if rule.match.regimes and not regimes.intersection(rule.match.regimes):
                continue
            if rule.match.entities and not entities.intersection(rule.match.entities):
                continue
            mask = np.ones(n, dtype=bool)
            for key, (codes, uniq) in coded.items():
                values = {str(v) for v in getattr(rule.match, key)}
                if values:
                    mask &= np.isin(uniq, list(values))[codes] if len(uniq) else np.zeros(n, dtype=bool)
            if rule.match.features:
                mask &= feats[:, [FEATURES.index(f) for f in rule.match.features]].any(axis=1)
            sev = np.array([rule.severity.get(d, 0.0) for d in DIMENSIONS])
            hit = mask[:, None] * sev[None, :]
            if (sev >= 0).all():
                p_ = np.maximum(p_, hit)
            else:
                n_ = np.minimum(n_, hit)
        pos_o.append(p_)
        neg_o.append(n_)
    shape = (n, 0, len(DIMENSIONS))
    pos = np.stack(pos_o, axis=1) if outs else np.zeros(shape)
    neg = np.stack(neg_o, axis=1) if outs else np.zeros(shape)
    for key, factor in (severity_factors or {}).items():
        cols_ = [j for j, (e, _) in enumerate(outs) if key in (e.id, e.family)]
        if cols_:
            pos[:, cols_, :] = np.minimum(pos[:, cols_, :] * factor[:, None, :], 1.0)
    return pos, neg


@dataclass(frozen=True)
class Profiles:
    """Deployments grouped by what decides which outcomes reach them and how hard: channel, model
    vendor, jurisdiction, proprietary features and the answers scoped to events. An inventory of
    20,000 rows has a few hundred such profiles, so the outcomes x dimensions work is done once per
    profile and only per-deployment factors (vulnerability, weights) are applied row by row."""

    inverse: np.ndarray  # (n,) profile of each deployment
    pos: np.ndarray  # (profiles, outcomes, dims) adverse severity
    neg: np.ndarray  # (profiles, outcomes, dims) favourable severity (<= 0)

    def subset(self, rows: np.ndarray) -> Profiles:
        """The same profiles for a subset of the deployments (in the order of `rows`)."""
        return Profiles(self.inverse[rows], self.pos, self.neg)


def exposure_profiles(frame: pd.DataFrame, lib: Library,
                      severity_factors: dict[str, np.ndarray] | None = None) -> Profiles:
    """Severity tensors computed once per distinct profile (see Profiles)."""
    keys = [pd.factorize(frame[c].astype(str))[0] for c in
            ("channel", "model_vendor", "jurisdiction", "proprietary_features")]
    scoped = dict(severity_factors or {})
    if not len(frame):
        pos, neg = severity_tensors(frame, lib, scoped)
        return Profiles(np.zeros(0, dtype=int), pos, neg)
    columns = keys + [pd.factorize(f[:, k])[0] for f in scoped.values() for k in range(f.shape[1])]
    key = np.zeros(len(frame), dtype=np.int64)
    for codes in columns:  # one integer per combination, re-coded densely after each column (no overflow)
        key = pd.factorize(key * (int(codes.max()) + 1) + codes)[0].astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rows = frame.iloc[first]
    pos, neg = severity_tensors(rows, lib, {k: f[first] for k, f in scoped.items()})
    return Profiles(inverse.ravel(), pos, neg)


@dataclass(frozen=True)
class Factor:
    id: str
    values: np.ndarray  # (n, dims) multipliers of the raw vulnerability
    dims: tuple[int, ...]  # dimensions the factor can touch (for its one-number summary)


def feature_count(frame: pd.DataFrame) -> np.ndarray:
    s = frame["proprietary_features"].astype(str)
    return np.where(s == "", 0, s.str.count(";") + 1).astype(float)


def contract_position(frame: pd.DataFrame, ref: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """(share of the coming year still under contract, out of contract) per deployment.
    A blank end date counts as a full year under contract (the commitment is all at risk)."""
    codes, dates = pd.factorize(frame["contract_end"])  # a few distinct dates: convert those only
    end = pd.to_datetime(pd.Series(dates, dtype=object), errors="coerce")
    per_date = np.append(((end - pd.Timestamp(ref)).dt.days / 30.4375).to_numpy(float), np.nan)
    months = per_date[codes]  # code -1 (blank) -> nan
    known = ~np.isnan(months)
    share = np.where(known, np.clip(np.nan_to_num(months) / 12.0, 0.0, 1.0), 1.0)
    return share, known & (np.nan_to_num(months) < 0)


def committed_at_risk(frame: pd.DataFrame, ref: dt.date) -> np.ndarray:
    """Committed spend that an outcome in the coming year could strand: none once the contract has
    ended, and only the share of the year the contract still runs (outcomes arrive through the year)."""
    share, _ = contract_position(frame, ref)
    return frame["committed_spend_usd"].to_numpy(float) * share


def committed_years(frame: pd.DataFrame, ref: dt.date, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """(years a commitment still binds the deployment, capped; out of contract). The lock-in of a
    commitment is how long it binds, not its size against the spend: the amount is the stranded
    loss, and more spend with the same commitment must never look safer. A blank end date binds a
    year (as its commitment is all at risk); no commitment binds nothing."""
    codes, dates = pd.factorize(frame["contract_end"])
    end = pd.to_datetime(pd.Series(dates, dtype=object), errors="coerce")
    years = np.append(((end - pd.Timestamp(ref)).dt.days / 365.25).to_numpy(float), np.nan)[codes]
    _, expired = contract_position(frame, ref)
    bound = np.where(np.isnan(years), 1.0, np.clip(np.nan_to_num(years), 0.0, cap))
    return np.where(frame["committed_spend_usd"].to_numpy(float) > 0, bound, 0.0), expired


def loss_bases(frame: pd.DataFrame, lib: Library, ref: dt.date) -> np.ndarray:
    """(n, dims) what a full hit in each dimension costs the deployment before severity, vulnerability
    and (for downtime) the outage hours: downtime per hour, spend, committed spend at risk on `ref`,
    switching effort, compliance cost."""
    a = lib.assumptions
    weeks = a.base_switching_weeks.value * (1 + a.weeks_per_feature_share.value * feature_count(frame))
    hourly = lookup(frame["criticality"], {c.value: v for c, v in a.downtime_usd_per_hour.value.items()})
    comp = lookup(frame["data_sensitivity"], {s.value: v for s, v in a.compliance_usd.value.items()})
    by_dim = {"continuity": hourly, "cost": frame["annual_spend_usd"].to_numpy(float),
              "contract": committed_at_risk(frame, ref),
              "capability": a.person_week_usd.value * weeks, "compliance": comp}
    return np.column_stack([by_dim[d] for d in DIMENSIONS]) if len(frame) else np.zeros((0, len(DIMENSIONS)))


def outcome_hours(outcomes: OutcomeTable) -> np.ndarray:
    """(outcomes, dims): 1, but the outcome's outage hours for the downtime dimension."""
    hours = np.ones((len(outcomes.ids), len(DIMENSIONS)))
    hours[:, DIMENSIONS.index("continuity")] = outcomes.outage_hours
    return hours


def pert_mean(low: float, mode: float, high: float) -> float:
    return (low + 4 * mode + high) / 6


def vulnerability_factors(
    frame: pd.DataFrame, answers: AnswerMap, lib: Library, ref: dt.date, controls: bool = True,
    groups: AnswerGroups | None = None,
) -> tuple[list[Factor], list[list[str]]]:
    """Named multiplicative factors; controls=False gives the inherent (no-control) view. `groups`:
    rows_by_answers of the frame's rows, when the caller has it."""
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
    bound, expired = committed_years(frame, ref, sc.committed_years_cap)
    ooc = np.array([sc.out_of_contract.get(d, 1.0) for d in DIMENSIONS])
    factors = [
        Factor("fallback_status", fb_t[fb_idx], touched(fb_t)),
        Factor("abstraction_layer", ab_t[ab_idx], touched(ab_t)),
        Factor("proprietary_features", 1 + feature_count(frame)[:, None] * step_f, touched(step_f[None] + 1)),
        Factor("committed_spend", 1 + bound[:, None] * step_c, touched(step_c[None] + 1)),
        Factor("out_of_contract", np.where(expired[:, None], ooc[None, :], 1.0), touched(ooc[None])),
    ]
    arrays, assumed = answer_factor_arrays(frame["deployment_id"].tolist(), answers, lib.questions, ref,
                                           use_defaults_only=not controls, groups=groups)
    for qid, arr in arrays.items():
        dims = tuple(DIMENSIONS.index(d) for d in lib.questions[qid].dimensions)
        factors.append(Factor(f"q:{qid}", arr, dims))
    return factors, assumed


def lookup(column: pd.Series, mapping, default: float = np.nan) -> np.ndarray:
    """Series.map for a few distinct values, by factorising first (Arrow-backed string columns map
    element by element in Python otherwise). `mapping`: a dict or a function of the value."""
    codes, uniq = pd.factorize(column)
    get = mapping.get if isinstance(mapping, dict) else mapping
    table = np.array([get(u) for u in uniq] + [default], dtype=float)
    return table[codes]  # code -1 (missing) -> default


def weights(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    sc = lib.scoring
    crit = lookup(frame["criticality"], {c.value: w for c, w in sc.criticality_weight.items()})
    sens = lookup(frame["data_sensitivity"], {s.value: w for s, w in sc.sensitivity_weight.items()})
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


def saturate(raw: np.ndarray) -> np.ndarray:
    """Vulnerability 0-1 from the raw product of factors: strictly increasing, so every control
    (a factor below 1) lowers it however exposed the deployment is."""
    return -np.expm1(-raw)


@dataclass
class Scores:
    """Per-deployment results plus the arrays behind the drivers, the loss model and the simulation."""

    table: pd.DataFrame  # deployment_id, score, likelihood, impact, rating, p_hit, p_reach, impact_usd, dimensions
    outcome_points: np.ndarray  # (n, outcomes) score points per outcome, rows add up to score ((n, 0) if not asked)
    factors: list[Factor]
    assumed: list[list[str]]
    raw_vulnerability: np.ndarray  # (n, dims) base x product of factors
    vulnerability: np.ndarray  # (n, dims) saturate(raw)
    outcomes: OutcomeTable
    profiles: Profiles  # the severities per exposure profile (re-used to score levers on the same rows)
    profile_relief: Relief  # relief per profile
    loss: np.ndarray  # (n, dims) closed-form expected annual loss (USD) by component

    # Per-deployment expansions of the profiles, built only when asked for (tests and benchmarks;
    # the engine works per profile).
    @cached_property
    def severity(self) -> np.ndarray:
        """(n, outcomes, dims) adverse severity."""
        return self.profiles.pos[self.profiles.inverse]

    @cached_property
    def relief(self) -> Relief:
        """What favourable outcomes of other events leave of each adverse outcome, per deployment."""
        return self.profile_relief.take(self.profiles.inverse)


def score(
    frame: pd.DataFrame, answers: AnswerMap, lib: Library, probabilities: dict[str, float] | None = None,
    controls: bool = True, ref: dt.date | None = None, profiles: Profiles | None = None, lean: bool = False,
) -> Scores:
    """Score every deployment of a validated inventory frame against the events of the library.
    `profiles`: exposure profiles already computed for these rows — valid only when channel, vendor,
    jurisdiction, features and event-scoped answers are unchanged (a lever re-scored on its target).
    `lean=True` gives only what scores and expected losses need (the recommender scores every
    option this way): no per-outcome score points (drivers), likelihood, impact or rating.
    `ref`: the assessment date contracts are measured against (default: the library's)."""
    ref = ref or lib.reference_date
    outcomes = outcome_table(lib, probabilities)
    ids = frame["deployment_id"].tolist()
    answers = with_inventory_facts(ids, frame["fallback_status"].tolist(), answers, lib.questions)
    groups = rows_by_answers(ids, answers)  # the rows of each distinct answers mapping, found once
    if profiles is None:
        # answers that blunt particular events (an IP indemnity for copyright outcomes, a long
        # deprecation notice for model retirements) scale those events' severities
        scoped = scoped_answer_factors(ids, answers, lib.questions, ref, use_defaults_only=not controls,
                                       groups=groups)
        profiles = exposure_profiles(frame, lib, scoped)
    factors, assumed = vulnerability_factors(frame, answers, lib, ref, controls, groups)
    raw = _raw_vulnerability(lib, factors, len(frame))
    bases = loss_bases(frame, lib, ref)
    chances = None
    if not lean:
        # What reaches a deployment, and whether it is material, is judged before its controls
        # (inventory and answers): a control lowers the loss when something happens (the impact),
        # never the likelihood that it does.
        inh_profiles, inh_raw = profiles, raw
        if controls:
            inh_raw = _inherent_raw(lib, factors, len(frame), ref)
            scoped_ids = {qid for qid, q in lib.questions.items() if q.scope_events and not q.record_only}
            if any(scoped_ids.intersection(per) for per in answers.values()):  # else the severities are the same
                inh_profiles = exposure_profiles(frame, lib, scoped_answer_factors(
                    ids, answers, lib.questions, ref, use_defaults_only=True, groups=groups))
        material = _material(inh_profiles, saturate(inh_raw) * bases, outcome_hours(outcomes),
                             lib.profile.risk_appetite.materiality_usd)
        reach = _p_any(outcomes.annual, inh_profiles.pos.max(axis=2) > 0, outcomes.event_index)  # per profile
        chances = (_p_any(outcomes.annual, material, outcomes.event_index), reach[inh_profiles.inverse])
    return _combine(frame, lib, outcomes, profiles, raw, factors, assumed, bases, chances)


def _inherent_raw(lib: Library, factors: list[Factor], n: int, ref: dt.date) -> np.ndarray:
    """The raw vulnerability without controls (what `vulnerability_factors(controls=False)` gives),
    from the residual factors: no fallback, no abstraction layer, every answer at its default."""
    sc = lib.scoring.factors
    raw = np.full((n, len(DIMENSIONS)), lib.scoring.base_vulnerability)
    for f in factors:
        if f.id == "fallback_status":
            row = sc.fallback_status[FallbackStatus.none]
        elif f.id == "abstraction_layer":
            row = sc.abstraction_layer["no"]
        elif f.id.startswith("q:"):
            q = lib.questions[f.id[2:]]
            row = answer_factors(q, q.default, ref)
        else:  # inventory facts, not controls: the same with or without controls
            raw = raw * f.values
            continue
        raw = raw * np.array([row.get(d, 1.0) for d in DIMENSIONS])[None, :]
    return raw


def _raw_vulnerability(lib: Library, factors: list[Factor], n: int) -> np.ndarray:
    raw = np.full((n, len(DIMENSIONS)), lib.scoring.base_vulnerability)
    for f in factors:
        raw = raw * f.values
    return raw


def _favourable_events(annual: np.ndarray, neg: np.ndarray, event_index: np.ndarray):
    """Per event with favourable outcomes: (event, its favourable outcomes, q (n, k)) where q is the
    expected share of exposure the event removes in a year, sum over its outcomes of A(f) x |sev(f)|
    (outcomes of an event exclude each other, so their shares add)."""
    fav = np.flatnonzero((neg < 0).any(axis=(0, 2)))
    for e in np.unique(event_index[fav]):
        members = fav[event_index[fav] == e]
        q = np.minimum((annual[members][None, :, None] * -neg[:, members, :]).sum(axis=1), MAX_RELIEF)
        yield e, members, q


@dataclass(frozen=True)
class Relief:
    """What favourable outcomes leave of each adverse outcome's exposure, stored compactly: outcomes
    of the same event share one multiplier, so there is one (n, dims) multiplier per event that has
    favourable outcomes plus one for every other outcome (the last column)."""

    keep: np.ndarray  # (n, columns, dims) multiplier <= 1
    logs: np.ndarray  # (n, events with favourable outcomes, dims) log(1 - q_e)
    column: np.ndarray  # (outcomes,) which keep column applies to the outcome
    events: list  # [(event index, favourable outcome indices, q (n, dims))]

    def grouped(self, tensor: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """sum over outcomes of weights[o] x tensor[:, o, :] x keep[:, column[o], :] -> (n, dims)."""
        return (self.by_column(tensor, weights) * self.keep).sum(axis=1)

    def by_column(self, tensor: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """(n, columns, dims): sum over the outcomes of each column of weights[o] x tensor[:, o, :]."""
        w = np.ones(len(self.column)) if weights is None else np.asarray(weights, float)
        out = np.empty((tensor.shape[0], self.keep.shape[1], tensor.shape[2]))
        rest = np.einsum("nok,o->nk", tensor, w)
        for c in range(self.keep.shape[1] - 1):  # the few outcomes of events with favourable outcomes
            idx = np.flatnonzero(self.column == c)
            out[:, c, :] = np.einsum("nok,o->nk", tensor[:, idx, :], w[idx])
            rest -= out[:, c, :]
        out[:, -1, :] = rest  # every other outcome
        return out

    def full(self) -> np.ndarray:
        """(n, outcomes, dims) multipliers (tests and benchmarks; the engine uses `grouped`)."""
        return self.keep[:, self.column, :]

    def take(self, rows: np.ndarray) -> Relief:
        """The relief of the given rows (profiles -> deployments)."""
        return Relief(self.keep[rows], self.logs[rows], self.column, [(e, m, q[rows]) for e, m, q in self.events])


def relief_of(annual: np.ndarray, neg: np.ndarray, event_index: np.ndarray) -> Relief:
    """For each adverse outcome, the product over *other* events of (1 - q_e), the expected share of
    exposure those events' favourable outcomes leave (independent events; an outcome is never
    relieved by its own event, whose outcomes exclude it)."""
    n, n_out, k = neg.shape
    fav = list(_favourable_events(annual, neg, event_index))
    logs = np.stack([np.log1p(-q) for _, _, q in fav], axis=1) if fav else np.zeros((n, 0, k))
    column = np.full(n_out, len(fav))
    for c, (e, _, _) in enumerate(fav):
        column[event_index == e] = c
    own = np.concatenate([logs, np.zeros((n, 1, k))], axis=1)
    keep = np.exp(logs.sum(axis=1)[:, None, :] - own)
    return Relief(keep, logs, column, fav)


def _relief_points(adverse: np.ndarray, relief: Relief, annual: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """(n, outcomes, dims) exposure removed by each favourable outcome (<= 0 entries, zero elsewhere):
    the relief of each column is split among the other events in proportion to their log-shares,
    and within an event among its favourable outcomes in proportion to A(f) x |sev(f)|."""
    out = np.zeros_like(adverse)
    if not relief.events:
        return out
    by_column = relief.by_column(adverse)  # (n, c, k)
    removed = by_column * (1 - relief.keep)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_keep = np.log(relief.keep)
        per_log = np.where(log_keep < 0, removed / log_keep, 0.0)  # removed per unit of log relief
    total = per_log.sum(axis=1)
    for c, (_, members, q) in enumerate(relief.events):
        by_event = (total - per_log[:, c, :]) * relief.logs[:, c, :]  # (n, k) >= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            for f in members:
                out[:, f, :] = -by_event * np.where(q > 0, annual[f] * -neg[:, f, :] / q, 0.0)
    return out


def _p_any(annual: np.ndarray, which: np.ndarray, event_index: np.ndarray) -> np.ndarray:
    """(n,) chance that at least one of the flagged outcomes happens in a year (outcomes of an event
    exclude each other, events are independent)."""
    n_events = int(event_index.max()) + 1 if len(event_index) else 0
    one_hot = np.zeros((len(event_index), n_events))
    one_hot[np.arange(len(event_index)), event_index] = 1.0
    p_event = (which * annual[None, :]) @ one_hot
    return np.maximum(-np.expm1(np.log1p(-np.minimum(p_event, 1 - 1e-12)).sum(axis=1)), 0.0)


def _combine(frame, lib, outcomes, profiles: Profiles, raw, factors, assumed, bases: np.ndarray,
             chances: tuple[np.ndarray, np.ndarray] | None) -> Scores:
    """Scores, expected losses and, given `chances` (the annual chance that anything material, and
    that anything at all, reaches each deployment; None: lean), drivers, likelihood, impact, rating."""
    sc = lib.scoring
    annual = outcomes.annual
    ev = outcomes.event_index
    inv = profiles.inverse
    vuln = saturate(raw)
    vw = vuln * weights(frame, lib)  # (n, k): harm = pos x vw, the outcome-independent part per deployment
    dim_w = np.array([sc.dimension_weights[d] for d in DIMENSIONS])
    relief_p = relief_of(annual, profiles.neg, ev)  # per profile
    final = vw * relief_p.grouped(profiles.pos, annual)[inv]  # (n, k)
    raw_score = sc.calibration * final @ dim_w
    scores = 100 * -np.expm1(-raw_score)
    a = lib.assumptions
    # closed-form expected annual loss: severity x hours x relief summed per profile, then x vulnerability
    # x loss base per deployment x the PERT mean of the magnitude (the simulation converges to it)
    # (occurrences a year: an outage or price change can happen more than once, OutcomeTable.frequency)
    loss = (vuln * bases * relief_p.grouped(profiles.pos * outcome_hours(outcomes)[None], outcomes.frequency)[inv]
            * pert_mean(a.pert_low.value, 1.0, a.pert_high.value))
    table = pd.DataFrame({"deployment_id": frame["deployment_id"].to_numpy(), "score": scores})
    for k, d in enumerate(DIMENSIONS):
        table[d] = 100 * -np.expm1(-sc.calibration * final[:, k])
    if chances is None:
        return Scores(table, np.zeros((len(frame), 0)), factors, assumed, raw, vuln, outcomes, profiles, relief_p,
                      loss)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_raw = np.where(raw_score > 0, scores / raw_score, 0.0)
    adverse_p = annual[None, :, None] * profiles.pos
    contrib_p = adverse_p + _relief_points(adverse_p, relief_p, annual, profiles.neg)  # linear in vw
    outcome_points = per_raw[:, None] * sc.calibration * np.einsum("nk,nok->no", vw * dim_w, contrib_p[inv])

    # Likelihood: the annual chance that anything material reaches the deployment. Impact: the loss
    # when something does — the expected annual loss over the chance that anything reaches it (the
    # expected loss of such a year, exactly: nothing is lost in the other years), banded by the
    # organisation's risk appetite in money. Neither chance depends on the controls, so a control
    # moves the impact exactly as much as it moves the loss, and for equal chances the rating
    # follows the expected loss.
    p_hit, p_reach = chances
    with np.errstate(divide="ignore", invalid="ignore"):
        impact_usd = np.where(p_reach > 0, loss.sum(axis=1) / p_reach, 0.0)
    likelihood = band(p_hit, sc.likelihood_bounds)
    impact = band(impact_usd, list(lib.profile.risk_appetite.impact_usd))
    table.insert(2, "likelihood", likelihood)
    table.insert(3, "impact", impact)
    table.insert(4, "rating", rating_of(likelihood * impact, sc.rating_bounds))
    table.insert(5, "p_hit", p_hit)
    table.insert(6, "p_reach", p_reach)
    table.insert(7, "impact_usd", impact_usd)
    return Scores(table, outcome_points, factors, assumed, raw, vuln, outcomes, profiles, relief_p, loss)


def _material(profiles: Profiles, exposed: np.ndarray, hours: np.ndarray, threshold_usd: float) -> np.ndarray:
    """(n, outcomes) bool: the outcome would cost the deployment at least `threshold_usd` (the modal
    loss: severity x hours x vulnerability x loss base, summed over the dimensions). `exposed` is
    vulnerability x loss base (n, dims). Worked out per profile on the outcomes that reach it at all
    (most severities are zero), instead of over the full deployments x outcomes x dimensions tensor."""
    n, n_out = len(profiles.inverse), profiles.pos.shape[1]
    out = np.zeros((n, n_out), dtype=bool)
    order = np.argsort(profiles.inverse, kind="stable")
    bounds = np.searchsorted(profiles.inverse[order], np.arange(profiles.pos.shape[0] + 1))
    for p in range(profiles.pos.shape[0]):
        rows = order[bounds[p]:bounds[p + 1]]
        cols = np.flatnonzero(profiles.pos[p].max(axis=1) > 0)
        if len(rows) and len(cols):
            out[np.ix_(rows, cols)] = exposed[rows] @ (profiles.pos[p, cols, :] * hours[cols]).T >= threshold_usd
    return out


def effective_factor(s: Scores, f: Factor, rows: np.ndarray | None = None) -> np.ndarray:
    """(n, dims): how much the factor actually changes the vulnerability, i.e. vulnerability with the
    factor / vulnerability without it (what a driver shows, not the raw multiplier). `rows`: only
    these deployments."""
    pick = slice(None) if rows is None else rows
    with np.errstate(divide="ignore", invalid="ignore"):
        without = saturate(s.raw_vulnerability[pick] / f.values[pick])
        return np.where(without > 0, s.vulnerability[pick] / without, 1.0)


def factor_summary(s: Scores, f: Factor, dim_weights: dict[str, float], rows: np.ndarray | None = None) -> np.ndarray:
    """One number per deployment: the factor's effective multiplier, weighted over the dimensions it touches."""
    if not f.dims:
        return np.ones(len(f.values) if rows is None else len(rows))
    w = np.array([dim_weights[DIMENSIONS[i]] for i in f.dims])
    return effective_factor(s, f, rows)[:, list(f.dims)] @ w / w.sum()
