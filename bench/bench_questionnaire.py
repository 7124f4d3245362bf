"""Questionnaire at portfolio scale, 20,000 deployments (targets: each < 5 s):

- bulk-answering one question for every deployment (select by filter, set, count changes), next to
  a plain dict comprehension doing the same assignment as the floor;
- importing a returned XLSX with 20,000 fully answered rows (read, validate every cell, merge),
  next to openpyxl merely reading the same cells;
- the value of information (every question's best answer scored for the whole portfolio), on a
  2,000-deployment slice for reference (no target).

Printed side by side in one run. Run: .venv/bin/python -m bench.bench_questionnaire [ROWS]
"""

from __future__ import annotations

import io
import sys
import time

import numpy as np
from openpyxl import load_workbook

from bench.bench_import import make_inventory
from risk_models.config.loader import load_library
from risk_models.engine.value_of_information import value_of_information
from risk_models.inventory.read import import_bytes
from risk_models.questionnaire.bulk import Selection, select, set_answer
from risk_models.questionnaire.workbook import SHEET, read_workbook, workbook_bytes


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def answered_everywhere(ids: list[str], lib, seed: int = 3) -> dict:
    """Every question answered on every deployment (random valid answers)."""
    rng = np.random.default_rng(seed)
    answers: dict = {}
    qs = list(lib.questions.values())
    for d in ids:
        per = {}
        for q in qs:
            if q.type in ("choice", "bool"):
                per[q.id] = q.options[int(rng.integers(len(q.options)))].value
            elif q.type == "multi":
                per[q.id] = [q.options[int(rng.integers(len(q.options)))].value]
            elif q.type == "number":
                per[q.id] = float(rng.integers(0, 1000))
            else:
                per[q.id] = lib.scenarios.as_of
        answers[d] = per
    return answers


def main(n: int = 20_000) -> None:
    lib = load_library()
    res = import_bytes(make_inventory(n), "inv.csv", lib)
    frame = res.frame
    ids = frame["deployment_id"].tolist()
    print(f"{len(frame):,} deployments, {len(lib.questions)} questions")

    # bulk: select everything on two channels' filter + every deployment, set one answer
    base = {d: {"rto_hours": 4.0} for d in ids[::2]}
    t_bulk, (new, changed) = timed(lambda: set_answer(
        base, frame.loc[select(frame, Selection(channel=sorted(frame["channel"].unique()))), "deployment_id"].tolist(),
        "exit_plan_exists", "tested"))
    t_floor, _ = timed(lambda: {d: {**base.get(d, {}), "exit_plan_exists": "tested"} for d in ids})
    assert changed == n and all(new[d]["exit_plan_exists"] == "tested" for d in ids)

    # XLSX read-back of 20,000 fully answered rows
    full = answered_everywhere(ids, lib)
    t_write, data = timed(lambda: workbook_bytes(frame, full, lib))
    known = set(ids)
    t_import, (got, errors) = timed(lambda: read_workbook(data, "all.xlsx", lib, known))
    assert not errors and len(got) == n and got[ids[0]] == full[ids[0]], (errors[:3], got.get(ids[0]))

    def raw_read() -> int:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        cells = sum(len(r) for r in wb[SHEET].iter_rows(values_only=True))
        wb.close()
        return cells
    t_raw, cells = timed(raw_read)

    m = min(n, 2_000)  # value of information: 2 x questions scorings; reported for a 2,000 slice
    t_voi, voi = timed(lambda: value_of_information(frame.iloc[:m], base, lib))

    print(f"{'step':<52}{'seconds':>10}{'floor':>10}{'ratio':>8}")
    print(f"{'bulk-answer one question for every deployment':<52}{t_bulk:>10.3f}{t_floor:>10.3f}"
          f"{t_bulk / t_floor:>8.1f}   (target < 5 s; floor: a dict comprehension)")
    print(f"{f'import {n:,} answered rows from XLSX':<52}{t_import:>10.3f}{t_raw:>10.3f}"
          f"{t_import / t_raw:>8.2f}   (target < 5 s; floor: openpyxl reading {cells:,} cells)")
    print(f"{'  (writing that workbook, for reference)':<52}{t_write:>10.3f}")
    print(f"{f'value of information, {m:,} deployments ({len(voi):,} rows)':<52}{t_voi:>10.3f}")
    ok = t_bulk < 5 and t_import < 5
    print("targets met" if ok else "TARGET MISSED")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
