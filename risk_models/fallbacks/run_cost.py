"""Run-cost change of each fallback option per deployment, from the price table (config/prices.yaml).

A switch: the deployment's annual spend is turned into tokens at its current model's list price on its
current channel (input and output tokens in the spend mix's share; all input for a model billed on input
only), then those tokens are priced at the target model's list price on the target channel:

    change = spend x (blended target price / blended current price - 1)
    blended price = share x input price + (1 - share) x output price   (USD per 1M tokens)

Where either price is not listed the change is unknown (NaN): the option is then ranked on risk alone.
A lever keeps model and channel: its change is its own running cost, `run_cost_delta_pct` of spend (an
organisation assumption of config/fallbacks.yaml).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk_models.config.loader import Library
from risk_models.config.schema import FallbackOption


def _prices(lib: Library, channel: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(input, output) USD per 1M tokens of each model on `channel`; NaN where not listed, output NaN
    for a model billed on input only (then input is finite)."""
    table = lib.prices.table() if lib.prices else {}
    found = [table.get((channel, str(m).casefold())) for m in models]
    inp = np.array([p.input_usd_per_mtok if p else np.nan for p in found], dtype=float)
    out = np.array([p.output_usd_per_mtok if p and p.output_usd_per_mtok is not None else np.nan for p in found],
                   dtype=float)
    return inp, out


def run_cost_deltas(frame: pd.DataFrame, lib: Library, options: list[FallbackOption],
                    target_model: np.ndarray | None = None) -> np.ndarray:
    """(options, n) USD a year: + dearer, - cheaper, NaN unknown. `target_model` (options, n): the model
    each switch moves each deployment to (its task kind's target; None = no target); without it, the
    option's chat target or the same model. Vectorised over the distinct (channel, model) pairs and
    target models."""
    n = len(frame)
    spend = frame["annual_spend_usd"].to_numpy(float)
    share = float(lib.prices.spend_mix.input_token_share.value) if lib.prices else np.nan
    pair, uniq = pd.factorize(frame["channel"].astype(str) + "\x00" + frame["model"].astype(str))
    channels = np.array([u.split("\x00", 1)[0] for u in uniq], dtype=object)
    models = np.array([u.split("\x00", 1)[1] for u in uniq], dtype=object)
    cur_in = np.full(len(uniq), np.nan)
    cur_out = np.full(len(uniq), np.nan)
    for ch in set(channels.tolist()):
        at = channels == ch
        cur_in[at], cur_out[at] = _prices(lib, ch, models[at])
    # a model billed on input only (embeddings) spends everything on input tokens
    pair_share = np.where(np.isfinite(cur_in) & np.isnan(cur_out), 1.0, share)
    current = (pair_share * cur_in + (1 - pair_share) * np.nan_to_num(cur_out))[pair]
    row_share = pair_share[pair]
    row_model = models[pair]
    out = np.full((len(options), n), np.nan)
    for k, o in enumerate(options):
        if not o.is_switch:
            out[k] = (o.run_cost_delta_pct or 0.0) / 100 * spend
            continue
        if target_model is not None:
            targets = target_model[k]
        else:
            targets = np.full(n, o.after.model, dtype=object) if o.after.model else row_model
        codes, names = pd.factorize(pd.Series(targets, dtype=object))  # no target (None) -> -1
        t_in, t_out = _prices(lib, o.target_channel, np.asarray(names, dtype=object))
        row_in = np.where(codes >= 0, np.append(t_in, np.nan)[codes], np.nan)
        row_out = np.where(codes >= 0, np.append(t_out, np.nan)[codes], np.nan)
        # output tokens priced at a target that bills input only: unknown (no such price listed)
        row_out = np.where(row_share >= 1.0, 0.0, row_out)
        target = row_share * row_in + (1 - row_share) * row_out
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(current > 0, target / current, np.nan)
        out[k] = spend * (ratio - 1)
    return out
