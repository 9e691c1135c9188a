"""What every posted trace record shares, and the answers of bulk posts and voids."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.fields import Code, Id, ItemCode, Serial, Text

MAX_BULK_RECORDS = 10_000


class RecordIn(Schema):
    """Fields of every posted record: the idempotency key and an optional correction."""

    event_id = fields.UUID(
        required=True, metadata={"description": "client-chosen; retries reuse it"}
    )
    replaces = Id(metadata={"description": "id of the record of the same kind this corrects"})
    void_reason = Text(
        500, metadata={"description": "why the replaced record was wrong; only with replaces"}
    )

    @validates_schema
    def _reason_for_a_correction(self, data, **_):
        if "void_reason" in data and "replaces" not in data:
            raise ValidationError("only a correction (with replaces) has one", "void_reason")


class SubjectIn(RecordIn):
    """A record about one item (by its code, or by its product's SKU and its serial) or a
    batch as a whole (by id)."""

    item_code = ItemCode()
    sku = Code(64, metadata={"description": "the item's product, with serial"})
    serial = Serial(metadata={"description": "the item's serial, with sku"})
    batch_id = Id()

    @validates_schema
    def _one_subject(self, data, **_):
        if ("sku" in data) != ("serial" in data):
            missing = "serial" if "sku" in data else "sku"
            raise ValidationError("an item by serial needs sku and serial", missing)
        if ("item_code" in data) + ("serial" in data) + ("batch_id" in data) != 1:
            raise ValidationError("give one of: item_code; sku and serial; batch_id", "item_code")


class StationRecordIn(SubjectIn):
    station = Code(32, required=True)


class VoidIn(Schema):
    reason = Text(500, required=True)


class RecordedOut(Schema):
    index = fields.Integer()
    id = fields.Integer()
    event_id = fields.UUID()
    created = fields.Boolean()


class BulkOut(Schema):
    created = fields.Integer()
    replayed = fields.Integer()
    results = fields.List(fields.Nested(RecordedOut))


def bulk_in(record_schema: type[Schema]) -> type[Schema]:
    """The body of a bulk post of `record_schema` records."""
    name = record_schema.__name__.removesuffix("In") + "BulkIn"
    return Schema.from_dict(
        {
            "records": fields.List(
                fields.Nested(record_schema),
                required=True,
                validate=validate.Length(min=1, max=MAX_BULK_RECORDS),
            )
        },
        name=name,
    )


class TraceRecordOut(Schema):
    """What every trace record shows about itself: who posted it, voiding and correction."""

    id = fields.Integer()
    event_id = fields.UUID()
    recorded_at = fields.DateTime()
    recorded_by = fields.String()
    voided_at = fields.DateTime(allow_none=True)
    voided_by = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    replaces_id = fields.Integer(allow_none=True)
