"""Input and output schemas of batches and items."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.schemas.capture import RecordIn, TraceRecordOut
from api.schemas.common import PageQuery
from api.schemas.fields import MAX_ID, Code, Id, ItemCode, Pattern, StrictInt, Text, Time
from trace.production.models import BatchStatus, ItemStatus
from trace.production.scrapping import MAX_SALVAGED

# Lot numbers go into GS1 AI 10 and into serials: keep them to the serial-safe set.
LOT_NUMBER = Pattern(r"^[A-Za-z0-9._-]{1,20}$", error="1 to 20 of A-Z a-z 0-9 . _ -")


class BatchIn(Schema):
    product_id = Id(required=True)
    lot_number = fields.String(required=True, validate=LOT_NUMBER)
    line_id = Id(required=True)
    planned_quantity = StrictInt(load_default=0, validate=validate.Range(min=0, max=10_000_000))
    started_at = Time(allow_none=True)
    ended_at = Time(allow_none=True)
    material_lot_ids = fields.List(Id(), load_default=list, validate=validate.Length(max=500))

    @validates_schema
    def _window(self, data, **_):
        start, end = data.get("started_at"), data.get("ended_at")
        if start and end and end < start:
            raise ValidationError("must not be before started_at", "ended_at")


class MaterialLotLinkIn(Schema):
    material_lot_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=500))


class BatchStatusIn(Schema):
    status = fields.Enum(BatchStatus, by_value=True, required=True)
    reason = Text(500, allow_none=True)


class MaterialLotRef(Schema):
    id = fields.Integer()
    part_number = fields.String()
    supplier = fields.String()
    supplier_lot = fields.String()


class BatchOut(Schema):
    id = fields.Integer()
    product_id = fields.Integer()
    lot_number = fields.String()
    line_id = fields.Integer()
    status = fields.Enum(BatchStatus, by_value=True)
    status_reason = fields.String(allow_none=True)
    planned_quantity = fields.Integer()
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    material_lots = fields.List(fields.Nested(MaterialLotRef))


class BatchQuery(PageQuery):
    product_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    status = fields.Enum(BatchStatus, by_value=True)
    material_lot_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class ItemOut(Schema):
    id = fields.Integer()
    code = fields.String()
    serial = fields.String()
    product_id = fields.Integer()
    sku = fields.String(attribute="product.sku")
    batch_id = fields.Integer()
    lot_number = fields.String(attribute="batch.lot_number")
    status = fields.Enum(ItemStatus, by_value=True)
    produced_at = fields.DateTime()


class ItemListOut(Schema):
    id = fields.Integer()
    code = fields.String()
    serial = fields.String()
    status = fields.Enum(ItemStatus, by_value=True)
    produced_at = fields.DateTime()


class ItemLookupQuery(Schema):
    sku = Code(64, required=True)
    serial = Text(64, required=True)


class ScrapIn(RecordIn):
    item_code = ItemCode(required=True)
    station = Code(
        32,
        allow_none=True,
        metadata={"description": "where it was scrapped; required of line and station keys"},
    )
    occurred_at = Time(required=True)
    reason = Text(500, required=True)
    salvaged = fields.List(
        ItemCode(),
        load_default=list,
        validate=validate.Length(max=MAX_SALVAGED),
        metadata={
            "description": "codes of tracked parts inside the unit taken out to be used "
            "again; every other tracked part inside is scrapped with the unit"
        },
    )


class ScrapPartOut(Schema):
    scrap_id = fields.Integer(attribute="id")
    item_code = fields.String(attribute="item.code")


class ScrapOut(TraceRecordOut):
    item_id = fields.Integer()
    item_code = fields.String(attribute="item.code")
    station = fields.Function(
        lambda scrap: scrap.station.code if scrap.station else None,
        allow_none=True,
        metadata={"type": "string"},
    )
    occurred_at = fields.DateTime()
    reason = fields.String()
    inside_scrap_id = fields.Integer(
        allow_none=True,
        metadata={"description": "set when the part went with the unit it was inside"},
    )
    parts_scrapped = fields.List(
        fields.Nested(ScrapPartOut),
        metadata={"description": "tracked parts that went with the unit, each its own scrap"},
    )
    salvaged = fields.Function(
        lambda scrap: [link.component.code for link in scrap.salvaged],
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "codes of the parts taken out to be used again",
        },
    )
