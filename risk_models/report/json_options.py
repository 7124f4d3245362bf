"""The fallbacks of the JSON report's records, serialised from whole columns: the 13 options of 20,000
deployments are 260,000 records, and building one Python dict each was the largest share of `assess
--json`. Numbers are formatted by Arrow (shortest round-trip, as orjson does), strings by orjson once per
distinct value; the result is embedded in each record as an `orjson.Fragment`. The records are the same
values, in the same key order, as `Recommendations.ranked_records` (tested)."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    n_opt = len(rec.options)
    offsets = pa.array(np.arange(0, len(records) + 1, n_opt, dtype=np.int32))
    lists = pc.binary_join(pa.ListArray.from_arrays(offsets, records), ",")
    return [orjson.Fragment(f"[{x}]") for x in lists.to_pylist()]


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
    out = np.full(len(ra.option_ids), "", dtype=object)
    done: dict[int, str] = {}  # rows with the same reasons share one list
    for p, why in ra.reasons:
        text = done.get(id(why))
        if text is None:
            text = done[id(why)] = ',"reasons":' + orjson.dumps(refs(why)).decode()
        out[p] = text
    return pa.array(out, pa.string())


def _retraining(ra: RankedArrays) -> pa.Array:
    out = np.full(len(ra.option_ids), "", dtype=object)
    if len(ra.retrained):
        pairs = _pairs(ra.retraining[ra.retrained]).to_pylist()
        out[ra.retrained] = [',"retraining_weeks":' + x for x in pairs]
    return pa.array(out, pa.string())
