"""FAIR-style Monte Carlo of annual losses, vectorised with numpy and chunked.

Each trial is one year. Per event one uniform draw picks one outcome with the outcomes' annual
probabilities (so every deployment an outcome hits is hit in the same trial: losses are correlated
through shared events); a repeatable event (outages, price changes) instead occurs a Poisson number
of times with the closed form's annual frequency. A hit deployment loses estimate x X per occurrence,
where the estimate comes from spend, committed spend at risk, switching effort, downtime (only
outcomes that cause outages) and compliance exposure (config/assumptions.yaml), and
X = c x C + (1 - c) x I: C is one PERT draw shared by every deployment the occurrence hits (the
common factor c), I an independent PERT draw per deployment. Favourable outcomes (exit paths opening
up) shrink the losses of the trials in which they happen.

Row order changes nothing: every event and outcome draws from its own stream (seed and a hash of its
id), a deployment's own draw I is a counter-based hash of the occurrence and the deployment id, and
sums run over the deployments in id order. The idiosyncratic sum over many deployments is drawn from
its normal limit (exact mean and variance, summed per exposure profile) when at least
CLT_MIN_DEPLOYMENTS share the hit and none carries more than CLT_MAX_SHARE of the variance; otherwise
every deployment's magnitude is drawn. Expected losses per deployment are computed in closed form
(the simulation's mean converges to them; a test checks it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from risk_models.config.domain import DIMENSIONS
from risk_models.config.loader import Library
from risk_models.engine.score import MAX_RELIEF, Scores, loss_bases, outcome_hours

TABLE_BITS = 12  # the PERT table has 2^12 entries: a deployment's draw is the top 12 bits of its hash
TABLE_SIZE = 1 << TABLE_BITS
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


def hours_by_outcome(scores: Scores) -> np.ndarray:
    """(outcomes, dims): 1, but the outcome's outage hours for the downtime dimension."""
    return outcome_hours(scores.outcomes)


def loss_tensor(frame: pd.DataFrame, scores: Scores, lib: Library, dtype: type = np.float64) -> np.ndarray:
    """(n, outcomes, dims) loss in USD if the outcome hits (the PERT mode), before favourable relief;
    the continuity part only for outcomes that cause an outage, for their outage hours. Built as
    (severity x hours per exposure profile) x (vulnerability x loss base per deployment): one
    gather and one product over the full tensor."""
    per_profile = (scores.profiles.pos * outcome_hours(scores.outcomes)[None]).astype(dtype, copy=False)
    out = per_profile[scores.profiles.inverse]
    out *= (scores.vulnerability * loss_bases(frame, lib, lib.reference_date)).astype(dtype, copy=False)[:, None, :]
    return out


def expected_loss_components(frame: pd.DataFrame, scores: Scores, lib: Library,
                             outcomes: np.ndarray | None = None) -> np.ndarray:
    """(n, dims) closed-form expected annual loss by component (see COMPONENTS); rows add up to the
    deployment's expected loss (computed with the scores: the rating is banded on it). `outcomes` (a 0/1
    mask) keeps only the loss of those outcomes: the outcome sum is linear in it, so the losses of a
    partition of the outcomes add up to the whole."""
    if outcomes is None:
        return scores.loss
    hours = outcome_hours(scores.outcomes)[None]
    freq = scores.outcomes.frequency
    whole = scores.profile_relief.grouped(scores.profiles.pos * hours, freq)
    part = scores.profile_relief.grouped(scores.profiles.pos * hours, freq * outcomes)
    share = np.divide(part, whole, out=np.zeros_like(part), where=whole > 0)
    return scores.loss * share[scores.profiles.inverse]


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
    # per outcome, the portfolio loss of each of its simulated occurrences (the parameter-uncertainty
    # intervals resample them)
    occurrence_losses: list[np.ndarray] = field(default_factory=list, repr=False)

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
        # totals in the order of the deployment ids: the same rows in any order give the same sums
        order = np.argsort(frame["deployment_id"].to_numpy(str), kind="stable")
        expected = self.expected_by_deployment[order]
        by_bu = pd.Series(expected, index=frame["business_unit"].to_numpy()[order]).groupby(level=0).sum()
        return {
            "trials": self.trials, "seed": self.seed,
            "expected_annual_loss_usd": round(float(expected.sum()), 2),
            "simulated_mean_usd": round(float(losses.mean()), 2) if len(losses) else 0.0,
            "var90_usd": round(var90, 2), "var95_usd": round(var95, 2), "var99_usd": round(var99, 2),
            "lec": [{"loss_usd": round(float(x), 2), "probability": round(float(p), 5)}
                    for x, p in zip(grid, exceed, strict=True)],
            "by_business_unit": {str(k): round(float(v), 2) for k, v in by_bu.sort_index().items()},
        }


def stable_keys(ids) -> np.ndarray:
    """(len,) uint64 key of each id: the first 8 bytes of its BLAKE2b digest (the same on every
    machine, Python and numpy version, unlike hash())."""
    return np.array([int.from_bytes(hashlib.blake2b(str(i).encode(), digest_size=8).digest(), "little")
                     for i in ids], dtype=np.uint64)


def stream(seed: int, kind: str, key: str) -> np.random.Generator:
    """The random stream of one event or outcome: keyed by the seed and its id, so adding, removing
    or reordering anything else leaves its draws unchanged."""
    return np.random.default_rng([seed, int(stable_keys([f"{kind}:{key}"])[0])])


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, in place on a uint64 array: a counter-based hash whose output bits are
    uniform, so (occurrence key XOR deployment key) gives each deployment its own draw."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x



def keyed_table_index(occurrence_keys: np.ndarray, deployment_keys: np.ndarray) -> np.ndarray:
    """(occurrences, deployments) index into the PERT table, a function of the two keys only: a
    deployment's draw does not depend on its row or on which other deployments there are."""
    return (_mix(occurrence_keys[:, None] ^ deployment_keys[None, :]) >> np.uint64(64 - TABLE_BITS)).astype(np.intp)


def poisson_counts(rate: float, u: np.ndarray) -> np.ndarray:
    """Occurrences in each year from a uniform per year (inverse CDF of Poisson(rate)): one uniform per
    event and year whether the event is once-a-year or repeatable."""
    k = np.arange(int(rate + 12 * np.sqrt(rate) + 20))
    log_pmf = k * np.log(max(rate, 1e-300)) - rate - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf))
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(k) - 1)


def _event_counts(outs, seed: int, trials: int) -> np.ndarray:
    """(trials, outcomes) occurrences of each outcome per year: per event one uniform per year (its own
    stream), which picks one of its exclusive outcomes or, for a repeatable one, a Poisson count."""
    annual, freq, ev = outs.annual, outs.frequency, outs.event_index
    counts = np.zeros((trials, len(ev)), dtype=np.int32)
    for e in range(int(ev.max()) + 1 if len(ev) else 0):
        members = np.flatnonzero(ev == e)
        u = stream(seed, "event", outs.event_ids[members[0]]).random(trials)
        if outs.repeatable[members].any():  # a repeatable event has a single outcome
            counts[:, members[0]] = poisson_counts(float(freq[members[0]]), u)
            continue
        drawn = np.searchsorted(np.cumsum(annual[members]), u, side="right")
        counts[:, members] = drawn[:, None] == np.arange(len(members))[None, :]
    return counts


def _moments(x: np.ndarray, profile: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """For the deployments an outcome hits, per combination of favourable outcomes c: the sum s1 and the
    sum of squares s2 of their loss estimates est(c, d) = sum_k keep[c, profile(d), k] x[d, k], and
    whether the idiosyncratic sum may be drawn from its normal limit (at least CLT_MIN_DEPLOYMENTS and
    no deployment above CLT_MAX_SHARE of the variance in any combination). Summed per exposure profile
    first (x and x x^T by profile), so the (combinations x deployments) estimates are never built; only
    the few deployments an upper bound cannot clear are checked exactly."""
    used, local = np.unique(profile, return_inverse=True)
    kp = keep[:, used, :].astype(np.float64)  # (combos, profiles hit, k)
    x = x.astype(np.float64)
    dims = np.flatnonzero(x.any(axis=0))
    n_p = len(used)
    first = np.zeros((n_p, len(dims)))
    second = np.zeros((n_p, len(dims), len(dims)))
    for i, k in enumerate(dims):
        first[:, i] = np.bincount(local, weights=x[:, k], minlength=n_p)
        for j in range(i, len(dims)):
            second[:, i, j] = second[:, j, i] = np.bincount(local, weights=x[:, k] * x[:, dims[j]], minlength=n_p)
    kd = kp[:, :, dims]
    s1 = np.einsum("cpk,pk->c", kd, first)
    s2 = np.einsum("cpk,cpl,pkl->c", kd, kd, second)
    if len(x) < CLT_MIN_DEPLOYMENTS:
        return s1, s2, False
    limit = CLT_MAX_SHARE * s2.min()
    bound = (x[:, dims] * kd.max(axis=0)[local]).sum(axis=1) ** 2  # >= est(c, d)^2 for every c
    doubtful = np.flatnonzero(bound > limit)
    if len(doubtful):
        exact = (kd[:, local[doubtful], :] * x[doubtful][:, dims][None]).sum(axis=2) ** 2
        return s1, s2, bool(exact.max() <= limit)
    return s1, s2, True


def _draw_years(frame: pd.DataFrame, scores: Scores, lib: Library, trials: int, seed: int
                ) -> tuple[np.ndarray, list[np.ndarray]]:
    """(trials,) annual portfolio losses, and per outcome the portfolio loss of each of its occurrences.
    Deployments are taken in the order of their ids (sums do not depend on the rows' order) and each
    draw is keyed by seed, outcome and deployment id."""
    a = lib.assumptions
    c = float(a.common_factor.value)
    table = pert_table(a.pert_low.value, 1.0, a.pert_high.value)
    mu, var = float(table.mean()), float(table.var())
    ids = frame["deployment_id"].to_numpy(str)
    order = np.argsort(ids, kind="stable")
    dep_keys = stable_keys(ids[order])
    losses = loss_tensor(frame, scores, lib, np.float32)[order]  # (n, o, k), rows in id order
    inverse = scores.profiles.inverse[order]
    outs = scores.outcomes
    ev = outs.event_index
    counts = _event_counts(outs, seed, trials)
    neg = scores.profiles.neg  # favourable severities per exposure profile (every profile has rows)
    fav = np.flatnonzero((neg < 0).any(axis=(0, 2)))
    fav_hit = counts[:, fav] > 0
    combos, combo_of_trial = np.unique(fav_hit, axis=0, return_inverse=True) if len(fav) \
        else (np.zeros((1, 0), bool), np.zeros(trials, dtype=int))
    combo_of_trial = combo_of_trial.ravel()
    # what each combination of favourable outcomes leaves, per profile: (combos, profiles, k)
    log_keep = np.log1p(-np.minimum(-neg[:, fav, :], MAX_RELIEF)).astype(np.float32)
    keep_by_profile = np.exp(np.einsum("cf,pfk->cpk", combos.astype(np.float32), log_keep)) if len(fav) \
        else np.ones((1, neg.shape[0], len(DIMENSIONS)), np.float32)
    portfolio = np.zeros(trials, dtype=np.float64)
    pools: list[np.ndarray] = []
    for o in range(len(ev)):
        per_dim = losses[:, o, :]
        deps = np.flatnonzero(per_dim.sum(axis=1) > 0)
        hit = np.flatnonzero(counts[:, o])
        occ = np.repeat(hit, counts[hit, o])  # the year of each occurrence
        if not len(occ) or not len(deps):
            pools.append(np.zeros(0))
            continue
        rng = stream(seed, "outcome", outs.ids[o])
        s1, s2, clt = _moments(per_dim[deps], inverse[deps], keep_by_profile)
        combo = combo_of_trial[occ]
        loss = c * table[rng.integers(0, TABLE_SIZE, size=len(occ))].astype(np.float64) * s1[combo]
        if c < 1 and clt:
            loss += (1 - c) * np.maximum(rng.normal(mu * s1[combo], np.sqrt(var * s2[combo])), 0.0)
        elif c < 1:
            # loss of each hit deployment for every combination of favourable outcomes: (combos, deps)
            est = (keep_by_profile[:, inverse[deps], :] * per_dim[deps][None, :, :]).sum(axis=2)
            occ_keys = rng.integers(0, 2**63, size=len(occ), dtype=np.uint64, endpoint=False)
            step = max(1, CHUNK_CELLS // len(deps))
            for start in range(0, len(occ), step):
                part = slice(start, start + step)
                x = table[keyed_table_index(occ_keys[part], dep_keys[deps])]
                x *= est[combo[part]]
                loss[part] += (1 - c) * x.sum(axis=1, dtype=np.float64)
        portfolio += np.bincount(occ, weights=loss, minlength=trials)
        pools.append(loss)
    return portfolio, pools


def simulate(frame: pd.DataFrame, scores: Scores, lib: Library, trials: int = 10_000, seed: int = 0) -> SimulationResult:
    """Closed-form expected losses and `trials` simulated years."""
    if not 1 <= trials <= MAX_TRIALS:
        raise ValueError(f"trials must be between 1 and {MAX_TRIALS:,}")
    components = expected_loss_components(frame, scores, lib)  # closed form, per exposure profile
    portfolio, pools = _draw_years(frame, scores, lib, trials, seed)
    return SimulationResult(trials, seed, components, portfolio, pools)
