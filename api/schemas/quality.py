"""Inspections and process records: input and output."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.capture import StationRecordIn
from api.schemas.fields import Code, StrictBool, StrictFloat, Text, Time
from trace.quality.models import InspectionResult


def _limits_in_order(data):
    low, high = data.get("lower_limit"), data.get("upper_limit")
    if low is not None and high is not None and low > high:
        raise ValidationError("must not be above upper_limit", "lower_limit")


class MeasurementIn(Schema):
    name = Text(64, required=True)
    value = StrictFloat(required=True)
    unit = Text(16, allow_none=True)
    lower_limit = StrictFloat(allow_none=True)
    upper_limit = StrictFloat(allow_none=True)

    @validates_schema
    def _limits(self, data, **_):
        _limits_in_order(data)


class InspectionIn(StationRecordIn):
    inspector = Code(32, required=True, metadata={"description": "the inspector's badge"})
    occurred_at = Time(required=True)
    result = fields.Enum(InspectionResult, by_value=True, required=True)
    is_final = StrictBool(load_default=False)
    defect_codes = fields.List(Code(32), load_default=list, validate=validate.Length(max=50))
    measurements = fields.List(
        fields.Nested(MeasurementIn), load_default=list, validate=validate.Length(max=100)
    )
    notes = Text(1000, allow_none=True)


class MeasurementOut(Schema):
    name = fields.String()
    value = fields.Float()
    unit = fields.String(allow_none=True)
    lower_limit = fields.Float(allow_none=True)
    upper_limit = fields.Float(allow_none=True)


class RecordOut(Schema):
    """What every trace record shows: who posted it, and whether it was voided or corrects one."""

    id = fields.Integer()
    event_id = fields.UUID()
    item_id = fields.Integer(allow_none=True)
    batch_id = fields.Integer(allow_none=True)
    station = fields.String(attribute="station.code")
    occurred_at = fields.DateTime()
    recorded_at = fields.DateTime()
    recorded_by = fields.String()
    voided_at = fields.DateTime(allow_none=True)
    voided_by = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    replaces_id = fields.Integer(allow_none=True)


class InspectionOut(RecordOut):
    inspector = fields.String(attribute="inspector.badge")
    result = fields.Enum(InspectionResult, by_value=True)
    is_final = fields.Boolean()
    defect_codes = fields.List(fields.String())
    measurements = fields.List(fields.Nested(MeasurementOut))
    notes = fields.String(allow_none=True)


class ProcessRecordIn(StationRecordIn):
    parameter = Code(64, required=True)
    value = StrictFloat(required=True)
    unit = Text(16, allow_none=True)
    lower_limit = StrictFloat(allow_none=True)
    upper_limit = StrictFloat(allow_none=True)
    occurred_at = Time(required=True)
    is_public = StrictBool(load_default=False)

    @validates_schema
    def _limits(self, data, **_):
        _limits_in_order(data)


class ProcessRecordOut(RecordOut):
    parameter = fields.String()
    value = fields.Float()
    unit = fields.String(allow_none=True)
    lower_limit = fields.Float(allow_none=True)
    upper_limit = fields.Float(allow_none=True)
    in_spec = fields.Boolean()
    is_public = fields.Boolean()


class OutOfSpecQuery(Schema):
    parameter = Code(64, required=True)
    start = Time(required=True)
    end = Time(required=True)
    direction = fields.String(validate=validate.OneOf(["above", "below"]))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))

    @validates_schema
    def _window(self, data, **_):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("must not be before start", "end")


class OutOfSpecOut(Schema):
    batch_id = fields.Integer()
    lot_number = fields.String()
    product_id = fields.Integer()
    readings = fields.Integer()
    lowest = fields.Float()
    highest = fields.Float()
    first_at = fields.DateTime()
    last_at = fields.DateTime()
