"""Workspaces on the server (storage/workspace.py), on SQLite and PostgreSQL: create, list, rename,
archive, copy; a large hostile payload read back exactly; the optimistic version check (of two
writers from one version exactly one wins, the other is told who changed it and when); two app
processes on one SQLite file see each other's writes; write_parts all or nothing; audit entries in
the same transaction; the 0003 → 0004 migration keeps saved assessments and the audit trail."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import func, select, text

from risk_models.auth.roles import Actor, Role
from risk_models.storage import audit, team
from risk_models.storage import repository as repo
from risk_models.storage import workspace as ws
from risk_models.storage.db import StorageError, current_revision, head_revision, make_engine
from risk_models.storage.workspace import WorkspaceConflict
from tests.conftest import reset_postgres
from tests.test_storage import db_url  # noqa: F401 - shared fixture (SQLite and PostgreSQL)

ADMIN = Actor(name="ann", roles=frozenset({Role.admin}))
HOSTILE = ['=HYPERLINK("http://x","click")', "<script>alert(1)</script>", "+SUM(A1)", "@cmd", "-1+1",
           "Zoë's café 🙂 — 東京", "\u202eevil", "line\nbreak\ttab\r", "quote \" and \\ backslash", "\x00nul", ""]
TIME = r"(\d{4}-\d\d-\d\d )?\d\d:\d\d UTC"


def _register(n: int = 20_000) -> list[dict]:
    return [{"deployment_id": f"DEP-{i:05d}", "name": f"{HOSTILE[i % len(HOSTILE)]} #{i}",
             "business_unit": ["Retail", "Ops", "Legal ⚖"][i % 3], "annual_spend_usd": i * 12.5,
             "users": i, "critical": i % 7 == 0, "contract_end": None if i % 5 else "2027-03-22",
             "notes": HOSTILE[(i * 7) % len(HOSTILE)] * (i % 4)} for i in range(n)]


def _audit_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(audit.audit_log)).scalar()


def test_create_list_rename_archive_and_copy(db_url):  # noqa: F811
    engine = make_engine(db_url)
    assert ws.list_workspaces(engine) == []
    demo = ws.create_workspace(engine, "  Demo organisation ", "system", is_demo=True,
                               parts={"register": _register(3), "answers": {"DEP-00001": {"q": "yes"}}})
    assert (demo.name, demo.is_demo, demo.archived, demo.created_by, demo.updated_by) == (
        "Demo organisation", True, False, "system", "system")
    assert demo.created_at.tzinfo is not None and demo.created_at == demo.updated_at
    assert ws.part_versions(engine, demo.id) == {"register": 1, "answers": 1}
    acme = ws.create_workspace(engine, "Acme <b>plc</b> 🙂", "ann")
    assert ws.part_versions(engine, acme.id) == {} and ws.read_parts(engine, acme.id) == {}
    assert [w.id for w in ws.list_workspaces(engine)] == [acme.id, demo.id]  # most recently updated first
    ws.write_part(engine, demo.id, "plan", {"DEP-00001": ["exit plan"]}, "bob", None)
    assert [w.id for w in ws.list_workspaces(engine)] == [demo.id, acme.id]
    assert ws.get_workspace(engine, demo.id).updated_by == "bob"

    renamed = ws.rename_workspace(engine, acme.id, " Acme Group ", "bob")
    assert renamed.name == "Acme Group" and renamed.updated_by == "bob" and renamed.created_by == "ann"
    archived = ws.set_archived(engine, acme.id, True, "ann")
    assert archived.archived and [w.id for w in ws.list_workspaces(engine)] == [demo.id]
    assert [w.id for w in ws.list_workspaces(engine, include_archived=True)] == [acme.id, demo.id]
    assert not ws.set_archived(engine, acme.id, False, "ann").archived

    copy = ws.copy_workspace(engine, demo.id, "Demo — what if", "carol")
    assert copy.id not in (demo.id, acme.id) and copy.is_demo and copy.created_by == "carol"
    assert ws.part_versions(engine, copy.id) == {"register": 1, "answers": 1, "plan": 1}
    src, dst = ws.read_parts(engine, demo.id), ws.read_parts(engine, copy.id)
    assert {k: p.payload for k, p in src.items()} == {k: p.payload for k, p in dst.items()}
    assert {p.updated_by for p in dst.values()} == {"carol"}
    ws.write_part(engine, copy.id, "plan", {}, "carol", 1)  # the copy changes alone
    assert ws.read_parts(engine, demo.id, ["plan"])["plan"].payload == {"DEP-00001": ["exit plan"]}

    log = audit.entries(engine, entity="workspace")
    assert [(e.actor, e.action, e.entity_id, e.before, e.after) for e in log] == [
        ("system", "create", "Demo organisation", None, {"name": "Demo organisation", "is_demo": True}),
        ("ann", "create", "Acme <b>plc</b> 🙂", None, {"name": "Acme <b>plc</b> 🙂", "is_demo": False}),
        ("bob", "rename", "Acme Group", {"name": "Acme <b>plc</b> 🙂"}, {"name": "Acme Group"}),
        ("ann", "archive", "Acme Group", {"archived": False}, {"archived": True}),
        ("ann", "restore", "Acme Group", {"archived": True}, {"archived": False}),
        ("carol", "create", "Demo — what if", None,
         {"name": "Demo — what if", "is_demo": True, "copied_from": "Demo organisation"})]
    assert audit.verify(engine) == (6, None)
    assert audit.ENTITY_LABELS["workspace"] == "Workspace"
    assert {a: audit.ACTION_LABELS[a] for a in ("rename", "archive", "restore", "upload", "edit")} == {
        "rename": "renamed", "archive": "archived", "restore": "restored", "upload": "uploaded", "edit": "edited"}


def test_bad_names_actors_and_missing_workspaces_are_clear_errors(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    for bad, match in [("", "1 to 200 characters"), ("   ", "1 to 200 characters"), ("x" * 201, "1 to 200"),
                       ("a\x00b", "U\\+0000"), ("a\nb", "U\\+000A"), ("a\x1bb", "U\\+001B"),
                       ("\u202eevil", "U\\+202E")]:
        with pytest.raises(ValueError, match=match):
            ws.create_workspace(engine, bad, "ann")
    assert ws.create_workspace(engine, "x" * 200, "ann").name == "x" * 200
    w = ws.create_workspace(engine, "Acme", "ann")
    with pytest.raises(ValueError, match="control characters"):
        ws.rename_workspace(engine, w.id, "tab\there", "ann")
    for actor in ("", "  ", "a\x00"):
        with pytest.raises(ValueError, match="actor"):
            ws.write_part(engine, w.id, "register", [], actor, None)
    for part in ("", "has space", "x" * 41, "é", "../x"):
        with pytest.raises(ValueError, match="part name"):
            ws.write_part(engine, w.id, part, [], "ann", None)
    for version in (0, -1, True, "1", 1.0):
        with pytest.raises(ValueError, match="expected_version"):
            ws.write_part(engine, w.id, "register", [], "ann", version)
    for call in (lambda: ws.get_workspace(engine, 999), lambda: ws.part_versions(engine, 999),
                 lambda: ws.read_parts(engine, 999), lambda: ws.read_parts(engine, 999, []),
                 lambda: ws.write_part(engine, 999, "register", [], "ann", None),
                 lambda: ws.rename_workspace(engine, 999, "x", "ann"),
                 lambda: ws.set_archived(engine, 999, True, "ann"),
                 lambda: ws.copy_workspace(engine, 999, "x", "ann")):
        with pytest.raises(KeyError, match="no workspace with id 999"):
            call()
    assert [x.name for x in ws.list_workspaces(engine)] == ["Acme", "x" * 200]
    assert audit.verify(engine) == (2, None)  # nothing refused left a trace


def test_a_large_hostile_payload_reads_back_exactly(db_url):  # noqa: F811
    engine = make_engine(db_url)
    register = _register()
    answers = {r["deployment_id"]: {"exit_plan_exists": "tested", "notes": r["notes"]} for r in register[:5000]}
    w = ws.create_workspace(engine, "Big", "ann", parts={"register": register})
    written = ws.write_parts(engine, w.id, {"register": (register, 1), "answers": (answers, None),
                                            "settings": ({"trials": 10_000, "seed": None, "ratio": 0.1}, None)},
                             "bob")
    assert {k: p.version for k, p in written.items()} == {"register": 2, "answers": 1, "settings": 1}
    assert written["register"].payload == register and written["register"].payload is not register
    other = make_engine(db_url)  # another process
    parts = ws.read_parts(other, w.id)
    assert parts["register"].payload == register and parts["answers"].payload == answers
    assert parts["settings"].payload == {"trials": 10_000, "seed": None, "ratio": 0.1}
    assert parts["register"].updated_by == "bob" and parts["register"].updated_at.tzinfo is not None
    assert list(ws.read_parts(other, w.id, ["answers", "nope"])) == ["answers"]
    assert ws.part_versions(other, w.id) == {"register": 2, "answers": 1, "settings": 1}
    with engine.connect() as conn:
        size = conn.execute(select(func.length(ws.workspace_parts.c.payload))
                            .where(ws.workspace_parts.c.name == "register")).scalar()
    assert size < 2_000_000  # compressed
    other.dispose()


def test_payloads_must_be_json_that_reads_back_unchanged(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    w = ws.create_workspace(engine, "Acme", "ann")
    for payload, match in [
        ([{"contract_end": dt.date(2027, 3, 22)}], r"The inventory \(register\) cannot be stored: \[0\]\['contract_end'\] is a date"),
        ({"p": float("nan")}, r"\['p'\] is nan .*use None"),
        ({"p": [1, float("inf")]}, r"\['p'\]\[1\] is inf"),
        ({1: "a"}, "has the key 1 of type int"),
        ({"a": (1, 2)}, r"\['a'\] is a tuple"),
        ({"a": {1, 2}}, r"\['a'\] is a set"),
        (b"bytes", "the value is a bytes"),
    ]:
        with pytest.raises(TypeError, match=match):
            ws.write_part(engine, w.id, "register", payload, "ann", None)
    with pytest.raises(TypeError, match=r"The what-if plan \(plan\)"):
        ws.create_workspace(engine, "B", "ann", parts={"plan": object()})
    with pytest.raises(TypeError, match=r"^unknown_part \(unknown_part\)"):
        ws.write_part(engine, w.id, "unknown_part", dt.datetime.now(), "ann", None)
    monkeypatch.setattr(ws, "MAX_PART_BYTES", 1000)
    with pytest.raises(StorageError, match=r"The inventory \(register\) is too large to store: .* limit is"):
        ws.write_part(engine, w.id, "register", [str(i) * 50 for i in range(5000)], "ann", None)
    assert ws.part_versions(engine, w.id) == {} and [x.name for x in ws.list_workspaces(engine)] == ["Acme"]


def test_optimistic_version_check_names_who_changed_it_and_when(db_url):  # noqa: F811
    engine = make_engine(db_url)
    w = ws.create_workspace(engine, "Acme", "ann", parts={"register": [{"a": 1}]})
    assert ws.write_part(engine, w.id, "register", [{"a": 2}], "ann", 1).version == 2
    with pytest.raises(WorkspaceConflict) as err:
        ws.write_part(engine, w.id, "register", [{"a": 3}], "bob", 1)  # bob read version 1
    c = err.value
    assert re.fullmatch(f"The inventory was changed by ann at {TIME} — reload to see it", str(c)), str(c)
    assert (c.part, c.expected_version, c.found_version, c.updated_by, c.workspace_id) == (
        "register", 1, 2, "ann", w.id)
    assert c.updated_at == ws.read_parts(engine, w.id)["register"].updated_at
    assert f"at {c.updated_at:%H:%M} UTC" in str(c)
    ws.write_part(engine, w.id, "answers", {}, "ann", None)
    with pytest.raises(WorkspaceConflict, match=f"^Answers was changed by ann at {TIME}"):
        ws.write_part(engine, w.id, "answers", {}, "bob", None)  # bob creates it too: too late
    with pytest.raises(WorkspaceConflict, match="^Contracts has not been saved in this workspace yet"):
        ws.write_part(engine, w.id, "contracts", [], "bob", 3)
    ws.write_part(engine, w.id, "my_part", 1, "ann", None)
    with pytest.raises(WorkspaceConflict, match=f"^my_part was changed by ann at {TIME}"):  # unknown: shown as is
        ws.write_part(engine, w.id, "my_part", 2, "ann", 5)
    assert ws.read_parts(engine, w.id)["register"].payload == [{"a": 2}]
    assert ws.part_versions(engine, w.id) == {"register": 2, "answers": 1, "my_part": 1}
    old = WorkspaceConflict("probabilities", 1, 4, "zoë", dt.datetime(2026, 5, 1, 10, 42, 7))
    assert str(old) == "Scenario probabilities was changed by zoë at 2026-05-01 10:42 UTC — reload to see it"


@pytest.mark.parametrize("writers", [4])
def test_writers_racing_from_one_version_exactly_one_wins(db_url, writers):  # noqa: F811
    engine = make_engine(db_url)
    w = ws.create_workspace(engine, "Acme", "ann", parts={"register": [], "answers": {}})
    engines = [make_engine(db_url) for _ in range(writers)]  # one pool each: like app processes
    gate, results = threading.Barrier(writers), {}

    def write(i: int) -> None:
        gate.wait()
        try:
            results[i] = ws.write_parts(engines[i], w.id, {"register": ([{"by": i}], 1), "answers": ({"by": i}, 1)},
                                        f"user{i}", audit_entries=[{"action": "upload", "entity": "register_row",
                                                                    "entity_id": f"u{i}", "after": {"by": i}}])
        except WorkspaceConflict as exc:
            results[i] = exc

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [i for i, r in results.items() if isinstance(r, dict)]
    losers = [r for r in results.values() if isinstance(r, WorkspaceConflict)]
    assert len(winners) == 1 and len(losers) == writers - 1, results
    (win,) = winners
    for lost in losers:
        assert lost.updated_by == f"user{win}" and lost.found_version == 2
        assert re.fullmatch(f"The inventory was changed by user{win} at {TIME} — reload to see it", str(lost))
    parts = ws.read_parts(engine, w.id)
    assert parts["register"].payload == [{"by": win}] and parts["answers"].payload == {"by": win}
    assert ws.part_versions(engine, w.id) == {"register": 2, "answers": 2}
    assert [e.entity_id for e in audit.entries(engine, entity="register_row")] == [f"u{win}"]
    assert audit.verify(engine) == (2, None)
    for e in engines:
        e.dispose()


def test_two_processes_on_one_sqlite_file_see_each_others_writes(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    tab1, tab2 = make_engine(url), make_engine(url)
    w = ws.create_workspace(tab1, "Acme", "ann", parts={"register": [{"id": "DEP-1"}]})
    assert [x.id for x in ws.list_workspaces(tab2)] == [w.id]
    seen = ws.part_versions(tab2, w.id)
    assert seen == {"register": 1}
    ws.write_part(tab1, w.id, "register", [{"id": "DEP-1"}, {"id": "DEP-2"}], "ann", 1)
    assert ws.part_versions(tab2, w.id) == {"register": 2}  # the poll notices
    assert ws.read_parts(tab2, w.id)["register"].payload == [{"id": "DEP-1"}, {"id": "DEP-2"}]
    with pytest.raises(WorkspaceConflict, match="changed by ann"):
        ws.write_part(tab2, w.id, "register", [], "bob", seen["register"])  # tab2 had not reloaded
    ws.write_part(tab2, w.id, "answers", {"DEP-2": {"q": "yes"}}, "bob", None)
    assert ws.part_versions(tab1, w.id) == {"register": 2, "answers": 1}
    assert ws.get_workspace(tab1, w.id).updated_by == "bob"
    tab1.dispose()
    tab2.dispose()
    restarted = make_engine(url)  # a server restart: the same state
    assert ws.read_parts(restarted, w.id)["answers"].payload == {"DEP-2": {"q": "yes"}}


def test_write_parts_is_all_or_nothing_and_audit_commits_with_the_change(db_url):  # noqa: F811
    engine = make_engine(db_url)
    w = ws.create_workspace(engine, "Acme", "ann", parts={"register": [{"a": 1}], "answers": {"x": 1}})
    before = ws.get_workspace(engine, w.id)
    entries = [{"action": "upload", "entity": "register_row", "entity_id": "inventory.csv",
                "before": {"rows": 1}, "after": {"rows": 2}, "reason": "quarterly upload"}]
    n = _audit_count(engine)
    with pytest.raises(WorkspaceConflict, match="^Answers was changed by ann"):
        ws.write_parts(engine, w.id, {"register": ([{"a": 1}, {"a": 2}], 1), "answers": ({}, 7)}, "bob",
                       audit_entries=entries)
    with pytest.raises(WorkspaceConflict, match="^The inventory was changed by ann"):
        ws.write_parts(engine, w.id, {"answers": ({}, 1), "register": ([], None)}, "bob", audit_entries=entries)
    parts = ws.read_parts(engine, w.id)
    assert {k: (p.version, p.payload) for k, p in parts.items()} == {"register": (1, [{"a": 1}]),
                                                                     "answers": (1, {"x": 1})}
    assert ws.get_workspace(engine, w.id) == before  # not even updated_at moved
    assert _audit_count(engine) == n  # a refused change leaves no audit entry

    with pytest.raises(ValueError, match="audit entry keys"):
        ws.write_part(engine, w.id, "answers", {}, "bob", 1, audit_entries=[{"action": "edit", "entity": "answer",
                                                                             "who": "x"}])
    with pytest.raises(ValueError, match="needs an action and an entity"):
        ws.write_part(engine, w.id, "answers", {}, "bob", 1, audit_entries=[{"action": "edit"}])
    with pytest.raises(TypeError, match="audit entry after"):
        ws.write_part(engine, w.id, "answers", {}, "bob", 1,
                      audit_entries=[{"action": "edit", "entity": "answer", "after": dt.date(2026, 1, 1)}])
    assert ws.part_versions(engine, w.id) == {"register": 1, "answers": 1} and _audit_count(engine) == n

    done = ws.write_parts(engine, w.id, {"register": ([{"a": 1}, {"a": 2}], 1), "answers": ({}, 1)}, "bob",
                          audit_entries=entries + [{"action": "edit", "entity": "answer", "entity_id": "DEP-1",
                                                    "before": {"q": 1}, "after": None}])
    assert {k: p.version for k, p in done.items()} == {"register": 2, "answers": 2}
    log = audit.entries(engine)[-2:]
    assert [(e.actor, e.action, e.entity, e.entity_id, e.before, e.after, e.reason) for e in log] == [
        ("bob", "upload", "register_row", "inventory.csv", {"rows": 1}, {"rows": 2}, "quarterly upload"),
        ("bob", "edit", "answer", "DEP-1", {"q": 1}, None, "")]
    assert log[0].at == done["register"].updated_at == ws.get_workspace(engine, w.id).updated_at
    ws.rename_workspace(engine, w.id, "Acme 2", "ann", audit_entries=[{"action": "edit", "entity": "workspace",
                                                                        "reason": "typo"}])
    assert [e.action for e in audit.entries(engine)[-2:]] == ["rename", "edit"]
    assert audit.verify(engine) == (n + 4, None)
    with pytest.raises(ValueError, match="no parts given"):
        ws.write_parts(engine, w.id, {}, "bob")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_from_0003_keeps_assessments_and_the_audit_trail(backend, request, tmp_path, small_assessment,
                                                                   monkeypatch):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    old = make_engine(url, revision="0003")
    assert current_revision(old) == "0003"
    # written as the 0003 code wrote it: directly (the owner's functions of 0005 do not exist yet)
    monkeypatch.setattr(audit, "by_owner_functions", lambda conn: False)
    a_id = repo.save_assessment(old, small_assessment, "made by 0003", author="ann", actor=ADMIN)
    with old.begin() as conn:
        audit.lock(conn)
        conn.execute(text("UPDATE assessments SET status = 'submitted', submitted_by = 'admin' WHERE id = :i"),
                     {"i": a_id})
        audit.append(conn, "admin", "submit", "status", str(a_id), before={"status": "draft"},
                     after={"status": "submitted"})
    team.set_roles(old, ADMIN, "bob", frozenset({Role.approver}))
    monkeypatch.undo()
    (saved,) = repo.list_assessments(old)  # the 0003 columns only
    old.dispose()
    new = make_engine(url)
    assert current_revision(new) == head_revision() == "0005"
    (listed,) = repo.list_assessments(new)
    assert listed["label"] == "made by 0003" and listed["status"] == "submitted"
    assert repo.content_hash(repo.load(new, a_id).payloads) == saved["content_hash"]  # payloads unchanged
    assert audit.verify(new) == (3, None)
    w = ws.create_workspace(new, "after upgrade", "ann", parts={"register": []})
    assert ws.part_versions(new, w.id) == {"register": 1} and audit.verify(new) == (4, None)
    if backend == "postgresql":  # the old entries stay verifiable unkeyed; new ones are sealed
        assert audit.seals(new) == audit.Seals(keyed=True, keyed_after=3, sealed=1, first_bad=None)
    new.dispose()


@pytest.mark.postgres
def test_postgres_app_role_may_use_workspaces(postgres_url, monkeypatch):
    reset_postgres(postgres_url)
    admin = make_engine(postgres_url, migrate=False)
    with admin.begin() as conn:
        conn.exec_driver_sql("DROP ROLE IF EXISTS avr_ws_app; CREATE ROLE avr_ws_app LOGIN")
    monkeypatch.setenv("AI_VENDOR_RISK_APP_ROLE", "avr_ws_app")
    make_engine(postgres_url)  # migrated by the owner: 0003 and 0004 grant to the app role
    app = make_engine(postgres_url.replace("postgres@", "avr_ws_app@"))
    w = ws.create_workspace(app, "as app", "ann", parts={"register": [{"a": 1}]})
    ws.write_part(app, w.id, "register", [{"a": 2}], "ann", 1, audit_entries=[{"action": "edit", "entity": "x"}])
    ws.copy_workspace(app, w.id, "copy", "ann")
    ws.rename_workspace(app, w.id, "renamed", "ann")
    ws.set_archived(app, w.id, True, "ann")
    assert [x.name for x in ws.list_workspaces(app, include_archived=True)] == ["renamed", "copy"]
    assert audit.verify(app) == (5, None)
    with app.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM workspace_parts")).scalar() == 2
    app.dispose()
    admin.dispose()
