"""FAIR-style Monte Carlo of annual losses, vectorised with numpy and chunked.

Each trial is one year. Per event one outcome is drawn with the outcomes' annual probabilities
(so every deployment an outcome hits is hit in the same trial: losses are correlated through
shared events). A hit deployment loses estimate x X, where the estimate comes from spend, committed
spend at risk, switching effort, downtime (only outcomes that cause outages) and compliance exposure
(config/assumptions.yaml), and X = c x C + (1 - c) x I: C is one PERT draw shared by every deployment
the outcome hits that year (the common factor c), I an independent PERT draw per deployment.
Favourable outcomes (exit paths opening up) shrink the losses of the trials in which they happen.

The idiosyncratic sum over many deployments is drawn from its normal limit (exact mean and
variance) when at least CLT_MIN_DEPLOYMENTS share the hit and none carries more than CLT_MAX_SHARE
of the variance; otherwise every deployment's magnitude is drawn. Expected losses per deployment
are computed in closed form (the simulation's mean converges to them; a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from risk_models.config.domain import DIMENSIONS
from risk_models.config.loader import Library
from risk_models.engine.score import MAX_RELIEF, Scores, loss_bases, outcome_hours

TABLE_SIZE = 4096
CHUNK_CELLS = 1 << 22  # max trial x deployment cells held at once (~16 MB of float32)
CLT_MIN_DEPLOYMENTS = 200
CLT_MAX_SHARE = 0.02
COMPONENTS = {"continuity": "downtime", "cost": "price", "contract": "stranded_commitment",
              "capability": "switching", "compliance": "compliance"}
MAX_TRIALS = 1_000_000


def pert_table(low: float, mode: float, high: float, size: int = TABLE_SIZE) -> np.ndarray:
    """Inverse CDF of PERT(low, mode, high) at the midpoints of `size` equal-probability bins."""
    a = 1 + 4 * (mode - low) / (high - low)
    b = 1 + 4 * (high - mode) / (high - low)
    x = np.linspace(0, 1, 20_001)
    with np.errstate(divide="ignore"):
        log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x)
    pdf = np.exp(log_pdf - np.nanmax(log_pdf[np.isfinite(log_pdf)]))
    pdf[~np.isfinite(pdf)] = 0
    cdf = np.concatenate([[0], np.cumsum((pdf[1:] + pdf[:-1]) / 2)])
    cdf /= cdf[-1]
    q = (np.arange(size) + 0.5) / size
    return (low + (high - low) * np.interp(q, cdf, x)).astype(np.float32)


def loss_tensor(frame: pd.DataFrame, scores: Scores, lib: Library, dtype: type = np.float64) -> np.ndarray:
    """(n, outcomes, dims) loss in USD if the outcome hits (the PERT mode), before favourable relief;
    the continuity part only for outcomes that cause an outage, for their outage hours. Built as
    (severity x hours per exposure profile) x (vulnerability x loss base per deployment): one
    gather and one product over the full tensor."""
    per_profile = (scores.profiles.pos * outcome_hours(scores.outcomes)[None]).astype(dtype, copy=False)
    out = per_profile[scores.profiles.inverse]
    out *= (scores.vulnerability * loss_bases(frame, lib, lib.reference_date)).astype(dtype, copy=False)[:, None, :]
    return out


def expected_loss_components(frame: pd.DataFrame, scores: Scores, lib: Library) -> np.ndarray:
    """(n, dims) closed-form expected annual loss by component (see COMPONENTS); rows add up to the
    deployment's expected loss. Computed with the scores (the rating is banded on it)."""
    return scores.loss


def expected_losses_exact(frame: pd.DataFrame, scores: Scores, lib: Library) -> np.ndarray:
    """Closed-form expected annual loss per deployment."""
    return expected_loss_components(frame, scores, lib).sum(axis=1)


def component_records(components: np.ndarray) -> list[dict[str, float]]:
    names = [COMPONENTS[d] for d in DIMENSIONS]
    return [dict(zip(names, row, strict=True)) for row in np.round(components, 2).tolist()]


@dataclass
class SimulationResult:
    trials: int
    seed: int
    components: np.ndarray  # (n, dims) closed-form expected annual loss by component (COMPONENTS)
    portfolio: np.ndarray = field(repr=False)  # (trials,) simulated annual portfolio loss

    @property
    def expected_by_deployment(self) -> np.ndarray:
        """(n,) closed-form expected annual loss."""
        return self.components.sum(axis=1)

    def summary(self, frame: pd.DataFrame, lec_points: int = 100) -> dict:
        losses = self.portfolio
        var90, var95, var99 = (float(v) for v in np.quantile(losses, [0.90, 0.95, 0.99]))
        top = float(losses.max()) if len(losses) else 0.0
        grid = np.linspace(0, top, lec_points)
        sorted_losses = np.sort(losses)
        exceed = 1 - np.searchsorted(sorted_losses, grid, side="right") / max(len(losses), 1)
        by_bu = pd.Series(self.expected_by_deployment, index=frame["business_unit"].to_numpy()).groupby(level=0).sum()
        return {
            "trials": self.trials, "seed": self.seed,
            "expected_annual_loss_usd": round(float(self.expected_by_deployment.sum()), 2),
            "simulated_mean_usd": round(float(losses.mean()), 2) if len(losses) else 0.0,
            "var90_usd": round(var90, 2), "var95_usd": round(var95, 2), "var99_usd": round(var99, 2),
            "lec": [{"loss_usd": round(float(x), 2), "probability": round(float(p), 5)}
                    for x, p in zip(grid, exceed, strict=True)],
            "by_business_unit": {str(k): round(float(v), 2) for k, v in by_bu.sort_index().items()},
        }


def _draw_events(rng, annual: np.ndarray, ev: np.ndarray, trials: int) -> np.ndarray:
    """(trials, events) index of the drawn outcome within its event (== number of outcomes: none)."""
    drawn = np.empty((trials, int(ev.max()) + 1 if len(ev) else 0), dtype=np.int32)
    for e in range(drawn.shape[1]):
        cum = np.cumsum(annual[ev == e])
        drawn[:, e] = np.searchsorted(cum, rng.random(trials), side="right")
    return drawn


def simulate(frame: pd.DataFrame, scores: Scores, lib: Library, trials: int = 10_000, seed: int = 0) -> SimulationResult:
    """Closed-form expected losses and `trials` simulated years."""
    if not 1 <= trials <= MAX_TRIALS:
        raise ValueError(f"trials must be between 1 and {MAX_TRIALS:,}")
    components = expected_loss_components(frame, scores, lib)  # closed form, per exposure profile
    return SimulationResult(trials, seed, components, _draw_years(frame, scores, lib, trials, seed))


def _draw_years(frame: pd.DataFrame, scores: Scores, lib: Library, trials: int, seed: int) -> np.ndarray:
    """(trials,) annual portfolio losses."""
    a = lib.assumptions
    c = float(a.common_factor.value)
    table = pert_table(a.pert_low.value, 1.0, a.pert_high.value)
    mu, var = float(table.mean()), float(table.var())
    losses = loss_tensor(frame, scores, lib, np.float32)  # (n, o, k) for the draws
    outs = scores.outcomes
    annual, ev = outs.annual, outs.event_index
    rng = np.random.default_rng(seed)
    drawn = _draw_events(rng, annual, ev, trials)
    position = np.zeros(len(ev), dtype=int)  # index of each outcome within its event
    for e in range(drawn.shape[1]):
        members = np.flatnonzero(ev == e)
        position[members] = np.arange(len(members))
    neg = scores.profiles.neg  # favourable severities per exposure profile (every profile has rows)
    fav = np.flatnonzero((neg < 0).any(axis=(0, 2)))
    fav_hit = np.column_stack([drawn[:, ev[f]] == position[f] for f in fav]) if len(fav) else np.zeros((trials, 0), bool)
    combos, combo_of_trial = np.unique(fav_hit, axis=0, return_inverse=True) if len(fav) \
        else (np.zeros((1, 0), bool), np.zeros(trials, dtype=int))
    combo_of_trial = combo_of_trial.ravel()
    # what each combination of favourable outcomes leaves, per profile: (combos, profiles, k)
    log_keep = np.log1p(-np.minimum(-neg[:, fav, :], MAX_RELIEF)).astype(np.float32)
    keep_by_profile = np.exp(np.einsum("cf,pfk->cpk", combos.astype(np.float32), log_keep)) if len(fav) \
        else np.ones((1, neg.shape[0], len(DIMENSIONS)), np.float32)
    inverse = scores.profiles.inverse
    portfolio = np.zeros(trials, dtype=np.float64)
    for o in range(len(ev)):
        hit_trials = np.flatnonzero(drawn[:, ev[o]] == position[o])
        per_dim = losses[:, o, :]
        deps = np.flatnonzero(per_dim.sum(axis=1) > 0)
        if not len(hit_trials) or not len(deps):
            continue
        # loss of each hit deployment for every combination of favourable outcomes: (combos, deps)
        est = (keep_by_profile[:, inverse[deps], :] * per_dim[deps][None, :, :]).sum(axis=2)
        s1, s2 = est.sum(axis=1), (est.astype(np.float64) ** 2).sum(axis=1)
        combo = combo_of_trial[hit_trials]
        common = table[rng.integers(0, TABLE_SIZE, size=len(hit_trials))].astype(np.float64)
        portfolio[hit_trials] += c * common * s1[combo]
        if c >= 1:
            continue
        if len(deps) >= CLT_MIN_DEPLOYMENTS and (est.astype(np.float64) ** 2).max() <= CLT_MAX_SHARE * s2.min():
            idio = rng.normal(mu * s1[combo], np.sqrt(var * s2[combo]))
            portfolio[hit_trials] += (1 - c) * np.maximum(idio, 0.0)
            continue
        step = max(1, CHUNK_CELLS // len(deps))
        for start in range(0, len(hit_trials), step):
            t = hit_trials[start:start + step]
            x = table[rng.integers(0, TABLE_SIZE, size=(len(t), len(deps)), dtype=np.int16)]
            x *= est[combo_of_trial[t]]
            portfolio[t] += (1 - c) * x.sum(axis=1, dtype=np.float64)
    return portfolio
