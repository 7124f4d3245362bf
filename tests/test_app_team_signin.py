"""AppTest, team mode: a signed-in user (the identity token stubbed) acts with the token's name and
subject, and the first sign-in marks the database as a team database (the CLI then refuses writes)."""

from __future__ import annotations

import streamlit as st
from streamlit.testing.v1 import AppTest

from risk_models.auth.roles import Actor, Role
from risk_models.storage import team
from risk_models.storage.db import make_engine


class _User:
    """What `st.user` gives after an OpenID Connect sign-in."""

    is_logged_in = True

    def to_dict(self) -> dict:
        return {"iss": "https://idp.test", "sub": "u-42", "preferred_username": "dana", "groups": []}


def test_a_sign_in_marks_the_database_and_carries_the_subject(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("AI_VENDOR_RISK_TEAM", "1")
    engine = make_engine(url)
    team.set_roles(engine, Actor(name="root", roles=frozenset({Role.admin})), "dana", frozenset({Role.approver}))
    assert team.team_mode_since(engine) is None
    monkeypatch.setattr(st, "user", _User())
    at = AppTest.from_file("../dashboard/app.py", default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("Signed in as **dana** (Approver)" in c.value for c in at.caption)
    assert team.team_mode_since(engine)[1] == "dana"
    assert at.session_state["actor"].subject == "https://idp.test|u-42"  # four-eyes compares this, not the name


def test_a_token_without_a_subject_is_refused_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'team.sqlite'}")
    monkeypatch.setenv("AI_VENDOR_RISK_TEAM", "1")
    no_sub = _User()
    monkeypatch.setattr(no_sub, "to_dict", lambda: {"preferred_username": "dana", "groups": []})
    monkeypatch.setattr(st, "user", no_sub)
    at = AppTest.from_file("../dashboard/app.py", default_timeout=120).run()
    assert not at.exception, at.exception
    assert any("Your sign-in cannot be used" in e.value and "no subject" in e.value for e in at.error)
