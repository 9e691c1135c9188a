"""Repairs and the parts they removed and installed: input and output."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.capture import RecordIn, TraceRecordOut
from api.schemas.fields import Code, ItemCode, StrictBool, Text, Time
from trace.service.models import PartDirection, RepairOutcome

MAX_PARTS = 100


class RepairPartIn(Schema):
    direction = fields.Enum(PartDirection, by_value=True, required=True)
    part_number = Code(64, required=True)
    serial = Text(64, allow_none=True)
    lot = Text(64, allow_none=True)
    item_code = ItemCode(
        allow_none=True,
        metadata={"description": "the part's own code when it is a tracked item"},
    )

    @validates_schema
    def _identified(self, data, **_):
        if not any(data.get(key) for key in ("serial", "lot", "item_code")):
            raise ValidationError("give serial, lot or item_code", "serial")


class RepairIn(RecordIn):
    item_code = ItemCode(required=True)
    technician = Text(120, required=True, metadata={"description": "name or staff id"})
    received_at = Time(required=True)
    completed_at = Time(
        allow_none=True, metadata={"description": "absent while the repair is open"}
    )
    symptom = Text(2000, required=True)
    diagnosis = Text(4000, allow_none=True)
    action = Text(4000, allow_none=True)
    outcome = fields.Enum(
        RepairOutcome,
        by_value=True,
        allow_none=True,
        metadata={"description": "pending while open (the default); required once completed"},
    )
    under_warranty = StrictBool(
        allow_none=True, metadata={"description": "overrides the computed warranty"}
    )
    warranty_override_reason = Text(
        500, allow_none=True, metadata={"description": "required when overriding"}
    )
    parts = fields.List(
        fields.Nested(RepairPartIn), load_default=list, validate=validate.Length(max=MAX_PARTS)
    )


class RepairPartOut(Schema):
    direction = fields.Enum(PartDirection, by_value=True)
    part_number = fields.String()
    serial = fields.String(allow_none=True)
    lot = fields.String(allow_none=True)
    item_code = fields.Function(
        lambda part: part.component_item.code if part.component_item else None,
        allow_none=True,
        metadata={"type": "string", "description": "set for tracked parts"},
    )


class RepairOut(TraceRecordOut):
    item_id = fields.Integer()
    item_code = fields.String(attribute="item.code")
    technician = fields.String()
    received_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    symptom = fields.String()
    diagnosis = fields.String(allow_none=True)
    action = fields.String(allow_none=True)
    outcome = fields.Enum(RepairOutcome, by_value=True)
    under_warranty = fields.Boolean()
    warranty_override_reason = fields.String(allow_none=True)
    parts = fields.List(fields.Nested(RepairPartOut))
