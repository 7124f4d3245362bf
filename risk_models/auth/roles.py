"""Roles and permissions.

viewer: read and download reports. assessor: edit inventory and answers, save drafts, submit.
approver: approve or return submitted assessments. admin: scenario library, loss assumptions,
role mapping (and everything else, but still bound by four-eyes: nobody approves their own
submission). A user's roles come from the identity provider's groups claim mapped in config, and
from the role table an admin edits; they add up."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator


class Role(StrEnum):
    viewer = "viewer"
    assessor = "assessor"
    approver = "approver"
    admin = "admin"


class Permission(StrEnum):
    read = "read"
    edit_inventory = "edit_inventory"
    edit_answers = "edit_answers"
    save_draft = "save_draft"
    submit = "submit"
    review = "review"  # approve or return
    edit_scenarios = "edit_scenarios"
    edit_assumptions = "edit_assumptions"
    manage_roles = "manage_roles"
    delete = "delete"


ROLE_LABELS = {Role.viewer: "Viewer", Role.assessor: "Assessor", Role.approver: "Approver", Role.admin: "Admin"}
PERMISSION_LABELS = {
    Permission.read: "read and download reports", Permission.edit_inventory: "edit the inventory",
    Permission.edit_answers: "edit questionnaire answers", Permission.save_draft: "save assessments",
    Permission.submit: "submit assessments for approval", Permission.review: "approve or return assessments",
    Permission.edit_scenarios: "change scenario probabilities", Permission.edit_assumptions: "change loss assumptions",
    Permission.manage_roles: "change users' roles", Permission.delete: "delete saved assessments",
}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.viewer: frozenset({Permission.read}),
    Role.assessor: frozenset({Permission.read, Permission.edit_inventory, Permission.edit_answers,
                              Permission.save_draft, Permission.submit}),
    Role.approver: frozenset({Permission.read, Permission.review}),
    Role.admin: frozenset(Permission),
}


class PermissionDenied(PermissionError):
    """The user's roles do not allow this change (message names user, roles and what is needed)."""


class Actor(BaseModel):
    """Who is acting: a signed-in user in team mode, the named local user on the CLI."""

    model_config = ConfigDict(frozen=True)
    name: str
    roles: frozenset[Role]
    # who the identity provider says this is: "issuer|sub" of the signed-in user's token, which the user cannot
    # change (a display name or preferred_username can be); None for the local user of single-user mode
    subject: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = v.strip()
        if not v or "\x00" in v or len(v) > 200:
            raise ValueError("a user name must be 1 to 200 characters, without NUL")
        return v

    def can(self, permission: Permission) -> bool:
        return any(permission in GRANTS[r] for r in self.roles)

    @property
    def roles_text(self) -> str:
        return roles_text(self.roles)


def same_person(name: str | None, subject: str | None, actor: Actor) -> bool:
    """Is `actor` the person recorded as (name, subject)? The same identity-provider subject, or the same
    name in any case ("Bob" is "bob"): four-eyes refuses either, so renaming oneself does not help."""
    if subject is not None and actor.subject is not None and subject == actor.subject:
        return True
    return (name or "").casefold() == actor.name.casefold()


def roles_text(roles: frozenset[Role] | set[Role]) -> str:
    """'Assessor, Approver' in the order viewer, assessor, approver, admin."""
    return ", ".join(ROLE_LABELS[r] for r in Role if r in roles) or "no role"


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        roles = sorted(r for r in Role if permission in GRANTS[r])
        raise PermissionDenied(
            f"{actor.name} ({actor.roles_text}) may not {PERMISSION_LABELS[permission]}; this needs the role "
            + " or ".join(ROLE_LABELS[r] for r in roles))


def local_user(name: str | None = None) -> Actor:
    """Single-user mode (CLI, `make run`): a named local user with the admin role."""
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError):
            name = os.environ.get("USER") or "local"
    return Actor(name=name, roles=frozenset({Role.admin}))


def parse_roles(text: str | Iterable[str], where: str = "roles") -> frozenset[Role]:
    """'assessor, approver' → roles; an unknown name is an error naming it and the allowed ones."""
    items = [t.strip().lower() for t in (text.split(",") if isinstance(text, str) else text)]
    out = set()
    for item in filter(None, items):
        try:
            out.add(Role(item))
        except ValueError:
            raise ValueError(f"{where}: unknown role {item!r}; allowed: {', '.join(r.value for r in Role)}") from None
    return frozenset(out)


def roles_from_groups(groups: Iterable[str], mapping: Mapping[str, str | Iterable[str]]) -> frozenset[Role]:
    """Roles given by the identity provider's groups claim through the configured mapping
    (group name → role or list of roles); groups not in the mapping give nothing."""
    out: set[Role] = set()
    for g in groups:
        if g in mapping:
            out |= parse_roles(mapping[g], f"group mapping for {g!r}")
    return frozenset(out)
