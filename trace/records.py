"""What every immutable trace record shares: a client event id, who and when, and voiding.

Trace records (inspections, process records, shipments and their events, repairs) are
never edited. A correction is a new record that voids the old one with a reason; the
replacement points at the record it replaces, and histories show both.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String, Uuid, update
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from trace.audit.services import audit_write
from trace.db import utcnow
from trace.errors import Conflict, Invalid


class TraceRecord:
    """Columns of an immutable record; mixed into each record model."""

    # The client's idempotency key, unique per record kind; the hash of what was posted
    # tells a harmless retry from a clash.
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(120))
    voided_at: Mapped[dt.datetime | None]
    voided_by: Mapped[str | None] = mapped_column(String(120))
    void_reason: Mapped[str | None] = mapped_column(String(500))

    @declared_attr
    def replaces_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"), unique=True)

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


def void_record(
    session: Session,
    actor: str,
    record: TraceRecord,
    reason: str | None,
    replacement=None,
    reason_field: str = "reason",
) -> TraceRecord:
    """Void `record` with a reason, optionally linking the record that replaces it; audited.

    Refuses to void twice: a voided record stays as it was voided, so the history of a
    correction cannot be rewritten. A missing reason is named as the caller's
    `reason_field` (a correction gives it as `void_reason`).
    """
    if record.is_voided:
        raise _voided_already(record)
    require_reason(reason, reason_field)
    session.flush()  # both records need their ids before they can be linked
    # Only a live record: two clients voiding (or correcting) it at once both read it
    # live on PostgreSQL; the second waits for the first's row lock, then finds it voided.
    values = {"voided_at": utcnow(), "voided_by": actor, "void_reason": reason.strip()}
    model = type(record)
    voided = session.execute(
        update(model).where(model.id == record.id, model.voided_at.is_(None)).values(**values),
        execution_options={"synchronize_session": False},
    )
    if voided.rowcount != 1:
        session.refresh(record)
        raise _voided_already(record)
    for name, value in values.items():
        set_committed_value(record, name, value)
    if replacement is not None:
        replacement.replaces_id = record.id
    audit_write(
        session,
        actor,
        f"{record.__tablename__}.void",
        record,
        {"reason": record.void_reason, "replaced_by": replacement.id if replacement else None},
    )
    return record


def require_reason(reason: str | None, field: str = "reason") -> None:
    """A void needs its reason, named as the caller's `field`."""
    if not reason or not reason.strip():
        raise Invalid("a reason is required to void a record", {field: ["required"]})


def _voided_already(record: TraceRecord) -> Conflict:
    when = record.voided_at.isoformat()
    return Conflict(
        f"record was already voided at {when} ({record.void_reason})",
        {"record": [f"already voided at {when}"]},
    )
