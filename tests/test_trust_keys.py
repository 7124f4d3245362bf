"""Issue 27 §2: never sign with an empty key; replaying one signed export stores it once."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from risk_models.storage import repository as repo
from risk_models.storage import signing
from risk_models.storage.db import make_engine
from tests.cli_run import run_cli
from tests.conftest import DEMO_INVENTORY, ROOT

FIRST_EXPORT = """
import sys
from risk_models.storage.signing import signing_key
try:
    signing_key()
except Exception as exc:
    print(type(exc).__name__, exc)
    sys.exit(3)
"""


def _disk_full_after(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_first_export_on_a_full_disk_leaves_no_key_file(tmp_path):
    """The reproduction: the first export on a full disk left a 0-byte key that every later export used."""
    env = {**os.environ, "AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}
    env.pop(signing.ENV_KEY, None)
    p = subprocess.run([sys.executable, "-c", FIRST_EXPORT], env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=60, preexec_fn=_disk_full_after(10))
    assert p.returncode == 3 and "cannot read or create the export signing key" in p.stdout, p.stdout + p.stderr
    assert list(tmp_path.iterdir()) == []  # neither a key nor a temporary file


def test_an_empty_or_short_key_is_refused_everywhere(tmp_path, monkeypatch):
    monkeypatch.delenv(signing.ENV_KEY, raising=False)
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    key = tmp_path / signing.KEY_FILE
    for content in (b"", b"\n", b"0123456789abcdef0123456789abcde"):  # empty, blank, 31 bytes
        key.write_bytes(content)
        with pytest.raises(signing.SigningKeyError, match="at least 32 are needed"):
            signing.sign({"x": 1})
        with pytest.raises(signing.SigningKeyError, match="at least 32"):
            signing.verify({"x": 1, "signature": {"algorithm": "HMAC-SHA256", "key_id": "", "value": "00"}})
    key.write_bytes(b"0123456789abcdef0123456789abcdef")
    assert signing.sign({"x": 1})["signature"]["value"]
    for value in ("", "short secret"):
        monkeypatch.setenv(signing.ENV_KEY, value)
        with pytest.raises(signing.SigningKeyError, match=f"in {signing.ENV_KEY}"):
            signing.signing_key()


def test_a_forged_export_signed_with_the_empty_key_is_not_trusted(tmp_path, monkeypatch):
    """With an empty key file, a forger's HMAC(b"", content) passed as 'signed by this installation'."""
    import hashlib
    import hmac
    monkeypatch.delenv(signing.ENV_KEY, raising=False)
    monkeypatch.setenv("AI_VENDOR_RISK_DATA_DIR", str(tmp_path))
    env = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}
    assert run_cli("history", "save", str(DEMO_INVENTORY), "--label", "Q3", "--trials", "200", env=env).returncode == 0
    out = tmp_path / "e.json"
    assert run_cli("history", "export", "1", str(out), env=env).returncode == 0
    (tmp_path / signing.KEY_FILE).write_bytes(b"")  # what the full disk left
    doc = json.loads(out.read_text())
    doc["label"] = "forged"
    body = {k: v for k, v in doc.items() if k != "signature"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    doc["signature"] = {"algorithm": "HMAC-SHA256", "key_id": signing.key_id(b""),
                        "value": hmac.new(b"", canon, hashlib.sha256).hexdigest()}
    out.write_text(json.dumps(doc))
    p = run_cli("history", "import", str(out), env=env)
    assert p.returncode == 2 and "is 0 bytes; at least 32 are needed" in p.stderr and "Traceback" not in p.stderr
    assert len(json.loads(run_cli("history", "list", "--json", "-", env=env).stdout)) == 1


def test_replaying_one_signed_export_stores_it_once(tmp_path):
    src = tmp_path / "src"
    env = {"AI_VENDOR_RISK_DATA_DIR": str(src)}
    assert run_cli("history", "save", str(DEMO_INVENTORY), "--label", "Q3", "--trials", "200", env=env).returncode == 0
    out = tmp_path / "e.json"
    assert run_cli("history", "export", "1", str(out), env=env).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    doc = json.loads(out.read_text())
    assert repo.import_export(engine, doc, trust=True) == (1, True)
    for _ in range(3):  # replays
        assert repo.import_export(engine, doc, trust=True) == (1, False)
    assert len(repo.list_assessments(engine)) == 1
    p = run_cli("history", "import", str(out), env=env)  # into the database it came from
    assert p.returncode == 0 and "already stored as assessment 1 (same content); nothing imported" in p.stdout
    assert len(json.loads(run_cli("history", "list", "--json", "-", env=env).stdout)) == 1
