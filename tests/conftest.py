from __future__ import annotations

import glob
import io
import os
import shutil
import socket
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from risk_models.config.loader import Library, load_library

ROOT = Path(__file__).resolve().parent.parent
DEMO_INVENTORY = ROOT / "config" / "demo" / "inventory.csv"
DEMO_ANSWERS = ROOT / "config" / "demo" / "answers.yaml"


@pytest.fixture(scope="session", autouse=True)
def _private_database(tmp_path_factory) -> None:
    """Tests never touch the user's real assessment database."""
    os.environ["AI_VENDOR_RISK_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    os.environ.pop("DATABASE_URL", None)


@pytest.fixture(autouse=True)
def _no_workspace_left_behind():
    """Every test starts without saved workspaces: the app opens the most recent workspace of its database,
    so one test's upload would otherwise be the next test's starting point."""
    yield
    from risk_models.storage.db import sqlite_path
    db = sqlite_path(f"sqlite:///{Path(os.environ['AI_VENDOR_RISK_DATA_DIR']) / 'assessments.sqlite'}")
    if db is None or not db.exists():
        return
    import sqlite3
    with sqlite3.connect(db, timeout=30) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "workspaces" in tables:
            conn.execute("DELETE FROM workspace_parts")
            conn.execute("DELETE FROM workspaces")


@pytest.fixture(scope="session")
def lib() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def small_assessment(lib):
    """The demo organisation assessed with few trials (for storage and page tests)."""
    from risk_models.engine.assessment import assess
    from risk_models.inventory.read import import_inventory
    from risk_models.questionnaire.answers import read_answers_file, validate_answers
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    return assess(import_inventory(DEMO_INVENTORY, lib), answers, lib, trials=200, seed=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path:
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert initdb, "PostgreSQL missing: run scripts/install_system_deps.sh (no skip: CI must test it)"
    return Path(initdb[-1]).parent


@pytest.fixture(scope="session")
def postgres_url():
    """One throwaway PostgreSQL cluster on 127.0.0.1 for the whole session (Debian `postgresql`,
    installed by make test). Superuser `postgres`, trust auth on loopback."""
    bindir = pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="avr-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(base, "postgres")
    port = free_port()
    subprocess.run([*as_pg, str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def reset_postgres(url: str) -> None:
    """An empty public schema: every table, trigger and function of earlier tests gone."""
    from risk_models.storage.db import make_engine
    engine = make_engine(url, migrate=False)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT ALL ON SCHEMA public TO PUBLIC")
    engine.dispose()


# --- test tiers: `make test-fast` leaves out what needs a browser, a database server, Node or many seconds ------
SLOW_FILES = {"test_hardening_resources.py", "test_hardening_fuzz.py"}  # subprocess resource probes, fuzzing


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        name = item.path.name
        if name.startswith("test_browser"):
            item.add_marker(pytest.mark.browser)
        if "postgres_url" in getattr(item, "fixturenames", ()) or "postgresql" in item.name:
            item.add_marker(pytest.mark.postgres)
        if name in ("test_browser_team.py",) or "oidc" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.node)
        if name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


def rewrite_zip_member(data: bytes, member: str, fn) -> bytes:
    """The zip (an XLSX) with one member rewritten by fn(bytes) -> bytes: hostile workbooks for tests."""
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, fn(src.read(info)) if info.filename == member else src.read(info))
    return out.getvalue()
