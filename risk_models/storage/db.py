"""Engine creation, URL resolution and schema migration on first use."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from platformdirs import user_data_dir
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StorageError(RuntimeError):
    """The database cannot be reached, created or upgraded (message in plain words)."""


def default_url() -> str:
    path = Path(os.environ.get("AI_VENDOR_RISK_DATA_DIR", user_data_dir("ai-vendor-risk"))) / "assessments.sqlite"
    return f"sqlite:///{path}"


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or default_url()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash leaves the last commit
    cur.execute("PRAGMA busy_timeout=30000")  # concurrent savers wait instead of failing
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def display_url(url: str) -> str:
    """The URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def make_engine(url: str | None = None, migrate: bool = True, revision: str = "head") -> Engine:
    """An engine for `url` (default: DATABASE_URL or the per-user SQLite file), schema upgraded."""
    url = url or database_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"DATABASE_URL is not a valid database URL: {url!r} "
                           "(expected e.g. sqlite:///path/file.sqlite or postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise StorageError(f"no database driver for {display_url(url)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine, url, revision)
    return engine


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(engine: Engine, url: str, revision: str = "head") -> None:
    """Run pending migrations (saved assessments are kept: migrations only add and backfill)."""
    try:
        target = head_revision() if revision == "head" else revision
        if current_revision(engine) == target:
            return
        cfg = alembic_config(url)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        # another process may have migrated at the same moment: fine if we are at the target now
        try:
            if current_revision(engine) == (head_revision() if revision == "head" else revision):
                return
        except SQLAlchemyError:
            pass
        raise StorageError(f"cannot open the database {display_url(url)}: {str(exc.orig).strip()}") from None
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot prepare the database {display_url(url)}: {exc}") from None
