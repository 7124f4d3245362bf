"""Saved assessments: inputs and results as compressed JSON in one row (one row = one atomic save).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("author", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("payload_version", sa.Integer, nullable=False),
        sa.Column("inventory", sa.LargeBinary, nullable=False),
        sa.Column("answers", sa.LargeBinary, nullable=False),
        sa.Column("scenarios", sa.LargeBinary, nullable=False),
        sa.Column("results", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_assessments_created_at", "assessments", ["created_at"])
