"""Shipments and their logistics events: input and output."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.capture import RecordIn, TraceRecordOut
from api.schemas.fields import Code, Id, ItemCode, StrictFloat, Text, Time
from trace.logistics.models import ShipmentStatus

MAX_SHIPMENT_ITEMS = 10_000
MAX_SHIPMENT_BATCHES = 100


class ShipmentIn(RecordIn):
    number = Code(64, required=True, metadata={"description": "unique for good"})
    carrier = Text(120, required=True)
    tracking_number = Text(120, allow_none=True)
    origin = Text(200, required=True)
    destination = Text(200, required=True)
    consignee = Text(200, required=True)
    shipped_at = Time(required=True)
    expected_at = Time(allow_none=True)
    item_codes = fields.List(
        ItemCode(),
        load_default=list,
        validate=validate.Length(max=MAX_SHIPMENT_ITEMS),
        metadata={"description": "items by code"},
    )
    batch_ids = fields.List(
        Id(),
        load_default=list,
        validate=validate.Length(max=MAX_SHIPMENT_BATCHES),
        metadata={"description": "whole batches: their items in stock"},
    )
    override_reason = Text(
        500,
        allow_none=True,
        metadata={"description": "required to ship held, recalled or failed items"},
    )

    @validates_schema
    def _cargo(self, data, **_):
        if not data.get("item_codes") and not data.get("batch_ids"):
            raise ValidationError("give item_codes, batch_ids or both", "item_codes")


class EventOnShipmentIn(RecordIn):
    """A logistics event of the shipment named in the path."""

    occurred_at = Time(required=True)
    status = fields.Enum(
        ShipmentStatus,
        by_value=True,
        required=True,
        metadata={"description": "delivered confirms the delivery"},
    )
    location = Text(200, allow_none=True)
    latitude = StrictFloat(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = StrictFloat(allow_none=True, validate=validate.Range(min=-180, max=180))
    note = Text(500, allow_none=True)

    @validates_schema
    def _coordinates(self, data, **_):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("give both coordinates or neither", "longitude")


class ShipmentEventIn(EventOnShipmentIn):
    """A logistics event of a shipment given by id or by number."""

    shipment_id = Id()
    shipment_number = Code(64)

    @validates_schema
    def _one_shipment(self, data, **_):
        if ("shipment_id" in data) == ("shipment_number" in data):
            raise ValidationError("give either shipment_id or shipment_number", "shipment_id")


class ShipmentEventOut(TraceRecordOut):
    shipment_id = fields.Integer()
    occurred_at = fields.DateTime()
    status = fields.Enum(ShipmentStatus, by_value=True)
    location = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)


class ShippedBatchOut(Schema):
    id = fields.Integer()
    lot_number = fields.String()


class ShipmentOut(TraceRecordOut):
    number = fields.String()
    carrier = fields.String()
    tracking_number = fields.String(allow_none=True)
    origin = fields.String()
    destination = fields.String()
    consignee = fields.String()
    status = fields.Enum(ShipmentStatus, by_value=True)
    shipped_at = fields.DateTime()
    expected_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    override_reason = fields.String(allow_none=True)
    item_count = fields.Integer(metadata={"description": "list them at /shipments/{id}/items"})
    batches = fields.List(fields.Nested(ShippedBatchOut))
    events = fields.List(
        fields.Nested(ShipmentEventOut), metadata={"description": "voided ones included, marked"}
    )
