"""AppTest run time per page for the demo (61 deployments) and for 20,000 deployments.

Target: every page reruns in under 2 s with 20,000 deployments once the assessment is cached
(the first visit pays for the assessment itself, printed separately). Not a test: a printout.
Run: .venv/bin/python -m bench.bench_dashboard
"""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.bench_import import make_inventory

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PAGES = ["overview", "inventory", "questionnaire", "scenarios", "heatmaps", "fallbacks", "report", "history"]


def timed_run(at: AppTest) -> float:
    t = time.perf_counter()
    at.run()
    assert not at.exception, at.exception
    return time.perf_counter() - t


def bench(label: str, upload: bytes | None) -> None:
    at = AppTest.from_file(APP, default_timeout=600)
    first = timed_run(at)
    if upload is not None:
        at.switch_page("views/inventory.py")
        timed_run(at)
        at.file_uploader(key="inventory_upload").upload("big.csv", upload, "text/csv")
        first = timed_run(at)
        at.switch_page("views/overview.py")
        first += timed_run(at)
    n = len(at.session_state["inventory"].frame)
    print(f"{label}: {n:,} deployments; first load incl. assessment {first:.2f} s")
    for page in PAGES:
        at.switch_page(f"views/{page}.py")
        cold = timed_run(at)
        warm = timed_run(at)
        flag = "OK" if warm < 2 else "SLOW"
        print(f"  {page:<13} first visit {cold:6.2f} s   rerun {warm:6.2f} s   (target rerun < 2 s: {flag})")


def main() -> None:
    bench("demo organisation", None)
    bench("generated inventory", make_inventory(20_000, seed=5))


if __name__ == "__main__":
    main()
