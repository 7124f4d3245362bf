"""The JSON report of `assess` (documented in docs/report-schema.md): scenario library used, inventory and
rejected rows, per-deployment scores with drivers, fallbacks and exit plans, concentration,
simulation, heatmap; plus stress-test deltas."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import numpy as np
import orjson

from risk_models.config.labels import label_maps
from risk_models.engine.assessment import (
    Assessment,
    DriverContext,
    driver_catalogue,
    driver_context,
    frame_rows,
    heatmap_cells,
)
from risk_models.engine.concentration import concentration, concentration_by_business_unit
from risk_models.engine.lenses import LENSES, lens_split
from risk_models.fallbacks.exit_plan import REGULATORY_BASIS, TEST_PLAN, plan_facts
from risk_models.fallbacks.recommend import Recommendations, recommendations_of
from risk_models.inventory.export import inventory_text_frame
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.questionnaire.answers import answers_to_jsonable
from risk_models.report.json_columns import RecordColumns, joined_records
from risk_models.scenarios.pack import pack_record

SCHEMA_VERSION = 4
PROBABILITY_METHOD = (
    "Each outcome's probability is given over its event's horizon (scenario pack: 24 months; baseline "
    "events: 12). Its annual probability is 1 - (1 - P)^(12 / horizon): it depends only on the outcome's "
    "own probability and the horizon, never exceeds P for horizons of 12 months or more, and a "
    "simulated year draws at most one outcome per event with these probabilities. Outages and price or "
    "quota changes can happen several times a year: for them the annual probability is the chance of at "
    "least one, and the loss model counts occurrences (Poisson with mean -ln(1 - annual probability)). "
    "Favourable outcomes relieve losses only in the years they happen.")
EXIT_PLAN_RATINGS = ("high", "critical")
CHUNK_ROWS = 2000


class Texts:
    """Sentences that repeat across deployments (factor labels, infeasibility reasons, exit-plan steps and
    dependencies): each written once in `catalogues.texts` and named by id in the records ("t1", "t2", …
    in order of first use, so the same inputs give the same ids)."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def refs(self, texts: list[str]) -> list[str]:
        get = self._ids.get  # hundreds of thousands of calls for 20,000 deployments: no method call per text
        return [get(t) or self._add(t) for t in texts]

    def named(self, texts: list[str]) -> list[str]:
        """The ids of texts named already (read-only: safe while another thread adds texts)."""
        ids = self._ids
        return [ids[t] for t in texts]

    def _add(self, text: str) -> str:
        tid = self._ids[text] = f"t{len(self._ids) + 1}"
        return tid

    def table(self) -> dict[str, str]:
        return {tid: text for text, tid in self._ids.items()}


def prefetched(build, chunks: list[tuple[int, int]], workers: int = 2) -> Iterator:
    """build(start, stop) of each chunk in turn, built by `workers` threads ahead of the caller (at most
    workers + 1 chunks in memory). The first ones start at once, before the iterator is read."""
    pool = ThreadPoolExecutor(max_workers=workers)
    ahead = deque(pool.submit(build, *c) for c in chunks[:workers])

    def results() -> Iterator:
        try:
            for nxt in chunks[workers:] + [None] * min(workers, len(chunks)):
                current = ahead.popleft().result()
                if nxt is not None:
                    ahead.append(pool.submit(build, *nxt))
                yield current
        finally:
            pool.shutdown(cancel_futures=True)

    return results()


class RecordStream:
    """The deployment records of an assessment as JSON, one per deployment, and every text they name.
    Creating it names all the texts (reasons, factor labels, exit-plan steps) — so the catalogue at the
    top of the report is complete before the first record is written — and starts building the records
    from whole columns (`RecordColumns`) in worker threads, a few chunks of rows ahead; iterating it
    yields them with their exit plans, streamed (20,000 records are ~200 MB)."""

    def __init__(self, a: Assessment, texts: Texts) -> None:
        ctx = driver_context(a)
        rec = recommendations_of(a)
        # the texts the columns name get their ids first, in a fixed order: the workers only look them up
        texts.refs([t for why in rec.reason_lists() for t in why])
        texts.refs(ctx.factor_drivers.distinct_labels())
        columns = RecordColumns(a, ctx, rec, lens_split(a), texts.named)
        self.n = len(ctx.rows)
        self._bounds = [(i, min(i + CHUNK_ROWS, self.n)) for i in range(0, self.n, CHUNK_ROWS)]
        self._chunks = prefetched(columns.chunk, self._bounds)
        self._plans = _exit_plans(a, ctx, rec, texts)  # while the workers build the first chunks

    def __iter__(self) -> Iterator[memoryview]:
        """The records chunk by chunk, each chunk one text of records joined by a comma and a new line."""
        for start, stop in self._bounds:
            endings = [self._plans.get(i, "") for i in range(start, stop)]
            yield memoryview(joined_records(next(self._chunks), endings, RECORD_SEPARATOR))


RECORD_SEPARATOR = ",\n    "


def _exit_plans(a: Assessment, ctx: DriverContext, rec: Recommendations, texts: Texts) -> dict[int, str]:
    """The exit plan of each high or critical deployment, as the JSON that ends its record."""
    named_lists: dict[int, list[str]] = {}  # the steps of one set-up are one list object (ctx.plan_parts)

    def named(texts_of_plan: list[str]) -> list[str]:
        ids = named_lists.get(id(texts_of_plan))
        if ids is None:
            ids = named_lists[id(texts_of_plan)] = texts.refs(texts_of_plan)
        return ids

    plans = {}
    for i, rating in enumerate(ctx.ratings):
        if rating in EXIT_PLAN_RATINGS:
            plan = plan_facts(a, rec, i, ctx, i)
            plan = plan | {"steps": named(plan["steps"]), "dependencies": named(plan["dependencies"])}
            plans[i] = ',"exit_plan":' + orjson.dumps(plan, default=str).decode()
    return plans


def scenario_library_record(a: Assessment) -> dict:
    sc = a.lib.scenarios
    events = {e.id: e for e in a.lib.events}
    outcome = {o.id: o for e in a.lib.events for o in e.outcomes}
    outs = a.residual.outcomes
    annual = outs.annual
    return {
        "as_of": sc.as_of.isoformat(), "horizon_months": sc.horizon_months,
        "baseline_as_of": a.lib.baseline.as_of.isoformat() if a.lib.baseline else None,
        "probability_method": PROBABILITY_METHOD,
        "outcomes": [{
            "id": oid, "event": outs.event_ids[j], "event_label": outs.event_labels[j], "label": outs.labels[j],
            "baseline": events[outs.event_ids[j]].family is not None,
            "probability": round(float(outs.probability[j]), 4), "horizon_months": int(outs.horizon_months[j]),
            "annual_probability": round(float(annual[j]), 4),
            "default_probability": outcome[oid].probability, "confidence": outcome[oid].confidence,
            "outage_hours": outcome[oid].outage_hours,
            "sources": [s.model_dump(mode="json") for s in events[outs.event_ids[j]].sources],
        } for j, oid in enumerate(outs.ids)],
    }


def inputs_hash(a: Assessment) -> str:
    """SHA-256 of what went in: inventory rows, answers, scenario probabilities, seed and trials."""
    payload = {
        "inventory": frame_rows(inventory_text_frame(a.frame)),
        "rejected": [e.model_dump() for e in a.inventory.errors],
        "answers": answers_to_jsonable(a.answers),
        "probabilities": [round(float(p), 6) for p in a.residual.outcomes.probability],
        "profile": a.lib.profile.model_dump(mode="json"),
        "assumptions": a.lib.assumptions.model_dump(mode="json"),
        "seed": a.seed, "trials": a.simulation.trials,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def catalogues(a: Assessment) -> dict:
    """What the records name by id, once: fallback options, drivers, the labels of coded values, the
    exit plans' common text; `texts` is filled as the records are written."""
    return {"options": {o.pop("option_id"): o for o in recommendations_of(a).catalogue()},
            "drivers": driver_catalogue(a), "labels": label_maps(a.lib),
            "exit_plan": {"test_plan": TEST_PLAN, "regulatory_basis": REGULATORY_BASIS}, "texts": {}}


def report_header(a: Assessment, organisation: str = "", generated_at: dt.datetime | None = None) -> dict:
    """Everything of the report but the per-deployment records."""
    now = generated_at or dt.datetime.now(dt.UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": now.isoformat(timespec="seconds"),
        "organisation": organisation or a.lib.profile.name,
        "organisation_profile": a.lib.profile.model_dump(mode="json"),
        "assumptions": a.lib.assumptions.table(),
        "reference_date": a.lib.reference_date.isoformat(),
        "inputs_hash": inputs_hash(a),
        "catalogues": catalogues(a),
        "scenario_library": scenario_library_record(a),
        "inventory": {"valid_rows": len(a.frame), "rejected": [e.model_dump() for e in a.inventory.errors],
                      "warnings": [w.model_dump() for w in plausibility_warnings(a.frame, a.lib, a.answers)]},
        "concentration": concentration(a.frame, a.lib),
        "concentration_by_business_unit": concentration_by_business_unit(a.frame, a.lib),
        "simulation": a.simulation_summary(),
        "lenses": lens_record(a),
        "heatmap": {"cells": heatmap_cells(a.residual.table, a.lib.scoring.rating_bounds)},
    }


def lens_record(a: Assessment) -> dict:
    """Portfolio expected loss through each lens (they add up to the simulation's expected loss)."""
    split = lens_split(a)
    return {k: {"label": label, "expected_annual_loss_usd": round(float(split.loss[k].sum()), 2)}
            for k, label in LENSES.items()}


def document_header(a: Assessment, organisation: str, extra: dict | None = None) -> dict:
    """The header every front end writes (the app's downloads and `assess`): the report header and the
    scenario pack it used; `extra` adds what only some runs have (stress, rejected answers)."""
    pack = pack_record(a.lib.scenarios)
    header = report_header(a, organisation) | {"scenario_pack": pack} | (extra or {})
    header["scenario_library"]["pack"] = pack  # read by the PDF, XLSX and Markdown renderers
    return header


def json_bytes(a: Assessment, organisation: str, header: dict) -> bytes:
    """The JSON report as the command line writes it, as bytes (the app's download)."""
    buf = io.BytesIO()
    write_report(a, buf, organisation, header=header)
    return buf.getvalue()


def report(a: Assessment, organisation: str = "", generated_at: dt.datetime | None = None,
           header: dict | None = None) -> dict:
    """The JSON report of `assess` as a dict (same inputs and seed -> identical apart from generated_at)."""
    buf = io.BytesIO()
    write_report(a, buf, organisation, generated_at, header=header)
    return orjson.loads(buf.getvalue())


def _with_texts(header: dict, texts: Texts) -> dict:
    return header | {"catalogues": header["catalogues"] | {"texts": texts.table()}}


def write_report(a: Assessment, out: BinaryIO, organisation: str = "", generated_at: dt.datetime | None = None,
                 extra: dict | None = None, header: dict | Callable[[], dict] | None = None) -> None:
    """The same report as `report`, written (UTF-8) to a binary stream: one line per top-level key and per
    deployment, the records streamed (memory stays flat however large the inventory). `header` may be a
    function: it is then called once the records are being built (the two overlap)."""
    texts = Texts()
    records = RecordStream(a, texts)
    if callable(header):
        header = header()
    header = header if header is not None else report_header(a, organisation, generated_at)
    items = {**_with_texts(header, texts), **(extra or {})}
    out.write(b"{\n")
    for key, value in items.items():
        out.write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n".encode())
    out.write(b'  "deployments": [')
    sep = b"\n    "
    # a writer thread copies each chunk out (the kernel works without the GIL) while the next is joined;
    # one write in flight at a time: memory stays bounded and a write error surfaces at once
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for chunk in records:
            if pending is not None:
                pending.result()
            pending = writer.submit(out.writelines, (sep, chunk))
            sep = RECORD_SEPARATOR.encode()
        if pending is not None:
            pending.result()
    out.write(b"\n  ]\n}\n")


def stress_delta(base: Assessment, stressed: Assessment, outcome_ids: list[str]) -> dict:
    """Per-deployment and portfolio change when the given outcomes are certain."""
    b, s = base.residual.table, stressed.residual.table
    delta = (s["score"] - b["score"]).to_numpy()
    loss_b, loss_s = base.simulation.expected_by_deployment, stressed.simulation.expected_by_deployment
    bs, ss = base.simulation.summary(base.frame), stressed.simulation.summary(stressed.frame)
    return {
        "outcomes": outcome_ids,
        "portfolio": {k: {"before": bs[k], "after": ss[k], "delta": round(ss[k] - bs[k], 2)}
                      for k in ("expected_annual_loss_usd", "var90_usd", "var95_usd", "var99_usd")}
        | {"high_or_critical": {"before": int(b["rating"].isin(["high", "critical"]).sum()),
                                "after": int(s["rating"].isin(["high", "critical"]).sum())}},
        "deployments": [
            {"deployment_id": str(b["deployment_id"].iat[i]), "score_before": round(float(b["score"].iat[i]), 2),
             "score_after": round(float(s["score"].iat[i]), 2), "score_delta": round(float(delta[i]), 2),
             "rating_before": str(b["rating"].iat[i]), "rating_after": str(s["rating"].iat[i]),
             "expected_loss_delta_usd": round(float(loss_s[i] - loss_b[i]), 2)}
            for i in np.argsort(-delta, kind="stable")
        ],
    }
