"""Scans of a unit's GS1 Digital Link are recorded too, with the verdict "unverified".

A product labelled with a Digital Link (`/01/{gtin}/10/{lot}/21/{serial}`) is scanned
there, not at `/s/<code>`; its scans were not counted anywhere. The page such a scan
leads to never calls the unit genuine (a serial can be read off another label), so its
scans get a verdict of their own. The scan table's CHECK constraint of verdicts grows by
that one value ("unverified" fits the column's 10 characters).

Those scans must not count for the unit's code (anyone can work out the serials of a
whole lot from one label, and make its genuine codes look copied), so the scan page's
counts leave them out, and the index it reads them from carries the verdict: the counts
still come from the index alone.

Downgrading deletes those scans: the older schema has no verdict to keep them under.

Revision ID: 0a77998d0e7d
Revises: 5b2869a27d82
Create Date: 2026-12-05 12:40:00
"""

from alembic import op

revision = "0a77998d0e7d"
down_revision = "5b2869a27d82"
branch_labels = None
depends_on = None

OLD_VERDICTS = ("genuine", "unknown", "suspicious", "recalled")
NEW_VERDICTS = (*OLD_VERDICTS, "unverified")


def _allow(verdicts: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{verdict}'" for verdict in verdicts)
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_scan_scan_verdict"), type_="check")
        batch_op.create_check_constraint(op.f("ck_scan_scan_verdict"), f"verdict IN ({listed})")


OLD_INDEX = ("ix_scan_item_id_scanned_at_client_hash", ["item_id", "scanned_at", "client_hash"])
NEW_INDEX = (
    "ix_scan_item_id_scanned_at_client_hash_verdict",
    ["item_id", "scanned_at", "client_hash", "verdict"],
)


def _index(new: tuple[str, list[str]], old: tuple[str, list[str]]) -> None:
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.create_index(new[0], new[1], unique=False)
        batch_op.drop_index(old[0])


def upgrade() -> None:
    _allow(NEW_VERDICTS)
    _index(NEW_INDEX, OLD_INDEX)


def downgrade() -> None:
    op.execute("DELETE FROM scan WHERE verdict = 'unverified'")
    _index(OLD_INDEX, NEW_INDEX)
    _allow(OLD_VERDICTS)
