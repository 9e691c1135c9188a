"""Inspections with their measurements, and process records with specification limits."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, and_, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace.catalog.models import Inspector, Station
from trace.db import Base, partial_index, str_enum
from trace.records import TraceRecord

# Exactly one subject: a record is about one item, or about a batch as a whole (sampling).
ONE_SUBJECT = "(item_id IS NULL) <> (batch_id IS NULL)"


def batch_index(table: str) -> Index:
    """Records of a batch as a whole, by time; item records (nearly all) are left out.

    Only `batch_id = ...` looks a record up by batch, which a NULL never matches: indexing
    the NULLs of every item record would only make each insert dearer.
    """
    return partial_index(
        f"ix_{table}_batch_id_occurred_at", "batch_id", "occurred_at", where="batch_id IS NOT NULL"
    )


class InspectionResult(enum.Enum):
    passed = "pass"
    failed = "fail"
    rework = "rework"


class Inspection(TraceRecord, Base):
    __tablename__ = "inspection"
    __table_args__ = (
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
        Index("ix_inspection_item_id_occurred_at", "item_id", "occurred_at"),
        batch_index("inspection"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    # Not indexed: inspections are never looked up by inspector, and inspectors are never
    # deleted (they are deactivated), so no foreign key check needs it either.
    inspector_id: Mapped[int] = mapped_column(ForeignKey("inspector.id"))
    occurred_at: Mapped[dt.datetime]
    result: Mapped[InspectionResult] = mapped_column(
        str_enum(InspectionResult, "inspection_result")
    )
    # A final inspection decides whether the unit may leave the factory.
    is_final: Mapped[bool] = mapped_column(default=False)
    defect_codes: Mapped[list] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(String(1000))

    station: Mapped[Station] = relationship()
    inspector: Mapped[Inspector] = relationship()
    measurements: Mapped[list[Measurement]] = relationship(
        order_by="Measurement.id", cascade="all, delete-orphan"
    )


class Measurement(Base):
    __tablename__ = "measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    unit: Mapped[str | None] = mapped_column(String(16))
    lower_limit: Mapped[float | None]
    upper_limit: Mapped[float | None]


class ProcessRecord(TraceRecord, Base):
    """One process parameter's value, for a batch or an item, under its specification limits."""

    __tablename__ = "process_record"
    __table_args__ = (
        CheckConstraint(ONE_SUBJECT, name="one_subject"),
        Index("ix_process_record_item_id_occurred_at", "item_id", "occurred_at"),
        batch_index("process_record"),
        Index("ix_process_record_parameter_occurred_at", "parameter", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    parameter: Mapped[str] = mapped_column(String(64))
    value: Mapped[float]
    unit: Mapped[str | None] = mapped_column(String(16))
    lower_limit: Mapped[float | None]
    upper_limit: Mapped[float | None]
    occurred_at: Mapped[dt.datetime]
    # Whether the scan page may show this parameter to customers.
    is_public: Mapped[bool] = mapped_column(default=False)

    station: Mapped[Station] = relationship()

    @hybrid_property
    def in_spec(self) -> bool:
        """Derived, never stored: the value lies within whichever limits are set."""
        above = self.lower_limit is None or self.value >= self.lower_limit
        below = self.upper_limit is None or self.value <= self.upper_limit
        return above and below

    @in_spec.inplace.expression
    @classmethod
    def _in_spec_expression(cls):
        return and_(
            or_(cls.lower_limit.is_(None), cls.value >= cls.lower_limit),
            or_(cls.upper_limit.is_(None), cls.value <= cls.upper_limit),
        )
