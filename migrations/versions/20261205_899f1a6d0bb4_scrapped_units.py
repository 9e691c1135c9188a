"""Scrapping a unit: a record of its own, voidable like every trace record.

The item status `scrapped` existed (shipments, repairs and the scan page all heed it),
but nothing could set it. A scrap record now does, with when, where and why.

Revision ID: 899f1a6d0bb4
Revises: 0a77998d0e7d
Create Date: 2026-12-05 15:33:15
"""

import sqlalchemy as sa
from alembic import op

revision = "899f1a6d0bb4"
down_revision = "0a77998d0e7d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scrap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by", sa.String(length=120), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_scrap_item_id_item")),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["scrap.id"], name=op.f("fk_scrap_replaces_id_scrap")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_scrap_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scrap")),
        sa.UniqueConstraint("event_id", name=op.f("uq_scrap_event_id")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_scrap_replaces_id")),
    )
    op.create_index("ix_scrap_item_id_occurred_at", "scrap", ["item_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_scrap_item_id_occurred_at", table_name="scrap")
    op.drop_table("scrap")
