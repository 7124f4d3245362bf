"""What the numbers rest on: every assumption moved ±50 % one at a time (a tornado).

Each assumption is one numeric parameter of config/scoring.yaml or config/assumptions.yaml that
feeds the score or the expected loss (the calibration constant and the base vulnerability among
them), or one event's probability, severity or outage duration as a group. The closed-form
assessment (scores, ratings, expected loss; never the simulation) is re-run with the parameter
x low and x high, and the change in portfolio expected annual loss, in the count of critical
deployments and in the mean score is recorded. Rows are ranked by the largest change in expected
loss, then in critical deployments, then in mean score.

How a value is moved:
* plain numbers (base vulnerability, calibration, costs, weights, bounds): value x factor;
* multipliers whose neutral value is 1 (control factors such as "fallback tested"): their effect,
  the distance from 1, x factor, floored at 0 — a control made 50 % stronger, never a control
  turned into a penalty;
* dimension weights: the one weight x factor, the others rescaled so they still sum to 1;
* probabilities: x factor, capped so an event's mutually exclusive outcomes sum to at most 1;
* severities: x factor, adverse ones capped at 1, favourable ones at -1.

Parameters that move neither figure in closed form are left out and named in NOT_MOVED.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk_models.config.assumptions import PARAMETER_LABELS
from risk_models.config.domain import DIMENSIONS
from risk_models.config.loader import Library
from risk_models.engine.score import Profiles, Scores, score
from risk_models.engine.simulation import expected_losses_exact
from risk_models.questionnaire.answers import AnswerMap

LOW, HIGH = 0.5, 1.5
NOT_MOVED = {
    "common_factor": "shapes only the simulated tail (VaR), not the closed-form expected loss",
    "payback_years": "ranks fallback options only; it feeds neither the score nor the expected loss",
    "probability_spread": "widens or narrows the 90 % intervals only, not the point figures",
    "severity_spread": "widens or narrows the 90 % intervals only, not the point figures",
}


@dataclass(frozen=True)
class Metrics:
    expected_loss: float
    critical: int
    mean_score: float


@dataclass(frozen=True)
class Assumption:
    id: str
    label: str
    group: str  # Scoring, Loss, Event probability, Event severity, Outage duration
    base: str  # the value in use, as a reader would write it
    basis: str  # where the value comes from
    move: Callable[[_Context, float], Metrics]


@dataclass
class _Context:
    frame: pd.DataFrame
    answers: AnswerMap
    lib: Library
    probabilities: dict[str, float]
    base: Scores  # residual scores of the unmoved assessment

    def run(self, lib: Library | None = None, probabilities: dict[str, float] | None = None,
            profiles: Profiles | None = None) -> Metrics:
        lib = lib or self.lib
        s = score(self.frame, self.answers, lib, self.probabilities if probabilities is None else probabilities,
                  profiles=profiles or self.base.profiles)
        return _metrics(self.frame, s, lib)

    def loss_only(self, lib: Library | None = None, scores: Scores | None = None) -> Metrics:
        """Loss parameters move neither scores nor ratings: only the expected loss is recomputed."""
        lib, s = lib or self.lib, scores or self.base
        el = float(expected_losses_exact(self.frame, s, lib).sum())
        t = self.base.table
        return Metrics(el, int((t["rating"] == "critical").sum()), float(t["score"].mean()) if len(t) else 0.0)


def _metrics(frame: pd.DataFrame, s: Scores, lib: Library) -> Metrics:
    t = s.table
    return Metrics(float(expected_losses_exact(frame, s, lib).sum()), int((t["rating"] == "critical").sum()),
                   float(t["score"].mean()) if len(t) else 0.0)


def _effect(v: float, f: float) -> float:
    """A multiplier whose neutral value is 1, with its effect (distance from 1) x f, floored at 0."""
    return max(1.0 - (1.0 - v) * f, 0.0)


def _scoring(lib: Library, **update) -> Library:
    return dataclasses.replace(lib, scoring=lib.scoring.model_copy(update=update))


def _factors(lib: Library, **update) -> Library:
    return _scoring(lib, factors=lib.scoring.factors.model_copy(update=update))


def _assume(lib: Library, name: str, value) -> Library:
    a = lib.assumptions
    param = getattr(a, name).model_copy(update={"value": value})
    return dataclasses.replace(lib, assumptions=a.model_copy(update={name: param}))


def _num(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _scoring_assumptions(lib: Library) -> list[Assumption]:
    sc = lib.scoring
    f = sc.factors
    out = [
        Assumption("base_vulnerability", "Base vulnerability", "Scoring", _num(sc.base_vulnerability),
                   "model constant (docs/method.md)",
                   lambda c, x: c.run(_scoring(c.lib, base_vulnerability=min(c.lib.scoring.base_vulnerability * x, 1.0)))),
        Assumption("calibration", "Calibration constant of the 0–100 score", "Scoring", _num(sc.calibration),
                   "model constant (docs/method.md)",
                   lambda c, x: c.run(_scoring(c.lib, calibration=c.lib.scoring.calibration * x))),
        Assumption("risk_appetite", "Risk appetite: impact bands in money (the first is materiality)", "Scoring",
                   " / ".join(_num(v) for v in lib.profile.risk_appetite.impact_usd),
                   "organisation profile (defaults: an organisation assumption)", _appetite),
    ]

    def dim_weight(d: str) -> Callable[[_Context, float], Metrics]:
        def move(c: _Context, x: float) -> Metrics:
            w = dict(c.lib.scoring.dimension_weights)
            new = min(w[d] * x, 1.0)
            rest = sum(v for k, v in w.items() if k != d)
            w = {k: (new if k == d else v * (1 - new) / rest if rest else 0.0) for k, v in w.items()}
            return c.run(_scoring(c.lib, dimension_weights=w))
        return move

    out += [Assumption(f"dimension_weights.{d}", f"Weight of {d} in the score", "Scoring",
                       _num(sc.dimension_weights[d]), "model constant", dim_weight(d)) for d in DIMENSIONS]

    def level(name: str, key) -> Callable[[_Context, float], Metrics]:
        return lambda c, x: c.run(_scoring(c.lib, **{name: {**getattr(c.lib.scoring, name),
                                                            key: getattr(c.lib.scoring, name)[key] * x}}))

    out += [Assumption(f"criticality_weight.{k.value}", f"Weight of {k.value} criticality", "Scoring", _num(v),
                       "model constant", level("criticality_weight", k)) for k, v in sc.criticality_weight.items()]
    out += [Assumption(f"sensitivity_weight.{k.value}", f"Compliance weight of {k.value} data", "Scoring", _num(v),
                       "model constant", level("sensitivity_weight", k)) for k, v in sc.sensitivity_weight.items()]

    def control(name: str, key: str) -> Callable[[_Context, float], Metrics]:
        def move(c: _Context, x: float) -> Metrics:
            table = dict(getattr(c.lib.scoring.factors, name))
            table[key] = {d: _effect(v, x) for d, v in table[key].items()}
            return c.run(_factors(c.lib, **{name: table}))
        return move

    for key in f.fallback_status:
        if any(v != 1 for v in f.fallback_status[key].values()):
            out.append(Assumption(f"factors.fallback_status.{key}", f"Effect of a fallback that is {key}", "Scoring",
                                  _spread(f.fallback_status[key]), "model constant", control("fallback_status", key)))
    out.append(Assumption("factors.abstraction_layer.yes", "Effect of an abstraction layer", "Scoring",
                          _spread(f.abstraction_layer["yes"]), "model constant", control("abstraction_layer", "yes")))
    out.append(Assumption("factors.out_of_contract", "Effect of being out of contract", "Scoring",
                          _spread(f.out_of_contract), "model constant",
                          lambda c, x: c.run(_factors(c.lib, out_of_contract={
                              d: 1 + (v - 1) * x for d, v in c.lib.scoring.factors.out_of_contract.items()}))))
    for name, label in (("proprietary_feature_step", "Vulnerability added per proprietary feature"),
                        ("committed_spend_step", "Vulnerability added by committed spend")):
        out.append(Assumption(f"factors.{name}", label, "Scoring", _spread(getattr(f, name), neutral=0.0),
                              "model constant", lambda c, x, n=name: c.run(_factors(c.lib, **{
                                  n: {d: v * x for d, v in getattr(c.lib.scoring.factors, n).items()}}))))
    out.append(Assumption("factors.committed_years_cap", "Cap of the years a commitment still binds", "Scoring",
                          _num(f.committed_years_cap), "model constant",
                          lambda c, x: c.run(_factors(c.lib, committed_years_cap=c.lib.scoring.factors.committed_years_cap * x))))
    for name, label in (("likelihood_bounds", "Likelihood band bounds"),):
        out.append(Assumption(name, label, "Scoring", " / ".join(_num(v) for v in getattr(sc, name)), "model constant",
                              lambda c, x, n=name: c.run(_scoring(c.lib, **{n: [v * x for v in getattr(c.lib.scoring, n)]}))))
    out.append(Assumption("rating_bounds", "Rating bounds (likelihood × impact)", "Scoring",
                          " / ".join(_num(v) for v in sc.rating_bounds.values()), "model constant",
                          lambda c, x: c.run(_scoring(c.lib, rating_bounds={k: v * x for k, v in c.lib.scoring.rating_bounds.items()}))))
    return out


def _appetite(c: _Context, x: float) -> Metrics:
    """Every impact band of the risk appetite times x (their ratios, checked by the profile, are kept)."""
    ra = c.lib.profile.risk_appetite
    moved = ra.model_copy(update={"impact_usd": tuple(v * x for v in ra.impact_usd)})
    return c.run(dataclasses.replace(c.lib, profile=c.lib.profile.model_copy(update={"risk_appetite": moved})))


def _spread(values: dict, neutral: float = 1.0) -> str:
    """A per-dimension table in one cell: its smallest and largest value apart from the neutral one."""
    moved = [v for v in values.values() if v != neutral]
    if not moved:
        return _num(neutral)
    lo, hi = min(moved), max(moved)
    return f"×{_num(lo)}" if lo == hi else f"×{_num(lo)}–{_num(hi)}"


def _loss_assumptions(lib: Library) -> list[Assumption]:
    a = lib.assumptions
    out = []
    for row in a.table():
        name = row["parameter"]
        if name in NOT_MOVED:
            continue
        basis = "organisation assumption" if row["basis"] == "assumption" else f"sourced: {row['source']['title']}"
        label = PARAMETER_LABELS.get(name, name)
        if isinstance(row["value"], dict):
            for key, v in row["value"].items():
                def move(c: _Context, x: float, n=name, k=key) -> Metrics:
                    values = dict(getattr(c.lib.assumptions, n).value)
                    values[k] = values[k] * x
                    return c.loss_only(_assume(c.lib, n, values))
                lvl = getattr(key, "value", key)
                out.append(Assumption(f"{name}.{lvl}", f"{label.split(',')[0]}: {lvl}", "Loss", _num(v), basis, move))
        else:
            def move(c: _Context, x: float, n=name) -> Metrics:
                v = getattr(c.lib.assumptions, n).value * x
                if n == "pert_low":
                    v = min(v, 0.999)  # the PERT minimum stays below the estimate
                if n == "pert_high":
                    v = max(v, 1.001)
                return c.loss_only(_assume(c.lib, n, v))
            out.append(Assumption(name, label, "Loss", _num(row["value"]), basis, move))
    return out


def _event_groups(lib: Library) -> list[tuple[str, str, list[int]]]:
    """(id, label, outcome positions): each scenario-pack event, and each baseline template with all
    the channels or vendors it expands to."""
    groups: dict[str, tuple[str, list[int]]] = {}
    pos = 0
    for e in lib.events:
        key, label = (f"baseline.{e.family}", _template_label(lib, e.family)) if e.family else (e.id, e.label)
        groups.setdefault(key, (label, []))[1].extend(range(pos, pos + len(e.outcomes)))
        pos += len(e.outcomes)
    return [(k, label, idx) for k, (label, idx) in groups.items()]


def _template_label(lib: Library, family: str) -> str:
    t = next(t for t in lib.baseline.templates if t.id == family)
    return t.label.replace(": {key}", "").replace("{key}", "").strip() + " (every " + t.per + ")"


def _event_assumptions(lib: Library, probabilities: dict[str, float]) -> list[Assumption]:
    outs = [(e, o) for e in lib.events for o in e.outcomes]
    out = []
    for gid, label, idx in _event_groups(lib):
        members = [outs[i] for i in idx]
        p = [probabilities.get(o.id, o.probability) for _, o in members]
        sources = {s.url for e, _ in members for s in e.sources}
        basis = f"analyst estimate, {len(sources)} source(s)"
        p_text = _num(p[0]) if len(set(p)) == 1 else f"{_num(min(p))}–{_num(max(p))}"

        def prob(c: _Context, x: float, members=members) -> Metrics:
            new = dict(c.probabilities)
            by_event: dict[str, list] = {}
            for e, o in members:
                by_event.setdefault(e.id, []).append(o)
            for os_ in by_event.values():
                base = [c.probabilities.get(o.id, o.probability) for o in os_]
                total = sum(base) * x
                k = x if total <= 1 or not sum(base) else 1 / sum(base)  # mutually exclusive: sum <= 1
                new.update({o.id: b * k for o, b in zip(os_, base, strict=True)})
            return c.run(probabilities=new)

        def sev(c: _Context, x: float, idx=idx) -> Metrics:
            pr = c.base.profiles
            pos, neg = pr.pos.copy(), pr.neg.copy()
            pos[:, idx, :] = np.minimum(pos[:, idx, :] * x, 1.0)
            neg[:, idx, :] = np.maximum(neg[:, idx, :] * x, -1.0)
            return c.run(profiles=Profiles(pr.inverse, pos, neg))

        out.append(Assumption(f"{gid}.probability", f"Probability: {label}", "Event probability", p_text, basis, prob))
        out.append(Assumption(f"{gid}.severity", f"Severity: {label}", "Event severity", "as configured", basis, sev))
        hours = [o.outage_hours for _, o in members]
        if any(hours):
            def dur(c: _Context, x: float, idx=idx) -> Metrics:
                o = c.base.outcomes
                h = o.outage_hours.copy()
                h[idx] = h[idx] * x
                return c.loss_only(scores=dataclasses.replace(c.base, outcomes=dataclasses.replace(o, outage_hours=h)))
            h_text = _num(hours[0]) if len(set(hours)) == 1 else f"{_num(min(hours))}–{_num(max(hours))}"
            out.append(Assumption(f"{gid}.outage_hours", f"Outage hours: {label}", "Outage duration",
                                  f"{h_text} h", basis, dur))
    return out


def assumptions_of(lib: Library, probabilities: dict[str, float] | None = None) -> list[Assumption]:
    """Every assumption the tornado moves, in config order."""
    probs = probabilities or {}
    return _scoring_assumptions(lib) + (_loss_assumptions(lib) if lib.assumptions else []) + \
        _event_assumptions(lib, probs)


def context(frame: pd.DataFrame, answers: AnswerMap, lib: Library, probabilities: dict[str, float] | None = None,
            base: Scores | None = None) -> _Context:
    probs = dict(probabilities or {})
    return _Context(frame, answers, lib, probs, base if base is not None else score(frame, answers, lib, probs))


def moved(ctx: _Context, assumption: Assumption, factor: float) -> Metrics:
    """The portfolio with one assumption x factor."""
    return assumption.move(ctx, factor)


def sensitivity(frame: pd.DataFrame, answers: AnswerMap, lib: Library, probabilities: dict[str, float] | None = None,
                base: Scores | None = None, low: float = LOW, high: float = HIGH) -> dict:
    """The ranked tornado of the closed-form assessment (see the module docstring); `base`: the residual
    scores already computed for these inputs (saves one scoring)."""
    ctx = context(frame, answers, lib, probabilities, base)
    b = _metrics(frame, ctx.base, lib)
    rows = []
    for a in assumptions_of(lib, ctx.probabilities):
        lo, hi = a.move(ctx, low), a.move(ctx, high)
        rows.append({
            "id": a.id, "label": a.label, "group": a.group, "base_value": a.base, "basis": a.basis,
            "expected_loss_low_usd": round(lo.expected_loss - b.expected_loss, 2),
            "expected_loss_high_usd": round(hi.expected_loss - b.expected_loss, 2),
            "critical_low": lo.critical - b.critical, "critical_high": hi.critical - b.critical,
            "mean_score_low": round(lo.mean_score - b.mean_score, 3),
            "mean_score_high": round(hi.mean_score - b.mean_score, 3),
        })
    return {"low_factor": low, "high_factor": high,
            "base": {"expected_loss_usd": round(b.expected_loss, 2), "critical": b.critical,
                     "mean_score": round(b.mean_score, 3)},
            "not_moved": [{"id": k, "label": PARAMETER_LABELS.get(k, k), "reason": v} for k, v in NOT_MOVED.items()],
            "rows": rank(rows)}


def swing(row: dict, metric: str) -> float:
    """The larger absolute change of one row in `metric` (expected_loss, critical or mean_score)."""
    suffix = "_usd" if metric == "expected_loss" else ""
    return max(abs(row[f"{metric}_low{suffix}"]), abs(row[f"{metric}_high{suffix}"]))


def rank(rows: list[dict], by: str = "expected_loss") -> list[dict]:
    """Largest effect first: by `by`, ties broken by the other two metrics, then by label."""
    others = [m for m in ("expected_loss", "critical", "mean_score") if m != by]
    return sorted(rows, key=lambda r: (-swing(r, by), *(-swing(r, m) for m in others), r["label"]))
