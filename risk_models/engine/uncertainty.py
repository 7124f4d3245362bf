"""Honest uncertainty: 90 % intervals for the expected annual loss and VaR from the uncertainty of the
parameters, not only from sampling noise.

Each outcome's probability and severity are uncertain: a parameter set draws, per outcome, a
multiplier r^(2B - 1) with B ~ Beta(3, 3), i.e. a PERT on the log scale between value / r and
value x r, divided by its mean so that the stated value is the parameter's expected value (the
point figures stay the centre of the intervals); r by the outcome's confidence
(config/assumptions.yaml: probability_spread, severity_spread). Probabilities are capped at 1 (an
event's exclusive outcomes scaled back to a sum of 1), severities at 1 (favourable ones at -1).

For each of PARAMETER_SETS sets:
* the expected annual loss is the closed form again (per exposure profile, relief from favourable
  outcomes recomputed), exact for the set;
* VaR (the first VAR_SETS sets) comes from YEARS_PER_SET simulated years: occurrences are drawn with the set's probabilities
  and each occurrence's portfolio loss is resampled from the main simulation's occurrences of that
  outcome, scaled by how much the set changes the outcome's closed-form expected loss per
  occurrence (severity and relief).
The interval is the 5th to 95th percentile over the sets, so it holds both the parameter spread and
the sampling noise of a set's years."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk_models.config.loader import Library
from risk_models.engine.score import MAX_RELIEF, Scores, annual_frequency, loss_bases, pert_mean, relief_of
from risk_models.engine.simulation import SimulationResult, hours_by_outcome, stream

PARAMETER_SETS = 200  # sets for the expected loss (closed form: cheap)
VAR_SETS = 100  # the first VAR_SETS of them also simulate YEARS_PER_SET years each for VaR
YEARS_PER_SET = 1_000
LEVEL = 0.90


@dataclass(frozen=True)
class ParameterSets:
    probability: np.ndarray  # (sets, outcomes) multiplier of each outcome's probability
    severity: np.ndarray  # (sets, outcomes) multiplier of each outcome's severities


def _spreads(lib: Library, scores: Scores, name: str) -> np.ndarray:
    """(outcomes,) ln r of each outcome by its confidence."""
    spread = getattr(lib.assumptions, name)
    conf = [o.confidence for e in lib.events for o in e.outcomes]
    if len(conf) != len(scores.outcomes.ids):
        raise ValueError("the scores were made with another scenario library")
    return np.log([spread.value[c] for c in conf])


def _mean_of_multiplier(log_r: np.ndarray) -> np.ndarray:
    """E[r^(2B - 1)], B ~ Beta(3, 3), per log r (midpoint rule on 2,000 cells: exact to ~1e-7)."""
    x = (np.arange(2000) + 0.5) / 2000
    pdf = 30 * x**2 * (1 - x) ** 2 / 2000
    return np.exp(np.outer(log_r, 2 * x - 1)) @ pdf


def parameter_sets(lib: Library, scores: Scores, sets: int, seed: int, widen: float = 1.0) -> ParameterSets:
    """`sets` draws of the per-outcome multipliers (see the module doc), scaled so that each has mean 1:
    the stated value is the parameter's expected value. `widen` scales every log-range (1 = the
    configured spreads)."""
    n = len(scores.outcomes.ids)
    rng = stream(seed, "uncertainty", "parameters")
    out = []
    for name in ("probability_spread", "severity_spread"):
        log_r = _spreads(lib, scores, name) * widen
        draws = np.exp(log_r[None, :] * (2 * rng.beta(3.0, 3.0, size=(sets, n)) - 1))
        out.append(draws / _mean_of_multiplier(log_r)[None, :])
    return ParameterSets(*out)


def _event_matrix(ev: np.ndarray) -> np.ndarray:
    """(outcomes, events) one-hot: which event each outcome belongs to."""
    m = np.zeros((len(ev), int(ev.max()) + 1 if len(ev) else 0))
    m[np.arange(len(ev)), ev] = 1.0
    return m


def set_probabilities(scores: Scores, mult: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sets, outcomes) annual probability and annual frequency under each set of multipliers: the
    probability capped at 1, an event's exclusive outcomes scaled back to a sum of 1, then as
    score.annual_probability (vectorised over the sets)."""
    o = scores.outcomes
    one_hot = _event_matrix(o.event_index)
    p = np.minimum(o.probability[None, :] * mult, 1.0)
    p = p / (np.maximum(p @ one_hot, 1.0) @ one_hot.T)
    annual = 1 - (1 - p) ** (12.0 / o.horizon_months[None, :])
    annual = annual / (np.maximum(annual @ one_hot, 1.0) @ one_hot.T)
    return annual, annual_frequency(annual, o.repeatable[None, :])


def _relief(scores: Scores, annual: np.ndarray, sev: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relief from favourable outcomes under each set, as score.relief_of: what all favourable events
    leave, (sets, profiles, k); what each leaves, 1 - q_e, (sets, profiles, events, k); and the column
    of each outcome (its own favourable event, whose share it does not get, or the last: none)."""
    prof, ev = scores.profiles, scores.outcomes.event_index
    column = relief_of(scores.outcomes.annual, prof.neg, ev).column  # depends only on which outcomes are favourable
    fav = np.flatnonzero((prof.neg < 0).any(axis=(0, 2)))
    events = np.unique(ev[fav])
    sets, n_prof, k = annual.shape[0], prof.neg.shape[0], prof.neg.shape[2]
    left = np.ones((sets, n_prof, len(events), k))
    for c, e in enumerate(events):
        members = fav[ev[fav] == e]
        relief = -prof.neg[:, members, :]  # (profiles, members, k) >= 0
        if (relief * sev[:, members].max(axis=0)[None, :, None]).max() <= 1:  # no cap binds: one product
            q = np.einsum("sm,pmk->spk", annual[:, members] * sev[:, members], relief)
        else:
            share = np.minimum(relief[None] * sev[:, None, members, None], 1.0)
            q = (annual[:, None, members, None] * share).sum(axis=2)
        left[:, :, c, :] = 1 - np.minimum(q, MAX_RELIEF)
    return left.prod(axis=2), left, column


def outcome_expected_losses(frame: pd.DataFrame, scores: Scores, lib: Library, params: ParameterSets | None
                            ) -> tuple[np.ndarray, np.ndarray]:
    """(sets, outcomes) closed-form expected annual portfolio loss of each outcome, and (sets, outcomes)
    its annual frequency, under each parameter set (params None: the stated values, one set). As
    simulation.expected_loss_components, summed over the deployments of each exposure profile first."""
    a = lib.assumptions
    mean = pert_mean(a.pert_low.value, 1.0, a.pert_high.value)
    prof = scores.profiles
    n_prof, n_out, k = prof.pos.shape
    per_dep = scores.vulnerability * loss_bases(frame, lib, lib.reference_date)  # (n, k)
    weight = np.column_stack([np.bincount(prof.inverse, weights=per_dep[:, j], minlength=n_prof)
                              for j in range(k)]) if len(frame) else np.zeros((n_prof, k))
    prob = np.ones((1, n_out)) if params is None else params.probability
    sev = np.ones((1, n_out)) if params is None else params.severity
    annual, freq = set_probabilities(scores, prob)
    rest, left, column = _relief(scores, annual, sev)
    hours = hours_by_outcome(scores)
    harm = prof.pos * hours[None]  # (profiles, outcomes, k), uncapped severity x hours
    wk_rest = weight[None] * rest  # (sets, profiles, k)
    losses = np.zeros(prob.shape)
    for c in range(left.shape[2] + 1):
        idx = np.flatnonzero(column == c)
        if len(idx):  # sum over profiles and dimensions as one matrix product per relief column
            wk = wk_rest / left[:, :, c, :] if c < left.shape[2] else wk_rest
            losses[:, idx] = wk.reshape(len(prob), -1) @ harm[:, idx, :].transpose(0, 2, 1).reshape(-1, len(idx))
    losses *= sev
    # severities are capped at 1: take off what a multiplier pushes above it (few entries can)
    p_i, o_i, k_i = np.nonzero(prof.pos * sev.max(axis=0)[None, :, None] > 1)
    if len(p_i):
        col = column[o_i]
        own = np.where(col < left.shape[2], left[:, p_i, np.minimum(col, max(left.shape[2] - 1, 0)), k_i]
                       if left.shape[2] else 1.0, 1.0)
        over = np.maximum(prof.pos[p_i, o_i, k_i][None, :] * sev[:, o_i] - 1, 0)
        excess = wk_rest[:, p_i, k_i] / own * hours[o_i, k_i][None, :] * over
        np.subtract.at(losses.T, o_i, excess.T)  # (outcomes, sets) view: per outcome
    return losses * freq * mean, freq


@dataclass(frozen=True)
class Intervals:
    level: float
    sets: int  # parameter sets behind the expected-loss interval
    var_sets: int  # the first var_sets of them, each simulated for years_per_set years, behind VaR
    years_per_set: int
    expected_annual_loss_usd: tuple[float, float]
    var95_usd: tuple[float, float]
    var99_usd: tuple[float, float]

    def as_dict(self) -> dict:
        def pair(v: tuple[float, float]) -> dict:
            return {"low": round(v[0], 2), "high": round(v[1], 2)}
        return {"level": self.level, "parameter_sets": self.sets, "var_parameter_sets": self.var_sets,
                "years_per_set": self.years_per_set,
                "expected_annual_loss_usd": pair(self.expected_annual_loss_usd),
                "var95_usd": pair(self.var95_usd), "var99_usd": pair(self.var99_usd)}


def poisson_counts_by_row(rates: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(rows, years) Poisson counts with one rate per row, by the inverse CDF of the uniforms u: the
    rows' CDFs are shifted by their row number so that one sorted search serves them all."""
    top = int(rates.max() + 12 * np.sqrt(rates.max()) + 20) if len(rates) else 1
    k = np.arange(top)
    log_fact = np.cumsum(np.log(np.maximum(k, 1)))
    log_pmf = k[None, :] * np.log(np.maximum(rates, 1e-300))[:, None] - rates[:, None] - log_fact[None, :]
    cdf = np.minimum(np.cumsum(np.exp(log_pmf), axis=1), 1.0)
    rows = np.arange(len(rates))[:, None]
    found = np.searchsorted((cdf + 2 * rows).ravel(), (u + 2 * rows).ravel(), side="right").reshape(u.shape)
    return np.minimum(found - top * rows, top - 1)


def _set_years(scores: Scores, sim: SimulationResult, params: ParameterSets, per_occurrence: np.ndarray,
               base: np.ndarray, years: int, seed: int) -> np.ndarray:
    """(sets, years) simulated annual portfolio losses under each parameter set. per_occurrence (sets,
    outcomes) and base (outcomes,): closed-form expected loss per occurrence under each set and under the
    stated values."""
    o = scores.outcomes
    ev = o.event_index
    sets = params.probability.shape[0]
    annual, freq = set_probabilities(scores, params.probability)  # (sets, outcomes)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(base[None, :] > 0, per_occurrence / base[None, :], 0.0)
    rows_all, weights_all = [], []
    for e in range(int(ev.max()) + 1 if len(ev) else 0):
        members = np.flatnonzero(ev == e)
        if not (base[members] > 0).any():
            continue
        u = stream(seed, "uncertainty-event", o.event_ids[members[0]]).random((sets, years))
        if o.repeatable[members].any():  # a repeatable event has a single outcome
            counts = {members[0]: poisson_counts_by_row(freq[:, members[0]], u)}
        else:
            drawn = (u[:, :, None] > np.cumsum(annual[:, members], axis=1)[:, None, :]).sum(axis=2)
            counts = {m: (drawn == j) for j, m in enumerate(members)}
        for m, c in counts.items():
            flat = c.ravel()
            where = np.flatnonzero(flat)
            if not len(where) or base[m] <= 0:
                continue
            rows = np.repeat(where, flat[where])  # one entry per occurrence: set x years + year
            pool = sim.occurrence_losses[m]
            if len(pool):
                picked = pool[stream(seed, "uncertainty-outcome", o.ids[m]).integers(0, len(pool), len(rows))]
            else:  # never hit in the main simulation's years: its expected loss per occurrence
                picked = np.full(len(rows), base[m])
            rows_all.append(rows)
            weights_all.append(picked * scale[rows // years, m])
    if not rows_all:
        return np.zeros((sets, years))
    return np.bincount(np.concatenate(rows_all), weights=np.concatenate(weights_all),
                       minlength=sets * years).reshape(sets, years)


def intervals(frame: pd.DataFrame, scores: Scores, lib: Library, sim: SimulationResult,
              sets: int = PARAMETER_SETS, years: int = YEARS_PER_SET, widen: float = 1.0) -> Intervals | None:
    """The 90 % intervals (None when the assumptions carry no parameter spreads)."""
    a = lib.assumptions
    if a.probability_spread is None or a.severity_spread is None:
        return None
    params = parameter_sets(lib, scores, sets, sim.seed, widen)
    ones = np.ones((1, params.probability.shape[1]))
    # row 0: the stated values (what the point figures use); rows 1..: the parameter sets
    both = ParameterSets(np.vstack([ones, params.probability]), np.vstack([ones, params.severity]))
    el_all, freq_all = outcome_expected_losses(frame, scores, lib, both)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_occ_all = np.where(freq_all > 0, el_all / freq_all, 0.0)
    base, per_occurrence, el = per_occ_all[0], per_occ_all[1:], el_all[1:]
    var_sets = min(VAR_SETS, sets)
    losses = _set_years(scores, sim, ParameterSets(params.probability[:var_sets], params.severity[:var_sets]),
                        per_occurrence[:var_sets], base, years, sim.seed)
    q = [(1 - LEVEL) / 2, (1 + LEVEL) / 2]
    pair = lambda v: (float(v[0]), float(v[1]))  # noqa: E731
    return Intervals(LEVEL, sets, var_sets, years, pair(np.quantile(el.sum(axis=1), q)),
                     pair(np.quantile(np.quantile(losses, 0.95, axis=1), q)),
                     pair(np.quantile(np.quantile(losses, 0.99, axis=1), q)))
