"""Repairs and the parts they removed and installed."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace.db import Base, partial_index, str_enum
from trace.production.models import Item
from trace.records import TraceRecord


class RepairOutcome(enum.Enum):
    repaired = "repaired"
    replaced = "replaced"
    no_fault_found = "no_fault_found"
    not_repairable = "not_repairable"
    pending = "pending"


OPEN_REPAIR = "completed_at IS NULL AND voided_at IS NULL"


class Repair(TraceRecord, Base):
    __tablename__ = "repair"
    __table_args__ = (
        Index("ix_repair_item_id_received_at", "item_id", "received_at"),
        # A unit is in one open repair at a time: two intakes at once cannot both commit.
        partial_index("uq_repair_open_item_id", "item_id", where=OPEN_REPAIR, unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    technician: Mapped[str] = mapped_column(String(120))
    received_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    symptom: Mapped[str] = mapped_column(Text)
    diagnosis: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[RepairOutcome] = mapped_column(str_enum(RepairOutcome, "repair_outcome"))
    under_warranty: Mapped[bool]
    warranty_override_reason: Mapped[str | None] = mapped_column(String(500))

    item: Mapped[Item] = relationship()
    parts: Mapped[list[RepairPart]] = relationship(order_by="RepairPart.id")


class PartDirection(enum.Enum):
    removed = "removed"
    installed = "installed"


class RepairPart(Base):
    __tablename__ = "repair_part"

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repair.id"), index=True)
    direction: Mapped[PartDirection] = mapped_column(str_enum(PartDirection, "part_direction"))
    part_number: Mapped[str] = mapped_column(String(64))
    serial: Mapped[str | None] = mapped_column(String(64))
    lot: Mapped[str | None] = mapped_column(String(64))
    # Set when the part is itself a tracked item: the genealogy follows it.
    component_item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"), index=True)

    component_item: Mapped[Item | None] = relationship()
