"""Issue 13 regressions for history: signed exports, malformed exports never stored, damaged rows reported
by id, concurrent first migration, terminal escapes in labels, NUL labels refused on both databases."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import update

from risk_models.engine.assessment import assess
from risk_models.storage import repository as repo
from risk_models.storage.db import StorageError, make_engine
from tests.cli_run import run_cli
from tests.conftest import ROOT
from tests.test_storage import db_url, demo_inputs  # noqa: F401 - shared fixtures


@pytest.fixture(scope="module")
def demo_payloads(lib, demo_inputs):  # noqa: F811
    inv, answers = demo_inputs
    return repo.snapshot(assess(inv, answers, lib, trials=500), "Example")


def _saved_doc(engine, payloads, label="Q3"):
    new_id = repo.save_payloads(engine, payloads, label, "risk office")
    return new_id, json.loads(json.dumps(repo.export_document(repo.load(engine, new_id))))


def test_signed_export_imports_unsigned_or_foreign_needs_trust(tmp_path, lib, demo_payloads, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    _, doc = _saved_doc(engine, demo_payloads)
    assert doc["signature"]["algorithm"] == "HMAC-SHA256"
    # import is idempotent by content hash (issue 27 §2): each import below goes to a database of its own
    copies = iter(make_engine(f"sqlite:///{tmp_path / f'copy{n}.sqlite'}") for n in range(3))
    assert repo.import_document(next(copies), doc, lib=lib) == 1  # our own signature: no question asked

    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    target = next(copies)
    with pytest.raises(repo.UntrustedExport, match="unsigned.*--trust"):
        repo.import_document(target, unsigned)
    assert repo.import_document(target, unsigned, trust=True) == 1

    monkeypatch.setenv("AI_VENDOR_RISK_EXPORT_KEY", "another installation's secret, 32 bytes or more")
    with pytest.raises(repo.UntrustedExport, match="signed by another installation"):
        repo.import_document(engine, doc)
    monkeypatch.delenv("AI_VENDOR_RISK_EXPORT_KEY")

    # An edit with a recomputed content hash (what a plain SHA-256 allowed) is caught by the HMAC.
    edited = json.loads(json.dumps(doc))
    edited["results"]["deployments"][0]["score"] = 1.0
    edited["content_hash"] = repo.content_hash({k: edited[k] for k in repo.PAYLOADS})
    with pytest.raises(repo.UntrustedExport, match="changed after export"):
        repo.import_document(next(copies), edited)
    assert len(repo.list_assessments(engine)) == 1


def test_signing_key_is_per_installation_and_private(tmp_path, monkeypatch):
    from risk_models.storage import signing
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path / "inst1"))
    k1 = signing.signing_key()
    assert oct((tmp_path / "inst1" / signing.KEY_FILE).stat().st_mode)[-3:] == "600"
    assert signing.signing_key() == k1
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path / "inst2"))
    assert signing.signing_key() != k1


def _malformed(doc: dict) -> list[tuple[str, dict]]:
    def edit(fn):
        d = json.loads(json.dumps(doc))
        fn(d)
        d.pop("signature")
        d["content_hash"] = repo.content_hash({k: d[k] for k in repo.PAYLOADS})
        return d
    return [
        ("score", edit(lambda d: d["results"]["deployments"][0].update(score="high"))),
        ("name", edit(lambda d: d["results"]["deployments"][0].pop("name"))),
        ("likelihood", edit(lambda d: d["results"]["deployments"][0].update(likelihood=9))),
        ("probabilities", edit(lambda d: d["scenarios"]["probabilities"].update(x=1.5))),
        ("line numbers", edit(lambda d: d["inventory"]["lines"].pop())),
        ("rows", edit(lambda d: d["inventory"].update(rows=["not a row"]))),
        ("var95_usd", edit(lambda d: d["results"]["simulation"].pop("var95_usd"))),
        ("answers", edit(lambda d: d.update(answers={"DEP-001": "yes"}))),
        ("twice", edit(lambda d: d["results"]["deployments"].append(d["results"]["deployments"][0]))),
        ("both mean column", edit(lambda d: d["inventory"]["rows"][0].update({"Deployment ID": "x"}))),
    ]


def test_malformed_exports_are_one_clear_error_and_never_stored(tmp_path, lib, demo_payloads):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    _, doc = _saved_doc(engine, demo_payloads)
    for what, bad in _malformed(doc):
        with pytest.raises(ValueError, match=what):
            repo.import_document(engine, bad, trust=True, lib=lib)
    assert len(repo.list_assessments(engine)) == 1


def _cli(*args: str, env: dict):
    return run_cli(*args, env=env, cwd=ROOT)


def test_damaged_row_is_reported_by_id_and_the_others_stay_usable(tmp_path, demo_payloads):
    env = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}
    engine = make_engine(f"sqlite:///{tmp_path / 'assessments.sqlite'}")
    good, _ = _saved_doc(engine, demo_payloads, "good")
    bad, _ = _saved_doc(engine, demo_payloads, "bad")
    with engine.begin() as conn:
        conn.execute(update(repo.assessments).where(repo.assessments.c.id == bad).values(results=b"not zlib"))
    with pytest.raises(repo.DamagedAssessment, match=f"assessment {bad} is damaged"):
        repo.load(engine, bad)
    assert repo.load(engine, good).label == "good"
    assert [d["id"] for d in repo.check(engine)] == [bad]

    p = _cli("history", "check", env=env)
    assert p.returncode == 1 and f"assessment {bad}: damaged" in p.stdout and "Traceback" not in p.stderr
    p = _cli("history", "show", str(bad), env=env)
    assert p.returncode == 2 and f"assessment {bad} is damaged" in p.stderr and "Traceback" not in p.stderr
    p = _cli("history", "diff", str(good), str(bad), env=env)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert _cli("history", "show", str(good), env=env).returncode == 0
    assert _cli("history", "list", env=env).returncode == 0


def test_terminal_escapes_in_labels_never_reach_the_terminal(tmp_path, demo_payloads):
    engine = make_engine(f"sqlite:///{tmp_path / 'assessments.sqlite'}")
    _saved_doc(engine, demo_payloads, "\x1b]0;pwned\x07\x1b[2J evil")
    p = _cli("history", "list", env={"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)})
    assert p.returncode == 0 and "evil" in p.stdout
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout


def test_nul_in_a_label_is_refused_on_every_database(db_url, demo_payloads):  # noqa: F811
    engine = make_engine(db_url)
    for label, author in (("Q3\x00", ""), ("Q3", "a\x00b")):
        with pytest.raises(StorageError, match="NUL"):
            repo.save_payloads(engine, demo_payloads, label, author)
    assert repo.list_assessments(engine) == []


def test_first_use_of_a_fresh_database_by_several_processes_at_once(db_url, tmp_path):  # noqa: F811
    script = textwrap.dedent(f"""
        import sys, time
        from risk_models.storage.db import make_engine
        time.sleep(max(0.0, float(sys.argv[1]) - time.time()))  # start together
        make_engine({db_url!r})
        print("ok")
    """)
    import time
    start = str(time.time() + 3)
    procs = [subprocess.Popen([sys.executable, "-c", script, start], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [r[1][-500:] for r in results]
    assert all(r[0].strip() == "ok" for r in results)
