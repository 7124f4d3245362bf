"""Team-mode settings (the `[team]` table of `.streamlit/secrets.toml`, or AI_VENDOR_RISK_TEAM=1):
on/off, which identity-token claims name the user and their groups, and the group → role mapping."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from risk_models.auth.roles import Role, parse_roles, roles_from_groups


class TeamConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    username_claim: str = "preferred_username"  # falls back to email, then sub
    groups_claim: str = "groups"
    # IdP group name → role name or list of role names
    group_roles: dict[str, str | list[str]] = Field(default_factory=dict)
    # roles of a signed-in user whose groups map to none (empty: no access until an admin grants one)
    default_roles: list[str] = Field(default_factory=list)

    @field_validator("group_roles")
    @classmethod
    def _known_roles(cls, v: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for group, roles in v.items():
            parse_roles(roles, f"group_roles.{group}")
        return v

    @field_validator("default_roles")
    @classmethod
    def _known_defaults(cls, v: list[str]) -> list[str]:
        parse_roles(v, "default_roles")
        return v

    def username(self, claims: Mapping[str, Any]) -> str:
        for key in (self.username_claim, "email", "sub"):
            value = claims.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        raise ValueError("the identity token names no user (no preferred_username, email or sub claim)")

    def subject(self, claims: Mapping[str, Any]) -> str:
        """The person as the identity provider knows them: issuer and `sub`, which OpenID Connect keeps
        stable and unique per issuer (names and e-mail addresses can change or be chosen by the user)."""
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise ValueError("the identity token has no subject (sub claim)")
        iss = claims.get("iss")
        return f"{iss.strip() if isinstance(iss, str) else ''}|{sub.strip()}"

    def idp_roles(self, claims: Mapping[str, Any]) -> frozenset[Role]:
        groups = claims.get(self.groups_claim) or []
        if isinstance(groups, str):
            groups = [groups]
        roles = roles_from_groups([str(g) for g in groups], self.group_roles)
        return roles or parse_roles(self.default_roles)


def team_config(raw: Mapping[str, Any] | None, env_enabled: bool = False) -> TeamConfig:
    """Validated settings; a mistake names the key: "secrets.toml [team] group_roles.x: unknown role …"."""
    data = dict(raw or {})
    if env_enabled:
        data["enabled"] = True
    try:
        return TeamConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()[:5])
        raise ValueError(f"secrets.toml [team]: {problems}") from None


def env_team_mode() -> bool:
    """AI_VENDOR_RISK_TEAM=1 (or true, yes): team mode whatever secrets.toml says."""
    return os.environ.get("AI_VENDOR_RISK_TEAM", "").strip().lower() in ("1", "true", "yes")


def team_mode_outside_the_app(cwd: Path | None = None) -> bool:
    """Team mode as a program other than the app sees it (the CLI): AI_VENDOR_RISK_TEAM, or `[team] enabled`
    in a secrets.toml Streamlit would read (`.streamlit/secrets.toml` in the working or home directory).
    ValueError naming the file when one cannot be read: guessing "single-user" would let `--user` through."""
    if env_team_mode():
        return True
    for path in ((cwd or Path.cwd()) / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read it to know whether team mode is on ({exc})") from None
        team = data.get("team")
        if isinstance(team, dict) and team.get("enabled") is True:
            return True
    return False
