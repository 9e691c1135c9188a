"""Initial schema: the whole data model of DESIGN.md §3.

Revision ID: e3571a6ac63d
Revises:
Create Date: 2026-11-22 03:46:08.468407
"""

import sqlalchemy as sa
from alembic import op

revision = "e3571a6ac63d"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "quality",
                "line",
                "logistics",
                "technician",
                "viewer",
                name="user_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "corrective_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "verifying",
                "closed",
                name="corrective_action_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_action")),
        sa.UniqueConstraint("number", name=op.f("uq_corrective_action_number")),
    )
    op.create_table(
        "inspector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("badge", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("qualification", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector")),
        sa.UniqueConstraint("badge", name=op.f("uq_inspector_badge")),
    )
    op.create_table(
        "material_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("part_number", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("supplier_lot", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Double(), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_lot")),
        sa.UniqueConstraint(
            "supplier",
            "part_number",
            "supplier_lot",
            name=op.f("uq_material_lot_supplier_part_number_supplier_lot"),
        ),
    )
    with op.batch_alter_table("material_lot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_material_lot_part_number"), ["part_number"], unique=False
        )

    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("warranty_months", sa.Integer(), nullable=False),
        sa.Column("public_attributes", sa.JSON(), nullable=False),
        sa.Column("serial_format", sa.String(length=60), nullable=True),
        sa.Column("use_digital_link", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "gtin IS NULL OR CASE WHEN length(gtin) = 14 AND substr(gtin, 1, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 2, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 3, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 4, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 5, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 6, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 7, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 8, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 9, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 10, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 11, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 12, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 13, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND substr(gtin, 14, 1) IN ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN (3 * CAST(substr(gtin, 1, 1) AS INTEGER) + 1 * CAST(substr(gtin, 2, 1) AS INTEGER) + 3 * CAST(substr(gtin, 3, 1) AS INTEGER) + 1 * CAST(substr(gtin, 4, 1) AS INTEGER) + 3 * CAST(substr(gtin, 5, 1) AS INTEGER) + 1 * CAST(substr(gtin, 6, 1) AS INTEGER) + 3 * CAST(substr(gtin, 7, 1) AS INTEGER) + 1 * CAST(substr(gtin, 8, 1) AS INTEGER) + 3 * CAST(substr(gtin, 9, 1) AS INTEGER) + 1 * CAST(substr(gtin, 10, 1) AS INTEGER) + 3 * CAST(substr(gtin, 11, 1) AS INTEGER) + 1 * CAST(substr(gtin, 12, 1) AS INTEGER) + 3 * CAST(substr(gtin, 13, 1) AS INTEGER) + 1 * CAST(substr(gtin, 14, 1) AS INTEGER)) % 10 = 0 ELSE 1 = 0 END",
            name=op.f("ck_product_gtin_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("gtin", name=op.f("uq_product_gtin")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_sku")),
    )
    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=120), nullable=False),
        sa.Column("tracking_number", sa.String(length=120), nullable=True),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("destination", sa.String(length=200), nullable=False),
        sa.Column("consignee", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "shipped",
                "in_transit",
                "delivered",
                "returned",
                name="shipment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("shipped_at", sa.DateTime(), nullable=False),
        sa.Column("expected_at", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("override_reason", sa.String(length=500), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by", sa.String(length=120), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["shipment.id"], name=op.f("fk_shipment_replaces_id_shipment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
        sa.UniqueConstraint("event_id", name=op.f("uq_shipment_event_id")),
        sa.UniqueConstraint("number", name=op.f("uq_shipment_number")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_shipment_replaces_id")),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_tracking_number"), ["tracking_number"], unique=False
        )

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("code", name=op.f("uq_site_code")),
    )
    op.create_table(
        "line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_name", sa.String(length=200), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_line_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line")),
        sa.UniqueConstraint("code", name=op.f("uq_line_code")),
    )
    with op.batch_alter_table("line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_site_id"), ["site_id"], unique=False)

    op.create_table(
        "shipment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "shipped",
                "in_transit",
                "delivered",
                "returned",
                name="shipment_event_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by", sa.String(length=120), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["shipment_event.id"],
            name=op.f("fk_shipment_event_replaces_id_shipment_event"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipment.id"], name=op.f("fk_shipment_event_shipment_id_shipment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_shipment_event_event_id")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_shipment_event_replaces_id")),
    )
    with op.batch_alter_table("shipment_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_event_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("lot_number", sa.String(length=20), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "released",
                "on_hold",
                "recalled",
                "closed",
                name="batch_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=500), nullable=True),
        sa.Column("planned_quantity", sa.Integer(), nullable=False),
        sa.Column("serial_sequence", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "planned_quantity >= 0", name=op.f("ck_batch_planned_quantity_not_negative")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["line.id"], name=op.f("fk_batch_line_id_line")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_batch_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch")),
        sa.UniqueConstraint(
            "product_id", "lot_number", name=op.f("uq_batch_product_id_lot_number")
        ),
    )
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_line_id"), ["line_id"], unique=False)

    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "process",
                "inspection",
                "packing",
                name="station_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["line_id"], ["line.id"], name=op.f("fk_station_line_id_line")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint("code", name=op.f("uq_station_code")),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_station_line_id"), ["line_id"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "quality",
                "line",
                "logistics",
                "technician",
                "viewer",
                name="api_key_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["line_id"], ["line.id"], name=op.f("fk_api_key_line_id_line")),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_api_key_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "batch_material",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("material_lot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_batch_material_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["material_lot_id"],
            ["material_lot.id"],
            name=op.f("fk_batch_material_material_lot_id_material_lot"),
        ),
        sa.PrimaryKeyConstraint("batch_id", "material_lot_id", name=op.f("pk_batch_material")),
    )
    with op.batch_alter_table("batch_material", schema=None) as batch_op:
        batch_op.create_index(
            "ix_batch_material_material_lot_id", ["material_lot_id"], unique=False
        )

    op.create_table(
        "corrective_action_batch",
        sa.Column("corrective_action_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_corrective_action_batch_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["corrective_action_id"],
            ["corrective_action.id"],
            name=op.f("fk_corrective_action_batch_corrective_action_id_corrective_action"),
        ),
        sa.PrimaryKeyConstraint(
            "corrective_action_id", "batch_id", name=op.f("pk_corrective_action_batch")
        ),
    )
    with op.batch_alter_table("corrective_action_batch", schema=None) as batch_op:
        batch_op.create_index("ix_corrective_action_batch_batch_id", ["batch_id"], unique=False)

    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "produced",
                "failed",
                "shipped",
                "delivered",
                "in_repair",
                "scrapped",
                name="item_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("produced_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_item_batch_id_batch")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_item_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item")),
        sa.UniqueConstraint("code", name=op.f("uq_item_code")),
        sa.UniqueConstraint("product_id", "serial", name=op.f("uq_item_product_id_serial")),
    )
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "shipment_batch",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_shipment_batch_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipment.id"], name=op.f("fk_shipment_batch_shipment_id_shipment")
        ),
        sa.PrimaryKeyConstraint("shipment_id", "batch_id", name=op.f("pk_shipment_batch")),
    )
    with op.batch_alter_table("shipment_batch", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_batch_batch_id", ["batch_id"], unique=False)

    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low",
                "medium",
                "high",
                "critical",
                name="complaint_severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("photo_path", sa.String(length=200), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "acknowledged",
                "investigating",
                "resolved",
                "closed",
                "rejected",
                name="complaint_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_complaint_assignee_id_app_user")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_complaint_item_id_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaint_reference")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_complaint_token_hash")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index("ix_complaint_item_id_status", ["item_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_status"), ["status"], unique=False)

    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "pass",
                "fail",
                "rework",
                name="inspection_result",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("defect_codes", sa.JSON(), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by", sa.String(length=120), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(item_id IS NULL) <> (batch_id IS NULL)", name=op.f("ck_inspection_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_inspection_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["inspector.id"], name=op.f("fk_inspection_inspector_id_inspector")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_inspection_item_id_item")),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["inspection.id"], name=op.f("fk_inspection_replaces_id_inspection")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_inspection_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
        sa.UniqueConstraint("event_id", name=op.f("uq_inspection_event_id")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_inspection_replaces_id")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inspection_batch_id_occurred_at", ["batch_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inspection_inspector_id"), ["inspector_id"], unique=False
        )
        batch_op.create_index(
            "ix_inspection_item_id_occurred_at", ["item_id", "occurred_at"], unique=False
        )

    op.create_table(
        "item_component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("component_item_id", sa.Integer(), nullable=True),
        sa.Column("part_number", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_item_id"],
            ["item.id"],
            name=op.f("fk_item_component_component_item_id_item"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_item_component_item_id_item")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_component")),
    )
    with op.batch_alter_table("item_component", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_component_component_item_id"), ["component_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_item_component_item_id"), ["item_id"], unique=False)

    op.create_table(
        "process_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("parameter", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("lower_limit", sa.Double(), nullable=True),
        sa.Column("upper_limit", sa.Double(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by", sa.String(length=120), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(item_id IS NULL) <> (batch_id IS NULL)", name=op.f("ck_process_record_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_process_record_batch_id_batch")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_process_record_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["process_record.id"],
            name=op.f("fk_process_record_replaces_id_process_record"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_process_record_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_record")),
        sa.UniqueConstraint("event_id", name=op.f("uq_process_record_event_id")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_process_record_replaces_id")),
    )
    with op.batch_alter_table("process_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_process_record_batch_id_occurred_at", ["batch_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_process_record_item_id_occurred_at", ["item_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_process_record_parameter_occurred_at", ["parameter", "occurred_at"], unique=False
        )

    op.create_table(
        "repair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("technician", sa.String(length=120), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("diagnosis", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "repaired",
                "replaced",
                "no_fault_found",
                "not_repairable",
                "pending",
                name="repair_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("under_warranty", sa.Boolean(), nullable=False),
        sa.Column("warranty_override_reason", sa.String(length=500), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("voided_by", sa.String(length=120), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_repair_item_id_item")),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["repair.id"], name=op.f("fk_repair_replaces_id_repair")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair")),
        sa.UniqueConstraint("event_id", name=op.f("uq_repair_event_id")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_repair_replaces_id")),
    )
    with op.batch_alter_table("repair", schema=None) as batch_op:
        batch_op.create_index(
            "ix_repair_item_id_received_at", ["item_id", "received_at"], unique=False
        )

    op.create_table(
        "scan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.Column(
            "verdict",
            sa.Enum(
                "genuine",
                "unknown",
                "suspicious",
                "recalled",
                name="scan_verdict",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("user_agent_family", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_scan_item_id_item")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan")),
    )
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.create_index("ix_scan_item_id_scanned_at", ["item_id", "scanned_at"], unique=False)

    op.create_table(
        "shipment_item",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_shipment_item_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipment.id"], name=op.f("fk_shipment_item_shipment_id_shipment")
        ),
        sa.PrimaryKeyConstraint("shipment_id", "item_id", name=op.f("pk_shipment_item")),
    )
    with op.batch_alter_table("shipment_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_item_item_id"), ["item_id"], unique=False)
        batch_op.create_index(
            "uq_shipment_item_open_item_id",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("open"),
            postgresql_where=sa.text("open"),
        )

    op.create_table(
        "complaint_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "acknowledged",
                "investigating",
                "resolved",
                "closed",
                "rejected",
                name="complaint_update_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_update_complaint_id_complaint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_update")),
    )
    with op.batch_alter_table("complaint_update", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_update_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "corrective_action_complaint",
        sa.Column("corrective_action_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_corrective_action_complaint_complaint_id_complaint"),
        ),
        sa.ForeignKeyConstraint(
            ["corrective_action_id"],
            ["corrective_action.id"],
            name=op.f("fk_corrective_action_complaint_corrective_action_id_corrective_action"),
        ),
        sa.PrimaryKeyConstraint(
            "corrective_action_id", "complaint_id", name=op.f("pk_corrective_action_complaint")
        ),
    )
    with op.batch_alter_table("corrective_action_complaint", schema=None) as batch_op:
        batch_op.create_index(
            "ix_corrective_action_complaint_complaint_id", ["complaint_id"], unique=False
        )

    op.create_table(
        "measurement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("lower_limit", sa.Double(), nullable=True),
        sa.Column("upper_limit", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_measurement_inspection_id_inspection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement")),
    )
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_measurement_inspection_id"), ["inspection_id"], unique=False
        )

    op.create_table(
        "repair_part",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repair_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "removed",
                "installed",
                name="part_direction",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("part_number", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("component_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_item_id"], ["item.id"], name=op.f("fk_repair_part_component_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["repair_id"], ["repair.id"], name=op.f("fk_repair_part_repair_id_repair")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_part")),
    )
    with op.batch_alter_table("repair_part", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repair_part_component_item_id"), ["component_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_repair_part_repair_id"), ["repair_id"], unique=False)

    # The audit chain's head exists from the start: appends lock this row, and two
    # first writers racing to create it would otherwise collide.
    audit_head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("hash", sa.String),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    with op.batch_alter_table("repair_part", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_repair_part_repair_id"))
        batch_op.drop_index(batch_op.f("ix_repair_part_component_item_id"))

    op.drop_table("repair_part")
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurement_inspection_id"))

    op.drop_table("measurement")
    with op.batch_alter_table("corrective_action_complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_corrective_action_complaint_complaint_id")

    op.drop_table("corrective_action_complaint")
    with op.batch_alter_table("complaint_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_update_complaint_id"))

    op.drop_table("complaint_update")
    with op.batch_alter_table("shipment_item", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_shipment_item_open_item_id",
            sqlite_where=sa.text("open"),
            postgresql_where=sa.text("open"),
        )
        batch_op.drop_index(batch_op.f("ix_shipment_item_item_id"))

    op.drop_table("shipment_item")
    with op.batch_alter_table("scan", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_item_id_scanned_at")

    op.drop_table("scan")
    with op.batch_alter_table("repair", schema=None) as batch_op:
        batch_op.drop_index("ix_repair_item_id_received_at")

    op.drop_table("repair")
    with op.batch_alter_table("process_record", schema=None) as batch_op:
        batch_op.drop_index("ix_process_record_parameter_occurred_at")
        batch_op.drop_index("ix_process_record_item_id_occurred_at")
        batch_op.drop_index("ix_process_record_batch_id_occurred_at")

    op.drop_table("process_record")
    with op.batch_alter_table("item_component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_component_item_id"))
        batch_op.drop_index(batch_op.f("ix_item_component_component_item_id"))

    op.drop_table("item_component")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index("ix_inspection_item_id_occurred_at")
        batch_op.drop_index(batch_op.f("ix_inspection_inspector_id"))
        batch_op.drop_index("ix_inspection_batch_id_occurred_at")

    op.drop_table("inspection")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_status"))
        batch_op.drop_index("ix_complaint_item_id_status")
        batch_op.drop_index(batch_op.f("ix_complaint_assignee_id"))

    op.drop_table("complaint")
    with op.batch_alter_table("shipment_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_batch_batch_id")

    op.drop_table("shipment_batch")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_batch_id"))

    op.drop_table("item")
    with op.batch_alter_table("corrective_action_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_corrective_action_batch_batch_id")

    op.drop_table("corrective_action_batch")
    with op.batch_alter_table("batch_material", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_material_material_lot_id")

    op.drop_table("batch_material")
    op.drop_table("api_key")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_station_line_id"))

    op.drop_table("station")
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_line_id"))

    op.drop_table("batch")
    with op.batch_alter_table("shipment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_event_shipment_id"))

    op.drop_table("shipment_event")
    with op.batch_alter_table("line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_site_id"))

    op.drop_table("line")
    op.drop_table("site")
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_tracking_number"))

    op.drop_table("shipment")
    op.drop_table("product")
    with op.batch_alter_table("material_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_lot_part_number"))

    op.drop_table("material_lot")
    op.drop_table("inspector")
    op.drop_table("corrective_action")
    op.drop_table("audit_head")
    op.drop_table("audit_entry")
    op.drop_table("app_user")
