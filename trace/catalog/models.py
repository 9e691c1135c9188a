"""Products, sites, lines, stations, inspectors and material lots."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace.db import Base, str_enum, utcnow


def gtin14_check_sql(column: str) -> str:
    """A portable SQL condition: `column` is 14 digits with a valid GS1 check digit.

    Weights are 3,1,3,... from the right starting at the digit before the check digit,
    so in a 14-digit string the odd positions (1-based, from the left) weigh 3. Written
    with substr/CAST only, it holds the same on SQLite and PostgreSQL; the CASE makes
    sure nothing is cast before every character is known to be an ASCII digit (IN, not
    BETWEEN, so no collation can let another character through).
    """
    digit_set = "('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')"
    digits = " AND ".join(f"substr({column}, {i}, 1) IN {digit_set}" for i in range(1, 15))
    weighted = " + ".join(
        f"{3 if i % 2 else 1} * CAST(substr({column}, {i}, 1) AS INTEGER)" for i in range(1, 15)
    )
    return (
        f"{column} IS NULL OR CASE WHEN length({column}) = 14 AND {digits} "
        f"THEN ({weighted}) % 10 = 0 ELSE 1 = 0 END"
    )


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (CheckConstraint(gtin14_check_sql("gtin"), name="gtin_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    warranty_months: Mapped[int] = mapped_column(default=0)
    # Attributes a customer may see on the scan page (material, origin, care...).
    public_attributes: Mapped[dict] = mapped_column(default=dict)
    # How serials are made when a batch is serialized; None means the default scheme.
    serial_format: Mapped[str | None] = mapped_column(String(60))
    # Whether labels carry a GS1 Digital Link instead of the short URL (needs a GTIN).
    use_digital_link: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))


class Line(Base):
    __tablename__ = "line"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # What the public scan page may say about the line; the internal name stays inside.
    public_name: Mapped[str | None] = mapped_column(String(200))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)

    site: Mapped[Site | None] = relationship()
    stations: Mapped[list[Station]] = relationship(back_populates="line", order_by="Station.code")


class StationKind(enum.Enum):
    process = "process"
    inspection = "inspection"
    packing = "packing"


class Station(Base):
    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    line_id: Mapped[int] = mapped_column(ForeignKey("line.id"), index=True)
    kind: Mapped[StationKind] = mapped_column(str_enum(StationKind, "station_kind"))

    line: Mapped[Line] = relationship(back_populates="stations")


class Inspector(Base):
    __tablename__ = "inspector"

    id: Mapped[int] = mapped_column(primary_key=True)
    badge: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    qualification: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def masked(self) -> str:
        return mask_badge(self.badge)


def mask_badge(badge: str) -> str:
    """What a public page may show of a badge: all but its last two characters hidden."""
    return "•" * max(len(badge) - 2, 1) + badge[-2:]


class MaterialLot(Base):
    __tablename__ = "material_lot"
    __table_args__ = (UniqueConstraint("supplier", "part_number", "supplier_lot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    part_number: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    supplier: Mapped[str] = mapped_column(String(200))
    supplier_lot: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[dt.date]
    quantity: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(String(16))
