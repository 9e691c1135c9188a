"""Serial schemes: how a product's serials are made from its lot and a sequence number.

A scheme is a short template such as ``{lot}-{seq:6}``: literal characters from
``[A-Za-z0-9._-]`` and the fields ``{lot}``, ``{seq}`` (``{seq:N}`` zero-pads to N digits)
and ``{yy}`` (two-digit year). Serials stay within GS1's AI 21 limits (20 characters) and
need no percent-encoding in a Digital Link.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from trace.gs1 import SERIAL_SAFE

DEFAULT_FORMAT = "{lot}-{seq:6}"
MAX_SERIAL_LENGTH = 20
_TOKEN = re.compile(r"\{(lot|yy|seq(?::([1-9]|1[0-9]))?)\}|([A-Za-z0-9._-]+)")


class InvalidSerialFormat(ValueError):
    """The template is not a serial scheme; the message says where."""


def compile_format(template: str) -> Callable[[str, int], Callable[[int], str]]:
    """Turn a scheme into `for_lot(lot, year)`, which gives `serial(seq)`; refuses anything else.

    The result is a plain str.format pattern built only from vetted pieces, so a scheme
    can never reach attributes or run code the way an arbitrary format string could.
    Lot and year are filled in once, leaving only the sequence number per serial.
    """
    if not template or len(template) > 60:
        raise InvalidSerialFormat("a serial format has 1 to 60 characters")
    pattern, position = [], 0
    for match in _TOKEN.finditer(template):
        if match.start() != position:
            raise InvalidSerialFormat(f"unexpected {template[position]!r} at {position + 1}")
        pattern.append(_piece(match))
        position = match.end()
    if position != len(template):
        raise InvalidSerialFormat(f"unexpected {template[position]!r} at {position + 1}")
    if "{seq" not in template:
        raise InvalidSerialFormat("a serial format needs {seq} so that serials differ")
    fmt = "".join(pattern)

    def for_lot(lot: str, year: int) -> Callable[[int], str]:
        # Lots are [A-Za-z0-9._-] only, so they carry no braces into the second pattern.
        return fmt.format(lot=lot, yy=year % 100).format

    return for_lot


def _piece(match: re.Match) -> str:
    field, width, literal = match.groups()
    if literal:
        return literal
    if field.startswith("seq"):
        # Doubled braces survive the first format (lot, year) as the second's {0}.
        return f"{{{{0:0{width}d}}}}" if width else "{{0}}"
    return "{yy:02d}" if field == "yy" else "{lot}"


def check_serial(serial: str) -> str | None:
    """Why `serial` cannot be used, or None when it is fine."""
    if not serial:
        return "empty"
    if len(serial) > MAX_SERIAL_LENGTH:
        return f"{len(serial)} characters; at most {MAX_SERIAL_LENGTH}"
    if not SERIAL_SAFE.match(serial):
        return "only A-Z a-z 0-9 . _ - are allowed"
    return None
