"""Team mode's audit trail for session edits: who changed which register row, answer,
probability or assumption (refused changes raise PermissionDenied before the session is touched).

Below the modules that edit (library, workspace, answers); above auth and storage."""

from __future__ import annotations

from dashboard.state import auth
from dashboard.state.storage import storage
from risk_models.inventory.versions import RegisterDiff


def _team_mode() -> bool:
    return auth.team_mode()


def audit_change(entity: str, entity_id: str, before, after, permission) -> None:
    """Team mode: check the signed-in user may make this change and record it in the audit trail
    (refused changes raise PermissionDenied before the session is touched)."""
    from risk_models.storage.team import record_change
    record_change(storage(), auth.actor(), entity, entity_id, before, after, permission)


AUDIT_ROWS_MAX = 500  # a larger re-upload is audited as one entry with the diff summary


def _audit_register(diff: RegisterDiff) -> None:
    from risk_models.auth.roles import Permission
    from risk_models.storage.team import record_changes
    changes = ([("register_row", dep, None, "added") for dep in diff.added]
               + [("register_row", dep, "present", "removed") for dep in diff.removed]
               + [("register_row", c.deployment_id, {c.column: c.before}, {c.column: c.after}) for c in diff.changed])
    if len(changes) > AUDIT_ROWS_MAX:
        changes = [("register_row", f"{len(changes)} changes", None, diff.summary())]
    if changes:
        record_changes(storage(), auth.actor(), Permission.edit_inventory, changes)
