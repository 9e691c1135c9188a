"""Histories of items and batches: output only."""

import datetime as dt
import enum
import uuid

from marshmallow import Schema, fields

from trace.production.models import BatchStatus, ItemStatus


def _jsonable(value):
    """Times and dates as ISO 8601 text (with offset), enums and UUIDs as their values."""
    if isinstance(value, dict):
        return {key: _jsonable(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(inner) for inner in value]
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class EventData(fields.Dict):
    """An event's own facts; which keys depends on its kind (see EventOut)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return _jsonable(value)


class RecordRefOut(Schema):
    id = fields.Integer()
    event_id = fields.UUID()


class EventOut(Schema):
    kind = fields.String(
        metadata={
            "description": "produced, batch_opened, material_lot, component_installed, "
            "component_removed, installed_in, removed_from, inspection, process_record, "
            "batch_status, corrective_action, shipment, shipment_event, delivery, repair, "
            "complaint, scrapped"
        }
    )
    time = fields.DateTime()
    scope = fields.String(
        metadata={
            "description": "item: about the unit itself; batch: about its batch as a whole; "
            "items: some units of the batch (in a batch's history)"
        }
    )
    record = fields.String(
        allow_none=True, metadata={"description": "the kind of record behind the event"}
    )
    id = fields.Integer(allow_none=True)
    event_id = fields.UUID(allow_none=True, metadata={"description": "the client's event id"})
    recorded_at = fields.DateTime(allow_none=True)
    recorded_by = fields.String(allow_none=True)
    voided = fields.Boolean()
    voided_at = fields.DateTime(allow_none=True)
    voided_by = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    replaces = fields.Nested(RecordRefOut, allow_none=True)
    replaced_by = fields.Nested(RecordRefOut, allow_none=True)
    data = EventData()


class ItemRefOut(Schema):
    id = fields.Integer()
    code = fields.String()
    serial = fields.String()
    status = fields.Enum(ItemStatus, by_value=True)
    sku = fields.String(attribute="product.sku")
    gtin = fields.String(attribute="product.gtin", allow_none=True)
    batch_id = fields.Integer()
    lot_number = fields.String(attribute="batch.lot_number")
    produced_at = fields.DateTime()


class ItemHistoryOut(Schema):
    item = fields.Nested(ItemRefOut)
    events = fields.List(fields.Nested(EventOut))


class BatchRefOut(Schema):
    id = fields.Integer()
    lot_number = fields.String()
    status = fields.Enum(BatchStatus, by_value=True)
    sku = fields.String(attribute="product.sku")
    gtin = fields.String(attribute="product.gtin", allow_none=True)
    line = fields.String(attribute="line.code")


class BatchSummaryOut(Schema):
    items = fields.Integer()
    items_by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    first_produced_at = fields.DateTime(allow_none=True)
    last_produced_at = fields.DateTime(allow_none=True)
    item_inspections_by_result = fields.Dict(keys=fields.String(), values=fields.Integer())
    shipments = fields.Integer()
    repairs = fields.Integer()
    complaints = fields.Integer()


class BatchHistoryOut(Schema):
    batch = fields.Nested(BatchRefOut)
    summary = fields.Nested(BatchSummaryOut)
    events = fields.List(fields.Nested(EventOut))
