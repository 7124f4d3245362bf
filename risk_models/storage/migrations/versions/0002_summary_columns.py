"""Portfolio figures as columns (list and trend without unpacking results), backfilled from the
saved results so existing assessments keep working.

Revision ID: 0002
Revises: 0001
"""

import json
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("deployments", sa.Integer, nullable=True))
        batch.add_column(sa.Column("high_or_critical", sa.Integer, nullable=True))
        batch.add_column(sa.Column("expected_annual_loss_usd", sa.Float, nullable=True))
        batch.add_column(sa.Column("var95_usd", sa.Float, nullable=True))
    conn = op.get_bind()
    table = sa.table("assessments", sa.column("id", sa.Integer), sa.column("results", sa.LargeBinary),
                     sa.column("deployments", sa.Integer), sa.column("high_or_critical", sa.Integer),
                     sa.column("expected_annual_loss_usd", sa.Float), sa.column("var95_usd", sa.Float))
    for row_id, blob in conn.execute(sa.select(table.c.id, table.c.results)).all():
        results = json.loads(zlib.decompress(blob))
        deps = results["deployments"]
        conn.execute(table.update().where(table.c.id == row_id).values(
            deployments=len(deps),
            high_or_critical=sum(d["rating"] in ("high", "critical") for d in deps),
            expected_annual_loss_usd=results["simulation"]["expected_annual_loss_usd"],
            var95_usd=results["simulation"]["var95_usd"]))
