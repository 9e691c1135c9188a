"""What becomes of the tracked parts inside a unit that is scrapped.

A part left inside goes with the unit: its own scrap points at the unit's
(`scrap.inside_scrap_id`). A part taken out to be used again is salvaged: its component
link is closed by the unit's scrap (`item_component.removed_by_scrap_id`).

Revision ID: 7c3e91d4a5b0
Revises: d41f7c2a9e63
Create Date: 2026-12-05 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7c3e91d4a5b0"
down_revision = "d41f7c2a9e63"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scrap") as batch_op:
        batch_op.add_column(sa.Column("inside_scrap_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_scrap_inside_scrap_id_scrap"), "scrap", ["inside_scrap_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_scrap_inside_scrap_id"), ["inside_scrap_id"])
    with op.batch_alter_table("item_component") as batch_op:
        batch_op.add_column(sa.Column("removed_by_scrap_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_item_component_removed_by_scrap_id_scrap"),
            "scrap",
            ["removed_by_scrap_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_item_component_removed_by_scrap_id"), ["removed_by_scrap_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("item_component") as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_component_removed_by_scrap_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_item_component_removed_by_scrap_id_scrap"), type_="foreignkey"
        )
        batch_op.drop_column("removed_by_scrap_id")
    with op.batch_alter_table("scrap") as batch_op:
        batch_op.drop_index(batch_op.f("ix_scrap_inside_scrap_id"))
        batch_op.drop_constraint(batch_op.f("fk_scrap_inside_scrap_id_scrap"), type_="foreignkey")
        batch_op.drop_column("inside_scrap_id")
