"""Issue 27 §4: the app is local however and from wherever it is started.

`python -m dashboard.serve --server.port P` and `streamlit run dashboard/app.py` started from another
directory than the repository root bound `*:P`, collected usage statistics and showed error details,
because the repo-root `.streamlit/config.toml` was read only from the repo root."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

from dashboard.serve import SAFE_DEFAULTS, server_flags
from tests.conftest import ROOT, free_port

APP = ROOT / "dashboard" / "app.py"


def _listening(port: int) -> set[str]:
    """The local addresses of the listening TCP sockets on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port and len(address) == width:
                    found.add(address)
    return found


LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex)


def _start(cmd: list[str], cwd, port: int) -> subprocess.Popen:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server stopped"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("the server did not answer")


@pytest.mark.parametrize("entry", ["dashboard.serve", "streamlit run"])
def test_started_from_another_directory_the_app_listens_on_loopback_only(tmp_path, entry):
    port = free_port()
    flags = ["--server.port", str(port), "--server.headless", "true"]
    cmd = ([sys.executable, "-m", "dashboard.serve", *flags] if entry == "dashboard.serve"
           else [sys.executable, "-m", "streamlit", "run", str(APP), *flags])
    proc = _start(cmd, tmp_path, port)  # not the repo root: no .streamlit/ here
    try:
        assert _listening(port) == {LOOPBACK}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


CONFIG_OF_A_RUN = """
import json, sys
from streamlit import config
config._main_script_path = sys.argv[1]  # what `streamlit run SCRIPT` sets before reading its config
config.get_config_options(force_reparse=True)
print(json.dumps({k: config.get_option(k) for k in sys.argv[2:]}))
"""


def test_streamlit_run_from_another_directory_reads_the_apps_safe_settings(tmp_path):
    (tmp_path / ".streamlit").mkdir()  # a project config elsewhere does not loosen them
    (tmp_path / ".streamlit" / "config.toml").write_text('[browser]\ngatherUsageStats = true\n'
                                                         '[client]\nshowErrorDetails = "full"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    p = subprocess.run([sys.executable, "-c", CONFIG_OF_A_RUN, str(APP), *SAFE_DEFAULTS], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60, check=True)
    import json
    got = json.loads(p.stdout)
    assert got == {"server.address": "127.0.0.1", "browser.gatherUsageStats": False,
                   "client.showErrorDetails": "none", "server.maxUploadSize": 20, "client.toolbarMode": "viewer"}


def test_serve_passes_the_safe_defaults_unless_the_operator_set_them():
    flags = server_flags(["--server.port", "8624"], {})
    assert flags[-2:] == ["--server.port", "8624"]
    assert set(flags[:-2]) == {f"--{k}={v}" for k, v in SAFE_DEFAULTS.items()}
    assert "--browser.gatherUsageStats=false" in flags and "--server.address=127.0.0.1" in flags
    # an explicit flag (either spelling) or STREAMLIT_* variable wins
    flags = server_flags(["--server.address=0.0.0.0", "--client.showErrorDetails", "full"],
                         {"STREAMLIT_BROWSER_GATHER_USAGE_STATS": "true"})
    assert not any(f.startswith(("--server.address=127", "--client.showErrorDetails=none",
                                 "--browser.gatherUsageStats")) for f in flags)
