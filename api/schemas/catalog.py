"""Input and output schemas of the catalog: products, sites, lines, stations, inspectors, lots."""

from marshmallow import Schema, fields, validate

from api.schemas.common import PageQuery
from api.schemas.fields import MAX_ID, Code, Id, Pattern, StrictBool, StrictFloat, StrictInt, Text
from trace.catalog.models import StationKind


class ProductIn(Schema):
    sku = Code(64, required=True)
    name = Text(200, required=True)
    gtin = fields.String(
        allow_none=True,
        validate=Pattern(r"^[0-9]{8}$|^[0-9]{12,14}$", error="8, 12, 13 or 14 digits"),
    )
    description = Text(4000, min_length=0, load_default="")
    warranty_months = StrictInt(load_default=0, validate=validate.Range(min=0, max=600))
    public_attributes = fields.Dict(
        keys=Text(64),
        values=Text(500, min_length=0),
        load_default=dict,
        validate=validate.Length(max=50),
    )
    serial_format = Text(60, allow_none=True)
    use_digital_link = StrictBool(load_default=False)


class ProductOut(Schema):
    id = fields.Integer()
    sku = fields.String()
    gtin = fields.String(allow_none=True)
    name = fields.String()
    description = fields.String()
    warranty_months = fields.Integer()
    public_attributes = fields.Dict()
    serial_format = fields.String(allow_none=True)
    use_digital_link = fields.Boolean()
    created_at = fields.DateTime()


class SiteIn(Schema):
    code = Code(32, required=True)
    name = Text(200, required=True)
    country = fields.String(
        allow_none=True, validate=Pattern(r"^[A-Z]{2}$", error="ISO 3166 alpha-2")
    )


class SiteOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    country = fields.String(allow_none=True)


class LineIn(Schema):
    code = Code(32, required=True)
    name = Text(200, required=True)
    public_name = Text(200, allow_none=True)
    site_id = Id(allow_none=True)


class LineOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    public_name = fields.String(allow_none=True)
    site_id = fields.Integer(allow_none=True)


class StationIn(Schema):
    code = Code(32, required=True)
    name = Text(200, required=True)
    line_id = Id(required=True)
    kind = fields.Enum(StationKind, by_value=True, required=True)


class StationOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    line_id = fields.Integer()
    kind = fields.Enum(StationKind, by_value=True)


class StationQuery(PageQuery):
    line_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class InspectorIn(Schema):
    badge = Code(32, required=True)
    name = Text(200, required=True)
    qualification = Text(200, allow_none=True)
    active = StrictBool(load_default=True)


class InspectorOut(Schema):
    id = fields.Integer()
    badge = fields.String()
    name = fields.String()
    qualification = fields.String(allow_none=True)
    active = fields.Boolean()


class MaterialLotIn(Schema):
    part_number = Code(64, required=True)
    supplier = Text(200, required=True)
    supplier_lot = Text(64, required=True)
    received_on = fields.Date(required=True)
    description = Text(200, min_length=0, load_default="")
    quantity = StrictFloat(allow_none=True, allow_nan=False, validate=validate.Range(min=0))
    unit = Text(16, allow_none=True)


class MaterialLotOut(Schema):
    id = fields.Integer()
    part_number = fields.String()
    supplier = fields.String()
    supplier_lot = fields.String()
    received_on = fields.Date()
    description = fields.String()
    quantity = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)


class MaterialLotQuery(PageQuery):
    part_number = Code(64)
