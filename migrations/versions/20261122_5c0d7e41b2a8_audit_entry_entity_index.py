"""Audit entries are found by the entity they are about.

A unit's history shows its batch's holds, releases and recalls, which only the audit
trail records; without this index every history read would scan the whole trail.

Revision ID: 5c0d7e41b2a8
Revises: a9ed5d0907c1
Create Date: 2026-11-22 05:00:00
"""

from alembic import op

revision = "5c0d7e41b2a8"
down_revision = "a9ed5d0907c1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entry_entity_type_entity_id", ["entity_type", "entity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_entity_type_entity_id")
