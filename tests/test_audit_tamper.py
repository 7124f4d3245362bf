"""A hand-edited audit row — any column, any value, even one the database driver cannot read — is a
broken entry named by `audit.verify` and `history audit verify` (exit 1, one line), never a
traceback; `audit.entries` (the Audit page, `history audit export`) still lists the row and says
what cannot be read. A legit chain verifies on SQLite and on PostgreSQL whatever the session's
time zone and date style."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3

import pytest
from sqlalchemy import create_engine, text

from risk_models.auth.roles import Actor, Role
from risk_models.cli.main import main
from risk_models.storage import audit, team
from risk_models.storage import workspace as ws
from risk_models.storage.db import make_engine
from tests.conftest import reset_postgres
from tests.test_storage import db_url  # noqa: F401 - shared fixture (SQLite and PostgreSQL)

ADMIN = Actor(name="ann", roles=frozenset({Role.admin}))
COLUMNS = ("at", "actor", "action", "entity", "entity_id", "before", "after", "reason", "prev_hash", "hash")


def _trail(engine) -> None:
    """Four entries: roles (before None / after text), a workspace (JSON after), a rename (JSON before)."""
    team.set_roles(engine, ADMIN, "bob", frozenset({Role.viewer}), reason="new joiner")
    w = ws.create_workspace(engine, "Acme <script>", "ann")
    ws.rename_workspace(engine, w.id, "Acme =HYPERLINK(\"x\")", "bob")
    team.set_roles(engine, ADMIN, "bob", frozenset({Role.assessor}))


@pytest.fixture
def sqlite_db(tmp_path):
    path = tmp_path / "audit.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    _trail(engine)
    assert audit.verify(engine) == (4, None)
    return engine, path


def _sql(path, sql: str, *params) -> None:
    with sqlite3.connect(path) as conn:  # a DBA with the file: no app, no SQLAlchemy
        conn.execute(sql, params)


def _raw(path, column: str, entry_id: int = 1):
    with sqlite3.connect(path) as conn:
        conn.text_factory = bytes  # exactly what is stored, readable or not
        return conn.execute(f"SELECT {column} FROM audit_log WHERE id = ?", (entry_id,)).fetchone()[0]


def _restore(path, column: str, value, entry_id: int = 1) -> None:
    if isinstance(value, bytes):  # stored text, byte for byte
        _sql(path, f"UPDATE audit_log SET {column} = CAST(? AS TEXT) WHERE id = ?", value, entry_id)
    else:
        _sql(path, f"UPDATE audit_log SET {column} = ? WHERE id = ?", value, entry_id)


def _assert_broken_at(engine, entry_id: int = 1) -> audit.ChainBreak:
    count, brk = audit.verify(engine)
    assert brk is not None and brk.entry_id == entry_id, brk
    assert count == entry_id - 1 and f"audit entry {entry_id} " in brk.message and "\n" not in brk.message
    listed = audit.entries(engine)  # never crashes; the damaged row is still listed
    assert [e.id for e in listed] == [1, 2, 3, 4]
    audit.to_csv(listed)
    audit.actors(engine)
    return brk


# SQL value expressions: (column, expression) — every column of the first entry, several ways
TAMPERS = [
    ("at", "'garbage'"), ("at", "''"), ("at", "'2026-13-45 99:99:99'"), ("at", "12345"), ("at", "1.5"),
    ("at", "'2020-01-01 00:00:00.000000'"),  # a valid time in the stored format, but another time
    ("at", "'2020-01-01T00:00:00+02:00'"),  # another format and another time
    ("at", "x'00ff'"), ("at", "CAST(x'ff' AS TEXT)"), ("at", "'9999-12-31 23:59:59.999999-05:00'"),
    ("actor", "'mallory'"), ("actor", "42"), ("actor", "CAST(x'ff41' AS TEXT)"), ("actor", "x'01'"),
    ("action", "'delete'"), ("entity", "'assessment'"), ("entity_id", "'carol'"),
    ("before", "'{\"roles\":\"admin\"}'"), ("before", "'not json'"),
    ("after", "'\"admin\"'"), ("after", "'not json'"), ("after", "NULL"), ("after", "CAST(x'c3' AS TEXT)"),
    ("reason", "'covered up'"), ("reason", "''"),
    ("prev_hash", f"'{'f' * 64}'"), ("hash", f"'{'f' * 64}'"), ("hash", "upper(hash)"),
]


def test_every_column_of_the_first_entry_tampered_is_a_named_break_never_a_crash(sqlite_db):
    engine, path = sqlite_db
    for column, expr in TAMPERS:
        original = _raw(path, column)
        _sql(path, f"UPDATE audit_log SET {column} = {expr} WHERE id = 1")
        brk = _assert_broken_at(engine)
        assert "was changed" in brk.message or "does not follow" in brk.message, (column, expr, brk)
        _restore(path, column, original)
        assert audit.verify(engine) == (4, None), (column, expr)


def test_an_unreadable_time_is_reported_with_its_text_and_listed(sqlite_db, tmp_path):
    engine, path = sqlite_db
    _sql(path, "UPDATE audit_log SET at = 'garbage\n\x1b[31m' WHERE id = 1")
    brk = _assert_broken_at(engine)
    assert "its time 'garbage\\n\\x1b[31m' is not a date and time" in brk.message  # escaped: one line
    first = audit.entries(engine)[0]
    assert first.at == audit.UNREADABLE_TIME and first.at_text == "garbage\n\x1b[31m"
    assert first.when == "unreadable time: 'garbage\\n\\x1b[31m'" and "time" in first.problem
    assert first.actor == "ann" and first.after == "viewer"  # the readable columns as stored
    assert audit.entries(engine)[1].problem is None and audit.entries(engine)[1].when[:2] == "20"
    rows = list(csv.reader(io.StringIO(audit.to_csv(audit.entries(engine)).decode("utf-8-sig"))))
    assert rows[1][1] == "unreadable time: 'garbage\\n\\x1b[31m'"
    # filters still work around it
    assert [e.id for e in audit.entries(engine, entity="workspace")] == [2, 3]
    assert [e.id for e in audit.entries(engine, limit=2)] == [1, 2]


def test_undecodable_text_is_read_column_by_column(sqlite_db):
    engine, path = sqlite_db
    _sql(path, "UPDATE audit_log SET actor = CAST(x'ff41' AS TEXT) WHERE id = 2")
    brk = _assert_broken_at(engine, 2)
    assert "its actor cannot be read" in brk.message
    second = audit.entries(engine)[1]
    assert second.actor == "" and second.problem == "its actor cannot be read" and second.entity == "workspace"
    assert "ann" in audit.actors(engine)


def _loosen(path) -> None:
    """Rebuild audit_log without NOT NULL or types, as someone with the file could."""
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            ALTER TABLE audit_log RENAME TO audit_log_old;
            CREATE TABLE audit_log (id INTEGER PRIMARY KEY, at, actor, action, entity, entity_id, before, after,
                                    reason, prev_hash, hash);
            INSERT INTO audit_log SELECT id, at, actor, action, entity, entity_id, before, after, reason,
                                         prev_hash, hash FROM audit_log_old;
            DROP TABLE audit_log_old;""")


def test_null_in_a_not_null_column_is_a_named_break(sqlite_db):
    engine, path = sqlite_db
    _loosen(path)
    assert audit.verify(engine) == (4, None)
    for column in COLUMNS:
        original = _raw(path, column)
        _sql(path, f"UPDATE audit_log SET {column} = NULL WHERE id = 1")
        if column == "before":  # NULL is its stored value already: nothing changed
            assert audit.verify(engine) == (4, None)
            continue
        brk = _assert_broken_at(engine)
        if column != "after":  # after may be NULL; the hash tells
            assert "is empty (NULL)" in brk.message, (column, brk)
            assert "is empty (NULL)" in audit.entries(engine)[0].problem
        _restore(path, column, original)
        assert audit.verify(engine) == (4, None), column


def test_a_tampered_head_or_moved_entry_is_reported_not_raised(sqlite_db):
    engine, path = sqlite_db
    _sql(path, "UPDATE audit_head SET entries = 'x' WHERE id = 1")
    count, brk = audit.verify(engine)
    assert count == 4 and brk.entry_id is None and "but 'x' were written" in brk.message
    _sql(path, "UPDATE audit_head SET entries = 4 WHERE id = 1")
    assert audit.verify(engine) == (4, None)
    _sql(path, "UPDATE audit_log SET id = 100 WHERE id = 1")  # the first entry moved to the end
    count, brk = audit.verify(engine)
    assert count == 0 and brk.entry_id == 2 and "does not follow" in brk.message


def test_cli_verify_exit_1_one_line_no_traceback(sqlite_db, monkeypatch, capsys, tmp_path):
    engine, path = sqlite_db
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert main(["history", "audit", "verify"]) == 0
    assert "intact: 4 entries" in capsys.readouterr().out
    for column, expr in [("at", "'garbage'"), ("at", "'2020-01-01 00:00:00'"), ("actor", "CAST(x'ff' AS TEXT)"),
                         ("before", "'not json'"), ("hash", "'x'")]:
        original = _raw(path, column)
        _sql(path, f"UPDATE audit_log SET {column} = {expr} WHERE id = 1")
        code = main(["history", "audit", "verify"])
        out, err = capsys.readouterr()
        assert code == 1 and out == "", (column, out, err)
        assert err.count("\n") == 1 and err.startswith("audit trail broken after 0 good entries: audit entry 1 ")
        assert "Traceback" not in err
        export = tmp_path / f"audit-{column}.csv"
        assert main(["history", "audit", "export", "--out", str(export)]) == 0, capsys.readouterr().err
        assert "wrote 4 audit entries" in capsys.readouterr().out
        _restore(path, column, original)
    assert main(["history", "audit", "verify"]) == 0
    _sql(path, "UPDATE audit_log SET at = 'garbage' WHERE id = 1")
    main(["history", "audit", "export", "--out", str(tmp_path / "g.csv")])
    rows = list(csv.reader(io.StringIO((tmp_path / "g.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[1][1] == "unreadable time: 'garbage'"


def test_a_legit_chain_verifies_with_odd_times_on_both_databases(db_url):  # noqa: F811
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for at in (dt.datetime(2026, 1, 1, tzinfo=dt.UTC),  # whole second: no microseconds
                   dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC),
                   dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
                   dt.datetime(1999, 12, 31, 23, 0, 0, 1, tzinfo=dt.UTC)):
            audit.append(conn, "zoë 🙂", "update", "answer", "DEP-1", before={"a": 1}, after=None, at=at)
    _trail(engine)
    assert audit.verify(engine) == (8, None)
    listed = audit.entries(engine)
    assert [e.problem for e in listed] == [None] * 8
    assert listed[2].at == dt.datetime(2026, 3, 28, 21, 0, tzinfo=dt.UTC)
    assert [e.id for e in audit.entries(engine, since=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                         until=dt.datetime(2026, 7, 1, tzinfo=dt.UTC))] == [1, 2, 3]


@pytest.mark.postgres
def test_postgres_any_session_time_zone_and_date_style_verifies(postgres_url):
    reset_postgres(postgres_url)
    engine = make_engine(postgres_url)
    _trail(engine)
    odd = create_engine(postgres_url, connect_args={"options": "-c TimeZone=Asia/Kolkata -c DateStyle=SQL,DMY"})
    with odd.connect() as conn:
        assert "/" in conn.execute(text("SELECT now()::text")).scalar()  # the text form really differs
    assert audit.verify(odd) == (4, None)
    assert [e.at for e in audit.entries(odd)] == [e.at for e in audit.entries(engine)]
    odd.dispose()
    engine.dispose()


def _as_dba(engine, sql: str) -> None:
    with engine.begin() as conn:  # a superuser switching the append-only trigger off for the session
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql))


@pytest.mark.postgres
def test_postgres_tampered_time_is_a_named_break(postgres_url):
    reset_postgres(postgres_url)
    engine = make_engine(postgres_url)
    _trail(engine)
    for expr in ("at + interval '1 microsecond'", "'2020-01-01 00:00:00+00'", "'infinity'", "'-infinity'",
                 "'4713-01-01 00:00:00 BC'", "'294276-01-01 00:00:00+00'"):
        with engine.begin() as conn:
            original = conn.execute(text("SELECT at FROM audit_log WHERE id = 1")).scalar()
        _as_dba(engine, f"UPDATE audit_log SET at = {expr} WHERE id = 1")
        count, brk = audit.verify(engine)
        assert count == 0 and brk is not None and brk.entry_id == 1 and "audit entry 1 was changed" in brk.message, expr
        listed = audit.entries(engine)
        assert [e.id for e in listed] == [1, 2, 3, 4] and listed[1].problem is None
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("UPDATE audit_log SET at = :t WHERE id = 1"), {"t": original})
        assert audit.verify(engine) == (4, None), expr
    engine.dispose()
