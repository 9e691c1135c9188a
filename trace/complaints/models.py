"""Complaints, their updates, and corrective actions (CAPA) linked to complaints and batches."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trace.db import Base, str_enum, utcnow


class ComplaintStatus(enum.Enum):
    received = "received"
    acknowledged = "acknowledged"
    investigating = "investigating"
    resolved = "resolved"
    closed = "closed"
    rejected = "rejected"


class Severity(enum.Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Complaint(Base):
    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_item_id_status", "item_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public reference the customer quotes; the tracking token is secret and stored hashed.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    # A complaint about a code no item has (a suspected counterfeit) keeps the code as
    # scanned instead; one about an item has no need of it.
    scanned_code: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[Severity] = mapped_column(
        str_enum(Severity, "complaint_severity"), default=Severity.medium
    )
    description: Mapped[str] = mapped_column(Text)
    # Personal data: never public, never logged.
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    photo_path: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus, "complaint_status"), default=ComplaintStatus.received, index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    root_cause: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    updates: Mapped[list[ComplaintUpdate]] = relationship(order_by="ComplaintUpdate.created_at")


class ComplaintUpdate(Base):
    __tablename__ = "complaint_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    author: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # Public updates appear on the customer's tracking page; others are internal notes.
    public: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ComplaintStatus | None] = mapped_column(
        str_enum(ComplaintStatus, "complaint_update_status")
    )


class CorrectiveActionStatus(enum.Enum):
    open = "open"
    in_progress = "in_progress"
    verifying = "verifying"
    closed = "closed"


corrective_action_complaint = Table(
    "corrective_action_complaint",
    Base.metadata,
    Column("corrective_action_id", ForeignKey("corrective_action.id"), primary_key=True),
    Column("complaint_id", ForeignKey("complaint.id"), primary_key=True),
    Index("ix_corrective_action_complaint_complaint_id", "complaint_id"),
)

corrective_action_batch = Table(
    "corrective_action_batch",
    Base.metadata,
    Column("corrective_action_id", ForeignKey("corrective_action.id"), primary_key=True),
    Column("batch_id", ForeignKey("batch.id"), primary_key=True),
    Index("ix_corrective_action_batch_batch_id", "batch_id"),
)


class CorrectiveAction(Base):
    __tablename__ = "corrective_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CorrectiveActionStatus] = mapped_column(
        str_enum(CorrectiveActionStatus, "corrective_action_status"),
        default=CorrectiveActionStatus.open,
    )
    owner: Mapped[str | None] = mapped_column(String(120))
    due_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
