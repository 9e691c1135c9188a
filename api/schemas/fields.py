"""Field types the API's input schemas share, strict about what JSON may carry."""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Text(fields.String):
    """A string that is trimmed, not blank when required, free of control characters, and capped."""

    def __init__(self, max_length: int, *, min_length: int = 1, **kwargs):
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if CONTROL_CHARS.search(text):
            raise ValidationError("control characters are not allowed")
        return text


class Code(fields.String):
    """An identifier-like string (SKU, line or station code, badge): no spaces, at most `max_length`."""

    PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")

    def __init__(self, max_length: int, **kwargs):
        kwargs.setdefault(
            "validate",
            [
                validate.Length(min=1, max=max_length),
                validate.Regexp(self.PATTERN, error="use letters, digits and . _ / - only"),
            ],
        )
        super().__init__(**kwargs)


def StrictInt(**kwargs) -> fields.Integer:
    """An integer that JSON sent as a number, not as "5" or 5.0."""
    return fields.Integer(strict=True, **kwargs)


def StrictBool(**kwargs) -> fields.Boolean:
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def Id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)
