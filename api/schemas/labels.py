"""Query parameters of the label endpoints."""

from marshmallow import Schema, fields, validate

from api.schemas.fields import Text
from trace.production.labels import FORMATS

SERIAL = Text(20)


def _format(default: str) -> fields.String:
    # Loaded as `fmt`, the name the domain functions take (`format` is a builtin).
    return fields.String(
        load_default=default, data_key="format", validate=validate.OneOf(list(FORMATS))
    )


def _layout(default: str) -> fields.String:
    return fields.String(
        load_default=default, data_key="layout", validate=validate.Length(min=1, max=64)
    )


class ItemLabelQuery(Schema):
    fmt = _format("png")
    layout_name = _layout("small-30x20")
    dpi = fields.Integer(validate=validate.Range(min=150, max=1200))


class BatchLabelQuery(ItemLabelQuery):
    fmt = _format("pdf")
    layout_name = _layout("sheet-a4-small")
    paper = fields.String(validate=validate.OneOf(["A4", "Letter"]))
    offset_x_mm = fields.Float(
        load_default=0.0,
        allow_nan=False,
        validate=validate.Range(min=-20, max=20),
        metadata={"description": "printer calibration: shifts the whole sheet right"},
    )
    offset_y_mm = fields.Float(
        load_default=0.0,
        allow_nan=False,
        validate=validate.Range(min=-20, max=20),
        metadata={"description": "printer calibration: shifts the whole sheet down"},
    )
    from_serial = SERIAL
    to_serial = SERIAL
