"""A unit with a full story, built straight from the models (the logistics and service
capture has its own tests): what the history and EPCIS tests read back."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tests import factories
from trace.catalog.models import StationKind
from trace.complaints.models import Complaint, ComplaintStatus, Severity
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
    shipment_batch,
)
from trace.production import services as production
from trace.production.models import BatchStatus, ItemComponent, ItemStatus, Scrap
from trace.quality.models import InspectionResult
from trace.records import void_record
from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart

# Personal data of the complaint: none of it may appear in a history or an export.
CONTACT = {
    "contact_name": "Li Xiaoming-PRIVATE",
    "contact_email": "private.person@example.org",
    "contact_phone": "+86 138 0013 8000",
}
DESCRIPTION = "It sparked at 3am, call me on my mobile PRIVATE-TEXT"


def at(day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, tzinfo=dt.UTC)


def record_fields(**overrides) -> dict:
    """What every trace record written directly needs."""
    return {"event_id": uuid.uuid4(), "payload_hash": "x", "recorded_by": "test", **overrides}


@dataclass
class Story:
    product: object
    batch: object
    item: object
    sibling: object
    kit: object
    inspections: dict
    process_records: dict
    shipments: dict
    shipment_events: dict
    repair: object
    complaint: object
    scraps: list


def build_story(session: Session, gtin: bool = True) -> Story:
    """One unit of a GTIN product (or not) with every kind of history event."""
    product = factories.make_product(session, gtin=factories.valid_gtin() if gtin else None)
    line = factories.make_line(session)
    qc = factories.make_station(session, line)
    oven = factories.make_station(session, line, kind=StationKind.process, name="Oven")
    inspector = factories.make_inspector(session)
    lots = [factories.make_material_lot(session) for _ in range(2)]
    batch = factories.make_batch(
        session, product, line, material_lot_ids=[lot.id for lot in lots], started_at=at(1, 6)
    )
    item = factories.make_item(session, batch, produced_at=at(1))
    sibling = factories.make_item(session, batch, produced_at=at(1, 9))
    kit = factories.make_item(session, produced_at=at(6))
    component = factories.make_item(session, produced_at=at(1, 7))
    _genealogy(session, item, component, kit)
    inspections = _inspections(session, item, batch, qc, inspector)
    process_records = _process_records(session, item, batch, oven)
    shipments, shipment_events = _shipments(session, item, sibling, batch)
    repair = _repair(session, item, component)
    production.change_batch_status(session, "test", batch, BatchStatus.released)
    production.change_batch_status(
        session, "test", batch, BatchStatus.on_hold, reason="seal leak complaints"
    )
    complaint = Complaint(
        reference="C-2026-0001",
        token_hash=uuid.uuid4().hex,
        item_id=item.id,
        channel="web",
        category="safety",
        severity=Severity.high,
        description=DESCRIPTION,
        status=ComplaintStatus.investigating,
        created_at=at(20),
        **CONTACT,
    )
    session.add(complaint)
    scraps = _scraps(session, item, qc)
    session.flush()
    return Story(
        product,
        batch,
        item,
        sibling,
        kit,
        inspections,
        process_records,
        shipments,
        shipment_events,
        repair,
        complaint,
        scraps,
    )


def _genealogy(session, item, component, kit) -> None:
    session.add_all(
        [
            ItemComponent(
                item_id=item.id,
                component_item_id=component.id,
                part_number="PUMP-7",
                serial=component.serial,
                installed_at=at(1, 7),
            ),
            ItemComponent(
                item_id=item.id,
                part_number="GASKET-3",
                lot="G-2026-09",
                installed_at=at(1, 7),
                removed_at=at(15),
            ),
            ItemComponent(
                item_id=kit.id,
                component_item_id=item.id,
                part_number="KETTLE",
                serial=item.serial,
                installed_at=at(6),
            ),
        ]
    )
    session.flush()


def _inspections(session, item, batch, qc, inspector) -> dict:
    failed = factories.make_inspection(
        session,
        item,
        qc,
        inspector,
        occurred_at=at(1, 10),
        result=InspectionResult.failed,
        is_final=True,
        defect_codes=["LEAK"],
        measurements=[
            {"name": "leak_current", "value": 0.9, "unit": "mA", "upper_limit": 0.5},
            {"name": "gloss", "value": 80.0, "unit": "GU", "lower_limit": 70.0},
        ],
    )
    rework = factories.make_inspection(
        session, item, qc, inspector, occurred_at=at(1, 11), result=InspectionResult.rework
    )
    passed = factories.make_inspection(
        session,
        item,
        qc,
        inspector,
        occurred_at=at(1, 12),
        is_final=True,
        measurements=[{"name": "leak_current", "value": 0.2, "unit": "mA", "upper_limit": 0.5}],
    )
    sampling = factories.make_inspection(
        session,
        station=qc,
        inspector=inspector,
        item_code=None,
        batch_id=batch.id,
        occurred_at=at(2),
    )
    return {"failed": failed, "rework": rework, "passed": passed, "sampling": sampling}


def _process_records(session, item, batch, oven) -> dict:
    own = factories.make_process_record(
        session,
        batch,
        oven,
        batch_id=None,
        item_code=item.code,
        parameter="torque",
        value=2.5,
        unit="N·m",
        lower_limit=2.0,
        upper_limit=3.0,
        occurred_at=at(1, 9),
    )
    hot = factories.make_process_record(
        session, batch, oven, value=236.5, unit="°C", occurred_at=at(1, 7)
    )
    wrong = factories.make_process_record(
        session,
        batch,
        oven,
        parameter="humidity_ppm",
        value=90.0,
        unit="ppm",
        lower_limit=None,
        upper_limit=100.0,
        occurred_at=at(1, 8),
    )
    fixed = factories.make_process_record(
        session,
        batch,
        oven,
        parameter="humidity_ppm",
        value=9.0,
        unit="ppm",
        lower_limit=None,
        upper_limit=100.0,
        occurred_at=at(1, 8),
        replaces=wrong.id,
        void_reason="decimal point misplaced",
    )
    session.refresh(wrong)
    return {"own": own, "hot": hot, "wrong": wrong, "fixed": fixed}


def _shipments(session, item, sibling, batch):
    """The unit goes on its own (SH-1001, its events logged); the rest of its batch, the
    sibling, goes whole-batch (SH-1002, its delivery only confirmed)."""
    direct = Shipment(
        **record_fields(),
        number="SH-1001",
        carrier="SF Express",
        tracking_number="SF123456789CN",
        origin="Ningbo plant",
        destination="Shanghai DC",
        consignee="Shanghai DC receiving",
        status=ShipmentStatus.delivered,
        shipped_at=at(3),
        expected_at=at(5),
        delivered_at=at(4, 15),
    )
    whole = Shipment(
        **record_fields(),
        number="SH-1002",
        carrier="ZTO",
        origin="Ningbo plant",
        destination="Hangzhou DC",
        consignee="Hangzhou DC",
        status=ShipmentStatus.delivered,
        shipped_at=at(3, 9),
        delivered_at=at(5, 10),
    )
    session.add_all([direct, whole])
    session.flush()
    session.add(ShipmentItem(shipment_id=direct.id, item_id=item.id, open=False))
    session.execute(shipment_batch.insert().values(shipment_id=whole.id, batch_id=batch.id))
    session.add(ShipmentItem(shipment_id=whole.id, item_id=sibling.id, open=False))
    departed = _logged(direct, at(3), ShipmentStatus.shipped, "Ningbo")
    moving = _logged(direct, at(4, 2), ShipmentStatus.in_transit, "Jiaxing hub")
    delivered = _logged(direct, at(4, 15), ShipmentStatus.delivered, "Shanghai")
    session.add_all([departed, moving, delivered])
    session.flush()
    corrected = _logged(direct, at(4, 3), ShipmentStatus.in_transit, "Jiaxing sorting centre")
    session.add(corrected)
    session.flush()
    void_record(session, "test", moving, "wrong hub", replacement=corrected)
    session.flush()
    events = {"departed": departed, "moving": moving, "corrected": corrected}
    events["delivered"] = delivered
    return {"direct": direct, "whole": whole}, events


def _logged(shipment, when, status, location) -> ShipmentEvent:
    return ShipmentEvent(
        **record_fields(),
        shipment_id=shipment.id,
        occurred_at=when,
        status=status,
        location=location,
    )


def _repair(session, item, component) -> Repair:
    spare = factories.make_item(session, produced_at=at(10))
    repair = Repair(
        **record_fields(),
        item_id=item.id,
        technician="Zhang Wei",
        received_at=at(16),
        completed_at=at(17),
        symptom="does not heat",
        diagnosis="pump seized",
        action="replaced pump",
        outcome=RepairOutcome.repaired,
        under_warranty=True,
    )
    session.add(repair)
    session.flush()
    session.add_all(
        [
            RepairPart(
                repair_id=repair.id,
                direction=PartDirection.removed,
                part_number="PUMP-7",
                serial=component.serial,
                component_item_id=component.id,
            ),
            RepairPart(
                repair_id=repair.id,
                direction=PartDirection.installed,
                part_number="PUMP-7",
                serial=spare.serial,
                component_item_id=spare.id,
            ),
        ]
    )
    session.flush()
    return repair


def _scraps(session, item, station) -> list:
    """The unit is scrapped at last: once with the wrong reason, then corrected."""
    wrong = Scrap(item_id=item.id, occurred_at=at(25), reason="Cracked lid", **record_fields())
    session.add(wrong)
    session.flush()
    void_record(session, "test", wrong, "the lid was fine")
    right = Scrap(
        item_id=item.id,
        station_id=station.id,
        occurred_at=at(25, 9),
        reason="Heating element burnt out",
        replaces_id=wrong.id,
        **record_fields(),
    )
    session.add(right)
    item.status = ItemStatus.scrapped
    return [wrong, right]
