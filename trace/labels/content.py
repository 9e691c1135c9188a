"""What goes on a label: the data the caller fills in for one item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trace.labels.layouts import TextField


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelData:
    """Everything printed on one item's label.

    `url` is what the QR code encodes (short form, its upper-case form or a GS1
    Digital Link URI); `code_display` is the item code as people should read it.
    """

    url: str
    product_name: str
    serial: str
    lot: str = ""
    produced_on: date | None = None
    code_display: str
    gtin: str | None = None

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError("a label needs the URL its QR code encodes")


def field_text(field: TextField, label: LabelData) -> str:
    """The text printed for `field`, prefix included; empty when there is no value."""
    if field.name == "static":
        return field.text
    value = getattr(label, field.name)
    if value is None or value == "":
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return field.prefix + text
