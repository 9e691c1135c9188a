"""Input and output of serializing a batch."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.fields import StrictInt
from trace.production.serialization import MAX_ITEMS_PER_CALL

# A list of serials travels in the request body; 100,000 of them are about 2 MB of JSON.
MAX_SERIALS_PER_REQUEST = 100_000


class SerializeIn(Schema):
    count = StrictInt(
        validate=validate.Range(min=1, max=MAX_ITEMS_PER_CALL),
        metadata={"description": f"how many items to create (1 to {MAX_ITEMS_PER_CALL:,})"},
    )
    # Element checks (characters, length, duplicates) happen in the domain, which
    # reports every bad index at once.
    serials = fields.List(
        fields.Raw(),
        validate=validate.Length(min=1, max=MAX_SERIALS_PER_REQUEST),
        metadata={"description": "the manufacturer's own serials, [A-Za-z0-9._-]{1,20} each"},
    )

    @validates_schema
    def _one_of(self, data, **_):
        if ("count" in data) == ("serials" in data):
            raise ValidationError("give either count or serials", "count")


class SerializedOut(Schema):
    batch_id = fields.Integer()
    count = fields.Integer()
    first_serial = fields.String(allow_none=True)
    last_serial = fields.String(allow_none=True)
