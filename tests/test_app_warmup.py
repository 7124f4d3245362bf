"""The server's warm-up (dashboard/serve.py, started by `make run`): it fills the shared caches with
exactly the assessment a new session computes for the demo, and a visitor who arrives while it is
still running gets a working page with the same figures (the assessment is computed once)."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import serve, state

APP = "../dashboard/app.py"  # relative to this file (AppTest)


def _visit() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def _figures(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _session_assessment(at: AppTest):
    """The Assessment object the session's pages read (from the shared cache, by the session's key)."""
    key = at.session_state["assessment_key"]
    demo = state.demo_inputs()
    return state._assessment(key, demo.result, demo.answers, {}, state._library_for(None, demo.profile, None))


def test_warm_up_computes_what_a_normal_first_visit_computes():
    st.cache_resource.clear()
    normal = _visit()  # no warm-up: the visitor computes the assessment
    normal_a = _session_assessment(normal)
    st.cache_resource.clear()
    warmed = state.warm_demo()  # what the server's warm-up thread runs
    assert warmed is not normal_a  # a fresh computation, not the cached one
    at = _visit()
    assert at.session_state["assessment_key"] == normal.session_state["assessment_key"]
    assert _session_assessment(at) is warmed  # the visitor reused the warm-up's assessment
    assert _figures(at) == _figures(normal)
    assert warmed.residual.table["score"].tolist() == normal_a.residual.table["score"].tolist()
    assert warmed.simulation.summary(warmed.frame) == normal_a.simulation.summary(normal_a.frame)


def test_a_visitor_arriving_during_the_warm_up_gets_the_same_page():
    st.cache_resource.clear()
    result = {}
    thread = threading.Thread(target=lambda: result.update(a=state.warm_demo()))
    thread.start()  # the visitor does not wait for it
    at = _visit()
    thread.join(timeout=120)
    assert _figures(at)["Deployments (valid)"] == "61"
    # computed once: whichever of the two came first, the other waited for it and reused it
    assert _session_assessment(at) is result["a"]
    st.cache_resource.clear()
    assert _figures(_visit()) == _figures(at)


def test_the_warm_up_never_raises(monkeypatch, caplog):
    def broken():
        raise OSError("config unreadable")

    monkeypatch.setattr(state, "warm_demo", broken)
    serve.warm_up()  # logged, not raised: the server keeps running and the first visitor computes
    assert "warming the demo assessment failed" in caplog.text


def test_the_start_up_collects_rarely_then_freezes_its_objects(monkeypatch):
    """Start-up makes long-lived objects, not garbage: few collections while the server starts, then its objects
    frozen out of later collections and the default thresholds back — after a failed warm-up as well."""
    default = gc.get_threshold()
    frozen = gc.get_freeze_count()
    try:
        serve.quiet_start_up_gc()
        assert gc.get_threshold()[0] > default[0]
        serve.settle_start_up_objects()
        assert gc.get_threshold() == default and gc.get_freeze_count() > frozen
        serve.quiet_start_up_gc()
        monkeypatch.setattr(state, "warm_demo", lambda: 1 / 0)
        serve.warm_up()
        assert gc.get_threshold() == default
    finally:
        gc.set_threshold(*default)
        gc.unfreeze()


def test_the_server_skips_streamlits_repl_check(monkeypatch):
    """The first element drawn would walk the whole call stack (inspect.stack, 0.07 s or more) to tell whether
    Streamlit runs in a REPL; the server marks that check done (a Streamlit upgrade that renames its flag fails
    here)."""
    import inspect

    from streamlit import delta_generator

    def walked(*a, **k):
        raise AssertionError("the call stack was walked")

    monkeypatch.setattr(delta_generator, "_use_warning_has_been_displayed", False)
    monkeypatch.setattr(inspect, "stack", walked)
    serve.skip_direct_execution_check()
    delta_generator._maybe_print_use_warning()


def test_the_server_does_not_scan_packages_for_components(monkeypatch):
    """The app draws no custom components, so the server skips Streamlit's scan of every installed package's
    metadata for them (~0.2 s of its start); a Streamlit upgrade that moves the scan fails here."""
    from streamlit.components.v2 import component_manager, manifest_scanner

    scanned: list[int] = []
    monkeypatch.setattr(manifest_scanner, "scan_component_manifests", lambda *a, **k: scanned.append(1) or [])
    manager = component_manager.BidiComponentManager
    monkeypatch.setattr(manager, "discover_and_register_components", manager.discover_and_register_components)
    serve.skip_component_discovery()
    manager().discover_and_register_components()
    assert not scanned
    pages = [p for p in Path(serve.APP).parent.rglob("*.py") if p.name != "serve.py"]
    assert not [p.name for p in pages if "components.v" in p.read_text(encoding="utf-8")
                or "st.components" in p.read_text(encoding="utf-8")]


def test_the_warm_up_imports_what_the_pages_import():
    modules = serve.page_imports()  # read from dashboard/views/*.py, so new pages are covered
    assert {"risk_models.engine.value_of_information", "risk_models.providers.summary",
            "dashboard.components.pack_panel", "risk_models.storage.repository"} <= set(modules)
    assert not [m for m in modules if m.startswith("dashboard.views")]  # pages are scripts, never imported



def test_the_warm_up_opens_the_database_before_its_pause(monkeypatch):
    """The first page opens its workspace in the database: the warm-up opens (and on a first start
    migrates) it with the demo's assessment, not after the pause that lets a first visitor in."""
    done: list[str] = []

    class Demo:
        @property
        def intervals(self):
            done.append("intervals")

    monkeypatch.setattr(state, "warm_demo", lambda: done.append("assessment") or Demo())
    monkeypatch.setattr(state, "storage", lambda: done.append("database"))
    monkeypatch.setattr(serve.time, "sleep", lambda s: done.append("pause"))
    monkeypatch.setattr(serve, "LAZY_MODULES", [])
    monkeypatch.setattr(serve, "page_imports", list)
    serve.warm_up()
    assert done == ["assessment", "database", "pause", "intervals"]


def test_a_visitor_of_the_stored_demo_reuses_its_validation_and_intervals():
    """Each new tab reads the demo workspace back from the database: the register, unchanged, shares the
    demo's validation (not validated again per tab), and the loss intervals are worked out once."""
    first = _visit()
    again = _visit()  # the demo workspace as stored by the first visit
    assert again.session_state["inventory"] is state.demo_inputs().result
    assert _session_assessment(again) is _session_assessment(first)
    assert _session_assessment(again)._intervals is not None  # drawn at the end of the Overview, kept
    assert any("90 % interval" in c.value for c in again.caption)


def test_a_first_start_sets_the_database_up_in_a_process_of_its_own(tmp_path, monkeypatch):
    """`make run` on a new machine: the schema is created beside the server's start, so the first page opens
    a current database (no Alembic in the server); a DATABASE_URL (team mode) is left to its owner role."""
    from risk_models.storage.db import current_revision, head_revision, make_engine
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    proc = serve.prepare_database(os.environ)
    assert proc is not None and proc.wait(timeout=120) == 0
    assert current_revision(make_engine(migrate=False)) == head_revision()
    assert serve.prepare_database({"DATABASE_URL": "postgresql+psycopg://app@127.0.0.1/avr"}) is None
