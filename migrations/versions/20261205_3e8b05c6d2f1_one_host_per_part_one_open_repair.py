"""A tracked part is inside one unit at a time; a unit is in one open repair at a time.

The domain refuses both, but on PostgreSQL two repairs posted at once both read the part
as free (or the unit as not in repair), and both committed. Partial unique indexes let
only one commit; the other is retried and refused as any second one is.

Revision ID: 3e8b05c6d2f1
Revises: 7c3e91d4a5b0
Create Date: 2026-12-05 17:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3e8b05c6d2f1"
down_revision = "7c3e91d4a5b0"
branch_labels = None
depends_on = None

LIVE_PART = sa.text("removed_at IS NULL AND component_item_id IS NOT NULL")
OPEN_REPAIR = sa.text("completed_at IS NULL AND voided_at IS NULL")


# What the indexes forbid, which the races they close may have left behind already.
DUPLICATES = {
    "a tracked part inside two units (item_component ids)": (
        "SELECT component_item_id, id FROM item_component WHERE removed_at IS NULL"
        " AND component_item_id IN (SELECT component_item_id FROM item_component"
        " WHERE removed_at IS NULL AND component_item_id IS NOT NULL"
        " GROUP BY component_item_id HAVING count(*) > 1)"
    ),
    "a unit in two open repairs (repair ids)": (
        "SELECT item_id, id FROM repair WHERE completed_at IS NULL AND voided_at IS NULL"
        " AND item_id IN (SELECT item_id FROM repair WHERE completed_at IS NULL"
        " AND voided_at IS NULL GROUP BY item_id HAVING count(*) > 1)"
    ),
}


def upgrade() -> None:
    _refuse_duplicates()
    op.create_index(
        "uq_item_component_live_part",
        "item_component",
        ["component_item_id"],
        unique=True,
        sqlite_where=LIVE_PART,
        postgresql_where=LIVE_PART,
    )
    op.create_index(
        "uq_repair_open_item_id",
        "repair",
        ["item_id"],
        unique=True,
        sqlite_where=OPEN_REPAIR,
        postgresql_where=OPEN_REPAIR,
    )


def _refuse_duplicates() -> None:
    """Name the rows to settle (void a repair, or close a component link) before the
    indexes can be built, instead of failing on the first with a bare IntegrityError."""
    found = []
    for what, query in DUPLICATES.items():
        rows = op.get_bind().execute(sa.text(query)).all()
        if rows:
            pairs = ", ".join(f"{key}: {row_id}" for key, row_id in rows[:20])
            found.append(f"{what}: {pairs}")
    if found:
        raise RuntimeError("settle these first, then upgrade again: " + "; ".join(found))


def downgrade() -> None:
    op.drop_index("uq_repair_open_item_id", table_name="repair")
    op.drop_index("uq_item_component_live_part", table_name="item_component")
