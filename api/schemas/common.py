"""Schemas shared by many endpoints: paging and the error shape."""

from marshmallow import Schema, fields, validate

from api.schemas.fields import MAX_ID, Id


class PageQuery(Schema):
    after = fields.Integer(
        validate=validate.Range(min=0, max=MAX_ID), metadata={"description": "last id seen"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(required=True, data_key="fields")


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


__all__ = ["Error", "Id", "PageQuery"]
