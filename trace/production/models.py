"""Batches (lots), the material lots they consume, items and their components."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace.catalog.models import Line, MaterialLot, Product, Station
from trace.db import Base, partial_index, str_enum, utcnow
from trace.records import TraceRecord


class BatchStatus(enum.Enum):
    open = "open"
    released = "released"
    on_hold = "on_hold"
    recalled = "recalled"
    closed = "closed"


batch_material = Table(
    "batch_material",
    Base.metadata,
    Column("batch_id", ForeignKey("batch.id"), primary_key=True),
    Column("material_lot_id", ForeignKey("material_lot.id"), primary_key=True),
    # "Which batches used this material lot?" is the first question of a supplier recall.
    Index("ix_batch_material_material_lot_id", "material_lot_id"),
)


class Batch(Base):
    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("product_id", "lot_number"),
        CheckConstraint("planned_quantity >= 0", name="planned_quantity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot_number: Mapped[str] = mapped_column(String(20))
    line_id: Mapped[int] = mapped_column(ForeignKey("line.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(
        str_enum(BatchStatus, "batch_status"), default=BatchStatus.open
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    planned_quantity: Mapped[int] = mapped_column(default=0)
    # The last sequence number the serial scheme handed out in this batch.
    serial_sequence: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()
    line: Mapped[Line] = relationship()
    material_lots: Mapped[list[MaterialLot]] = relationship(
        secondary=batch_material, order_by=MaterialLot.id
    )


class ItemStatus(enum.Enum):
    produced = "produced"
    failed = "failed"  # failed final inspection: quarantined until reworked or scrapped
    shipped = "shipped"
    delivered = "delivered"
    in_repair = "in_repair"
    scrapped = "scrapped"


class Item(Base):
    """One manufactured unit: its human-readable serial and its public, unguessable code."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("product_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), index=True)
    serial: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[ItemStatus] = mapped_column(
        str_enum(ItemStatus, "item_status"), default=ItemStatus.produced
    )
    produced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()
    batch: Mapped[Batch] = relationship()


LIVE_PART = "removed_at IS NULL AND component_item_id IS NOT NULL"


class ItemComponent(Base):
    """Unit-to-unit genealogy: a component (by serial, or a tracked item) inside an item."""

    __tablename__ = "item_component"
    __table_args__ = (
        # A tracked part is inside one unit at a time: two repairs installing it into two
        # units at once cannot both commit (the loser is retried and refused).
        partial_index(
            "uq_item_component_live_part", "component_item_id", where=LIVE_PART, unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    component_item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)
    part_number: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str | None] = mapped_column(String(64))
    lot: Mapped[str | None] = mapped_column(String(64))
    installed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[dt.datetime | None]
    # The repairs that put the component in and took it out, if it was a repair: voiding
    # one of them undoes exactly its part of the genealogy.
    installed_by_repair_id: Mapped[int | None] = mapped_column(ForeignKey("repair.id"), index=True)
    removed_by_repair_id: Mapped[int | None] = mapped_column(ForeignKey("repair.id"), index=True)
    # The scrap of this item that salvaged the component (took it out, to be used again).
    removed_by_scrap_id: Mapped[int | None] = mapped_column(ForeignKey("scrap.id"), index=True)

    component: Mapped[Item | None] = relationship(foreign_keys=[component_item_id])


class Scrap(TraceRecord, Base):
    """A unit taken out of existence: destroyed or written off, with the reason.

    A unit is scrapped while a live scrap record says so; voiding the record gives it back
    the status its other records give (trace.production.status).
    """

    __tablename__ = "scrap"
    __table_args__ = (
        Index("ix_scrap_item_id_occurred_at", "item_id", "occurred_at"),
        # A unit has at most one live scrap: two clients scrapping it at once cannot both
        # win, whatever the isolation level (the loser is retried and finds it scrapped).
        partial_index("uq_scrap_live_item_id", "item_id", where="voided_at IS NULL", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    # Where it was scrapped, if at a station of a line; service scraps units elsewhere.
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"))
    occurred_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(String(500))
    # A tracked part left inside a unit when the unit was scrapped goes with it: its own
    # scrap points at the unit's, and stands or falls with it.
    inside_scrap_id: Mapped[int | None] = mapped_column(ForeignKey("scrap.id"), index=True)

    item: Mapped[Item] = relationship()
    station: Mapped[Station | None] = relationship()
    parts_scrapped: Mapped[list[Scrap]] = relationship(
        foreign_keys=[inside_scrap_id], order_by="Scrap.id", viewonly=True
    )
    salvaged: Mapped[list[ItemComponent]] = relationship(
        foreign_keys=[ItemComponent.removed_by_scrap_id], order_by="ItemComponent.id", viewonly=True
    )
