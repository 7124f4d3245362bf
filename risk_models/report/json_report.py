"""The JSON report of `assess` (documented in docs/report-schema.md): scenario library used, inventory and
rejected rows, per-deployment scores with drivers, fallbacks and exit plans, concentration,
simulation, heatmap; plus stress-test deltas."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import orjson

from risk_models.config.labels import label_maps
from risk_models.engine.assessment import Assessment, context_drivers, driver_context, frame_rows, heatmap_cells
from risk_models.engine.concentration import concentration, concentration_by_business_unit
from risk_models.engine.simulation import component_records
from risk_models.fallbacks.exit_plan import exit_plan
from risk_models.fallbacks.recommend import recommendations_of
from risk_models.inventory.export import inventory_text_frame
from risk_models.inventory.plausibility import plausibility_warnings
from risk_models.questionnaire.answers import answers_to_jsonable
from risk_models.questionnaire.report_answers import deployment_answers
from risk_models.scenarios.pack import pack_record

SCHEMA_VERSION = 3
PROBABILITY_METHOD = (
    "Each outcome's probability is given over its event's horizon (scenario pack: 24 months; baseline "
    "events: 12). Its annual probability is 1 - (1 - P)^(12 / horizon): it depends only on the outcome's "
    "own probability and the horizon, never exceeds P for horizons of 12 months or more, and a "
    "simulated year draws at most one outcome per event with these probabilities. Favourable outcomes "
    "relieve losses only in the years they happen.")
EXIT_PLAN_RATINGS = ("high", "critical")
CHUNK_ROWS = 2000
PARALLEL_MIN_ROWS = 5000  # below this a second process costs more than it saves
PARENT_SHARE = 0.4  # of the records; the first process also builds the header and the summary meanwhile


def iter_deployment_records(a: Assessment, arrays: bool = False, rows: range | None = None) -> Iterator[dict]:
    """One record per deployment, generated lazily (the report of 20,000 deployments is too big to
    hold as Python objects comfortably; `write_report` streams it). Everything per-row is read from
    columns prepared once for the whole inventory (or for `rows`, a range of it). `arrays`: the
    fallbacks' numbers as numpy rows (for orjson, which writes them without a Python float each)."""
    n = len(a.frame)
    rows = rows if rows is not None else range(n)
    lo, hi = rows.start, rows.stop
    t = a.residual.table
    dims = list(a.lib.scoring.dimensions)
    ctx = driver_context(a, None if (lo, hi) == (0, n) else list(rows))
    r2 = lambda x: np.round(np.asarray(x, float)[lo:hi], 2).tolist()  # noqa: E731
    score, inherent = r2(t["score"]), r2(a.inherent.table["score"])
    lik, imp = t["likelihood"].iloc[lo:hi].astype(int).tolist(), t["impact"].iloc[lo:hi].astype(int).tolist()
    dim_values = r2(t[dims].to_numpy())
    spend, committed = r2(a.frame["annual_spend_usd"]), r2(a.frame["committed_spend_usd"])
    expected = r2(a.simulation.expected_by_deployment)
    breakdown = component_records(a.simulation.components[lo:hi])
    rec = recommendations_of(a)
    exits = rec.exit_targets()[lo:hi].tolist()
    option_ids = [o.id for o in rec.options]
    fallbacks: list[dict] = []
    for j, row in enumerate(ctx.rows):
        i = lo + j
        if j % CHUNK_ROWS == 0:  # the option columns of the next rows (bounded memory)
            fallbacks = rec.ranked_columns(i, min(i + CHUNK_ROWS, hi), arrays)
        dep = row["deployment_id"]
        record = {
            "deployment_id": dep, "name": row["name"], "business_unit": row["business_unit"],
            "use_case": row["use_case"], "owner": row["owner"], "channel": row["channel"], "model": row["model"],
            "model_vendor": row["model_vendor"], "region": row["region"], "jurisdiction": row["jurisdiction"],
            "annual_spend_usd": spend[j], "committed_spend_usd": committed[j],
            "contract_end": row["contract_end"].isoformat() if row["contract_end"] else None,
            "criticality": row["criticality"], "data_sensitivity": row["data_sensitivity"],
            "fallback_status": row["fallback_status"], "abstraction_layer": bool(row["abstraction_layer"]),
            "proprietary_features": row["proprietary_features"].split(";") if row["proprietary_features"] else [],
            "score": score[j], "inherent_score": inherent[j], "likelihood": lik[j], "impact": imp[j],
            "rating": ctx.ratings[j], "dimensions": dict(zip(dims, dim_values[j], strict=True)),
            "drivers": context_drivers(a, ctx, j), "assumed": a.residual.assumed[i],
            "answers": deployment_answers(a.lib.questions, a.answers.get(dep, {})),
            "expected_loss_usd": expected[j], "expected_loss_breakdown_usd": breakdown[j],
            "recommended_exit": option_ids[exits[j]] if exits[j] >= 0 else None,
            "fallbacks": fallbacks[j % CHUNK_ROWS],
        }
        if ctx.ratings[j] in EXIT_PLAN_RATINGS:
            record["exit_plan"] = exit_plan(a, rec, i, ctx, j, refs=True)
        yield record


def deployment_records(a: Assessment) -> list[dict]:
    return list(iter_deployment_records(a))


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
        "scenario_library": scenario_library_record(a),
        "inventory": {"valid_rows": len(a.frame), "rejected": [e.model_dump() for e in a.inventory.errors],
                      "warnings": [w.model_dump() for w in plausibility_warnings(a.frame, a.lib)]},
        "concentration": concentration(a.frame, a.lib),
        "concentration_by_business_unit": concentration_by_business_unit(a.frame, a.lib),
        "simulation": a.simulation.summary(a.frame),
        "heatmap": {"cells": heatmap_cells(a.residual.table, a.lib.scoring.rating_bounds)},
        "fallback_options": recommendations_of(a).catalogue(),
    }


def document_header(a: Assessment, organisation: str, extra: dict | None = None) -> dict:
    """The header every front end writes (the app's downloads and `assess`): the report header, the labels
    of coded values (channel, cloud, vendor, feature, regime) and the scenario pack it used; `extra` adds
    what only some runs have (stress, rejected answers)."""
    pack = pack_record(a.lib.scenarios)
    header = report_header(a, organisation) | {"labels": label_maps(a.lib), "scenario_pack": pack} | (extra or {})
    header["scenario_library"]["pack"] = pack  # read by the PDF, XLSX and Markdown renderers
    return header


def json_bytes(a: Assessment, organisation: str, header: dict) -> bytes:
    """The JSON report as the command line writes it, as bytes (the app's download)."""
    buf = io.BytesIO()
    write_report(a, buf, organisation, header=header, parallel_from=sys.maxsize)  # no fork in a server
    return buf.getvalue()


def report(a: Assessment, organisation: str = "", generated_at: dt.datetime | None = None) -> dict:
    """The JSON report of `assess` (same inputs and seed -> identical apart from generated_at)."""
    return report_header(a, organisation, generated_at) | {"deployments": deployment_records(a)}


def write_report(a: Assessment, out: BinaryIO, organisation: str = "", generated_at: dt.datetime | None = None,
                 extra: dict | None = None, header: dict | None = None, parallel_from: int = PARALLEL_MIN_ROWS,
                 started: LaterRecords | None = None) -> None:
    """The same report as `report`, written (UTF-8) to a binary stream as it is generated: one line
    per top-level key and per deployment, so memory stays flat however large the inventory.
    `header`: report_header(...) when the caller has already built it. From `parallel_from`
    deployments on, a forked process writes the later part of the records while this one writes
    the first (the records are independent; the bytes are the same as written in one process).
    `started`: that part, already started by the caller (`later_records_started`)."""
    with ExitStack() as stack:
        if started is None:
            started = stack.enter_context(later_records_started(a, parallel_from))
        items = {**(header if header is not None else report_header(a, organisation, generated_at)), **(extra or {})}
        out.write(b"{\n")
        for key, value in items.items():
            out.write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n".encode())
        out.write(b'  "deployments": [')
        n = len(a.frame)
        if started is None:
            _write_records(a, out, range(n))
        else:
            _write_records(a, out, range(0, started.mid))
            started.append_to(out)
        out.write(b"\n  ]\n}\n")


def _write_records(a: Assessment, out: BinaryIO, rows: range) -> None:
    """The records of `rows`, each on its own line after a separator (the first of the report
    after none)."""
    chunk: list[bytes] = []
    sep = b"\n    " if rows.start == 0 else b",\n    "
    for record in iter_deployment_records(a, arrays=True, rows=rows):
        # orjson: ~10x faster than json.dumps on 20,000 records; same values, compact separators
        chunk.append(orjson.dumps(record, default=_json_default, option=orjson.OPT_SERIALIZE_NUMPY))
        if len(chunk) == CHUNK_ROWS:
            out.write(sep + b",\n    ".join(chunk))
            sep, chunk = b",\n    ", []
    if chunk:
        out.write(sep + b",\n    ".join(chunk))


@dataclass
class LaterRecords:
    """Records [mid, n) being written by the forked process `pid` to `tmp`."""

    a: Assessment
    pid: int
    tmp: BinaryIO
    mid: int
    exit_code: int | None = None  # once the child has been reaped

    @property
    def done(self) -> bool:
        return self.exit_code is not None

    def append_to(self, out: BinaryIO) -> None:
        """Wait for the child and append its records; if it failed for any reason, write them here."""
        if self.wait() == 0:
            self.tmp.seek(0)
            shutil.copyfileobj(self.tmp, out, 1 << 20)
        else:
            _write_records(self.a, out, range(self.mid, len(self.a.frame)))

    def wait(self) -> int:
        """The child's exit code (reaped once)."""
        if self.exit_code is None:
            self.exit_code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.exit_code


@contextmanager
def later_records_started(a: Assessment, parallel_from: int = PARALLEL_MIN_ROWS) -> Iterator[LaterRecords | None]:
    """Start writing the later part of the deployment records in a forked process now (from
    `parallel_from` deployments on, with a second core), so that they are ready when write_report
    gets there; the caller builds the header and other parts meanwhile. None: no second process."""
    n = len(a.frame)
    # Linux only: fork is the default there and safe for this single-threaded CLI path (macOS
    # frameworks are not fork-safe; Windows has no fork)
    if n < max(parallel_from, 2) or not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2:
        yield None
        return
    rec = recommendations_of(a)
    rec.exit_targets(), rec.supporting(0)  # filled once, before the fork, for both halves
    with tempfile.TemporaryFile() as tmp:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing buffered is inherited twice
        pid = os.fork()
        if pid == 0:  # the child: write its part and leave without running any exit handlers
            code = 1
            try:
                _write_records(a, tmp, range(int(n * PARENT_SHARE), n))
                tmp.flush()
                code = 0
            finally:
                os._exit(code)
        later = LaterRecords(a, pid, tmp, int(n * PARENT_SHARE))
        try:
            yield later
        except BaseException:
            if not later.done:
                os.kill(pid, signal.SIGKILL)  # the report will not be written: stop its later part
            raise
        finally:
            later.wait()  # never leave the child behind, whatever happened here


def _json_default(value: object) -> object:
    """What orjson cannot write itself: numpy arrays it does not take directly, anything else as text."""
    return value.tolist() if isinstance(value, np.ndarray) else str(value)


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
