"""A unit has at most one live scrap record, kept by the database.

The domain refuses to scrap a unit already scrapped, but on PostgreSQL two clients
scrapping the same unit at once both read it as not scrapped, and both would win. A
partial unique index on the live scraps lets only one commit; the other is retried and
refused as any second scrap is.

Revision ID: d41f7c2a9e63
Revises: 899f1a6d0bb4
Create Date: 2026-12-05 16:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d41f7c2a9e63"
down_revision = "899f1a6d0bb4"
branch_labels = None
depends_on = None

LIVE = sa.text("voided_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "uq_scrap_live_item_id",
        "scrap",
        ["item_id"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_scrap_live_item_id", table_name="scrap")
