"""Workspaces on the server: a user's whole working state (inventory, answers, probabilities,
settings, …) as named, versioned parts of a workspace, so every tab, process and machine on the
same database sees the same state (optimistic version check per part, see storage/workspace.py).

Only adds tables: saved assessments and the audit trail are untouched. On PostgreSQL the role named
by AI_VENDOR_RISK_APP_ROLE (as in 0003) gets ordinary read/write on the new tables.

Revision ID: 0004
Revises: 0003
"""

import os
import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("is_demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_workspaces_updated_at", "workspaces", ["updated_at"])
    op.create_table(
        "workspace_parts",
        sa.Column("workspace_id", sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),  # zlib-compressed canonical JSON
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "name", name="pk_workspace_parts"),
    )

    if op.get_bind().dialect.name == "postgresql":
        app_role = os.environ.get("AI_VENDOR_RISK_APP_ROLE", "").strip()
        if app_role:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", app_role):
                raise ValueError(f"AI_VENDOR_RISK_APP_ROLE {app_role!r}: not a plain PostgreSQL role name")
            op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces, workspace_parts TO "{app_role}"')
            op.execute(f'GRANT USAGE ON SEQUENCE workspaces_id_seq TO "{app_role}"')
