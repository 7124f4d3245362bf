"""`make run`: Streamlit's own `streamlit run dashboard/app.py <flags>`, plus a warm-up started with
the server process so the first visitor does not pay for it.

Without it the first page of a fresh server waits for the imports (pandas, plotly, pydantic, the
engine: ~1.5 s on this machine) and the demo organisation's assessment. The warm-up runs them in a
background thread while the server starts; a visitor arriving before it finishes waits only for
the part still running (cache_resource computes each key once; other callers wait for it).
`streamlit run dashboard/app.py` still works — without the warm-up.

The warm-up uses Streamlit's public API (the cached functions are called directly, which works outside a
script run). Two private parts of Streamlit are touched, each worth a measured share of the first page and
each held by a test that fails if an upgrade moves it (`skip_direct_execution_check`,
`skip_component_discovery`); a moved one is merely not skipped. (Compiling the page scripts into the server's
script cache, also private, was dropped: it saved 2-50 ms, within the noise of a page switch.)"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
_LOG = logging.getLogger(__name__)
WARM_UP_THREAD = "demo-warm-up"
OTHER_PAGES_AFTER_S = 4.0


def warm_up() -> None:
    """Import what the first page needs and compute the demo's assessment into the shared caches.
    Never fatal: on any error the first visitor computes it as without a warm-up."""
    try:
        # the cached functions' spinners warn that this thread has no script run ("can be ignored"): not
        # in the server log from this thread (a logger name Streamlit prints; renamed, the warnings show again)
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
            lambda record: record.threadName != WARM_UP_THREAD)
        import dashboard.components.charts  # noqa: F401 - plotly and the chart helpers every page uses
        import risk_models.engine.concentration  # noqa: F401 - the Overview's other imports
        from dashboard import state
        demo = state.warm_demo()
        # the first page opens its workspace in the database: SQLAlchemy (~0.25 s of imports) and
        # the engine (created and migrated on a first start) now, not after the pause below
        import risk_models.storage.workspace  # noqa: F401
        state.storage()
        settle_start_up_objects()
        # then what the other pages import (exports, saved assessments: reportlab),
        # so their first visit does not wait for it either; a few seconds later, so that a visitor who
        # arrives at once gets the server (and the GIL) for their first page
        time.sleep(OTHER_PAGES_AFTER_S)
        # the loss intervals (~0.5 s) the Overview draws after its figures (a visitor arriving first works
        # them out there, once: the assessment's lock)
        demo.intervals  # noqa: B018
        for module in [*LAZY_MODULES, *page_imports()]:
            importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a warm-up must not take the server down
        _LOG.exception("warming the demo assessment failed; the first visitor computes it")
    finally:
        settle_start_up_objects()  # after a failure too: never left on start-up thresholds


# The start-up creates ~200,000 long-lived objects the collector tracks (the modules of Streamlit, pandas, plotly,
# SQLAlchemy and the engine, the demo's caches) and hardly any garbage (a collection then frees a few hundred).
# With the default thresholds the collector walks them again and again during the imports (~0.25 s of ~1.6 s
# of CPU, measured), and Streamlit's full collection after every script run walks them all (~0.1 s each). So: rare
# collections while the server starts; once the demo is ready its objects are frozen (left out of every later
# collection: gc.freeze) and the default thresholds are back. Objects of a visitor already on the page are frozen
# with them: kept, not collected — at most one session's worth, once.
_DEFAULT_GC_THRESHOLDS = gc.get_threshold()
START_UP_GC_THRESHOLD = 100_000


def quiet_start_up_gc() -> None:
    gc.set_threshold(START_UP_GC_THRESHOLD, *_DEFAULT_GC_THRESHOLDS[1:])


def settle_start_up_objects() -> None:
    """Once per server (a second call does nothing): freeze what the start-up made, default thresholds back."""
    if gc.get_threshold()[0] == START_UP_GC_THRESHOLD:
        gc.freeze()
        gc.set_threshold(*_DEFAULT_GC_THRESHOLDS)


# imported inside dashboard/state/'s functions, not at the top (the first page needs none of them)
LAZY_MODULES = ["risk_models.storage.repository", "risk_models.report.changes", "risk_models.report.json_report",
                "risk_models.report.pdf", "risk_models.report.xlsx", "risk_models.report.markdown",
                "risk_models.report.tabular", "risk_models.report.plan"]


def page_scripts() -> list[Path]:
    """The pages (dashboard/views/*.py; its __init__.py only makes the folder a package for import-linter)."""
    return sorted(p for p in (APP.parent / "views").glob("*.py") if p.name != "__init__.py")


def page_imports() -> list[str]:
    """Every module the pages (dashboard/views/*.py) import at their top."""
    names: set[str] = set()
    for path in page_scripts():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                # `from dashboard.components import pack_panel`: the submodules too
                names.update(f"{node.module}.{alias.name}" for alias in node.names
                             if importlib.util.find_spec(node.module).submodule_search_locations
                             and importlib.util.find_spec(f"{node.module}.{alias.name}") is not None)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    return sorted(names)


def start_warm_up() -> threading.Thread:
    thread = threading.Thread(target=warm_up, name=WARM_UP_THREAD, daemon=True)
    thread.start()
    return thread


# Single-user mode has no sign-in: loopback only, nothing sent out, no tracebacks with server paths for
# users. Passed as flags (not only in dashboard/.streamlit/config.toml) so they hold whichever config files
# Streamlit finds; an explicit flag or STREAMLIT_* variable of the operator's wins.
SAFE_DEFAULTS = {"server.address": "127.0.0.1", "browser.gatherUsageStats": "false",
                 "client.showErrorDetails": "none", "server.maxUploadSize": "20", "client.toolbarMode": "viewer"}


def _env_name(option: str) -> str:
    # Streamlit's own rule: server.maxUploadSize -> STREAMLIT_SERVER_MAX_UPLOAD_SIZE
    return "STREAMLIT_" + re.sub(r"(?<=[a-z])(?=[A-Z])", "_", option.replace(".", "_")).upper()


def server_flags(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """`argv` plus a flag for each safe default that neither a flag in `argv` nor a variable sets."""
    given = {a[2:].split("=", 1)[0] for a in argv if a.startswith("--")}
    added = [f"--{k}={v}" for k, v in SAFE_DEFAULTS.items() if k not in given and _env_name(k) not in environ]
    return [*added, *argv]


# the child's whole work: low priority (it takes spare CPU, not the server's or the browser's), then the engine
# that migrates the database exactly as the server would
_SET_UP = "import os; os.nice(10); from risk_models.storage.db import make_engine; make_engine()"


def prepare_database(environ: Mapping[str, str]) -> subprocess.Popen | None:
    """The local database's set-up (Alembic's imports and the migrations of a first start, ~0.3 s of CPU) in a
    low-priority process of its own while this one starts Streamlit: the first page then finds the schema current
    and skips Alembic. Whoever comes second waits on the migration lock and finds it done; any problem is the
    page's to report (the server opens the database as without this). Not for a DATABASE_URL (team mode: the
    owner role migrates, `team upgrade`)."""
    if environ.get("DATABASE_URL"):
        return None
    proc = subprocess.Popen([sys.executable, "-c", _SET_UP], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent)
    threading.Thread(target=proc.wait, name="database-set-up", daemon=True).start()  # reaped, not a zombie
    return proc


def skip_direct_execution_check() -> None:
    """Streamlit's check, on the first element any script draws, that it runs under `streamlit run` and not in a
    REPL walks the whole call stack with source lookup (`inspect.stack()`: a realpath of every loaded module's
    file: 0.07 s measured alone, more in a busy server). This server is `streamlit run`: the check is marked done, as
    Streamlit marks it after its one warning. (A private flag: a test fails if a Streamlit upgrade renames it.)"""
    from streamlit import delta_generator
    delta_generator._use_warning_has_been_displayed = True


def skip_component_discovery() -> None:
    """Streamlit's runtime, as it starts, reads every installed package's metadata looking for custom components
    of its version-2 API (~0.2 s of the server's start with the test extras installed). The app uses none (a test
    holds that), so this server does not look. (Private: a test fails if a Streamlit upgrade moves it; until then
    a moved method is merely scanned again.)"""
    try:
        from streamlit.components.v2.component_manager import BidiComponentManager
    except ImportError:
        return
    BidiComponentManager.discover_and_register_components = _no_components


def _no_components(self, *, start_file_watching: bool = True) -> None:
    """The app registers no version-2 components."""


def main() -> None:
    quiet_start_up_gc()
    prepare_database(os.environ)
    # streamlit (with pandas and plotly) is imported here first: importing it in two threads at once
    # can hand plotly a half-initialised pandas module
    from streamlit.web import cli
    skip_direct_execution_check()
    skip_component_discovery()
    start_warm_up()
    sys.argv = ["streamlit", "run", str(APP), *server_flags(sys.argv[1:], os.environ)]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
