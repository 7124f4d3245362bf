"""Issue 27 §1 (the parts that hold on every database): a forged approval or role written straight into the
database, and a trail rewritten or truncated consistently, fail `history audit verify` — by the state
cross-check, or by an anchor kept outside the database. Four-eyes compares names case-insensitively."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, insert, update

from risk_models.auth.roles import Actor, Role
from risk_models.storage import audit, team
from risk_models.storage import repository as repo
from risk_models.storage.db import make_engine
from tests.cli_run import run_cli
from tests.conftest import DEMO_INVENTORY

ALICE = Actor(name="alice", roles=frozenset({Role.assessor}))
BOB = Actor(name="bob", roles=frozenset({Role.approver}))


@pytest.fixture
def saved(tmp_path):
    """A data directory with 3 saved assessments (one submitted by alice), and its engine."""
    env = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}
    for label in ("Q1", "Q2", "Q3"):
        assert run_cli("history", "save", str(DEMO_INVENTORY), "--label", label, "--trials", "200",
                       env=env).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'assessments.sqlite'}")
    team.submit(engine, ALICE, 1)
    return env, engine


def _verify(env, *extra: str):
    return run_cli("history", "audit", "verify", *extra, env=env)


def test_a_status_set_in_the_database_fails_verify(saved):
    """The reproduction: UPDATE assessments SET status='approved', reviewed_by='bob' + a correctly chained
    'bob approved' entry for *another* assessment; verify said 'intact'."""
    env, engine = saved
    assert _verify(env).returncode == 0
    with engine.begin() as conn:
        conn.execute(update(repo.assessments).where(repo.assessments.c.id == 2)
                     .values(status="approved", reviewed_by="bob"))
    p = _verify(env)
    assert p.returncode == 1 and "assessment 2 is approved but the audit trail has no approval of it" in p.stderr


def test_content_changed_in_the_database_fails_verify(saved):
    env, engine = saved
    with engine.begin() as conn:
        conn.execute(update(repo.assessments).where(repo.assessments.c.id == 3).values(content_hash="0" * 64))
    p = _verify(env)
    assert p.returncode == 1 and "assessment 3's content hash is not the one its creation entry recorded" in p.stderr


def test_a_role_inserted_in_the_database_fails_verify(saved):
    env, engine = saved
    with engine.begin() as conn:
        conn.execute(insert(team.user_roles).values(username="mallory", roles="admin", updated_by="mallory",
                                                    updated_at=dt.datetime.now(dt.UTC)))
    p = _verify(env)
    assert p.returncode == 1 and "user 'mallory' has stored roles (admin) but the audit trail has no grant" in p.stderr
    team.set_roles(engine, Actor(name="root", roles=frozenset({Role.admin})), "mallory", frozenset({Role.viewer}))
    assert _verify(env).returncode == 0  # a grant through the application is accounted for


def test_an_approval_through_the_application_verifies_and_records_the_content(saved):
    env, engine = saved
    team.approve(engine, BOB, 1)
    assert _verify(env).returncode == 0
    last = audit.entries(engine)[-1]
    assert last.action == "approve" and last.after["content_hash"] == repo.load(engine, 1).content_hash


def test_four_eyes_compares_names_case_insensitively(saved):
    _, engine = saved
    with pytest.raises(team.ReviewError, match="four-eyes"):
        team.approve(engine, Actor(name="Alice", roles=frozenset({Role.approver})), 1)


def test_an_anchor_catches_a_rewritten_or_truncated_trail(saved):
    env, engine = saved
    p = run_cli("history", "audit", "anchor", env=env)
    assert p.returncode == 0
    anchor = p.stdout.strip()
    count, h = audit.parse_anchor(anchor)
    assert count == 4 and len(h) == 64  # 3 saves and a submit
    assert _verify(env, "--anchor", anchor).returncode == 0
    team.approve(engine, BOB, 1)  # the trail may grow after the anchor
    assert _verify(env, "--anchor", anchor).returncode == 0

    # SQLite: delete everything and reset the head — "intact: 0 entries" before anchors existed
    with engine.begin() as conn:
        conn.execute(delete(audit.audit_log))
        conn.execute(update(audit.audit_head).values(entries=0, last_hash=audit.GENESIS))
    assert audit.verify(engine)[1] is None  # the chain alone cannot tell
    p = _verify(env, "--anchor", anchor)
    assert p.returncode == 1 and "the anchor recorded 4" in p.stderr


def test_an_anchor_catches_an_edited_and_rechained_entry(saved):
    env, engine = saved
    anchor = run_cli("history", "audit", "anchor", env=env).stdout.strip()
    with engine.begin() as conn:  # edit entry 2 and recompute every hash after it, and the head
        rows = conn.execute(audit.audit_log.select().order_by(audit.audit_log.c.id)).mappings().all()
        prev = audit.GENESIS
        for r in rows:
            actor = "eve" if r["id"] == 2 else r["actor"]
            h = audit.entry_hash(prev, r["at"], actor, r["action"], r["entity"], r["entity_id"], r["before"],
                                 r["after"], r["reason"])
            conn.execute(update(audit.audit_log).where(audit.audit_log.c.id == r["id"])
                         .values(actor=actor, prev_hash=prev, hash=h))
            prev = h
        conn.execute(update(audit.audit_head).values(last_hash=prev))
    assert audit.verify(engine)[1] is None
    p = _verify(env, "--anchor", anchor)
    assert p.returncode == 1 and "rewritten since the anchor was taken" in p.stderr


@pytest.mark.parametrize("bad", ["4", "x:" + "a" * 64, "4:" + "g" * 64, "4:abc"])
def test_a_malformed_anchor_is_a_usage_error(saved, bad):
    env, _ = saved
    p = _verify(env, "--anchor", bad)
    assert p.returncode == 2 and "is not an anchor" in p.stderr and "Traceback" not in p.stderr
