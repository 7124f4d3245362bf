"""Optional features are pip extras (postgres, team, discovery): `make test` installs them all, and a
missing one is one plain message naming the extra to install — never an ImportError traceback.

A package is made missing with `sys.modules[name] = None` (importing it then raises ImportError)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import pytest

from risk_models.io.extras import EXTRAS, install_hint, missing_extra
from tests.cli_run import run_cli
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
OPTIONAL = PYPROJECT["project"]["optional-dependencies"]


def _without(monkeypatch, *packages: str) -> None:
    """Make packages (and every submodule already imported) unimportable for this test."""
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            monkeypatch.setitem(sys.modules, name, None)
    for name in packages:
        monkeypatch.setitem(sys.modules, name, None)


def _requirement_names(reqs: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in reqs}


# --- the layout ------------------------------------------------------------------------------------------
def test_optional_packages_are_extras_not_core_dependencies():
    core = _requirement_names(PYPROJECT["project"]["dependencies"])
    assert {"postgres", "team", "discovery", "all"} <= set(OPTIONAL)
    assert _requirement_names(OPTIONAL["postgres"]) == {"psycopg"}
    assert _requirement_names(OPTIONAL["team"]) == {"authlib", "httpx"}
    assert "cyclonedx-python-lib" in _requirement_names(OPTIONAL["discovery"])
    assert not core & {"psycopg", "authlib", "httpx", "cyclonedx-python-lib"}
    assert OPTIONAL["all"] == ["ai-vendor-risk[postgres,team,discovery]"]
    assert set(EXTRAS) == {"postgres", "team", "discovery"}


def test_make_test_installs_every_extra_and_make_run_the_apps():
    makefile = (ROOT / "Makefile").read_text()
    test_extras = set(re.search(r"^TEST_EXTRAS\s*:=\s*(\S+)", makefile, re.M).group(1).split(","))
    run_extras = set(re.search(r"^RUN_EXTRAS\s*:=\s*(\S+)", makefile, re.M).group(1).split(","))
    assert test_extras == {"test", *EXTRAS}
    assert run_extras == {"discovery"}  # every page of the single-user app; team mode is a deployment
    assert '-e ".[$(TEST_EXTRAS)]"' in makefile and '-e ".[$(RUN_EXTRAS)]"' in makefile
    assert re.search(r"^\$\(VENV\)/\.stamp-(run|test): pyproject\.toml", makefile, re.M)  # reinstalled on change


def test_extras_are_installed_here():
    assert all(missing_extra(extra) is None for extra in EXTRAS)


# --- discovery: discover mlbom -------------------------------------------------------------------------
MLBOM = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []}


@pytest.mark.parametrize("package", ["cyclonedx", "jsonschema"])
def test_mlbom_without_the_discovery_extra_names_it(monkeypatch, tmp_path, package):
    from risk_models.discovery.mlbom import MlbomError, read_mlbom
    from risk_models.discovery.rules import load_discovery

    _without(monkeypatch, package)
    with pytest.raises(MlbomError) as exc:
        read_mlbom(json.dumps(MLBOM).encode(), "bom.json", load_discovery())
    assert str(exc.value) == (f"discover mlbom needs the 'discovery' extra ({package} is not installed): "
                              "pip install 'ai-vendor-risk[discovery]'")
    f = tmp_path / "bom.json"
    f.write_text(json.dumps(MLBOM))
    r = run_cli("discover", "mlbom", f, "--out", tmp_path / "draft.csv")
    assert r.returncode == 2 and r.stderr == f"error: {exc.value}\n"


def test_discovery_and_its_page_import_without_cyclonedx():
    code = ("import sys; sys.modules['cyclonedx'] = None\n"
            "import risk_models.discovery.mlbom, risk_models.cli.discovery, risk_models.cli.main\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr


# --- postgres: DATABASE_URL=postgresql... ----------------------------------------------------------------
@pytest.mark.parametrize("url", ["postgresql+psycopg://avr:secret@127.0.0.1:5432/avr", "postgresql://avr@db/avr"])
def test_postgresql_url_without_the_postgres_extra_names_it(monkeypatch, url):
    from risk_models.storage.db import make_engine
    from risk_models.storage.errors import StorageError

    _without(monkeypatch, "psycopg")
    with pytest.raises(StorageError) as exc:
        make_engine(url, migrate=False)
    message = str(exc.value)
    assert "the 'postgres' extra" in message and install_hint("postgres") in message
    assert "secret" not in message


def test_history_with_a_postgresql_url_and_no_driver_is_one_message(monkeypatch):
    _without(monkeypatch, "psycopg")
    r = run_cli("history", "list", env={"DATABASE_URL": "postgresql+psycopg://avr:secret@127.0.0.1:1/avr"})
    assert r.returncode == 2, r.stderr
    assert r.stderr == ("error: DATABASE_URL postgresql+psycopg://avr:***@127.0.0.1:1/avr: saved assessments on "
                        "PostgreSQL needs the 'postgres' extra (psycopg is not installed): "
                        "pip install 'ai-vendor-risk[postgres]'\n")


# --- team: sign-in through st.login -------------------------------------------------------------------
@pytest.mark.parametrize("package", ["authlib", "httpx"])
def test_team_mode_without_the_team_extra_names_it(monkeypatch, package):
    _without(monkeypatch, package)
    assert missing_extra("team") == (
        f"team mode (sign-in through Streamlit's st.login, OpenID Connect) needs the 'team' extra ({package} is "
        "not installed): pip install 'ai-vendor-risk[team]'")
    assert missing_extra("team", "signing in").startswith("signing in needs the 'team' extra")
