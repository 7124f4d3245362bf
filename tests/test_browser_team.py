"""Team mode for real: a local OpenID Provider (npm `oidc-provider` under Debian nodejs, its dev
login form), two app processes on different ports over one PostgreSQL database, Chromium signing in
three users. Assessor edits an answer and submits in app A; the same person (also an approver)
cannot approve their own; the approver approves in app B (so a change saved in one process is seen
in the other); a viewer gets no edit controls and a direct write through the engine API is refused;
the audit trail records it all and verifies."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

# `test_browser`, not `tests.test_browser`: the module object pytest itself imported, so one browser
from test_browser import N_QUESTIONS, browser, shot  # noqa: F401  (fixtures)

from risk_models.auth.roles import Actor, PermissionDenied, Role
from risk_models.storage import audit, team
from risk_models.storage import repository as repo
from risk_models.storage.db import make_engine
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.browser
OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "ai-vendor-risk-test"


def _wait(url: str, what: str, proc: subprocess.Popen, expect: bytes | None = None) -> None:
    for _ in range(240):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}): {proc.stdout.read().decode(errors='replace')}")
        try:
            body = urllib.request.urlopen(url, timeout=1).read()
            if expect is None or body == expect:
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{what} did not answer {url}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def team_db(postgres_url) -> Iterator[str]:
    """A database of its own in the session's PostgreSQL cluster (other tests reset `postgres`)."""
    admin = make_engine(postgres_url, migrate=False).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS avr_team WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE avr_team")
    url = postgres_url.rsplit("/", 1)[0] + "/avr_team"
    make_engine(url).dispose()  # migrated once, before two app processes start
    yield url
    admin.dispose()


@pytest.fixture(scope="module")
def team_apps(team_db, tmp_path_factory) -> Iterator[dict[str, str]]:
    # No skip: `make test` installs nodejs/npm and runs `npm ci` in tests/oidc; missing = a loud failure.
    node = shutil.which("node")
    assert node, "node missing: run scripts/install_system_deps.sh (installs nodejs and npm)"
    assert (OIDC_DIR / "node_modules" / "oidc-provider").is_dir(), \
        "tests/oidc/node_modules missing: run scripts/install_system_deps.sh (npm ci in tests/oidc)"
    op_port, port_a, port_b = free_port(), free_port(), free_port()
    client_secret = secrets.token_hex(16)
    redirects = [f"http://127.0.0.1:{p}/oauth2callback" for p in (port_a, port_b)]
    procs = [subprocess.Popen([node, "server.mjs", str(op_port), CLIENT_ID, client_secret, ",".join(redirects)],
                              cwd=OIDC_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)]
    try:
        _wait(f"http://127.0.0.1:{op_port}/.well-known/openid-configuration", "the OpenID Provider", procs[0])
        urls = {}
        for name, port, redirect in (("a", port_a, redirects[0]), ("b", port_b, redirects[1])):
            work = tmp_path_factory.mktemp(f"app-{name}")  # the app's working dir: its own secrets.toml
            (work / ".streamlit").mkdir()
            shutil.copy(ROOT / "dashboard" / ".streamlit" / "config.toml", work / ".streamlit" / "config.toml")
            (work / ".streamlit" / "secrets.toml").write_text(f'''
[auth]
redirect_uri = "{redirect}"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "{CLIENT_ID}"
client_secret = "{client_secret}"
server_metadata_url = "http://127.0.0.1:{op_port}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid profile email groups", prompt = "login" }}

[team]
enabled = true
[team.group_roles]
risk-assessors = "assessor"
risk-committee = "approver"
risk-admins = "admin"
staff = "viewer"
''')
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.headless",
                 "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                 "--browser.gatherUsageStats", "false"],
                cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**__import__("os").environ, "DATABASE_URL": team_db})
            procs.append(proc)
            urls[name] = f"http://127.0.0.1:{port}"
        for name, proc in zip("ab", procs[1:], strict=True):
            _wait(f"{urls[name]}/_stcore/health", f"app {name}", proc, b"ok")
        yield urls
    finally:
        for proc in procs:
            _stop(proc)


def _sign_in(browser, url: str, login: str):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.goto(url)
    pg.get_by_role("button", name="Sign in").click(timeout=60_000)
    pg.locator('input[name="login"]').fill(login, timeout=30_000)  # the OpenID Provider's own form
    pg.locator('input[name="password"]').fill("any")
    pg.get_by_role("button", name="Sign-in").click()
    pg.get_by_text("AI vendor-risk overview").wait_for(timeout=60_000)
    pg.get_by_text(f"Signed in as {login}").wait_for(timeout=30_000)
    return ctx, pg


def _nav(pg, link: str, heading: str | None = None) -> None:
    pg.get_by_role("link", name=link).first.click()
    pg.get_by_role("heading", name=heading or link).first.wait_for(timeout=60_000)


def test_sign_in_roles_four_eyes_across_two_app_processes(browser, team_apps, team_db):  # noqa: F811
    # assessor (also in the committee group) edits an answer, saves and submits in app A
    ctx, pg = _sign_in(browser, team_apps["a"], "ann")
    pg.get_by_text("Signed in as ann (Assessor, Approver)").wait_for()
    _nav(pg, "Questionnaire")
    group = pg.locator('[data-testid="stRadio"]', has_text="Have alternative providers been identified?")
    group.wait_for(timeout=60_000)
    group.get_by_text("Yes", exact=True).click()
    pg.get_by_text(f"Answered 12 of {N_QUESTIONS}").wait_for(timeout=60_000)
    # meanwhile another assessor saves the same deployment's answers (another process, same database)
    engine = make_engine(team_db)
    dep = audit.entries(engine, entity="answer")[0].entity_id
    ann_saved = team.shared_answers(engine)[dep]
    amy = Actor(name="amy", roles=frozenset({Role.assessor}))
    team.save_answers(engine, amy, dep, {k: v for k, v in ann_saved.answers.items()
                                         if k != "alternative_providers_identified"}, ann_saved.version)
    group.get_by_text("No", exact=True).click()  # ann's session still edits version 1: refused, told, amy's kept
    pg.get_by_text(f"amy changed the answers of {dep}").wait_for(timeout=60_000)
    pg.get_by_text("Have alternative providers been identified? → not answered").first.wait_for()  # their value
    assert "alternative_providers_identified" not in team.shared_answers(engine)[dep].answers
    shot(pg, "team-0-answer-conflict")
    group.get_by_text("Yes", exact=True).click()  # now on amy's version: saved
    pg.get_by_text(f"Answered 12 of {N_QUESTIONS}").wait_for(timeout=60_000)
    _nav(pg, "History")
    pg.get_by_label("Label").fill("Q4 team review")
    pg.get_by_role("button", name="Save").click()
    pg.get_by_text("Saved as assessment 1").wait_for(timeout=60_000)
    pg.get_by_role("button", name="Submit for approval").click()
    pg.get_by_text("Assessment 1: done").wait_for(timeout=30_000)
    pg.get_by_role("button", name="Approve").click()  # their own submission: four-eyes refuses
    pg.get_by_text("ann submitted assessment 1 and cannot approve it").wait_for(timeout=30_000)
    shot(pg, "team-1-self-approval-refused")
    ctx.close()

    # the approver, in the other app process, sees the submission and approves it
    ctx, pg = _sign_in(browser, team_apps["b"], "bob")
    assert pg.get_by_role("link", name="Questionnaire").count() == 0
    _nav(pg, "History")
    pg.get_by_text("Status: Submitted · submitted by ann").wait_for(timeout=30_000)
    pg.get_by_role("button", name="Approve").click()
    pg.get_by_text("Assessment 1: done").wait_for(timeout=30_000)
    _nav(pg, "Audit", "Audit trail")
    pg.get_by_role("button", name="Check the hash chain").click()
    pg.get_by_text("Intact: 7 entries, every hash matches.").wait_for(timeout=30_000)
    shot(pg, "team-2-audit")
    ctx.close()

    # a viewer: no edit pages, no save/review/delete controls
    ctx, pg = _sign_in(browser, team_apps["a"], "vic")
    pg.get_by_text("Signed in as vic (Viewer)").wait_for()
    for link in ("Inventory", "Questionnaire", "Scenarios", "Settings", "Audit"):
        assert pg.get_by_role("link", name=link).count() == 0, link
    _nav(pg, "History")
    pg.get_by_text("Saved assessments").wait_for(timeout=30_000)
    for button in ("Save", "Submit for approval", "Approve", "Delete"):
        assert pg.get_by_role("button", name=button).count() == 0, button
    shot(pg, "team-3-viewer")
    ctx.close()

    vic = Actor(name="vic", roles=frozenset({Role.viewer}))
    with pytest.raises(PermissionDenied):  # a crafted write through the engine API
        team.save_answers(engine, vic, "DEP-001", {"alternative_providers_identified": "no"}, expected_version=1)
    with pytest.raises(PermissionDenied):
        team.approve(engine, vic, 1)
    saved = repo.load(engine, 1)
    assert (saved.status, saved.author, saved.submitted_by, saved.reviewed_by) == ("approved", "ann", "ann", "bob")
    log = audit.entries(engine)
    assert [(e.actor, e.action, e.entity) for e in log] == [
        ("ann", "create", "workspace"),  # ann's first visit made the shared demo workspace
        ("ann", "update", "answer"), ("amy", "update", "answer"), ("ann", "update", "answer"),
        ("ann", "create", "assessment"), ("ann", "submit", "status"), ("bob", "approve", "status")]
    assert audit.verify(engine) == (7, None)


def _no_error(pg, where: str) -> None:
    assert pg.locator('[data-testid="stException"]').count() == 0, where
    assert pg.get_by_text("This app has encountered an error").count() == 0, where


def test_every_role_lands_on_a_permitted_page_and_shares_one_workspace(browser, team_apps, team_db, tmp_path):  # noqa: F811
    # an assessor's first upload starts the team's own workspace (in app A), audited under her name
    ctx, pg = _sign_in(browser, team_apps["a"], "amy")
    _nav(pg, "Inventory")
    inv = tmp_path / "acme_group.csv"
    inv.write_text("deployment_id,name,channel,model,annual_spend_usd,criticality,data_sensitivity\n"
                   "A1,Claims bot,aoai,gpt-4o,1000,high,internal\nB1,Summariser,openai,gpt-4o,500,low,public\n")
    pg.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(inv))
    pg.get_by_label("Organisation name (shown on reports and in file names)").fill("Acme Group", timeout=60_000)
    pg.get_by_role("button", name="Create the workspace").click()
    pg.get_by_text("Workspace: Acme Group").wait_for(timeout=60_000)
    shot(pg, "team-4-assessor-started-the-workspace")
    ctx.close()
    engine = make_engine(team_db)
    assert ("amy", "upload", "register") in {(e.actor, e.action, e.entity) for e in audit.entries(engine)}
    # every role, in the other app process: lands on the Overview, sees the same workspace, and every page it is
    # offered opens without an error (no link leads to a page the role lacks)
    offered = {}
    for login in ("vic", "amy", "bob", "ada"):
        ctx, pg = _sign_in(browser, team_apps["b"], login)
        pg.get_by_text("Workspace: Acme Group").wait_for(timeout=60_000)
        pg.get_by_text("Deployments (valid)").wait_for(timeout=60_000)
        _no_error(pg, f"{login}: Overview")
        links = pg.locator('[data-testid="stSidebarNav"] a')
        # a link's text is its icon's name, then the page's title
        offered[login] = [links.nth(k).inner_text().strip().split("\n")[-1].strip() for k in range(links.count())]
        for name in offered[login][1:]:
            pg.get_by_role("link", name=name).first.click()
            pg.get_by_role("heading").first.wait_for(timeout=60_000)
            pg.wait_for_timeout(1500)  # the page's own run finishes
            _no_error(pg, f"{login}: {name}")
        ctx.close()
    assert "Inventory" not in offered["vic"] and "Inventory" not in offered["bob"]
    assert "Inventory" in offered["amy"] and "Audit" in offered["ada"] and "Settings" in offered["ada"]
