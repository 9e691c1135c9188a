"""Genealogy rows name the repair that installed or removed the component.

Voiding a repair then undoes exactly its part of the unit's genealogy.

Revision ID: a9ed5d0907c1
Revises: e3571a6ac63d
Create Date: 2026-11-22 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a9ed5d0907c1"
down_revision = "e3571a6ac63d"
branch_labels = None
depends_on = None

# item_component is referenced by no other table, so SQLite's batch rebuild of it is safe
# with foreign keys enforced.


def upgrade() -> None:
    with op.batch_alter_table("item_component", schema=None) as batch_op:
        batch_op.add_column(sa.Column("installed_by_repair_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("removed_by_repair_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_item_component_installed_by_repair_id_repair"),
            "repair",
            ["installed_by_repair_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_item_component_removed_by_repair_id_repair"),
            "repair",
            ["removed_by_repair_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_item_component_installed_by_repair_id"),
            ["installed_by_repair_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_item_component_removed_by_repair_id"),
            ["removed_by_repair_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("item_component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_component_removed_by_repair_id"))
        batch_op.drop_index(batch_op.f("ix_item_component_installed_by_repair_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_item_component_removed_by_repair_id_repair"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_item_component_installed_by_repair_id_repair"), type_="foreignkey"
        )
        batch_op.drop_column("removed_by_repair_id")
        batch_op.drop_column("installed_by_repair_id")
