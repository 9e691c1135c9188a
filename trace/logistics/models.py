"""Shipments, what they carried, and their logistics events."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, ForeignKey, Index, String, Table, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from trace.db import Base, partial_index, str_enum
from trace.production.models import Batch
from trace.records import TraceRecord


class ShipmentStatus(enum.Enum):
    shipped = "shipped"
    in_transit = "in_transit"
    delivered = "delivered"
    returned = "returned"


class Shipment(TraceRecord, Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    carrier: Mapped[str] = mapped_column(String(120))
    tracking_number: Mapped[str | None] = mapped_column(String(120), index=True)
    origin: Mapped[str] = mapped_column(String(200))
    destination: Mapped[str] = mapped_column(String(200))
    consignee: Mapped[str] = mapped_column(String(200))
    status: Mapped[ShipmentStatus] = mapped_column(
        str_enum(ShipmentStatus, "shipment_status"), default=ShipmentStatus.shipped
    )
    shipped_at: Mapped[dt.datetime]
    expected_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    # Shipping a held, recalled or failed unit needs an explicit, recorded reason.
    override_reason: Mapped[str | None] = mapped_column(String(500))

    events: Mapped[list[ShipmentEvent]] = relationship(order_by="ShipmentEvent.occurred_at")
    # The whole batches it carried (their items are in shipment_item as well).
    batches: Mapped[list[Batch]] = relationship(
        secondary="shipment_batch", order_by="Batch.id", viewonly=True
    )


class ShipmentItem(Base):
    __tablename__ = "shipment_item"
    __table_args__ = (
        # An item can be in at most one open shipment: the database keeps that promise.
        partial_index("uq_shipment_item_open_item_id", "item_id", where="open", unique=True),
    )

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True, index=True)
    open: Mapped[bool] = mapped_column(default=True)


# How many items the shipment carried; loaded only when asked for.
Shipment.item_count = column_property(
    select(func.count())
    .where(ShipmentItem.shipment_id == Shipment.id)
    .correlate_except(ShipmentItem)
    .scalar_subquery(),
    deferred=True,
)


shipment_batch = Table(
    "shipment_batch",
    Base.metadata,
    Column("shipment_id", ForeignKey("shipment.id"), primary_key=True),
    Column("batch_id", ForeignKey("batch.id"), primary_key=True),
    Index("ix_shipment_batch_batch_id", "batch_id"),
)


class ShipmentEvent(TraceRecord, Base):
    __tablename__ = "shipment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    occurred_at: Mapped[dt.datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ShipmentStatus] = mapped_column(
        str_enum(ShipmentStatus, "shipment_event_status")
    )
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(String(500))
