"""Inspections and process records: lighter indexes for faster capture.

Every posted record updates every index of its table. The batch indexes now hold only
batch records (`WHERE batch_id IS NOT NULL`): item records, nearly all of them, are
never looked up by a NULL batch id. The index of inspections by inspector goes: no query
looks inspections up by inspector, and inspectors are deactivated, never deleted.

Revision ID: 7b41c9e2d5f0
Revises: 5c0d7e41b2a8
Create Date: 2026-11-22 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7b41c9e2d5f0"
down_revision = "5c0d7e41b2a8"
branch_labels = None
depends_on = None

ONLY_BATCHES = sa.text("batch_id IS NOT NULL")


def upgrade() -> None:
    for table in ("inspection", "process_record"):
        name = f"ix_{table}_batch_id_occurred_at"
        op.drop_index(name, table_name=table)
        op.create_index(
            name,
            table,
            ["batch_id", "occurred_at"],
            unique=False,
            sqlite_where=ONLY_BATCHES,
            postgresql_where=ONLY_BATCHES,
        )
    op.drop_index("ix_inspection_inspector_id", table_name="inspection")


def downgrade() -> None:
    op.create_index("ix_inspection_inspector_id", "inspection", ["inspector_id"], unique=False)
    for table in ("inspection", "process_record"):
        name = f"ix_{table}_batch_id_occurred_at"
        op.drop_index(name, table_name=table)
        op.create_index(name, table, ["batch_id", "occurred_at"], unique=False)
