"""The fallbacks and drivers of the JSON report's records, serialised from whole columns: the 13 options
and ~10 drivers of 20,000 deployments are ~460,000 small records, and building one Python dict each was
the largest share of `assess --json`. Numbers are formatted by Arrow (shortest round-trip, as orjson
does), strings by orjson once per distinct value; the result is embedded in each record as an
`orjson.Fragment`. The records are the same values, in the same key order, as the dicts the app reads
(`Recommendations.ranked_records`, `context_drivers`; tested)."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk_models.engine.assessment import OTHER_OUTCOMES, DriverContext
from risk_models.fallbacks.recommend import OPTION_FIELDS, RankedArrays, Recommendations

_NUMBERS = ("risk_reduction", "residual_score", "residual_expected_loss_usd", "expected_loss_reduction_usd",
            "one_off_cost_usd", "stranded_commitment_usd", "run_cost_delta_usd", "loss_avoided_per_usd")
_BOOLS = ("feasible", "repays_one_off", "required")
_STRINGS = ("target_model", "capability_gap")


def option_fragments(rec: Recommendations, start: int, stop: int, refs) -> list[orjson.Fragment]:
    """Per deployment in [start, stop): its `fallbacks` list as JSON. `refs` names reason texts by id
    (the report's text catalogue), called in record order."""
    ra = rec.ranked_arrays(start, stop)
    parts: list = []
    for name in OPTION_FIELDS:
        parts += [f'"{name}":' if name == "option_id" else f',"{name}":', _column(ra, name)]
    parts += [_reasons(ra, refs), _retraining(ra)]
    records = pc.binary_join_element_wise("{", *parts, "}", "")
    return _lists(records, np.arange(0, len(records) + 1, len(rec.options)))


def driver_fragments(ctx: DriverContext, outcome_ids: list[str], start: int, stop: int,
                     refs) -> list[orjson.Fragment]:
    """Per deployment at positions [start, stop) of `ctx`: its `drivers` list as JSON — outcomes by
    points, the other outcomes (count, points), then the factors (id, label text by id, value)."""
    s = slice(start, stop)
    r1, c1 = np.nonzero(np.arange(ctx.top_order.shape[1])[None, :] < ctx.top_count[s, None])
    outcome_json = np.array([orjson.dumps(o).decode() for o in outcome_ids], dtype=object)
    outcomes = pc.binary_join_element_wise(
        '{"id":', pa.array(outcome_json[ctx.top_order[s][r1, c1]], pa.string()), ',"value":',
        _numbers(ctx.top_values[s][r1, c1]), "}", "")
    r2 = np.flatnonzero(ctx.other_count[s] > 0)
    other = pc.binary_join_element_wise(
        f'{{"id":{orjson.dumps(OTHER_OUTCOMES).decode()},"count":', pc.cast(pa.array(ctx.other_count[s][r2]), pa.string()),
        ',"value":', _numbers(ctx.other_value[s][r2]), "}", "")
    fd = ctx.factor_drivers
    r3, k3 = np.nonzero(fd.shown[s])
    labels = np.stack([lab[s] for lab in fd.labels], axis=1)[r3, k3] if fd.labels else np.array([], dtype=object)
    codes, distinct = pd.factorize(labels)  # each distinct label named once, in order of first use
    texts = np.array(refs(list(distinct)) + [None], dtype=object)[codes]
    factor_json = np.array([orjson.dumps(f).decode() for f in fd.ids], dtype=object)
    factors = pc.binary_join_element_wise(
        '{"id":', pa.array(factor_json[k3], pa.string()), ',"text":', _encoded(texts),
        ',"value":', _numbers(fd.values[s][r3, k3]), "}", "")
    rows = np.concatenate([r1, r2, r3])
    order = np.argsort(rows, kind="stable")  # per deployment: outcomes, other, factors, each in its order
    entries = pa.concat_arrays([outcomes, other, factors]).take(pa.array(order))
    return _lists(entries, np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=stop - start))]))


def _lists(entries: pa.Array, offsets: np.ndarray) -> list[orjson.Fragment]:
    """JSON lists of the entries between consecutive offsets."""
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), entries), ",")
    return [orjson.Fragment(f"[{x}]") for x in joined.to_pylist()]


def _column(ra: RankedArrays, name: str) -> pa.Array:
    if name == "option_id":
        return _encoded(ra.option_ids)
    values = ra.columns[name]
    if name in _NUMBERS:
        return _numbers(values)
    if name in _BOOLS:
        return pc.if_else(pa.array(values, pa.bool_()), "true", "false")
    if name in _STRINGS:
        return _encoded(values)
    if name == "effort_weeks":
        return _pairs(values)
    raise ValueError(f"no JSON column for option field {name!r}")


def _numbers(values: np.ndarray) -> pa.Array:
    """JSON numbers written as orjson writes floats: whole numbers with ".0" (Arrow writes "25000"),
    NaN and infinities as null."""
    finite = np.isfinite(values)
    clean = np.where(finite, values, 0.0)
    text = pc.cast(pa.array(clean), pa.string())
    whole = pc.and_(pa.array(finite & (clean == np.round(clean))), pc.invert(pc.match_substring(text, "e")))
    text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    return pc.if_else(pa.array(finite), text, "null")


def _pairs(values: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise("[", _numbers(values[:, 0]), ",", _numbers(values[:, 1]), "]", "")


def _encoded(values: np.ndarray) -> pa.Array:
    """Strings (or None) as JSON, each distinct value encoded once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([orjson.dumps(v).decode() for v in uniques] + ["null"], dtype=object)
    return pa.array(table[codes], pa.string())


def _reasons(ra: RankedArrays, refs) -> pa.Array:
    """`,"reasons":[text ids]` where the option is infeasible, else nothing; each distinct list named once,
    in order of first use."""
    infeasible = np.flatnonzero(~ra.columns["feasible"])
    codes, first = np.unique(ra.reason_codes[infeasible], return_index=True)
    table = np.full(len(ra.reason_table) + 1, "", dtype=object)  # the last entry: feasible, nothing
    for c in codes[np.argsort(first)].tolist():
        table[c] = ',"reasons":' + orjson.dumps(refs(ra.reason_table[c])).decode()
    pick = np.full(len(ra.reason_codes), len(ra.reason_table))
    pick[infeasible] = ra.reason_codes[infeasible]
    return pa.array(table[pick], pa.string())


def _retraining(ra: RankedArrays) -> pa.Array:
    out = np.full(len(ra.option_ids), "", dtype=object)
    if len(ra.retrained):
        pairs = _pairs(ra.retraining[ra.retrained]).to_pylist()
        out[ra.retrained] = [',"retraining_weeks":' + x for x in pairs]
    return pa.array(out, pa.string())
