"""Fallback recommender: for every deployment, every option of config/fallbacks.yaml — feasible or
not (with reasons) — and, for feasible ones, the residual score and expected-loss reduction computed
by the same engine (an option lowers vulnerability by its `mitigates` shares, so a residual score is
never above the current one). Ranked by risk reduction per person-week of effort."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk_models.answers import AnswerMap
from risk_models.config_loader import Library
from risk_models.config_schema import FallbackOption
from risk_models.models import DIMENSIONS, DataSensitivity
from risk_models.scoring import Scores, rescore
from risk_models.simulation import expected_losses_exact

SENSITIVITY_ORDER = [s.value for s in DataSensitivity]
SWITCH_KINDS = ("channel_switch", "model_switch", "vendor_switch")


def option_vulnerability(vuln: np.ndarray, option: FallbackOption) -> np.ndarray:
    keep = np.array([1 - option.mitigates.get(d, 0.0) for d in DIMENSIONS])
    return vuln * keep[None, :]


def _vendor_label(lib: Library, v: str) -> str:
    return lib.models.vendors.get(v, v)


def infeasibility(frame: pd.DataFrame, may_leave: np.ndarray, lib: Library, option: FallbackOption) -> list[list[str]]:
    """Per deployment, the reasons the option does not fit (empty list = feasible).
    may_leave: per deployment, whether its data may leave its region (questionnaire answer)."""
    n = len(frame)
    reasons: list[list[str]] = [[] for _ in range(n)]
    channels = {c: ch.display_name for c, ch in lib.channels.channels.items()}

    def add(mask: np.ndarray, message) -> None:
        for i in np.flatnonzero(mask):
            reasons[i].append(message(i) if callable(message) else message)

    ch, vendor = frame["channel"].to_numpy(), frame["model_vendor"].to_numpy()
    jur, sens = frame["jurisdiction"].to_numpy(), frame["data_sensitivity"].to_numpy()
    at = option.applies_to
    if at.channels:
        add(~np.isin(ch, at.channels), f"applies to {', '.join(channels[c] for c in at.channels)} deployments only")
    if at.vendors:
        add(~np.isin(vendor, at.vendors), f"applies to {', '.join(_vendor_label(lib, v) for v in at.vendors)} models only")
    if option.kind in SWITCH_KINDS:
        same = (ch == option.target_channel) & (vendor == option.target_vendor)
        add(same, "the deployment already runs there")
    allowed = [j.value for j in option.allowed_jurisdictions]
    region_bound = ~may_leave | (sens == "regulated")
    add(~np.isin(jur, allowed) & region_bound,
        lambda i: f"{jur[i].upper().replace('ON_PREM', 'on-prem')} {sens[i]} data must stay in its region; "
                  f"this option serves {', '.join(a.upper() for a in allowed)} regions only")
    limit = SENSITIVITY_ORDER.index(option.max_sensitivity.value)
    too_sensitive = frame["data_sensitivity"].map(SENSITIVITY_ORDER.index).to_numpy() > limit
    add(too_sensitive, lambda i: f"{sens[i]} data exceeds what this option allows ({option.max_sensitivity.value})")
    if option.kind in SWITCH_KINDS and option.cannot_replace_features:
        feats = frame["proprietary_features"].to_numpy()
        blocked = [sorted(set(f.split(";")) & {c.value for c in option.cannot_replace_features}) if f else []
                   for f in feats]
        add(np.array([bool(b) for b in blocked]), lambda i: f"uses {', '.join(blocked[i])}: no equivalent on target")
    return reasons


@dataclass
class Recommendations:
    """Per option arrays over deployments; `records(i)` turns them into one deployment's ranked list."""

    options: list[FallbackOption]
    reasons: list[list[list[str]]]  # [option][deployment] -> reasons
    residual: np.ndarray  # (options, n) score if applied (current score where infeasible)
    loss_reduction: np.ndarray  # (options, n) expected annual loss reduction USD
    current: np.ndarray  # (n,)
    spend: np.ndarray  # (n,)
    effort: np.ndarray  # (options, n, 2) person-weeks low/high, incl. rebuilding proprietary features

    def __post_init__(self) -> None:
        self._feasible = np.array([[not r for r in per_dep] for per_dep in self.reasons], dtype=bool)

    def feasible(self) -> np.ndarray:
        """(options, n) bool."""
        return self._feasible

    def ranking(self, i: int) -> list[int]:
        """Option indices for deployment i: feasible first, by risk reduction per effort week."""
        feas = self.feasible()[:, i]
        effort = np.maximum(self.effort[:, i].mean(axis=1), 0.5)
        value = (self.current[i] - self.residual[:, i]) / effort
        return sorted(range(len(self.options)), key=lambda k: (not feas[k], -value[k] if feas[k] else 0, k))

    def top(self, i: int) -> int | None:
        first = self.ranking(i)[0]
        useful = self.feasible()[first, i] and self.current[i] - self.residual[first, i] > 1e-9
        return first if useful else None

    def records(self, i: int, lib: Library) -> list[dict]:
        feas = self.feasible()
        out = []
        for k in self.ranking(i):
            o = self.options[k]
            ok = bool(feas[k, i])
            out.append({
                "option_id": o.id, "label": o.label, "kind": o.kind, "channel": o.target_channel,
                "vendor": o.target_vendor, "jurisdictions": [j.value for j in o.allowed_jurisdictions],
                "feasible": ok, "reasons": self.reasons[k][i],
                "effort_weeks": [round(float(w), 1) for w in self.effort[k, i]],
                "risk_reduction": round(float(self.current[i] - self.residual[k, i]), 2) if ok else 0.0,
                "residual_score": round(float(self.residual[k, i]), 2) if ok else round(float(self.current[i]), 2),
                "expected_loss_reduction_usd": round(float(self.loss_reduction[k, i]), 2) if ok else 0.0,
                "one_off_cost_usd": o.one_off_cost_usd, "cost_delta_pct": o.run_cost_delta_pct,
                "run_cost_delta_usd": round(float(self.spend[i] * o.run_cost_delta_pct / 100), 2),
                "capability_gap": o.capability_gap,
            })
        return out


def recommend(frame: pd.DataFrame, answers: AnswerMap, lib: Library, scores: Scores) -> Recommendations:
    options = lib.fallbacks.options
    base_loss = expected_losses_exact(frame, scores, lib)
    may_leave = np.array([answers.get(d, {}).get("data_may_leave_region") == "yes" for d in frame["deployment_id"]],
                         dtype=bool)
    residual = np.empty((len(options), len(frame)))
    loss_red = np.empty_like(residual)
    reasons = []
    for k, o in enumerate(options):
        after = rescore(frame, lib, scores, option_vulnerability(scores.vulnerability, o))
        residual[k] = np.minimum(after.table["score"].to_numpy(), scores.table["score"].to_numpy())
        loss_red[k] = np.maximum(base_loss - expected_losses_exact(frame, after, lib), 0.0)
        reasons.append(infeasibility(frame, may_leave, lib, o))
    feas = np.array([[not r for r in per] for per in reasons], dtype=bool)
    current = scores.table["score"].to_numpy()
    residual = np.where(feas, residual, current[None, :])
    loss_red = np.where(feas, loss_red, 0.0)
    return Recommendations(options, reasons, residual, loss_red, current,
                           frame["annual_spend_usd"].to_numpy(float), _effort(frame, lib))


def _effort(frame: pd.DataFrame, lib: Library) -> np.ndarray:
    """(options, n, 2): the option's own effort plus rebuilding each proprietary feature it replaces."""
    feats = frame["proprietary_features"].to_numpy()
    per = np.array(lib.fallbacks.feature_rebuild_weeks)
    out = np.empty((len(lib.fallbacks.options), len(frame), 2))
    for k, o in enumerate(lib.fallbacks.options):
        rebuild = {f.value for f in o.replaces_features} if o.kind in SWITCH_KINDS else set()
        n = np.array([len(set(f.split(";")) & rebuild) if f else 0 for f in feats])
        out[k] = np.array(o.effort_weeks)[None, :] + n[:, None] * per[None, :]
    return out
