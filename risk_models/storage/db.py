"""Engine creation, URL resolution and schema migration on first use.

Alembic (~0.2 s of imports) is imported only when a migration runs: a database already at the newest
revision is checked with one query against the revision the migration files name (see head_revision)."""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from platformdirs import user_data_dir
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from risk_models.io.extras import install_hint, missing_extra_message
from risk_models.storage.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x41565249534B  # pg_advisory_lock key ("AVRISK"): first migration by one process at a time


def data_dir() -> Path:
    return Path(os.environ.get("AI_VENDOR_RISK_DATA_DIR", user_data_dir("ai-vendor-risk")))


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'assessments.sqlite'}"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or default_url()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # busy_timeout first: switching to WAL needs a lock another process (a first migration, a save)
    # may hold, and without the timeout that switch fails at once with "database is locked"
    cur.execute("PRAGMA busy_timeout=30000")  # concurrent savers wait instead of failing
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash leaves the last commit
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(url: str) -> Config:
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def display_url(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)  # unparseable: still never show a password


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, memory or an unparseable URL)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database)
    return None


def _postgres_driver_missing(driver: str, url: str, exc: Exception) -> str:
    """PostgreSQL is the optional 'postgres' extra (psycopg 3): say which extra, and which URL it takes."""
    if driver == "psycopg":
        return (f"DATABASE_URL {display_url(url)}: "
                + missing_extra_message("postgres", "saved assessments on PostgreSQL", "psycopg"))
    return (f"DATABASE_URL {display_url(url)}: no driver {driver!r} for PostgreSQL ({exc}); use a "
            f"postgresql+psycopg:// URL with the 'postgres' extra: {install_hint('postgres')}")


def make_engine(url: str | None = None, migrate: bool = True, revision: str = "head") -> Engine:
    """An engine for `url` (default: DATABASE_URL or the per-user SQLite file), schema upgraded."""
    url = url or database_url()
    try:
        parsed = make_url(url)
        parsed.port  # noqa: B018 - a non-numeric port raises here, not at connect time
    except (ArgumentError, ValueError):
        raise StorageError(f"DATABASE_URL is not a valid database URL: {display_url(url)} "
                           "(expected e.g. sqlite:///path/file.sqlite or postgresql+psycopg://user@host:5432/db)") from None
    db_file = sqlite_path(url)
    if db_file is not None:
        try:
            db_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the data directory {db_file.parent}: {exc.strerror or exc} "
                               "(set AI_VENDOR_RISK_DATA_DIR to a writable directory)") from None
    read_only = db_file is not None and _read_only(db_file)
    try:
        if read_only:
            # a read-only data directory (a mounted archive, a locked-down share): read commands still work.
            # With a -wal file left by a writer, SQLite reads it (and needs its -shm); without one, immutable
            # spares SQLite the -wal/-shm files it cannot create here.
            wal = db_file.with_name(db_file.name + "-wal")
            uri = f"file:{quote(str(db_file.resolve()))}?mode=ro" + ("" if wal.exists() else "&immutable=1")
            engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        if parsed.get_backend_name() == "postgresql":
            raise StorageError(_postgres_driver_missing(parsed.get_driver_name(), url, exc)) from None
        raise StorageError(f"no database driver for {display_url(url)}: {exc}") from None
    except (ArgumentError, ValueError, TypeError) as exc:
        raise StorageError(f"DATABASE_URL {display_url(url)}: {exc}") from None
    if read_only:
        event.listen(engine, "connect", _read_only_pragmas)
        if migrate and current_revision(engine) != (head_revision() if revision == "head" else revision):
            raise StorageError(f"the database {display_url(url)} is read-only and was made by an older version; "
                               "open it once with write access to upgrade it")
        return engine
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine, url, revision)
    return engine


def _read_only(db_file: Path) -> bool:
    """An existing database file that this process cannot write, or in a directory it cannot write
    (SQLite needs the directory for its journal)."""
    return db_file.is_file() and not (os.access(db_file, os.W_OK) and os.access(db_file.parent, os.W_OK))


def _read_only_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")  # a write is refused by SQLite itself, never half-done
    cur.close()


VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database records (None: not set up yet), read as Alembic stores it."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def head_revision() -> str:
    """The newest revision: migration files are named by their revision ("0005_trust_boundaries.py" is
    revision "0005") and chained in that order (tests/test_storage.py holds Alembic's own head to it)."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


@contextmanager
def _migration_lock(engine: Engine, url: str) -> Iterator[None]:
    """One process migrates at a time (two first uses of a fresh database raced to create
    alembic_version): a file lock next to a SQLite file, a session advisory lock on PostgreSQL."""
    db_file = sqlite_path(url)
    if db_file is not None:
        with open(db_file.with_name(db_file.name + ".migrate-lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
    else:
        yield


def upgrade(engine: Engine, url: str, revision: str = "head") -> None:
    """Run pending migrations (saved assessments are kept: migrations only add and backfill)."""
    try:
        target = head_revision() if revision == "head" else revision
        if current_revision(engine) == target:
            return
        with _migration_lock(engine, url):
            if current_revision(engine) == target:  # another process migrated while we waited
                return
            from alembic import command
            cfg = alembic_config(url)
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
    except OSError as exc:
        raise StorageError(f"cannot lock the database {display_url(url)} for its first set-up: "
                           f"{exc.strerror or exc}") from None
    except OperationalError as exc:
        # another process may have migrated at the same moment: fine if we are at the target now
        try:
            if current_revision(engine) == (head_revision() if revision == "head" else revision):
                return
        except SQLAlchemyError:
            pass
        raise StorageError(f"cannot open the database {display_url(url)}: {str(exc.orig).strip()}") from None
    except SQLAlchemyError as exc:
        # the driver's first line only: the full text repeats the SQL statement
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageError(f"cannot prepare the database {display_url(url)}: {detail}") from None
