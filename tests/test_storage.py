"""Saved assessments: SQLite always, PostgreSQL for real (a throwaway cluster this suite starts),
atomic saves under SIGKILL, concurrent savers, migrations that keep data, clear errors."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from risk_models.engine.assessment import assess
from risk_models.inventory.read import import_inventory
from risk_models.questionnaire.answers import read_answers_file, validate_answers
from risk_models.storage import repository as repo
from risk_models.storage.db import StorageError, current_revision, head_revision, make_engine
from tests.cli_run import run_cli
from tests.conftest import DEMO_ANSWERS, DEMO_INVENTORY, ROOT, reset_postgres
from tests.conftest import free_port as _free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'a.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    reset_postgres(url)  # a clean schema per test
    return url


@pytest.fixture(scope="module")
def demo_inputs(lib):
    inv = import_inventory(DEMO_INVENTORY, lib)
    answers, _ = validate_answers(read_answers_file(DEMO_ANSWERS), lib.questions)
    return inv, answers


def _two_saves(engine, lib, demo_inputs):
    inv, answers = demo_inputs
    first = repo.save_assessment(engine, assess(inv, answers, lib, trials=2000), "Q3", "risk office", "Example")
    changed = {**answers, "DEP-001": {**answers["DEP-001"], "exit_plan_exists": "tested"}}
    second = repo.save_assessment(engine, assess(inv, changed, lib, trials=2000), "Q4", "risk office", "Example")
    return first, second


def test_save_twice_and_diff_shows_exactly_the_change(db_url, lib, demo_inputs):
    engine = make_engine(db_url)
    first, second = _two_saves(engine, lib, demo_inputs)
    listed = repo.list_assessments(engine)
    assert [r["label"] for r in listed] == ["Q3", "Q4"] and listed[0]["deployments"] == 61
    d = repo.diff(repo.load(engine, first), repo.load(engine, second))
    assert d["answer_changes"] == [{"deployment_id": "DEP-001", "question_id": "exit_plan_exists",
                                    "before": "none", "after": "tested"}]
    assert [c["deployment_id"] for c in d["changed"]] == ["DEP-001"] and d["changed"][0]["score_delta"] < 0
    assert d["added"] == d["removed"] == d["scenario_changes"] == []
    assert d["portfolio"]["expected_annual_loss_usd"]["delta"] < 0


def test_reopen_export_import_delete(db_url, lib, demo_inputs):
    engine = make_engine(db_url)
    first, _ = _two_saves(engine, lib, demo_inputs)
    saved = repo.load(engine, first)
    inv, answers, probs = repo.reopen(saved, lib)
    assert len(inv.frame) == 61 and answers == demo_inputs[1]
    assert len(probs) == sum(len(e.outcomes) for e in lib.events)  # scenario pack and baseline outcomes
    again = assess(inv, answers, lib, probs, trials=2000)
    assert repo.snapshot(again, "Example") == saved.payloads  # reopening reproduces the assessment
    doc = repo.export_document(saved)
    new_id = repo.import_document(engine, json.loads(json.dumps(doc)))
    assert repo.export_document(repo.load(engine, new_id)) == doc  # lossless round trip
    assert repo.delete_assessment(engine, new_id) and not repo.delete_assessment(engine, new_id)
    with pytest.raises(KeyError, match=f"no saved assessment with id {new_id}"):
        repo.load(engine, new_id)


def test_import_rejects_bad_and_tampered_files(tmp_path, lib, demo_inputs):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    first, _ = _two_saves(engine, lib, demo_inputs)
    doc = repo.export_document(repo.load(engine, first))
    with pytest.raises(ValueError, match="label"):
        repo.import_document(engine, {**doc, "label": ""})
    with pytest.raises(ValueError, match="format"):
        repo.import_document(engine, {**doc, "format": "something-else"})
    tampered = json.loads(json.dumps(doc))
    tampered["results"]["deployments"][0]["score"] = 1.0
    with pytest.raises(ValueError, match="content hash"):
        repo.import_document(engine, tampered)
    assert len(repo.list_assessments(engine)) == 2


def test_upgrading_a_database_made_by_the_first_migration_keeps_assessments(tmp_path, lib, demo_inputs):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = make_engine(url, revision="0001")
    assert current_revision(old) == "0001"
    payloads = repo.snapshot(assess(*demo_inputs, lib, trials=1000), "Example")
    row = {"label": "made by 0001", "author": "", "created_at": "2026-01-01 00:00:00",
           "content_hash": repo.content_hash(payloads), "payload_version": 1,
           **{k: repo._pack(payloads[k]) for k in repo.PAYLOADS}}
    with sqlite3.connect(tmp_path / "old.sqlite") as conn:
        conn.execute(f"INSERT INTO assessments ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    old.dispose()
    new = make_engine(url)
    assert current_revision(new) == head_revision()
    (listed,) = repo.list_assessments(new)
    assert listed["label"] == "made by 0001" and listed["deployments"] == 61
    assert listed["expected_annual_loss_usd"] == payloads["results"]["simulation"]["expected_annual_loss_usd"]
    assert repo.load(new, listed["id"]).payloads == payloads


def test_the_newest_revision_and_the_stored_one_read_as_alembic_reads_them(tmp_path):
    """db.py checks a database without importing Alembic (a start with the schema at head skips ~0.2 s):
    the head named by the migration files and the revision read from the table are Alembic's own."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from risk_models.storage.db import alembic_config
    assert head_revision() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    url = f"sqlite:///{tmp_path / 'steps.sqlite'}"
    for revision in ["0001", "0003", "head"]:
        engine = make_engine(url, revision=revision)
        with engine.connect() as conn:
            assert current_revision(engine) == MigrationContext.configure(conn).get_current_revision()
        engine.dispose()
    assert current_revision(make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}", migrate=False)) is None


SAVER = textwrap.dedent("""
    import sys
    from bench.bench_import import make_inventory
    from risk_models.engine.assessment import assess
    from risk_models.config.loader import load_library
    from risk_models.inventory.read import import_bytes
    from risk_models.storage import repository as repo
    from risk_models.storage.db import make_engine
    url, n, count, label = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    lib = load_library()
    payloads = repo.snapshot(assess(import_bytes(make_inventory(n, seed=9), "b.csv", lib), {}, lib, trials=500))
    engine = make_engine(url)
    print("ready", flush=True)
    for k in range(count):
        repo.save_payloads(engine, payloads, f"{label}-{k}")
        print("saved", k, flush=True)
""")


def _saver(url: str, n: int, count: int, label: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SAVER, url, str(n), str(count), label], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def test_kill_during_large_saves_leaves_previous_state_intact(tmp_path, lib, demo_inputs):
    path = tmp_path / "k.sqlite"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    first, second = _two_saves(engine, lib, demo_inputs)
    before = {i: repo.load(engine, i).content_hash for i in (first, second)}
    for delay in (0.05, 0.2, 0.45):
        p = _saver(url, 20_000, 50, f"big{delay}")
        assert p.stdout.readline().strip() == "ready"
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = repo.list_assessments(engine)
    for r in rows:  # every row that exists is complete and loads
        saved = repo.load(engine, r["id"])
        assert repo.content_hash(saved.payloads) == saved.content_hash
    assert {i: repo.load(engine, i).content_hash for i in (first, second)} == before


def test_concurrent_saves_from_two_processes_both_land(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    make_engine(url).dispose()
    procs = [_saver(url, 300, 4, name) for name in ("alpha", "beta")]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0 and out.count("saved") == 4
    labels = sorted(r["label"] for r in repo.list_assessments(make_engine(url)))
    assert labels == sorted([f"{n}-{k}" for n in ("alpha", "beta") for k in range(4)])


def test_bad_database_urls_give_clear_errors():
    with pytest.raises(StorageError, match="not a valid database URL"):
        make_engine("this is not a url")
    with pytest.raises(StorageError, match="no database driver"):
        make_engine("nosuchdb://x/y")
    with pytest.raises(StorageError, match="cannot open the database .*Connection refused"):
        make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/db")


def _cli(*args, env=None):
    return run_cli(*args, env=env, cwd=ROOT)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_cli_history_round_trip(backend, tmp_path, request):
    if backend == "sqlite":
        env = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
        env = {"DATABASE_URL": url}
    answers2 = tmp_path / "answers2.yaml"
    answers2.write_text(DEMO_ANSWERS.read_text().replace("  exit_plan_exists: none", "  exit_plan_exists: tested"))
    for label, ans in (("Q3", DEMO_ANSWERS), ("Q4", answers2)):
        p = _cli("history", "save", str(DEMO_INVENTORY), "--answers", str(ans), "--label", label, "--trials", "1000",
                 env=env)
        assert p.returncode == 0, p.stderr
    p = _cli("history", "list", "--json", "-", env=env)
    ids = [r["id"] for r in json.loads(p.stdout)]
    p = _cli("history", "diff", str(ids[0]), str(ids[1]), "--json", "-", env=env)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["answer_changes"] == [{"deployment_id": "DEP-001", "question_id": "exit_plan_exists",
                                    "before": "none", "after": "tested"}]
    assert "answer DEP-001.exit_plan_exists: none -> tested" in p.stderr
    out = tmp_path / "e.json"
    assert _cli("history", "export", str(ids[0]), str(out), env=env).returncode == 0
    p = _cli("history", "import", str(out), env=env)  # its own content is already there: nothing added
    assert p.returncode == 0 and f"already stored as assessment {ids[0]} (same content)" in p.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nope"}')
    p = _cli("history", "import", str(bad), env=env)
    assert p.returncode == 2 and "not a valid assessment export" in p.stderr and "Traceback" not in p.stderr
    p = _cli("history", "delete", str(ids[0]), env=env)
    assert p.returncode == 2 and "--yes" in p.stderr
    assert _cli("history", "delete", str(ids[0]), "--yes", env=env).returncode == 0
    p = _cli("history", "import", str(out), env=env)
    assert p.returncode == 0 and "imported as assessment" in p.stdout
    p = _cli("history", "list", env={**env, "DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/db"})
    assert p.returncode == 2 and "cannot open the database" in p.stderr and "Traceback" not in p.stderr
