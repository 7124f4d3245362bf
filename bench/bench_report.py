"""PDF summary for 60 and for 2,000 deployments (targets < 3 s and < 20 s), plus the other
renderers for reference. Run: .venv/bin/python -m bench.bench_report"""

from __future__ import annotations

import time

from bench.bench_import import make_inventory
from risk_models.config.loader import load_library
from risk_models.engine.assessment import assess
from risk_models.inventory.read import import_bytes
from risk_models.report.json_report import report
from risk_models.report.markdown import render_markdown
from risk_models.report.pdf import render_pdf
from risk_models.report.tabular import deployments_csv
from risk_models.report.xlsx import render_xlsx


def main() -> None:
    lib = load_library()
    for n, target in ((60, 3.0), (2_000, 20.0)):
        rep = report(assess(import_bytes(make_inventory(n, seed=7), "b.csv", lib), {}, lib), f"Bench {n}")
        t = time.perf_counter()
        pdf = render_pdf(rep)
        t_pdf = time.perf_counter() - t
        print(f"{n:>6,} deployments: PDF {t_pdf:6.2f} s, {len(pdf) / 1e6:5.2f} MB "
              f"(target < {target:g} s: {'OK' if t_pdf < target else 'MISSED'})", end="")
        for name, fn in (("XLSX", render_xlsx), ("CSV", deployments_csv), ("MD", render_markdown)):
            t = time.perf_counter()
            fn(rep)
            print(f"; {name} {time.perf_counter() - t:.2f} s", end="")
        print()


if __name__ == "__main__":
    main()
