"""Field types the API's input schemas share, strict about what JSON may carry."""

from __future__ import annotations

import datetime as dt
import re

from marshmallow import ValidationError, fields, validate

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON's \uD800 escapes decode to lone surrogates, which no database can store as text.
SURROGATES = re.compile(r"[\ud800-\udfff]")
# Either of the two, where one check is enough (see api/schemas/compiled.py).
NOT_TEXT = re.compile(f"{CONTROL_CHARS.pattern}|{SURROGATES.pattern}")
# Primary keys are INTEGER columns: 32 bits on PostgreSQL. A larger id cannot exist, and
# sent to the database it would fail there instead of being refused here.
MAX_ID = 2**31 - 1


class Pattern(validate.Regexp):
    """A regular expression the whole value must match.

    Regexp uses re.match, where `$` also matches before a trailing newline, so "KET-1\n"
    would pass `^...$`. The pattern itself stays in the portable `^...$` form, because the
    OpenAPI document publishes it and JSON Schema reads `$` as the true end.
    """

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# What reads as nothing: whitespace (every space Python knows, the ideographic U+3000 the
# last of them) and the zero-width marks and joiners a pasted text can carry.
BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + (
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
)


def trimmed(text: str) -> str:
    """`text` without what reads as nothing at either end (so "\u200b" is blank)."""
    return text.strip() if text.isascii() else text.strip(BLANK)


class Text(fields.String):
    """A string that is trimmed (of invisible marks too), not blank when required, free of
    control characters, and capped.

    The compiled loaders (api/schemas/compiled.py) apply the same rules: strip, then refuse
    NOT_TEXT; keep the two in step.
    """

    def __init__(self, max_length: int, *, min_length: int = 1, **kwargs):
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        return plain_text(trimmed(super()._deserialize(value, attr, data, **kwargs)))


def plain_text(value: str) -> str:
    """Refuse control characters and lone surrogates (Text's rule, without trimming)."""
    if CONTROL_CHARS.search(value):
        raise ValidationError("control characters are not allowed")
    if SURROGATES.search(value):
        raise ValidationError("not valid Unicode text (lone surrogate)")
    return value


def ItemCode(**kwargs) -> fields.String:
    """A unit's code as printed or typed; trace.codes reads it (case, hyphens, look-alikes)."""
    return fields.String(validate=[validate.Length(min=1, max=64), plain_text], **kwargs)


class Code(fields.String):
    """An identifier (SKU, line or station code, badge): no spaces, at most `max_length`."""

    PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")

    def __init__(self, max_length: int, **kwargs):
        kwargs.setdefault(
            "validate",
            [
                validate.Length(min=1, max=max_length),
                Pattern(self.PATTERN, error="use letters, digits and . _ / - only"),
            ],
        )
        super().__init__(**kwargs)


class Serial(fields.String):
    """A unit's serial, as its product's serial format or the manufacturer's list made it
    (trace.production.serials): 1 to 20 of A-Z a-z 0-9 . _ -."""

    PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,20}$")

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate", Pattern(self.PATTERN, error="1 to 20 of A-Z a-z 0-9 . _ - only")
        )
        super().__init__(**kwargs)


def StrictInt(**kwargs) -> fields.Integer:
    """An integer that JSON sent as a number, not as "5" or 5.0."""
    return fields.Integer(strict=True, **kwargs)


class StrictFloat(fields.Float):
    """A number that JSON sent as a number, not as a string such as "5"."""

    def _validated(self, value):
        if isinstance(value, str):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def Time(**kwargs) -> fields.AwareDateTime:
    """An ISO 8601 time with its UTC offset, one that every time zone can express:
    9999-12-31T23:00-05:00 is a valid time, but in UTC it falls in the year 10000, which
    the database (and Python) cannot hold, and 9999-12-31T23:00Z is the year 10000 in
    Shanghai, where the public pages show it."""
    return fields.AwareDateTime(validate=in_utc_range, **kwargs)


# A day inside Python's years 1 to 9999, so that no zone's local time falls outside them.
EARLIEST_TIME = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)
TIME_RANGE = "must lie between 0001-01-02 and 9999-12-30 in UTC"


def in_utc_range(value: dt.datetime) -> None:
    try:
        in_utc = value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError(TIME_RANGE) from None
    if not EARLIEST_TIME <= in_utc <= LATEST_TIME:
        raise ValidationError(TIME_RANGE)


class _JustBool(frozenset):
    """{True} or {False} that 1 and 0 are not in (1 == True, and they hash alike)."""

    def __contains__(self, value) -> bool:
        return type(value) is bool and frozenset.__contains__(self, value)


def StrictBool(**kwargs) -> fields.Boolean:
    """JSON true or false; not 1, 0, "true" or "yes"."""
    field = fields.Boolean(truthy={True}, falsy={False}, **kwargs)
    # Set after: the constructor copies what it is given into plain sets.
    field.truthy, field.falsy = _JustBool({True}), _JustBool({False})
    return field


def Id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)
