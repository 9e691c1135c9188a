"""Trace records for the scan page's tests, written with the models directly.

The capture services are another area's; the scan page only reads what they write, so its
tests write the same rows themselves. Each helper takes what a test cares about and
fills in a valid rest (every trace record needs an event id, a payload hash and who).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
    shipment_batch,
)
from trace.production.models import Item
from trace.quality.models import Inspection, InspectionResult, Measurement, ProcessRecord
from trace.scans.models import Scan, Verdict
from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart

T0 = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)


def record_columns() -> dict:
    event_id = uuid.uuid4()
    return {
        "event_id": event_id,
        "payload_hash": hashlib.sha256(event_id.bytes).hexdigest(),
        "recorded_by": "test",
    }


def voided() -> dict:
    return {"voided_at": T0, "voided_by": "test", "void_reason": "wrong unit scanned"}


def add(session: Session, record):
    session.add(record)
    session.flush()
    return record


def inspection(
    session: Session,
    item: Item | None = None,
    *,
    batch=None,
    result: InspectionResult = InspectionResult.passed,
    final: bool = False,
    at: dt.datetime = T0,
    inspector=None,
    measurements: list[Measurement] = (),
    **extra,
) -> Inspection:
    inspector = inspector or factories.make_inspector(session, name="Wang Fang")
    return add(
        session,
        Inspection(
            item_id=item.id if item is not None else None,
            batch_id=batch.id if batch is not None else None,
            station_id=factories.make_station(session).id,
            inspector_id=inspector.id,
            occurred_at=at,
            result=result,
            is_final=final,
            measurements=list(measurements),
            **record_columns(),
            **extra,
        ),
    )


def process_record(
    session: Session,
    item: Item | None = None,
    *,
    batch=None,
    parameter: str = "Brazing temperature",
    value: float = 836.0,
    lower: float | None = 820.0,
    upper: float | None = 850.0,
    public: bool = True,
    at: dt.datetime = T0,
    **extra,
) -> ProcessRecord:
    return add(
        session,
        ProcessRecord(
            item_id=item.id if item is not None else None,
            batch_id=batch.id if batch is not None else None,
            station_id=factories.make_station(session).id,
            parameter=parameter,
            value=value,
            unit="°C",
            lower_limit=lower,
            upper_limit=upper,
            occurred_at=at,
            is_public=public,
            **record_columns(),
            **extra,
        ),
    )


def shipment(
    session: Session,
    *,
    items: list[Item] = (),
    batches: list = (),
    status: ShipmentStatus = ShipmentStatus.shipped,
    shipped_at: dt.datetime = T0,
    delivered_at: dt.datetime | None = None,
    events: list[tuple[ShipmentStatus, dt.datetime, str | None]] = (),
    **extra,
) -> Shipment:
    data = {
        "number": factories.unique("SH-"),
        "carrier": "SF Express",
        "tracking_number": "SF1402668730021",
        "origin": "Ningbo plant",
        "destination": "Room 1203, 88 Private Road, Shanghai",
        "consignee": "Zhang San",
        "status": status,
        "shipped_at": shipped_at,
        "delivered_at": delivered_at,
    }
    data.update(extra)
    record = add(session, Shipment(**data, **record_columns()))
    for item in items:
        session.add(ShipmentItem(shipment_id=record.id, item_id=item.id, open=False))
    for batch in batches:
        # As the domain ships a whole batch: the link, and each of its units listed.
        session.execute(shipment_batch.insert().values(shipment_id=record.id, batch_id=batch.id))
        listed = {item.id for item in items}
        for unit in session.scalars(select(Item).where(Item.batch_id == batch.id)):
            if unit.id not in listed:
                session.add(ShipmentItem(shipment_id=record.id, item_id=unit.id, open=False))
    for event_status, at, location in events:
        session.add(
            ShipmentEvent(
                shipment_id=record.id,
                occurred_at=at,
                location=location,
                status=event_status,
                note="driver called the customer",
                **record_columns(),
            )
        )
    session.flush()
    session.expire(record, ["events"])
    return record


def repair(
    session: Session,
    item: Item,
    *,
    received_at: dt.datetime = T0,
    completed_at: dt.datetime | None = None,
    action: str | None = "Replaced the thermostat",
    outcome: RepairOutcome = RepairOutcome.repaired,
    parts: list[tuple[PartDirection, str]] = (),
    **extra,
) -> Repair:
    record = Repair(
        item_id=item.id,
        technician="Technician Wu Qiang",
        received_at=received_at,
        completed_at=completed_at,
        symptom="does not switch off",
        diagnosis="thermostat worn",
        action=action,
        outcome=outcome,
        under_warranty=True,
        **record_columns(),
        **extra,
    )
    record.parts = [
        RepairPart(direction=direction, part_number=number, serial="PART-SERIAL-1")
        for direction, number in parts
    ]
    return add(session, record)


def scans(
    session: Session, item: Item, at: list[dt.datetime], clients: list[str] | None = None
) -> None:
    """Recorded scans of `item` at these times, from these client hashes (one by default)."""
    clients = clients or ["a" * 64]
    for number, scanned_at in enumerate(at):
        session.add(
            Scan(
                item_id=item.id,
                scanned_at=scanned_at,
                verdict=Verdict.genuine,
                client_hash=clients[number % len(clients)],
            )
        )
    session.flush()
