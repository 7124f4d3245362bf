"""Save and load a 20,000-deployment assessment on SQLite (targets < 5 s each).
Run: .venv/bin/python -m bench.bench_storage"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.bench_import import make_inventory
from risk_models.config.loader import load_library
from risk_models.engine.assessment import assess
from risk_models.inventory.read import import_bytes
from risk_models.storage import repository as repo
from risk_models.storage.db import make_engine


def main() -> None:
    lib = load_library()
    a = assess(import_bytes(make_inventory(20_000, seed=4), "b.csv", lib), {}, lib)
    with tempfile.TemporaryDirectory() as d:
        engine = make_engine(f"sqlite:///{Path(d) / 'bench.sqlite'}")
        t = time.perf_counter()
        new_id = repo.save_assessment(engine, a, "bench")
        t_save = time.perf_counter() - t
        t = time.perf_counter()
        saved = repo.load(engine, new_id)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        repo.reopen(saved, lib)
        t_reopen = time.perf_counter() - t
        size = sum(f.stat().st_size for f in Path(d).glob("bench.sqlite*")) / 1e6  # incl. the WAL
    print(f"20,000 deployments on SQLite: save {t_save:.2f} s (target < 5 s: {'OK' if t_save < 5 else 'MISSED'}), "
          f"load {t_load:.2f} s (target < 5 s: {'OK' if t_load < 5 else 'MISSED'}), re-validate inputs on reopen "
          f"{t_reopen:.2f} s, database {size:.1f} MB")


if __name__ == "__main__":
    main()
