"""Team mode: an append-only, hash-chained audit trail; review status on saved assessments
(draft → submitted → approved / returned); an admin-edited role table; shared working answers
with a version number (optimistic concurrency between app processes).

On PostgreSQL the audit table refuses UPDATE, DELETE and TRUNCATE for everyone but a superuser
(a trigger, so it holds even when the app connects as the table owner), PUBLIC loses every
privilege on it, and the role named by AI_VENDOR_RISK_APP_ROLE (the login the app runs as, when
it differs from the one that migrates) gets INSERT and SELECT on it and ordinary read/write on
the other tables.

Revision ID: 0003
Revises: 0002
"""

import os
import re

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(400), nullable=False, server_default=""),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    # one row: entries written and the newest hash. Appenders lock it first (one chain, no forks) and
    # `audit verify` compares it with the table, so deleting the newest entries is detected too.
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.execute(sa.text(f"INSERT INTO audit_head (id, entries, last_hash) VALUES (1, 0, '{GENESIS}')"))
    op.create_table(
        "user_roles",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "working_answers",
        sa.Column("deployment_id", sa.String(400), primary_key=True),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="draft"))
        batch.add_column(sa.Column("submitted_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_comment", sa.Text, nullable=True))

    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$""")
        op.execute("CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
        op.execute("REVOKE ALL ON audit_log FROM PUBLIC")
        app_role = os.environ.get("AI_VENDOR_RISK_APP_ROLE", "").strip()
        if app_role:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", app_role):
                raise ValueError(f"AI_VENDOR_RISK_APP_ROLE {app_role!r}: not a plain PostgreSQL role name")
            op.execute(f'GRANT SELECT, INSERT ON audit_log TO "{app_role}"')
            op.execute(f'GRANT USAGE ON SEQUENCE audit_log_id_seq TO "{app_role}"')
            op.execute(f'GRANT SELECT, UPDATE ON audit_head TO "{app_role}"')
            op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON assessments, user_roles, working_answers '
                       f'TO "{app_role}"')
            op.execute(f'GRANT SELECT ON alembic_version TO "{app_role}"')
            op.execute(f'GRANT USAGE ON SEQUENCE assessments_id_seq TO "{app_role}"')
