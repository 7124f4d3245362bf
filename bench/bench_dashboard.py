"""Dashboard speed, printed (not a test).

1. Real browser (Playwright + Debian chromium) against the server as `make run` starts it
   (`python -m dashboard.serve`: streamlit run + the warm-up thread), on the demo: the first page
   after start (server ready → Overview drawn: matrix, tables, script idle; target < 3 s), a second
   visitor's first page, and every page switch (click → page drawn and idle; target < 1 s), each
   with the browser's renderer and the server's CPU time next to the wall time.
   "Command typed → figures visible" (--first-paint): the wall time from `make run` (set-up done) to the
   Overview's six headline figures drawn in the browser — what a new user waits for, make's checks and
   the server's start included (the browser is already open, as a user's is; target < 3 s).
2. AppTest run time per page for the demo (61 deployments) and for 20,000 deployments: every page
   reruns in under 2 s once the assessment is cached (the first visit pays for the assessment).
Run: .venv/bin/python -m bench.bench_dashboard [--browser-only | --first-paint [N]]
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.bench_import import make_inventory

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard" / "app.py")
CHROMIUM = "/usr/bin/chromium"
NEW_TITLE = ("(prev) => { const h = document.querySelector('[data-testid=\"stMain\"] h1');"
             " return h !== null && h.innerText !== prev; }")
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


def _launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new",
                                                             "--disable-dev-shm-usage", "--disable-gpu"])


def _serve(port: int) -> subprocess.Popen:
    """The server as `make run` starts it once set up: Streamlit plus the warm-up thread (dashboard/serve.py)."""
    return subprocess.Popen([sys.executable, "-m", "dashboard.serve", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_healthy(url: str, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{url} not up after {timeout} s")


BROWSER_SETTLE_S = 2.0
FIGURES = 6  # the Overview's headline metrics (deployments, spend, high or critical, loss, VaR, rejected)


def first_paint_once(p) -> tuple[float, float, float, float]:
    """(server answering, figures visible, server CPU, browser CPU): seconds from the command to each (and
    the CPU seconds the server and the browser's renderers used until the figures), one fresh server of a new
    user (a data directory of its own: the database is created on this start, as on a first `make run`)."""
    b = _launch(p)  # the user's browser is open before they type the command
    pg = b.new_page(viewport={"width": 1440, "height": 900})
    pg.goto("about:blank")
    time.sleep(BROWSER_SETTLE_S)  # open, not starting: Chromium's own start-up is not the user's wait
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    data = tempfile.TemporaryDirectory(prefix="first-paint-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAKEFLAGS", "MAKELEVEL")}
    env["AI_VENDOR_RISK_DATA_DIR"] = data.name
    cpu0 = _browser_cpu()
    t = time.perf_counter()
    # the command itself (its own process group, so that stopping it stops the server make started)
    proc = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(url)  # Streamlit prints the URL now: the earliest a user can open it
        ready = time.perf_counter() - t
        pg.goto(url)
        pg.wait_for_function(
            "(n) => { const v = [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')];"
            " return v.length >= n && v.every(e => e.innerText.trim() !== ''); }", arg=FIGURES, timeout=120_000,
            polling=20)
        return ready, time.perf_counter() - t, _server_cpu(_server_of(proc.pid)), _browser_cpu() - cpu0
    finally:
        b.close()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        data.cleanup()


def _server_of(make_pid: int) -> int:
    """The server process `make run` started."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"dashboard.serve" in cmdline.read_bytes() and _descends_from(int(cmdline.parent.name), make_pid):
                return int(cmdline.parent.name)
        except (OSError, ValueError):
            continue
    raise RuntimeError("the server make started was not found")


def bench_first_paint(runs: int) -> None:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        got = [first_paint_once(p) for _ in range(runs)]
    got.sort(key=lambda r: r[1])
    ready, figures, server_cpu, browser_cpu = got[len(got) // 2]
    load = os.getloadavg()[0]
    print(f"command typed -> figures visible (make run, Chromium 1440x900, demo, new user; {runs} "
          f"fresh servers, load average {load:.1f} on {os.cpu_count()} cores): median {figures:.2f} s (server "
          f"answering at {ready:.2f} s; CPU until the figures: server {server_cpu:.2f} s, browser {browser_cpu:.2f} s); "
          "all runs " + ", ".join(f"{r[1]:.2f}" for r in got) + f" s (target < 3 s: {_ok(figures, 3)})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _idle(pg, timeout: float = 120) -> None:
    """The page is drawn (a title) and Streamlit's running indicator is gone."""
    pg.locator('[data-testid="stMain"] h1').first.wait_for(timeout=timeout * 1000)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pg.locator('[data-testid="stStatusWidget"]').count() == 0:
            return
        pg.wait_for_timeout(20)
    raise RuntimeError(f"{pg.url} still running after {timeout} s")


def _overview_drawn(pg) -> None:
    """The Overview as a reader sees it: title, KPIs, the 5x5 matrix and its three tables drawn."""
    pg.get_by_text("AI vendor-risk overview").wait_for(timeout=120_000)
    pg.locator(".risk-matrix").first.wait_for(timeout=120_000)
    pg.locator('[data-testid="stDataFrame"] canvas').nth(2).wait_for(timeout=120_000)
    _idle(pg)


def _browser_cpu() -> float:
    """CPU seconds (user + system) Chromium's renderer processes started by this bench have used."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            cmdline = (stat.parent / "cmdline").read_bytes()
            if b"--type=renderer" in cmdline and _descends_from(int(stat.parent.name), os.getpid()):
                total += _cpu_of(stat)
        except (OSError, ValueError):  # a process that ended meanwhile
            continue
    return total


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return False


def _cpu_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server process has used so far."""
    return _cpu_of(Path(f"/proc/{pid}/stat"))


def _ok(x: float, target: float) -> str:
    return "OK" if x < target else "MISS"


def bench_browser() -> None:
    """Timings are wall clock on a shared machine; the CPU seconds next to them (Chromium's renderer
    processes, the server process) say how much of it was work rather than waiting for other users'
    processes (CPU can exceed wall time: 2 cores, and the renderer parses scripts on a second thread)."""
    from playwright.sync_api import sync_playwright
    port = _free_port()
    started = time.perf_counter()
    proc = _serve(port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url)
        ready = time.perf_counter() - started
        with sync_playwright() as p:
            b = _launch(p)
            pg = b.new_page(viewport={"width": 1440, "height": 900})
            cpu0, server0 = _browser_cpu(), _server_cpu(proc.pid)
            t = time.perf_counter()
            pg.goto(url)
            _overview_drawn(pg)
            first = time.perf_counter() - t
            first_cpu, first_server = _browser_cpu() - cpu0, _server_cpu(proc.pid) - server0
            # plotly.js loads after the Overview is drawn (an invisible chart, a second later): a reader
            # takes longer than that to read the page, so the page switches below start once it is loaded
            pg.locator(".js-plotly-plot").first.wait_for(state="attached", timeout=120_000)
            _idle(pg)
            charts_ready = time.perf_counter() - t
            load = os.getloadavg()[0]
            print(f"browser (Chromium, demo, 1440x900; load average {load:.1f} on {os.cpu_count()} cores): server "
                  f"ready {ready:.2f} s after start")
            print(f"  first page {first:.2f} s (target < 3 s: {_ok(first, 3)}; {ready + first:.2f} s after the "
                  f"server started; browser CPU {first_cpu:.2f} s, server CPU {first_server:.2f} s incl. "
                  f"the warm-up if still running); plotly.js loaded in the background by "
                  f"{charts_ready:.2f} s")
            other = b.new_page(viewport={"width": 1440, "height": 900})  # a second visitor: caches are warm
            cpu0, server0 = _browser_cpu(), _server_cpu(proc.pid)
            t = time.perf_counter()
            other.goto(url)
            _overview_drawn(other)
            second = time.perf_counter() - t
            print(f"  first page of a second visitor (warm server): {second:.2f} s (target < 3 s: {_ok(second, 3)}; "
                  f"browser CPU {_browser_cpu() - cpu0:.2f} s, server CPU "
                  f"{_server_cpu(proc.pid) - server0:.2f} s)")
            other.close()
            links = pg.locator('[data-testid="stSidebarNav"] a')
            names = [links.nth(k).inner_text().strip().splitlines()[-1] for k in range(links.count())]
            for round_ in ("first visit", "again"):
                times = []
                for k, name in enumerate(names[1:] + names[:1], start=1):
                    prev = pg.locator('[data-testid="stMain"] h1').first.inner_text()
                    cpu0, server0 = _browser_cpu(), _server_cpu(proc.pid)
                    t = time.perf_counter()
                    pg.locator('[data-testid="stSidebarNav"] a').nth(k % len(names)).click()
                    pg.wait_for_function(NEW_TITLE, arg=prev, timeout=120_000)  # the next page is drawing
                    _idle(pg)
                    times.append((name, time.perf_counter() - t, _browser_cpu() - cpu0,
                                  _server_cpu(proc.pid) - server0))
                worst = max(x for _, x, _, _ in times)
                print(f"  page switches ({round_}; wall s [browser CPU / server CPU]): "
                      + ", ".join(f"{n} {x:.2f} [{c:.2f}/{s:.2f}]" for n, x, c, s in times)
                      + f"; slowest {worst:.2f} s (target < 1 s: {_ok(worst, 1)})")
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    if "--first-paint" in sys.argv:
        rest = sys.argv[sys.argv.index("--first-paint") + 1:]
        bench_first_paint(int(rest[0]) if rest and rest[0].isdigit() else 5)
        return
    bench_browser()
    if "--browser-only" in sys.argv:
        return
    bench("demo organisation", None)
    bench("generated inventory", make_inventory(20_000, seed=5))


if __name__ == "__main__":
    main()
