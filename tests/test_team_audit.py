"""Team mode in storage: the hash-chained audit trail (tamper → `history audit verify` exits 1 naming
the entry, SQLite and PostgreSQL), PostgreSQL grants (the app role may only INSERT/SELECT the audit
table), roles checked on every write, four-eyes review, immutable approved assessments and the
optimistic version check on shared answers."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from risk_models.auth.config import team_config
from risk_models.auth.roles import Actor, PermissionDenied, Role, roles_from_groups
from risk_models.engine.assessment import assess
from risk_models.storage import audit, team
from risk_models.storage import repository as repo
from risk_models.storage.db import make_engine
from risk_models.storage.repository import ImmutableAssessment
from tests.cli_run import run_cli
from tests.conftest import ROOT, pg_bindir, reset_postgres
from tests.test_storage import db_url, demo_inputs  # noqa: F401 - shared fixtures

ANN = Actor(name="ann", roles=frozenset({Role.assessor}))
BOB = Actor(name="bob", roles=frozenset({Role.approver}))
VIC = Actor(name="vic", roles=frozenset({Role.viewer}))


@pytest.fixture(scope="module")
def small(lib, demo_inputs):  # noqa: F811
    inv, answers = demo_inputs
    return assess(inv, answers, lib, trials=200, seed=1)


def _cli(*args, env):
    return run_cli(*args, env=env, cwd=ROOT)


def _env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url}


def test_review_workflow_four_eyes_and_audit_chain(db_url, small):  # noqa: F811
    engine = make_engine(db_url)
    with pytest.raises(PermissionDenied, match="vic \\(Viewer\\) may not save assessments"):
        repo.save_assessment(engine, small, "Q1", actor=VIC)  # a crafted write from a viewer
    a_id = repo.save_assessment(engine, small, "Q1 =1+1 <script>", author="ann", actor=ANN)
    assert repo.load(engine, a_id).status == "draft"
    with pytest.raises(PermissionDenied, match="approve or return"):
        team.approve(engine, ANN, a_id)
    with pytest.raises(team.ReviewError, match="only a submitted"):
        team.approve(engine, BOB, a_id)
    team.submit(engine, ANN, a_id)
    self_approver = Actor(name="ann", roles=frozenset({Role.assessor, Role.approver}))
    with pytest.raises(team.ReviewError, match="ann submitted assessment .* cannot approve it"):
        team.approve(engine, self_approver, a_id)
    with pytest.raises(team.ReviewError, match="needs a comment"):
        team.return_for_changes(engine, BOB, a_id, "  ")
    team.return_for_changes(engine, BOB, a_id, "DEP-003 answers are guesses")
    assert repo.load(engine, a_id).status == "returned"
    team.submit(engine, ANN, a_id)
    team.approve(engine, BOB, a_id, "ok")
    saved = repo.load(engine, a_id)
    assert (saved.status, saved.submitted_by, saved.reviewed_by) == ("approved", "ann", "bob")
    assert saved.submitted_at is not None and saved.reviewed_at >= saved.submitted_at
    row = next(r for r in repo.list_assessments(engine) if r["id"] == a_id)
    assert row["status"] == "approved" and row["reviewed_by"] == "bob"
    with pytest.raises(ImmutableAssessment):
        repo.delete_assessment(engine, a_id)
    with pytest.raises(ImmutableAssessment):
        team.submit(engine, ANN, a_id)
    assert team.last_approved_id(engine) == a_id
    count, brk = audit.verify(engine)
    assert brk is None and count == 5
    log = audit.entries(engine)
    assert [(e.actor, e.action, e.entity) for e in log] == [
        ("ann", "create", "assessment"), ("ann", "submit", "status"), ("bob", "return", "status"),
        ("ann", "submit", "status"), ("bob", "approve", "status"), ]
    assert log[2].reason == "DEP-003 answers are guesses" and log[4].before == {"status": "submitted"}


def test_tampering_is_detected_naming_the_entry(db_url, small, tmp_path):  # noqa: F811
    engine = make_engine(db_url)
    ids = [repo.save_assessment(engine, small, f"v{i}", actor=ANN) for i in range(3)]
    team.submit(engine, ANN, ids[0])
    env = _env(db_url) if db_url.startswith("postgresql") else {"DATABASE_URL": db_url}
    p = _cli("history", "audit", "verify", env=env)
    assert p.returncode == 0 and "intact: 4 entries" in p.stdout, p.stderr
    second = audit.entries(engine)[1].id
    _as_dba(engine, "UPDATE audit_log SET actor = 'mallory' WHERE id = :i", i=second)
    p = _cli("history", "audit", "verify", env=env)
    assert p.returncode == 1 and f"audit entry {second} was changed" in p.stderr and "Traceback" not in p.stderr
    _as_dba(engine, "UPDATE audit_log SET actor = 'ann' WHERE id = :i", i=second)  # put back: intact again
    assert audit.verify(engine)[1] is None
    _as_dba(engine, "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)")  # the newest entry
    p = _cli("history", "audit", "verify", env=env)
    assert p.returncode == 1 and "ends after 3 entries but 4 were written" in p.stderr
    _as_dba(engine, "DELETE FROM audit_log WHERE id = :i", i=second)
    _, brk = audit.verify(engine)
    assert brk is not None and brk.entry_id == second + 1 and "does not follow" in brk.message


def _as_dba(engine, sql: str, **params) -> None:
    """Tamper as someone with direct database access (on PostgreSQL: a superuser who switches the
    append-only trigger off for the session)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(sql), params)


def test_audit_export_csv_since_and_hostile_text(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    engine = make_engine(url)
    evil = Actor(name="=cmd|' /C calc'!A0", roles=frozenset({Role.admin}))
    team.set_roles(engine, evil, "zoë 🙂", frozenset({Role.assessor, Role.approver}), reason="<script>x</script>\r\n")
    out = tmp_path / "audit.csv"
    p = _cli("history", "audit", "export", "--since", "2000-01-01", "--out", str(out), env={"DATABASE_URL": url})
    assert p.returncode == 0 and "wrote 1 audit entries" in p.stdout, p.stderr
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:6] == ["Entry", "When (UTC)", "User", "Action", "What", "Which"]
    assert rows[1][2] == "'=cmd|' /C calc'!A0" and rows[1][3] == "roles set" and rows[1][4] == "Role"
    assert rows[1][5] == "zoë 🙂" and rows[1][7] == "approver,assessor" and rows[1][8] == "<script>x</script>\r\n"
    p = _cli("history", "audit", "export", "--since", "2999-01-01", env={"DATABASE_URL": url})
    assert p.returncode == 0 and p.stdout.count("\n") == 1  # header only
    p = _cli("history", "audit", "export", "--since", "yesterday", env={"DATABASE_URL": url})
    assert p.returncode == 2 and "--since 'yesterday': not a date" in p.stderr


def test_postgres_app_role_may_only_insert_and_select_audit(postgres_url, small, monkeypatch):
    reset_postgres(postgres_url)
    admin = make_engine(postgres_url, migrate=False)
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP ROLE IF EXISTS avr_app; CREATE ROLE avr_app LOGIN")
    monkeypatch.setenv("AI_VENDOR_RISK_APP_ROLE", "avr_app")
    make_engine(postgres_url)  # migrated by the owner (superuser here), grants to avr_app
    app = make_engine(postgres_url.replace("postgres@", "avr_app@"))
    a_id = repo.save_assessment(app, small, "as app", actor=ANN)  # INSERT + SELECT allowed
    team.submit(app, ANN, a_id)
    assert audit.verify(app) == (2, None)
    for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="permission denied"), app.begin() as conn:
            conn.execute(text(sql))
    # the owner too: the trigger refuses (only a superuser switching triggers off gets past, and verify sees it)
    with pytest.raises(DBAPIError, match="append-only: UPDATE refused"), admin.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x'"))
    assert audit.verify(app) == (2, None)
    app.dispose()
    admin.dispose()


def test_shared_answers_optimistic_version_check(db_url):  # noqa: F811
    engine = make_engine(db_url)
    eve = Actor(name="eve", roles=frozenset({Role.assessor}))
    rec = team.save_answers(engine, ANN, "DEP-001", {"exit_plan_exists": "none"}, expected_version=0)
    assert rec.version == 1
    team.save_answers(engine, eve, "DEP-001", {"exit_plan_exists": "tested"}, expected_version=1)
    with pytest.raises(team.AnswerConflict, match="eve changed the answers of DEP-001") as err:
        team.save_answers(engine, ANN, "DEP-001", {"exit_plan_exists": "documented"}, expected_version=1)
    assert err.value.current.answers == {"exit_plan_exists": "tested"} and err.value.current.version == 2
    with pytest.raises(team.AnswerConflict):  # two first saves: the second is a conflict too
        team.save_answers(engine, ANN, "DEP-001", {"exit_plan_exists": "documented"}, expected_version=0)
    with pytest.raises(PermissionDenied):
        team.save_answers(engine, VIC, "DEP-001", {"exit_plan_exists": "none"}, expected_version=2)
    assert team.shared_answers(engine)["DEP-001"].answers == {"exit_plan_exists": "tested"}
    log = [e for e in audit.entries(engine, entity="answer")]
    assert [(e.actor, e.before, e.after) for e in log] == [
        ("ann", {"exit_plan_exists": None}, {"exit_plan_exists": "none"}),
        ("eve", {"exit_plan_exists": "none"}, {"exit_plan_exists": "tested"})]


def test_roles_from_groups_and_role_table(tmp_path):
    mapping = {"risk-assessors": "assessor", "risk-committee": ["approver"], "platform-admins": "admin"}
    assert roles_from_groups(["risk-assessors", "staff"], mapping) == {Role.assessor}
    assert roles_from_groups([], mapping) == frozenset()
    with pytest.raises(ValueError, match="unknown role 'boss'; allowed: viewer, assessor, approver, admin"):
        roles_from_groups(["x"], {"x": "boss"})
    cfg = team_config({"enabled": True, "group_roles": mapping, "default_roles": ["viewer"]})
    assert cfg.idp_roles({"groups": ["staff"]}) == {Role.viewer}  # no mapped group: the default
    assert cfg.idp_roles({"groups": "risk-committee"}) == {Role.approver}
    assert cfg.username({"email": "e@x.test", "sub": "123"}) == "e@x.test"
    with pytest.raises(ValueError, match=r"secrets.toml \[team\]: group_roles: .*unknown role 'boss'"):
        team_config({"group_roles": {"x": "boss"}})
    assert not team_config(None).enabled and team_config(None, env_enabled=True).enabled
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    env = {"DATABASE_URL": url}
    p = _cli("--user", "root-admin", "history", "roles", "set", "dana", "approver,viewer", env=env)
    assert p.returncode == 0 and "dana: Viewer, Approver" in p.stdout, p.stderr
    assert team.stored_roles(make_engine(url), "dana") == {Role.approver, Role.viewer}
    with pytest.raises(PermissionDenied, match="change users' roles"):
        team.set_roles(make_engine(url), ANN, "ann", frozenset({Role.admin}))
    p = _cli("history", "roles", "set", "dana", "boss", env=env)
    assert p.returncode == 2 and "unknown role 'boss'" in p.stderr


def test_cli_review_as_named_users(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    env = {"DATABASE_URL": url}
    p = _cli("--user", "ann", "history", "save", str(ROOT / "config/demo/inventory.csv"), "--label", "Q1",
             "--trials", "200", env=env)
    assert p.returncode == 0, p.stderr
    assert _cli("--user", "ann", "history", "submit", "1", env=env).returncode == 0
    p = _cli("--user", "ann", "history", "approve", "1", env=env)
    assert p.returncode == 2 and "ann submitted assessment 1 and cannot approve it" in p.stderr
    p = _cli("--user", "bob", "history", "approve", "1", env=env)
    assert p.returncode == 0 and "assessment 1 approved by bob" in p.stdout
    p = _cli("history", "delete", "1", "--yes", env=env)
    assert p.returncode == 2 and "approved and cannot be deleted" in p.stderr
    log = audit.entries(make_engine(url))
    assert [(e.actor, e.action) for e in log] == [("ann", "create"), ("ann", "submit"), ("bob", "approve")]
    p = _cli("history", "upgrade", env=env)
    assert p.returncode == 0 and "is at schema revision 0005" in p.stdout


RACER = """
import pathlib, sys, time
from risk_models.auth.config import team_config
from risk_models.auth.roles import Actor, Role
from risk_models.storage import team
from risk_models.storage.db import make_engine
engine = make_engine(sys.argv[1])
me = Actor(name=sys.argv[2], roles=frozenset({Role.assessor}))
print("ready", flush=True)
go = pathlib.Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
try:
    team.save_answers(engine, me, "DEP-001", {"exit_plan_exists": sys.argv[4]}, expected_version=1)
    print("saved", flush=True)
except team.AnswerConflict as exc:
    print("conflict", exc.current.updated_by, exc.current.answers["exit_plan_exists"], flush=True)
"""


def test_two_processes_saving_the_same_answers_one_wins_one_is_told(postgres_url, tmp_path):
    reset_postgres(postgres_url)
    engine = make_engine(postgres_url)
    team.save_answers(engine, ANN, "DEP-001", {"exit_plan_exists": "none"}, expected_version=0)
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", RACER, postgres_url, who, str(go), value], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for who, value in (("pat", "tested"), ("sam", "documented"))]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    go.touch()  # both read version 1 and write at the same moment
    outcomes = {who: p.communicate(timeout=60)[0].split() for who, p in zip(("pat", "sam"), procs, strict=True)}
    winner = next(who for who, out in outcomes.items() if out == ["saved"])
    loser = next(who for who in outcomes if who != winner)
    won_value = {"pat": "tested", "sam": "documented"}[winner]
    assert outcomes[loser] == ["conflict", winner, won_value]  # told who won and their value
    rec = team.shared_answers(engine)["DEP-001"]
    assert (rec.version, rec.updated_by, rec.answers) == (2, winner, {"exit_plan_exists": won_value})
    assert audit.verify(engine) == (2, None)


def test_pg_dump_and_restore_keep_assessments_reviews_and_an_intact_audit_trail(postgres_url, small, tmp_path):
    """The backup and restore commands of docs/team-deploy.md, run for real."""
    admin = make_engine(postgres_url, migrate=False).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in ("avr_backup", "avr_restored"):
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE avr_backup")
        conn.exec_driver_sql("CREATE DATABASE avr_restored")
    base = postgres_url.rsplit("/", 1)[0]
    src = make_engine(f"{base}/avr_backup")
    a_id = repo.save_assessment(src, small, "before backup", actor=ANN)
    team.submit(src, ANN, a_id)
    team.approve(src, BOB, a_id)
    team.save_answers(src, ANN, "DEP-001", {"exit_plan_exists": "tested"}, expected_version=0)
    src.dispose()
    port = postgres_url.rsplit(":", 1)[1].split("/")[0]
    dump = tmp_path / "avr.dump"
    conn_args = ["-h", "127.0.0.1", "-p", port, "-U", "postgres"]
    subprocess.run([str(pg_bindir() / "pg_dump"), *conn_args, "-Fc", "-f", str(dump), "avr_backup"], check=True)
    subprocess.run([str(pg_bindir() / "pg_restore"), *conn_args, "-d", "avr_restored", "--no-owner", str(dump)],
                   check=True)
    restored = make_engine(f"{base}/avr_restored")  # already at the newest revision: nothing to migrate
    saved = repo.load(restored, a_id)
    assert (saved.label, saved.status, saved.submitted_by, saved.reviewed_by) == ("before backup", "approved",
                                                                                   "ann", "bob")
    assert saved.content_hash == repo.content_hash(saved.payloads)
    assert team.shared_answers(restored)["DEP-001"].answers == {"exit_plan_exists": "tested"}
    assert audit.verify(restored) == (4, None)
    with pytest.raises(DBAPIError, match="append-only"), restored.begin() as conn:  # the trigger came back too
        conn.execute(text("DELETE FROM audit_log"))
    restored.dispose()
    with admin.connect() as conn:
        for db in ("avr_backup", "avr_restored"):
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    admin.dispose()
