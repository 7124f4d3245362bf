"""Old release vs this tree, side by side in one run: every figure of the JSON report must be the same (a
restructure moves no number), and `assess --json` of 20,000 rows x 10,000 trials is timed in both.

The report's layout may differ between the trees (schema 3 -> 4): each tree's own
`risk_models.report.options.with_option_details` expands its JSON to the records people read (drivers
labelled, every option whole, exit plans spelt out), and those are compared value by value.

Run: .venv/bin/python -m bench.compare_releases [--old REF]   (REF defaults to the last commit before the
folder restructure). The old release is checked out in a temporary git worktree and run with this venv
(`python -m` puts the worktree first on sys.path)."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_engine import high_risk_inventory
from bench.bench_import import make_inventory

ROOT = Path(__file__).resolve().parent.parent
IGNORED = {"generated_at", "schema_version"}  # the clock and the layout's number; everything else must match
EXPAND = ("import json, sys; from risk_models.report.options import with_option_details as w; "
          "json.dump(w(json.load(open(sys.argv[1]))), open(sys.argv[2], 'w'))")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def default_old() -> str:
    first = _git("log", "--diff-filter=A", "--format=%H", "--", "risk_models/engine/__init__.py").splitlines()[-1]
    return f"{first}^"


def assess(tree: Path, inventory: Path, out: Path, answers: Path | None) -> tuple[float, float, float]:
    """(wall s after imports, wall s of the whole command, peak RSS GiB) of `assess --json` run from `tree`."""
    code = ("import re, resource, runpy, sys, time; t0 = time.perf_counter(); import risk_models.cli.main\n"
            "t = time.perf_counter(); sys.argv = ['risk_models', *sys.argv[1:]]\n"
            "try:\n    runpy.run_module('risk_models', run_name='__main__')\nexcept SystemExit as e:\n    rc = e.code\n"
            "end = time.perf_counter(); print(f'WALL {end - t:.2f}', file=sys.stderr)\n"
            "print(f'WHOLE {end - t0:.2f}', file=sys.stderr)\n"
            "hwm = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
            "print(f'RSS {max(hwm, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}', file=sys.stderr)\n"
            "sys.exit(rc)")
    args = ["assess", str(inventory), "--json", str(out), "--trials", "10000"] + (["--answers", str(answers)] if answers else [])
    p = subprocess.run([sys.executable, "-c", code, *args], cwd=tree, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{tree}: {p.stderr[-2000:]}")
    found = dict(x.split(" ", 1) for x in p.stderr.splitlines() if x.startswith(("WALL ", "WHOLE ", "RSS ")))
    return float(found["WALL"]), float(found["WHOLE"]), int(found["RSS"]) / 1024 / 1024


def expanded(tree: Path, report: Path) -> dict:
    """The report as `tree`'s own code expands it for people."""
    out = report.with_suffix(".whole.json")
    subprocess.run([sys.executable, "-c", EXPAND, str(report), str(out)], cwd=tree, check=True)
    data = json.loads(out.read_text())
    out.unlink()
    return data


def differences(a: object, b: object, path: str = "$", out: list | None = None, limit: int = 20) -> list[str]:
    """Every value that differs (numbers exactly; floats compared as written in the JSON)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in IGNORED:
                continue
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'new' if k in b else 'old'}")
            else:
                differences(a[k], b[k], f"{path}.{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items old, {len(b)} new")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            differences(x, y, f"{path}[{i}]", out, limit)
    elif a != b and not (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)):
        out.append(f"{path}: {a!r} old, {b!r} new")
    return out


def count_values(x: object) -> int:
    if isinstance(x, dict):
        return sum(count_values(v) for k, v in x.items() if k not in IGNORED)
    if isinstance(x, list):
        return sum(count_values(v) for v in x)
    return 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default=None, help="git ref of the old release (default: before the restructure)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each tree on the 20,000-row inventory")
    args = ap.parse_args()
    old_ref = args.old or default_old()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        old = tmp / "old"
        _git("worktree", "add", "--detach", str(old), old_ref)
        try:
            print(f"old: {_git('rev-parse', '--short', old_ref)}  new: working tree of {_git('rev-parse', '--short', 'HEAD')}")
            cases = {"demo + answers": (ROOT / "config/demo/inventory.csv", ROOT / "config/demo/answers.yaml")}
            for name, data in (("20,000 rows (mixed)", make_inventory(20_000, seed=3)),
                               ("20,000 rows (high risk)", high_risk_inventory(20_000))):
                f = tmp / f"{len(cases)}.csv"
                f.write_bytes(data)
                cases[name] = (f, None)
            for name, (inv, answers) in cases.items():
                a, b = tmp / "old.json", tmp / "new.json"
                t_old, _, r_old = assess(old, inv, a, answers)
                t_new, _, r_new = assess(ROOT, inv, b, answers)
                ja, jb = expanded(old, a), expanded(ROOT, b)
                diff = differences(ja, jb)
                print(f"{name}: {count_values(ja):,} values compared, {'identical' if not diff else f'{len(diff)}+ differ'}"
                      f"; old {t_old:.1f} s {r_old:.2f} GiB {a.stat().st_size / 1e6:.0f} MB, "
                      f"new {t_new:.1f} s {r_new:.2f} GiB {b.stat().st_size / 1e6:.0f} MB")
                for line in diff:
                    print("   ", line)
                del ja, jb
            inv = cases["20,000 rows (high risk)"][0]
            walls: dict[str, list[float]] = {"old": [], "new": []}
            wholes: dict[str, list[float]] = {"old": [], "new": []}
            peaks: dict[str, list[float]] = {"old": [], "new": []}
            for _ in range(args.runs):  # alternate, so both see the same machine load
                for label, tree in (("old", old), ("new", ROOT)):
                    w, whole, r = assess(tree, inv, tmp / f"{label}.json", None)
                    walls[label].append(w)
                    wholes[label].append(whole)
                    peaks[label].append(r)
            median = {k: statistics.median(v) for k, v in walls.items()}
            for label in ("old", "new"):
                print(f"assess --json 20,000 high-risk rows x 10,000 trials, {label}: after imports "
                      f"{', '.join(f'{w:.2f}' for w in walls[label])} s (median {median[label]:.2f} s); whole command "
                      f"median {statistics.median(wholes[label]):.2f} s; peak RSS {max(peaks[label]):.2f} GiB "
                      "(target < 5 s, < 1 GiB)")
            print(f"new / old (medians after imports): {median['new'] / median['old']:.2f}")
        finally:
            _git("worktree", "remove", "--force", str(old))


if __name__ == "__main__":
    main()
