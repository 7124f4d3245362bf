"""Sign-in glue for team mode: Streamlit's st.login (OpenID Connect) → an Actor with roles.

Single-user mode (the default, `make run`): no sign-in, the local user acts as admin. Team mode
(`[team] enabled = true` in secrets.toml, or AI_VENDOR_RISK_TEAM=1): every page needs a signed-in
user; roles come from the identity token's groups claim (mapped in `[team.group_roles]`) plus the
role table an admin edits. The pages only hide controls; the storage calls check the role again."""

from __future__ import annotations

import streamlit as st

from dashboard.state.session import ACTOR, current_session
from dashboard.state.storage import problem_text, storage
from risk_models.auth.config import TeamConfig, env_team_mode, team_config
from risk_models.auth.roles import Actor, Permission, local_user
from risk_models.io.escape import md_escape


def _secrets_team() -> dict:
    try:
        return dict(st.secrets.get("team", {}))
    except Exception:  # noqa: BLE001 - no secrets file at all: single-user mode
        return {}


def config() -> TeamConfig:
    return team_config(_secrets_team(), env_team_mode())


def team_mode() -> bool:
    return config().enabled


def actor() -> Actor:
    """Who is using this session. Call after `require_sign_in` in team mode."""
    if not team_mode():
        return local_user()
    return current_session()[ACTOR]


def can(permission: Permission) -> bool:
    return actor().can(permission)


def require_sign_in() -> None:
    """Team mode: stop the page with a sign-in screen until the user is signed in and has a role."""
    if not team_mode():
        return
    from risk_models.io.extras import missing_extra
    problem = missing_extra("team")  # st.login needs Authlib: say which extra to install, not a stack trace
    if problem:
        st.error(md_escape(problem))
        st.stop()
    from risk_models.storage.team import stored_roles
    cfg = config()
    if not st.user.is_logged_in:
        st.title("AI vendor risk")
        st.write("Sign in with your organisation account to continue.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    from risk_models.storage.db import StorageError  # team mode only: SQLAlchemy is not on the first page's path
    claims = st.user.to_dict()
    try:
        name, subject = cfg.username(claims), cfg.subject(claims)
    except ValueError as exc:
        st.error(f"Your sign-in cannot be used: {md_escape(exc)}. Ask the administrator to check the identity "
                 "provider.")
        st.stop()
    try:
        roles = cfg.idp_roles(claims) | stored_roles(storage(), name)
    except StorageError as exc:
        st.error(f"The team database is not available: {md_escape(problem_text(exc))}. The administrator finds the "
                 "details in the server log.")
        st.stop()
    if not roles:
        st.title("No access yet")
        st.write(f"You are signed in as **{md_escape(name)}**, but no role is assigned to you. Ask an "
                 "administrator to add you to a risk group or to the role table.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    signed_in = Actor(name=name, roles=roles, subject=subject)
    if current_session().get(ACTOR) != signed_in:  # once per sign-in: this database is now a team database
        from risk_models.storage.team import mark_team_mode
        try:
            mark_team_mode(storage(), signed_in)
        except StorageError as exc:
            st.error(f"The team database is not available: {md_escape(exc)}. Ask the administrator to check "
                     "DATABASE_URL.")
            st.stop()
    current_session()[ACTOR] = signed_in


def sidebar() -> None:
    if not team_mode():
        return
    a = actor()
    st.caption(f"Signed in as **{md_escape(a.name)}** ({a.roles_text})")
    st.button("Sign out", key="sign_out", on_click=st.logout)
