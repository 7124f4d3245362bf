"""AppTest, single-user mode (the default): no sign-in, the local user is admin, the Audit page lists
what was saved and submitted, filters by user, and checks the chain."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from risk_models.auth.roles import Actor, Role
from risk_models.storage import repository as repo
from risk_models.storage import team
from risk_models.storage.db import make_engine


def test_single_user_audit_page_lists_filters_and_verifies(tmp_path, monkeypatch, small_assessment):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    ann = Actor(name="ann <b>", roles=frozenset({Role.assessor}))
    a_id = repo.save_assessment(engine, small_assessment, "=HYPERLINK(\"x\")", actor=ann)
    team.submit(engine, ann, a_id)
    at = AppTest.from_file("../dashboard/app.py", default_timeout=120).run()
    assert not at.exception, at.exception
    assert not any("Sign in" in b.label for b in at.button)  # single-user: no sign-in
    at.switch_page("views/audit.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    # the first visit created the demo workspace (audited, under the local user's name: never "root")
    assert list(table["User"]) == ["ann <b>", "ann <b>", "Local user"]
    assert list(table["Action"]) == ["created", "submitted", "created"]
    assert list(table["What"]) == ["Saved assessment", "Review status", "Workspace"]
    at.selectbox(key="audit_entity").set_value("status").run()
    assert list(at.dataframe[0].value["Action"]) == ["submitted"]
    at.selectbox(key="audit_entity").set_value("").run()
    at.selectbox(key="audit_action").set_value("create").run()
    assert list(at.dataframe[0].value["What"]) == ["Saved assessment", "Workspace"]
    next(b for b in at.button if b.label == "Check the hash chain").click().run()
    assert any("Intact: 3 entries" in s.value for s in at.success)
