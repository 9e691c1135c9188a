"""Complaints about a code that belongs to no item: a suspected counterfeit.

A customer whose scan finds no item is the one most likely holding a fake, and can now
report it from that page. Such a complaint has no item; it keeps the code as scanned.

Revision ID: c4f1e8a9b273
Revises: 7b41c9e2d5f0
Create Date: 2026-11-22 07:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c4f1e8a9b273"
down_revision = "7b41c9e2d5f0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scanned_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_column("scanned_code")
