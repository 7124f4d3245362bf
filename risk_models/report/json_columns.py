"""The JSON report's deployment records, serialised from whole columns: 20,000 deployments with 13
options and ~10 drivers each are ~500,000 small records, and building one Python dict each was the
largest share of `assess --json`. Numbers are formatted by Arrow (shortest round-trip, as orjson writes
floats), strings by orjson once per distinct value, and each record's text is joined by Arrow; only the
exit plans are Python objects. The fallbacks and drivers are the same values, in the same key order, as
the dicts the app reads (`Recommendations.ranked_records`, `context_drivers`; tested)."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk_models.config.domain import DIMENSIONS
from risk_models.engine.assessment import OTHER_OUTCOMES, Assessment, DriverContext
from risk_models.engine.lenses import LensSplit
from risk_models.engine.simulation import COMPONENTS
from risk_models.fallbacks.recommend import OPTION_FIELDS, RankedArrays, Recommendations
from risk_models.io.identity import identity_codes
from risk_models.questionnaire.answers import rows_by_answers
from risk_models.questionnaire.report_answers import deployment_answers

_NUMBERS = ("risk_reduction", "residual_score", "residual_expected_loss_usd", "expected_loss_reduction_usd",
            "one_off_cost_usd", "stranded_commitment_usd", "run_cost_delta_usd", "loss_avoided_per_usd")
_BOOLS = ("feasible", "repays_one_off", "required")
_STRINGS = ("target_model", "capability_gap")


def option_lists(rec: Recommendations, start: int, stop: int, refs) -> pa.Array:
    """Per deployment in [start, stop): its `fallbacks` list as JSON. `refs` names reason texts by id
    (the report's text catalogue), called in record order."""
    ra = rec.ranked_arrays(start, stop)
    parts = _fields([(name, _column(ra, name)) for name in OPTION_FIELDS]) + [_reasons(ra, refs), _retraining(ra)]
    records = pc.binary_join_element_wise(*parts, "}", "")
    return _lists(records, np.arange(0, len(records) + 1, len(rec.options)))


def driver_lists(ctx: DriverContext, outcome_ids: list[str], start: int, stop: int, refs) -> pa.Array:
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


def _lists(entries: pa.Array, offsets: np.ndarray) -> pa.Array:
    """JSON lists of the entries between consecutive offsets."""
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), entries), ",")
    return pc.binary_join_element_wise("[", joined, "]", "")


RECORD_STRINGS = ("deployment_id", "name", "business_unit", "use_case", "owner", "channel", "model",
                  "model_vendor", "region", "jurisdiction")


class RecordColumns:
    """Every deployment record's JSON but its exit plan, built a chunk of rows at a time from columns
    prepared once. The texts the records name (reasons, factor labels) must be in the catalogue
    already: `named` only looks them up, so chunks can be built in another thread."""

    def __init__(self, a: Assessment, ctx: DriverContext, rec: Recommendations, split: LensSplit, named) -> None:
        self.a, self.ctx, self.rec, self.named = a, ctx, rec, named
        f, t = a.frame, a.residual.table
        self.dims = list(a.lib.scoring.dimensions)
        self.strings = {c: f[c].to_numpy(dtype=object) for c in
                        (*RECORD_STRINGS, "criticality", "data_sensitivity", "fallback_status", "proprietary_features")}
        self.contract_end = f["contract_end"].to_numpy(dtype=object)
        self.abstraction = f["abstraction_layer"].to_numpy(dtype=bool)
        r2 = lambda x: np.round(np.asarray(x, float), 2)  # noqa: E731
        self.money = {"annual_spend_usd": r2(f["annual_spend_usd"]), "committed_spend_usd": r2(f["committed_spend_usd"])}
        self.score, self.inherent = r2(t["score"]), r2(a.inherent.table["score"])
        self.likelihood, self.impact = t["likelihood"].to_numpy(np.int64), t["impact"].to_numpy(np.int64)
        self.rating = t["rating"].astype(str).to_numpy(dtype=object)
        self.dim_values = r2(t[self.dims].to_numpy())
        self.expected = r2(a.simulation.expected_by_deployment)
        self.components = r2(a.simulation.components)
        self.lens_loss = {k: r2(v) for k, v in split.loss.items()}
        self.lens_score = {k: r2(v) for k, v in split.score.items()}
        exits = rec.exit_targets()
        self.exit = np.array([o.id for o in rec.options] + [None], dtype=object)[np.where(exits >= 0, exits, -1)]
        self.assumed = _by_identity(a.residual.assumed)
        self.answers = self._answers_json()

    def _answers_json(self) -> np.ndarray:
        """Per row its answers as JSON, written once per distinct answers mapping."""
        questions = self.a.lib.questions
        out = np.full(len(self.a.frame), orjson.dumps(deployment_answers(questions, {})).decode(), dtype=object)
        for per, rows in rows_by_answers(self.strings["deployment_id"].tolist(), self.a.answers_in_effect):
            out[rows] = orjson.dumps(deployment_answers(questions, per)).decode()
        return out

    def chunk(self, start: int, stop: int) -> pa.Array:
        """Rows [start, stop): each record's JSON without its closing brace (the exit plan may follow)."""
        s = slice(start, stop)
        fields: list[tuple[str, pa.Array]] = []  # in the records' key order

        def add(key: str, values: pa.Array) -> None:
            fields.append((key, values))

        for c in RECORD_STRINGS:
            add(c, _encoded(self.strings[c][s]))
        for k, v in self.money.items():
            add(k, _numbers(v[s]))
        add("contract_end", _encoded(np.array([d.isoformat() if d else None for d in self.contract_end[s]], dtype=object)))
        for c in ("criticality", "data_sensitivity", "fallback_status"):
            add(c, _encoded(self.strings[c][s]))
        add("abstraction_layer", pc.if_else(pa.array(self.abstraction[s]), "true", "false"))
        add("proprietary_features", _mapped(self.strings["proprietary_features"][s],
                                            lambda v: orjson.dumps(v.split(";") if v else []).decode()))
        add("score", _numbers(self.score[s]))
        add("inherent_score", _numbers(self.inherent[s]))
        add("likelihood", pc.cast(pa.array(self.likelihood[s]), pa.string()))
        add("impact", pc.cast(pa.array(self.impact[s]), pa.string()))
        add("rating", _encoded(self.rating[s]))
        add("dimensions", _object({d: self.dim_values[s, k] for k, d in enumerate(self.dims)}))
        add("drivers", driver_lists(self.ctx, self.a.residual.outcomes.ids, start, stop, self.named))
        add("assumed", pa.array(self.assumed[s], pa.string()))
        add("answers", pa.array(self.answers[s], pa.string()))
        add("expected_loss_usd", _numbers(self.expected[s]))
        add("expected_loss_breakdown_usd",
            _object({COMPONENTS[d]: self.components[s, k] for k, d in enumerate(DIMENSIONS)}))
        add("expected_loss_by_lens_usd", _object({k: v[s] for k, v in self.lens_loss.items()}))
        add("score_by_lens", _object({k: v[s] for k, v in self.lens_score.items()}))
        add("recommended_exit", _encoded(self.exit[s]))
        add("fallbacks", option_lists(self.rec, start, stop, self.named))
        return pc.binary_join_element_wise(*_fields(fields), "")


def _fields(fields: list[tuple[str, pa.Array]]) -> list:
    """The pieces of JSON objects with these keys and per-row values, without the closing brace:
    '{"k1":', values1, ',"k2":', values2, ..."""
    parts: list = []
    for key, values in fields:
        parts += [("{" if not parts else ",") + orjson.dumps(key).decode() + ":", values]
    return parts


def _object(fields: dict[str, np.ndarray]) -> pa.Array:
    """JSON objects of numbers, one per row, keys in the given order."""
    return pc.binary_join_element_wise(*_fields([(k, _numbers(v)) for k, v in fields.items()]), "}", "")


def _mapped(values: np.ndarray, encode) -> pa.Array:
    """encode(value) of each row, called once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return pa.array(np.array([encode(v) for v in uniques], dtype=object)[codes] if len(uniques) else [], pa.string())


def _by_identity(lists: list) -> np.ndarray:
    """Per row, the JSON of its list, written once per list object (rows share them)."""
    first, codes = identity_codes(lists)
    return np.array([orjson.dumps(lists[f]).decode() for f in first.tolist()], dtype=object)[codes]


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
    """JSON numbers written as orjson writes floats: whole numbers with ".0" (Arrow writes "25000"), NaN and
    infinities as null. Arrow switches to an exponent ("1e+10") from 1e10 on: only there is the text looked at."""
    finite = np.isfinite(values)
    clean = values if finite.all() else np.where(finite, values, 0.0)
    text = pc.cast(pa.array(clean), pa.string())
    whole = clean == np.round(clean)
    big = whole & (np.abs(clean) >= 1e9)
    if big.any():  # "1e+10" is whole too, and must stay as it is
        whole &= ~(big & pc.match_substring(text, "e").to_numpy(zero_copy_only=False))
    text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
    return text if finite.all() else pc.if_else(pa.array(finite), text, "null")


def _pairs(values: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise("[", _numbers(values[:, 0]), ",", _numbers(values[:, 1]), "]", "")


def _encoded(values: np.ndarray) -> pa.Array:
    """Strings (or None) as JSON, each distinct value encoded once."""
    return _mapped(values, lambda v: orjson.dumps(v).decode())


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


def joined_records(prefixes: pa.Array, endings: list[str], separator: str) -> pa.Buffer:
    """The records of a chunk as one text: each prefix (`RecordColumns.chunk`) with its ending (the exit
    plan, or nothing) and its closing brace, joined by `separator` — built by Arrow, written as it is."""
    whole = pc.binary_join_element_wise(prefixes, pa.array(endings, pa.string()), "}", "")
    one = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(whole)], pa.int32()), whole), separator)
    return one[0].as_buffer()
