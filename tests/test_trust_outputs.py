"""Issue 27 §7: outputs are written whole or not at all; a too-long output name is a clean error; a
trusted import is still validated fully; a read-only data directory still serves read-only commands."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from risk_models.io.atomic import atomic_file, write_atomic
from tests.cli_run import run_cli
from tests.conftest import DEMO_INVENTORY, ROOT


def _big_inventory(path: Path, rows: int) -> Path:
    demo = pd.read_csv(DEMO_INVENTORY, dtype=str, keep_default_na=False)
    big = pd.concat([demo] * (rows // len(demo) + 1), ignore_index=True).head(rows)
    big["deployment_id"] = [f"D{i:06d}" for i in range(rows)]
    big.to_csv(path, index=False)
    return path


def test_atomic_file_keeps_the_old_content_when_the_block_fails(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("good")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write(b"half of a new rep")
        raise RuntimeError("renderer bug")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left behind
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode)[-3:] == oct(0o666 & ~_umask())[-3:]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_exclusive_never_replaces_and_private_is_0600(tmp_path):
    key = tmp_path / "k"
    write_atomic(key, b"first", private=True, exclusive=True)
    with pytest.raises(FileExistsError):
        write_atomic(key, b"second", private=True, exclusive=True)
    assert key.read_bytes() == b"first" and oct(key.stat().st_mode)[-3:] == "600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_kill_9_during_assess_json_keeps_the_previous_report(tmp_path):
    """The reproduction: kill -9 while `assess --json existing.json` streams replaced a good report with
    a truncated one."""
    inv = _big_inventory(tmp_path / "big.csv", 4000)
    out = tmp_path / "existing.json"
    good = json.dumps({"report": "the previous, complete one"})
    out.write_text(good)
    proc = subprocess.Popen([sys.executable, "-m", "risk_models", "assess", str(inv), "--trials", "200",
                             "--json", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".existing.json.*.part")):  # the new report is being written
            assert proc.poll() is None, "the assessment ended before it was seen writing"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_text() == good


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("flag", ["--json", "--pdf", "--xlsx", "--csv", "--parquet"])
def test_file_size_limit_leaves_the_previous_output_untouched(tmp_path, flag):
    """`ulimit -f` (or a full disk) mid-write: a clean error, the previous file unchanged, nothing truncated."""
    out = tmp_path / ("out" if flag == "--parquet" else f"out.{flag[2:]}")
    if flag == "--parquet":
        out.mkdir()
        (out / "deployments.parquet").write_bytes(b"previous")
    else:
        out.write_bytes(b"previous")
    p = subprocess.run([sys.executable, "-m", "risk_models", "assess", str(DEMO_INVENTORY), "--trials", "200",
                        flag, str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       preexec_fn=_limit_file_size(20_000))
    assert p.returncode == 2, p.stderr[-2000:]
    assert "Traceback" not in p.stderr and "File too large" in p.stderr
    kept = out / "deployments.parquet" if flag == "--parquet" else out
    assert kept.read_bytes() == b"previous"
    assert not [f for f in (out if flag == "--parquet" else tmp_path).iterdir() if f.name.endswith(".part")]


@pytest.mark.parametrize("args", [
    ["assess", str(DEMO_INVENTORY), "--trials", "200", "--json"],
    ["assess", str(DEMO_INVENTORY), "--trials", "200", "--pdf"],
    ["assess", str(DEMO_INVENTORY), "--trials", "200", "--parquet"],
    ["template"],
    ["history", "audit", "export", "--out"],
])
def test_a_300_character_output_name_is_a_clean_error(tmp_path, args):
    name = str(tmp_path / ("x" * 300 + ".out"))
    p = run_cli(*args, name, env={"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)})
    assert p.returncode == 2 and "the file name is too long (304 characters" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_a_trusted_import_with_a_malformed_pack_is_refused(tmp_path):
    env = {"AI_VENDOR_RISK_DATA_DIR": str(tmp_path)}
    assert run_cli("history", "save", str(DEMO_INVENTORY), "--label", "Q3", "--trials", "200", env=env).returncode == 0
    doc_path = tmp_path / "e.json"
    assert run_cli("history", "export", "1", str(doc_path), env=env).returncode == 0
    from risk_models.storage.repository import PAYLOADS, content_hash
    for edit, what in ((lambda d: d["scenarios"].update(pack="x"), "scenarios: pack"),
                       (lambda d: d["results"].update(workspace={"plan": "x"}), "results: workspace.plan"),
                       (lambda d: d["results"].update(organisation_profile=[1]), "results: organisation_profile")):
        doc = json.loads(doc_path.read_text())
        edit(doc)
        doc.pop("signature")
        doc["content_hash"] = content_hash({k: doc[k] for k in PAYLOADS})
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(doc))
        p = run_cli("history", "import", str(bad), "--trust", env=env)
        assert p.returncode == 2 and what in p.stderr and "Traceback" not in p.stderr, p.stderr
    listed = run_cli("history", "list", "--json", "-", env=env)
    assert len(json.loads(listed.stdout)) == 1
    assert run_cli("history", "show", "1", env=env).returncode == 0


def _read_only_mount_works() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,ro,bind /tmp"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _read_only_mount_works(), reason="needs root and mount namespaces to make a read-only mount")
@pytest.mark.parametrize("writer_open", [True, False], ids=["with a -wal file", "closed cleanly"])
def test_a_read_only_data_directory_still_serves_read_only_commands(tmp_path, writer_open):
    data = tmp_path / "data"
    env = {**os.environ, "AI_VENDOR_RISK_DATA_DIR": str(data)}
    save = ("history", "save", str(DEMO_INVENTORY), "--label", "Q3", "--trials", "200")
    if writer_open:  # this process keeps its connection: the last commit is still in the -wal file
        assert run_cli(*save, env={"AI_VENDOR_RISK_DATA_DIR": str(data)}).returncode == 0
    else:
        subprocess.run([sys.executable, "-m", "risk_models", *save], env=env, cwd=ROOT, check=True,
                       capture_output=True)
    assert (data / "assessments.sqlite-wal").exists() == writer_open

    def read_only(*args: str) -> subprocess.CompletedProcess:
        cmd = (f"mount --bind {data} {data} && mount -o remount,ro,bind {data} && "
               f"{sys.executable} -m risk_models {' '.join(args)}")
        return subprocess.run(["unshare", "--mount", "sh", "-c", cmd], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=120)

    p = read_only("history", "list")
    assert p.returncode == 0 and "Q3" in p.stdout, p.stderr
    p = read_only("history", "audit", "verify")
    assert p.returncode == 0 and "intact: 1 entries" in p.stdout, p.stderr
    assert read_only("history", "show", "1").returncode == 0
    p = read_only("history", "delete", "1", "--yes")  # a write: refused cleanly, nothing changed
    assert p.returncode == 2 and "readonly database" in p.stderr and "Traceback" not in p.stderr
    assert "Q3" in run_cli("history", "list", env={"AI_VENDOR_RISK_DATA_DIR": str(data)}).stdout
