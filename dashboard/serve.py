"""`make run`: Streamlit's own `streamlit run dashboard/app.py <flags>`, plus a warm-up started with
the server process so the first visitor does not pay for it.

Without it the first page of a fresh server waits for the imports (pandas, plotly, pydantic, the
engine: ~1.5 s on this machine) and the demo organisation's assessment. The warm-up runs them in a
background thread while the server starts; a visitor arriving before it finishes waits only for
the part still running (cache_resource computes each key once; other callers wait for it).
`streamlit run dashboard/app.py` still works — without the warm-up."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
_LOG = logging.getLogger(__name__)
WARM_UP_THREAD = "demo-warm-up"


def warm_up() -> None:
    """Import what the first page needs and compute the demo's assessment into the shared caches.
    Never fatal: on any error the first visitor computes it as without a warm-up."""
    try:
        # streamlit warns about cache calls outside a script run ("can be ignored"): not from this thread
        logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
            lambda record: record.threadName != WARM_UP_THREAD)
        import dashboard.charts  # noqa: F401 - plotly and the chart helpers every page uses
        import risk_models.concentration  # noqa: F401 - the Overview's other imports
        from dashboard import state
        state.warm_demo()
    except Exception:  # noqa: BLE001 - a warm-up must not take the server down
        _LOG.exception("warming the demo assessment failed; the first visitor computes it")


def start_warm_up() -> threading.Thread:
    thread = threading.Thread(target=warm_up, name=WARM_UP_THREAD, daemon=True)
    thread.start()
    return thread


def main() -> None:
    # streamlit (with pandas and plotly) is imported here first: importing it in two threads at once
    # can hand plotly a half-initialised pandas module
    from streamlit.web import cli
    start_warm_up()
    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
