"""Fallback recommender: for every deployment, every option of config/fallbacks.yaml — feasible or
not (with reasons) — and, for feasible ones, the residual score and expected loss of *the
deployment as it would be after the option* (risk_models.target_state), scored by the same engine.

Ranking is what a CFO would sign: net annual value = expected loss avoided - run-cost change -
one-off cost spread over the payback period (one-off = the option's cost + rebuilding proprietary
features + committed spend a switch strands), per person-week of effort. An option that costs more
than it saves is shown as such and is never the top recommendation. The recommended *exit target*
is the best switch (another channel, model or vendor); contract and process levers are supporting
actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from risk_models.answers import AnswerMap
from risk_models.config_loader import Library
from risk_models.config_schema import FallbackOption
from risk_models.models import DataSensitivity
from risk_models.scoring import Scores, contract_position, feature_count, score
from risk_models.simulation import expected_losses_exact
from risk_models.target_state import apply_option

SENSITIVITY_ORDER = [s.value for s in DataSensitivity]
SWITCH_KINDS = ("channel_switch", "model_switch", "vendor_switch")
MIN_EFFORT_WEEKS = 0.5


def may_leave_region(frame: pd.DataFrame, answers: AnswerMap) -> np.ndarray:
    """Per deployment: may its data leave its region (questionnaire answer; default no)."""
    return np.array([answers.get(d, {}).get("data_may_leave_region") == "yes" for d in frame["deployment_id"].tolist()],
                    dtype=bool)


def infeasibility(frame: pd.DataFrame, may_leave: np.ndarray, lib: Library, option: FallbackOption) -> list[list[str]]:
    """Per deployment, the reasons the option does not fit (empty list = feasible)."""
    n = len(frame)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def add(mask: np.ndarray, message) -> None:
        for i in np.flatnonzero(mask):
            reasons[i].append(message(i) if callable(message) else message)

    ch, vendor = frame["channel"].to_numpy(), frame["model_vendor"].to_numpy()
    jur, sens = frame["jurisdiction"].to_numpy(), frame["data_sensitivity"].to_numpy()
    at = option.applies_to
    if at.channels:
        add(~np.isin(ch, at.channels), f"applies to {', '.join(lib.channel_label(c) for c in at.channels)} deployments only")
    if at.vendors:
        add(~np.isin(vendor, at.vendors), f"applies to {', '.join(lib.vendor_label(v) for v in at.vendors)} models only")
    if option.is_switch:
        target_vendor = np.where(option.after.model is None, vendor, option.target_vendor)
        add((ch == option.target_channel) & (vendor == target_vendor), "the deployment already runs there")
    allowed = [j.value for j in option.allowed_jurisdictions]
    region_bound = ~may_leave | (sens == "regulated")
    served = ", ".join(a.upper().replace("ON_PREM", "on-prem") for a in allowed)
    stay = {(j, s): f"{j.upper().replace('ON_PREM', 'on-prem')} {s} data must stay in its region; "
                    f"this option serves {served} regions only" for j in set(jur) for s in set(sens)}
    add(~np.isin(jur, allowed) & region_bound, lambda i: stay[jur[i], sens[i]])
    if option.is_switch and option.after.region is None:
        add(~np.isin(jur, allowed) & ~region_bound, f"this option serves {served} regions only and names no region to move to")
    limit = SENSITIVITY_ORDER.index(option.max_sensitivity.value)
    too_sensitive = frame["data_sensitivity"].map(SENSITIVITY_ORDER.index).to_numpy() > limit
    too = {s: f"{s} data exceeds what this option allows ({option.max_sensitivity.value})" for s in set(sens)}
    add(too_sensitive, lambda i: too[sens[i]])
    if option.is_switch and option.cannot_replace_features:
        codes, uniq = pd.factorize(frame["proprietary_features"].astype(str))  # a few distinct combinations
        cannot = {c.value for c in option.cannot_replace_features}
        blocked = [", ".join(sorted(set(u.split(";")) & cannot)) for u in uniq]
        add(np.array([bool(blocked[c]) for c in codes], dtype=bool),
            lambda i: f"uses {blocked[codes[i]]}: no equivalent on target")
    return reasons


@dataclass
class Recommendations:
    """Per option arrays over deployments; `records(i)` turns them into one deployment's ranked list."""

    options: list[FallbackOption]
    reasons: list[list[list[str]]]  # [option][deployment] -> reasons
    residual: np.ndarray  # (options, n) score after the option (current score where infeasible)
    residual_loss: np.ndarray  # (options, n) expected annual loss after the option
    current: np.ndarray  # (n,)
    current_loss: np.ndarray  # (n,)
    spend: np.ndarray  # (n,)
    effort: np.ndarray  # (options, n, 2) person-weeks low/high, incl. rebuilding proprietary features
    one_off: np.ndarray  # (options, n) USD: option cost + feature rebuild + stranded commitment
    stranded: np.ndarray  # (options, n) USD committed spend a switch strands
    payback_years: float
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._feasible = np.array([[not r for r in per_dep] for per_dep in self.reasons], dtype=bool).reshape(
            len(self.options), len(self.current))
        run = np.array([o.run_cost_delta_pct for o in self.options])[:, None] / 100 * self.spend[None, :]
        self.run_cost_delta = run
        self.loss_avoided = np.where(self._feasible, self.current_loss[None, :] - self.residual_loss, 0.0)
        self.net_value = np.where(self._feasible, self.loss_avoided - run - self.one_off / self.payback_years, 0.0)
        weeks = np.maximum(self.effort.mean(axis=2), MIN_EFFORT_WEEKS)
        key = np.where(self._feasible, self.net_value / weeks, -np.inf)
        # order per deployment: feasible options that lower the expected loss and pay for themselves
        # first (best value per week), then the other feasible ones, then the infeasible ones; ties by
        # config order. A cheaper target that is riskier is never recommended as a fallback.
        self._pays = self._feasible & (self.net_value > 0) & (self.loss_avoided > 0)
        group = np.where(self._pays, 0, np.where(self._feasible, 1, 2))
        idx = np.arange(len(self.options))[:, None].repeat(len(self.current), axis=1)
        self._order = np.lexsort((idx, -np.where(np.isfinite(key), key, 0), group), axis=0)
        self._switch = np.array([o.is_switch for o in self.options], dtype=bool)

    def feasible(self) -> np.ndarray:
        """(options, n) bool."""
        return self._feasible

    def ranking(self, i: int) -> list[int]:
        return [int(k) for k in self._order[:, i]]

    def top(self, i: int) -> int | None:
        """The best option for deployment i if any saves more than it costs."""
        first = int(self._order[0, i])
        return first if self._pays[first, i] else None

    def exit_target(self, i: int) -> int | None:
        """The best feasible switch (another channel, model or vendor), whatever its net value."""
        for k in self._order[:, i]:
            if self._switch[k] and self._feasible[k, i]:
                return int(k)
        return None

    def _columns(self) -> dict:
        """Rounded per-option columns as Python lists, built once (records() is called per row)."""
        if not self._cache:
            feas = self._feasible
            r2 = lambda a: np.round(a, 2).tolist()  # noqa: E731
            self._cache.update(
                residual=r2(np.where(feas, self.residual, self.current[None, :])),
                reduction=r2(np.where(feas, self.current[None, :] - self.residual, 0.0)),
                residual_loss=r2(np.where(feas, self.residual_loss, self.current_loss[None, :])),
                loss_avoided=r2(self.loss_avoided), net=r2(self.net_value), one_off=r2(self.one_off),
                stranded=r2(self.stranded), run=r2(self.run_cost_delta), effort=np.round(self.effort, 1).tolist(),
                static=[{"option_id": o.id, "label": o.label, "kind": o.kind, "channel": o.target_channel,
                         "vendor": o.target_vendor, "model": o.after.model,
                         "jurisdictions": [j.value for j in o.allowed_jurisdictions],
                         "cost_delta_pct": o.run_cost_delta_pct, "capability_gap": o.capability_gap}
                        for o in self.options])
        return self._cache

    def records(self, i: int, lib: Library | None = None) -> list[dict]:
        c = self._columns()
        out = []
        for k in self._order[:, i]:
            ok = bool(self._feasible[k, i])
            out.append(c["static"][k] | {
                "feasible": ok, "reasons": self.reasons[k][i], "effort_weeks": c["effort"][k][i],
                "risk_reduction": c["reduction"][k][i], "residual_score": c["residual"][k][i],
                "residual_expected_loss_usd": c["residual_loss"][k][i],
                "expected_loss_reduction_usd": c["loss_avoided"][k][i],
                "one_off_cost_usd": c["one_off"][k][i], "stranded_commitment_usd": c["stranded"][k][i],
                "run_cost_delta_usd": c["run"][k][i], "net_annual_value_usd": c["net"][k][i],
                "costs_more_than_it_saves": ok and c["net"][k][i] <= 0,
                "raises_expected_loss": ok and c["loss_avoided"][k][i] < 0,
            })
        return out


def recommend(frame: pd.DataFrame, answers: AnswerMap, lib: Library, scores: Scores,
              probabilities: dict[str, float] | None = None) -> Recommendations:
    options = lib.fallbacks.options
    n = len(frame)
    base_loss = expected_losses_exact(frame, scores, lib)
    current = scores.table["score"].to_numpy()
    may_leave = may_leave_region(frame, answers)
    residual = np.repeat(current[None, :], len(options), axis=0)
    residual_loss = np.repeat(base_loss[None, :], len(options), axis=0)
    reasons = []
    for k, o in enumerate(options):
        why = infeasibility(frame, may_leave, lib, o)
        reasons.append(why)
        rows = np.flatnonzero([not r for r in why])
        if not len(rows):
            continue
        sub = frame.iloc[rows].reset_index(drop=True)
        after_frame, after_answers = apply_option(sub, answers, o, lib)
        # a lever keeps channel, vendor, region and features: the severities are the same rows'
        # (unless it secures an answer that scales some events' severity)
        scoped = any(lib.questions[q].scope_events for q in o.after.answers if q in lib.questions)
        same = None if o.is_switch or scoped else (scores.severity[rows], scores.favourable[rows])
        after = score(after_frame, after_answers, lib, probabilities, severity=same)
        residual[k, rows] = after.table["score"].to_numpy()
        residual_loss[k, rows] = expected_losses_exact(after_frame, after, lib)
    effort = _effort(frame, lib)
    stranded = _stranded(frame, lib)
    rebuild_usd = (effort.mean(axis=2) - np.array([np.mean(o.effort_weeks) for o in options])[:, None]) \
        * lib.assumptions.person_week_usd.value
    one_off = np.array([o.one_off_cost_usd for o in options])[:, None] + rebuild_usd + stranded
    return Recommendations(options, reasons, residual, residual_loss, current, base_loss,
                           frame["annual_spend_usd"].to_numpy(float), effort, one_off.reshape(len(options), n),
                           stranded, float(lib.assumptions.payback_years.value))


def _stranded(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    """(options, n): a switch before the contract ends strands the remaining commitment."""
    _, expired = contract_position(frame, lib.reference_date)
    committed = np.where(expired, 0.0, frame["committed_spend_usd"].to_numpy(float))
    return np.array([committed if o.is_switch else np.zeros(len(frame)) for o in lib.fallbacks.options]).reshape(
        len(lib.fallbacks.options), len(frame))


def _effort(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    """(options, n, 2): the option's own effort plus rebuilding each proprietary feature it replaces."""
    per = np.array(lib.fallbacks.feature_rebuild_weeks)
    out = np.empty((len(lib.fallbacks.options), len(frame), 2))
    n_feats = feature_count(frame)
    for k, o in enumerate(lib.fallbacks.options):
        n = n_feats if o.is_switch else np.zeros(len(frame))
        out[k] = np.array(o.effort_weeks)[None, :] + n[:, None] * per[None, :]
    return out
