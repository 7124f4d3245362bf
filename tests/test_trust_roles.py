"""Issue 27 §1: the app's own database login cannot forge approvals, roles or the audit trail.

PostgreSQL with two roles, as docs/team-deploy.md sets them up: the owner (here the superuser that
migrates) and the app's login `avr_trust_app` (AI_VENDOR_RISK_APP_ROLE). The app login may not UPDATE
review status, write `user_roles` or the audit tables, or read the audit key; status changes and role
grants go through the owner's SECURITY DEFINER functions, which write the audit entry in the same
transaction. Entries are sealed with an HMAC under a key only the owner reads: a re-chained or inserted
entry fails `verify` even when the unkeyed chain and the state cross-check pass.

Four-eyes by the identity provider's subject (§1, fourth point) and the CLI in team mode are tested on
SQLite too."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from risk_models.auth.config import team_config
from risk_models.auth.roles import Actor, Role
from risk_models.engine.assessment import assess
from risk_models.storage import audit, team
from risk_models.storage import repository as repo
from risk_models.storage.audit import audit_log
from risk_models.storage.db import make_engine
from risk_models.storage.trail import state_problems
from tests.cli_run import run_cli
from tests.conftest import ROOT, reset_postgres
from tests.test_storage import db_url, demo_inputs  # noqa: F401 - shared fixtures

APP = "avr_trust_app"
ANN = Actor(name="ann", roles=frozenset({Role.assessor}), subject="https://idp.test|u-ann")
BOB = Actor(name="bob", roles=frozenset({Role.approver}), subject="https://idp.test|u-bob")
ADMIN = Actor(name="root", roles=frozenset({Role.admin}), subject="https://idp.test|u-root")


@pytest.fixture(scope="module")
def small(lib, demo_inputs):  # noqa: F811
    inv, answers = demo_inputs
    return assess(inv, answers, lib, trials=200, seed=1)


@pytest.fixture
def separated(postgres_url, monkeypatch):
    """(owner engine, app engine) on a fresh database migrated by the owner with grants to the app login."""
    reset_postgres(postgres_url)
    owner = make_engine(postgres_url, migrate=False)
    with owner.begin() as conn:
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {APP}; CREATE ROLE {APP} LOGIN")
    monkeypatch.setenv("AI_VENDOR_RISK_APP_ROLE", APP)
    owner = make_engine(postgres_url)
    app = make_engine(postgres_url.replace("postgres@", f"{APP}@"))
    yield owner, app
    app.dispose()
    owner.dispose()


def _refused(engine, sql: str, match: str = "permission denied", **params) -> None:
    with pytest.raises(DBAPIError, match=match), engine.begin() as conn:
        conn.execute(text(sql), params)


def _verified(engine) -> None:
    assert audit.verify(engine)[1] is None and state_problems(engine) == []


def test_postgres_app_login_cannot_set_status_roles_or_write_the_trail(separated, small):
    owner, app = separated
    a_id = repo.save_assessment(app, small, "Q1", actor=ANN)
    team.submit(app, ANN, a_id)
    n = audit.verify(app)[0]
    # the attack of the issue, step by step, with the app's own login
    _refused(app, "UPDATE assessments SET status = 'approved', reviewed_by = 'bob' WHERE id = :i", i=a_id)
    _refused(app, "INSERT INTO user_roles (username, roles, updated_by, updated_at) VALUES ('mallory', 'admin', "
                  "'root', now())")
    _refused(app, "UPDATE user_roles SET roles = 'admin'")
    _refused(app, "DELETE FROM user_roles")
    _refused(app, "INSERT INTO audit_log (at, actor, action, entity, entity_id, reason, prev_hash, hash) "
                  "VALUES (now(), 'bob', 'approve', 'status', '1', '', 'x', 'y')")
    _refused(app, "UPDATE audit_head SET entries = 0")
    _refused(app, "SELECT key FROM audit_key")
    _refused(app, "SELECT avr_audit_write('bob', 'approve', 'status', '1', NULL, NULL, '', now())")
    # the functions the app may call record review status and roles only through their own rules
    _refused(app, "SELECT avr_audit_append('bob', 'approve', 'status', '1', NULL, NULL, '', now())",
             match="recorded by avr_review and avr_set_roles only")
    _refused(app, "SELECT avr_review('Ann', NULL, :i, 'approve', '')", match="four-eyes", i=a_id)
    _refused(app, "SELECT avr_review('someone', 'https://idp.test|u-ann', :i, 'approve', '')", match="four-eyes",
             i=a_id)
    _refused(app, "SELECT avr_set_roles('root', 'mallory', 'superuser', '')", match="allowed are viewer")
    _refused(app, "INSERT INTO assessments (label, author, created_at, content_hash, payload_version, inventory, "
                  "answers, scenarios, results, status, reviewed_by) SELECT 'forged', author, created_at, "
                  "content_hash, payload_version, inventory, answers, scenarios, results, 'approved', 'bob' "
                  "FROM assessments WHERE id = :i", match="a new assessment is a draft", i=a_id)
    with app.connect() as conn:
        assert conn.execute(text("SELECT status FROM assessments WHERE id = :i"), {"i": a_id}).scalar() == "submitted"
    assert audit.verify(app) == (n, None)

    team.mark_team_mode(app, BOB)  # the app after a sign-in; the app's login cannot switch it off
    team.mark_team_mode(app, ANN)
    assert team.team_mode_since(app)[1] == "bob"
    _refused(app, "DELETE FROM team_mode")
    # the legitimate path: the approval goes through the owner's function and writes its entry
    team.approve(app, BOB, a_id, "looks right")
    team.set_roles(app, ADMIN, "dana", frozenset({Role.approver}), "joined the committee")
    saved = repo.load(app, a_id)
    assert (saved.status, saved.reviewed_by, saved.review_comment) == ("approved", "bob", "looks right")
    last = audit.entries(app)[-2:]
    assert [(e.actor, e.action, e.entity, e.entity_id) for e in last] == [
        ("bob", "approve", "status", str(a_id)), ("root", "grant", "role", "dana")]
    assert last[0].after == {"status": "approved", "label": "Q1", "content_hash": saved.content_hash}
    assert last[0].reason == "looks right" and last[1].before is None and last[1].after == "approver"
    _verified(app)
    s = audit.seals(app)
    assert s.keyed and s.keyed_after == 0 and s.sealed == n + 2 and s.first_bad is None
    p = run_cli("history", "audit", "verify", env={"DATABASE_URL": app.url.render_as_string(False)}, cwd=ROOT)
    assert p.returncode == 0 and f"{n + 2} entries' keyed seals (HMAC) match" in p.stdout, p.stderr
    # approved rows are final for everyone, the owner included
    _refused(app, "DELETE FROM assessments WHERE id = :i", match="approved: DELETE refused", i=a_id)
    _refused(owner, "UPDATE assessments SET label = 'x' WHERE id = :i", match="approved: UPDATE refused", i=a_id)
    with pytest.raises(repo.ImmutableAssessment):
        repo.delete_assessment(app, a_id, actor=ADMIN)
    # a draft may still be deleted by an admin through the app's login, with its entry
    d_id = repo.save_assessment(app, small, "Q1 draft", actor=ANN)
    assert repo.delete_assessment(app, d_id, actor=ADMIN, reason="duplicate")
    assert [(e.action, e.entity_id) for e in audit.entries(app)[-2:]] == [("create", str(d_id)), ("delete", str(d_id))]
    _verified(app)


def test_postgres_entries_hashed_in_the_database_verify_in_python(separated, small):
    """The owner's functions hash as `audit.entry_hash` does, for any text: controls, quotes, non-ASCII."""
    _, app = separated
    odd = "zoë 🙂 \"q\" \\ \t\r\n\x01\x1f\u2028 <b>"
    a_id = repo.save_assessment(app, small, odd, actor=ANN)
    team.submit(app, Actor(name=odd, roles=frozenset({Role.assessor})), a_id, comment=odd)
    team.return_for_changes(app, BOB, a_id, odd)
    team.set_roles(app, ADMIN, odd, frozenset({Role.viewer, Role.admin}), odd)
    team.set_roles(app, ADMIN, odd, frozenset(), "")
    team.record_change(app, ADMIN, "assumption", odd, {"x": odd}, {"x": [1.5, None, True]},
                       team.Permission.edit_assumptions, odd)
    _verified(app)
    assert [e.actor for e in audit.entries(app)][1:3] == [odd, "bob"]
    assert audit.seals(app).sealed == len(audit.entries(app)) == 6  # every entry written and sealed in the database


def _rechain(owner, from_id: int) -> None:
    """What someone who can write the tables but lacks the key can do: recompute every unkeyed hash from
    `from_id` on and the head (triggers off as a superuser's session can)."""
    with owner.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # the append-only trigger off
        rows = conn.execute(select(audit_log).where(audit_log.c.id >= from_id).order_by(audit_log.c.id)).all()
        prev = conn.execute(select(audit_log.c.hash).where(audit_log.c.id < from_id)
                            .order_by(audit_log.c.id.desc()).limit(1)).scalar() or audit.GENESIS
        for r in rows:
            h = audit.entry_hash(prev, r.at, r.actor, r.action, r.entity, r.entity_id, r.before, r.after, r.reason)
            conn.execute(text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
                         {"p": prev, "h": h, "i": r.id})
            prev = h
        conn.execute(text("UPDATE audit_head SET last_hash = :h, entries = (SELECT count(*) FROM audit_log)"),
                     {"h": prev})


def test_postgres_a_rechained_or_forged_entry_fails_verify_with_the_key(separated, small, monkeypatch):
    owner, app = separated
    a_id = repo.save_assessment(app, small, "Q1", actor=ANN)
    team.submit(app, ANN, a_id)
    _verified(app)
    # 1. a forged, correctly chained "bob approved" entry with the matching status change (the attack,
    #    done by someone who got past the grants): the unkeyed chain and the state cross-check are satisfied
    with owner.begin() as conn:
        conn.execute(text("UPDATE assessments SET status = 'approved', reviewed_by = 'bob' WHERE id = :i"),
                     {"i": a_id})
        h = conn.execute(select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).scalar()
        saved_hash = conn.execute(text("SELECT content_hash FROM assessments WHERE id = :i"), {"i": a_id}).scalar()
        at = conn.execute(text("SELECT now()")).scalar()
        after = audit._canon({"status": "approved", "label": "Q1", "content_hash": saved_hash})
        before = audit._canon({"status": "submitted"})
        forged = audit.entry_hash(h, at, "bob", "approve", "status", str(a_id), before, after, "")
        fid = conn.execute(text("INSERT INTO audit_log (at, actor, action, entity, entity_id, before, after, reason, "
                                "prev_hash, hash) VALUES (:at, 'bob', 'approve', 'status', :e, :b, :a, '', :p, :h) "
                                "RETURNING id"),
                           {"at": at, "e": str(a_id), "b": before, "a": after, "p": h, "h": forged}).scalar()
        conn.execute(text("UPDATE audit_head SET entries = entries + 1, last_hash = :h"), {"h": forged})
    assert state_problems(app) == []
    monkeypatch.setattr(audit, "seals", lambda engine: None)  # the unkeyed chain alone is fooled
    assert audit.verify(app)[1] is None
    monkeypatch.undo()
    count, brk = audit.verify(app)  # the seal is not
    assert brk is not None and brk.entry_id == fid and "no valid keyed seal" in brk.message
    p = run_cli("history", "audit", "verify", env={"DATABASE_URL": app.url.render_as_string(False)}, cwd=ROOT)
    assert p.returncode == 1 and f"audit entry {fid} has no valid keyed seal" in p.stderr


def test_postgres_a_rechained_trail_fails_verify_with_the_key(separated, small, monkeypatch):
    owner, app = separated
    a_id = repo.save_assessment(app, small, "Q1", actor=ANN)
    team.submit(app, ANN, a_id)
    team.approve(app, BOB, a_id)
    team.set_roles(app, ADMIN, "dana", frozenset({Role.approver}))
    _verified(app)
    second = audit.entries(app)[1].id
    with owner.begin() as conn:  # rewrite who submitted, then re-chain everything after it
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE audit_log SET actor = 'carol' WHERE id = :i"), {"i": second})
    _rechain(owner, second)
    monkeypatch.setattr(audit, "seals", lambda engine: None)
    assert audit.verify(app)[1] is None  # unkeyed: intact
    monkeypatch.undo()
    brk = audit.verify(app)[1]
    assert brk is not None and brk.entry_id == second and "keyed seal" in brk.message


def test_four_eyes_by_subject_and_case_not_display_name(db_url, small):  # noqa: F811
    engine = make_engine(db_url)
    a_id = repo.save_assessment(engine, small, "Q1", actor=ANN)
    team.submit(engine, ANN, a_id)
    renamed = Actor(name="Ann Approver", roles=frozenset({Role.approver}), subject=ANN.subject)  # new display name
    with pytest.raises(team.ReviewError, match="cannot approve it: a second person"):
        team.approve(engine, renamed, a_id)
    other_idp_same_name = Actor(name="ANN", roles=frozenset({Role.approver}), subject="https://idp.test|u-2")
    with pytest.raises(team.ReviewError, match="four-eyes"):
        team.approve(engine, other_idp_same_name, a_id)
    team.approve(engine, BOB, a_id)
    with engine.connect() as conn:
        row = conn.execute(select(repo.assessments.c.submitted_sub, repo.assessments.c.reviewed_sub)
                           .where(repo.assessments.c.id == a_id)).one()
    assert tuple(row) == (ANN.subject, BOB.subject)
    _verified(engine)


def test_the_subject_is_issuer_and_sub_claim():
    cfg = team_config({"enabled": True})
    claims = {"iss": "https://idp.test", "sub": "248289761001", "preferred_username": "Ann"}
    assert (cfg.username(claims), cfg.subject(claims)) == ("Ann", "https://idp.test|248289761001")
    with pytest.raises(ValueError, match="no subject"):
        cfg.subject({"preferred_username": "Ann"})


def test_cli_writes_are_refused_in_team_mode_reads_work(tmp_path):
    url = f"sqlite:///{tmp_path / 't.sqlite'}"
    single = {"DATABASE_URL": url}
    p = run_cli("--user", "ann", "history", "save", str(ROOT / "config/demo/inventory.csv"), "--label", "Q1",
                "--trials", "200", env=single, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert run_cli("--user", "ann", "history", "submit", "1", env=single, cwd=ROOT).returncode == 0
    team_env = {**single, "AI_VENDOR_RISK_TEAM": "1"}
    for args in (("history", "approve", "1"), ("history", "return", "1", "--comment", "x"),
                 ("history", "roles", "set", "mallory", "admin"), ("history", "delete", "1", "--yes"),
                 ("history", "save", str(ROOT / "config/demo/inventory.csv"), "--label", "Q2")):
        p = run_cli("--user", "bob", *args, env=team_env, cwd=ROOT)
        assert p.returncode == 2 and "team mode is on" in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
    # secrets.toml in the working directory switches team mode on for the CLI as for the app
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text("[team]\nenabled = true\n")
    p = run_cli("--user", "bob", "history", "approve", "1", env=single, cwd=tmp_path)
    assert p.returncode == 2 and "team mode is on" in p.stderr
    (tmp_path / ".streamlit" / "secrets.toml").write_text("[team\n")
    p = run_cli("--user", "bob", "history", "approve", "1", env=single, cwd=tmp_path)
    assert p.returncode == 2 and "secrets.toml: cannot read it" in p.stderr
    for args in (("history", "list"), ("history", "audit", "verify"), ("history", "roles", "list")):
        p = run_cli(*args, env=team_env, cwd=ROOT)
        assert p.returncode == 0, (args, p.stderr)
    assert "unkeyed chain only" in run_cli("history", "audit", "verify", env=team_env, cwd=ROOT).stdout
    # the database remembers team mode: once someone signed in to the app, a shell without the variable
    # cannot write with --user either
    team.mark_team_mode(make_engine(url), BOB)
    p = run_cli("--user", "bob", "history", "approve", "1", env=single, cwd=ROOT)
    assert p.returncode == 2 and "this database is used in team mode since" in p.stderr and "first sign-in: bob" \
        in p.stderr
    assert run_cli("history", "list", env=single, cwd=ROOT).returncode == 0
    log = audit.entries(make_engine(url))
    assert [(e.actor, e.action) for e in log] == [("ann", "create"), ("ann", "submit")]  # nothing else written


def test_postgres_database_hash_equals_entry_hash_for_any_text(postgres_url):
    """Property: for any text (but NUL, which PostgreSQL refuses) and any JSON value, the entry the owner's
    function hashes in SQL verifies with `audit.entry_hash` in Python."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    reset_postgres(postgres_url)
    engine = make_engine(postgres_url)
    words = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
    values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | words,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
                          max_leaves=6)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(actor=words.filter(lambda s: s.strip()), entity_id=words, reason=words, before=values, after=values)
    def check(actor, entity_id, reason, before, after):
        with engine.begin() as conn:
            entry_id = audit.append(conn, actor, "update", "assumption", entity_id, before, after, reason)
        with engine.connect() as conn:
            r = conn.execute(select(audit_log).where(audit_log.c.id == entry_id)).one()
        assert r.hash == audit.entry_hash(r.prev_hash, r.at, r.actor, r.action, r.entity, r.entity_id, r.before,
                                          r.after, r.reason)
        assert r.mac is not None

    check()
    assert audit.verify(engine)[1] is None
    engine.dispose()
