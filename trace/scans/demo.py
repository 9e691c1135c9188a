"""The demo's stories for the public scan page, on top of trace.demo's batches.

Three units worth scanning:

* a genuine kettle (first unit of lot KT2609A): final inspection with measurements,
  public process parameters, its lot's delivery by SF Express, and a thermostat repair;
* a kettle of the same lot whose code was scanned like a copied label: many scans from
  many clients in the last day, so its page says "suspicious";
* a rice cooker of the recalled lot RC2608B, still on its way to the customer.

Trace records are written with the models directly, each with a fixed event id, so the
stories are marked as loaded by their first record and never written twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from trace.catalog.models import Inspector, Station
from trace.codes import check_character
from trace.db import utcnow
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
    shipment_batch,
)
from trace.production.models import Batch, Item
from trace.quality.models import Inspection, InspectionResult, Measurement, ProcessRecord
from trace.scans.models import Scan, Verdict
from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart

ACTOR = "demo"
_NAMESPACE = uuid.UUID("6f1c9a52-3d0e-4b8a-9a57-2f0c7d1e5b10")
GENUINE_LOT, RECALLED_LOT = "KT2609A", "RC2608B"
# Well formed (its check character is right) and, being all zeros, nobody's code.
UNKNOWN_CODE = "0" * 16 + check_character("0" * 16)


def _event_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)


def _record_columns(name: str) -> dict:
    """What every trace record carries: a fixed event id, its payload hash, who wrote it."""
    event_id = _event_id(name)
    return {
        "event_id": event_id,
        "payload_hash": hashlib.sha256(str(event_id).encode()).hexdigest(),
        "recorded_by": ACTOR,
    }


def is_loaded(session: Session) -> bool:
    marker = _event_id("kettle-final-inspection")
    return session.scalar(select(Inspection.id).where(Inspection.event_id == marker)) is not None


def _first_items(session: Session, lot: str, count: int) -> list[Item]:
    query = (
        select(Item).join(Item.batch).where(Batch.lot_number == lot).order_by(Item.id).limit(count)
    )
    return list(session.scalars(query))


def load_stories(session: Session) -> str:
    """Write the three stories; the caller commits."""
    kettle, copied = _first_items(session, GENUINE_LOT, 2)
    (cooker,) = _first_items(session, RECALLED_LOT, 1)
    now = utcnow().replace(microsecond=0)
    for item in (kettle, cooker):
        # Units were made when their batch ran, not when the demo was loaded.
        made = item.batch.started_at + dt.timedelta(hours=6)
        session.execute(update(Item).where(Item.batch_id == item.batch_id).values(produced_at=made))
        session.expire(item, ["produced_at"])
    stations = {s.code: s for s in session.scalars(select(Station))}
    inspectors = {i.badge: i for i in session.scalars(select(Inspector))}
    _kettle_lot(session, kettle, stations, inspectors, now)
    _kettle_repair(session, kettle, now)
    _copied_label_scans(session, copied, now)
    _recalled_cooker(session, cooker, stations, inspectors, now)
    session.flush()
    return "demo stories loaded: a genuine, a suspicious and a recalled unit (flask demo urls)"


def _kettle_lot(session, kettle: Item, stations, inspectors, now: dt.datetime) -> None:
    made = kettle.batch.started_at + dt.timedelta(hours=6)
    assembly, hipot = stations["NB-A1-ASM"], stations["NB-A1-HIPOT"]
    parameters = [
        ("Element brazing temperature", 836.0, "°C", 820.0, 850.0, True),
        ("Lid hinge torque", 1.9, "N·m", 1.5, 2.5, True),
        ("Leak test pressure drop", 0.6, "kPa", None, 2.0, True),
        ("Conveyor speed", 4.2, "m/min", None, None, False),  # internal: not on the page
    ]
    for number, (name, value, unit, lower, upper, public) in enumerate(parameters):
        session.add(
            ProcessRecord(
                batch_id=kettle.batch_id,
                station_id=assembly.id,
                parameter=name,
                value=value,
                unit=unit,
                lower_limit=lower,
                upper_limit=upper,
                occurred_at=made - dt.timedelta(hours=2, minutes=number),
                is_public=public,
                **_record_columns(f"kettle-lot-parameter-{number}"),
            )
        )
    session.add(
        ProcessRecord(
            item_id=kettle.id,
            station_id=hipot.id,
            parameter="Thermostat cut-off",
            value=100.4,
            unit="°C",
            lower_limit=98.0,
            upper_limit=102.0,
            occurred_at=made - dt.timedelta(minutes=40),
            is_public=True,
            **_record_columns("kettle-thermostat-calibration"),
        )
    )
    _inspection(
        session,
        "kettle-first-inspection",
        kettle,
        hipot,
        inspectors["QC-0231"],
        made - dt.timedelta(minutes=30),
        final=False,
    )
    final = _inspection(
        session,
        "kettle-final-inspection",
        kettle,
        hipot,
        inspectors["QC-0342"],
        made - dt.timedelta(minutes=10),
        final=True,
        notes="Fixture 3 recalibrated before this test",  # internal: never public
    )
    final.measurements = [
        Measurement(name="Leakage current", value=0.12, unit="mA", upper_limit=0.75),
        Measurement(name="Earth resistance", value=0.05, unit="Ω", upper_limit=0.1),
        Measurement(name="Insulation resistance", value=120.0, unit="MΩ", lower_limit=2.0),
    ]
    _delivered_lot_shipment(session, kettle.batch_id, now)


def _inspection(session, name, item, station, inspector, when, *, final, notes=None):
    inspection = Inspection(
        item_id=item.id,
        station_id=station.id,
        inspector_id=inspector.id,
        occurred_at=when,
        result=InspectionResult.passed,
        is_final=final,
        notes=notes,
        **_record_columns(name),
    )
    session.add(inspection)
    return inspection


def _delivered_lot_shipment(session: Session, batch_id: int, now: dt.datetime) -> None:
    shipped = now - dt.timedelta(days=12, hours=3)
    shipment = Shipment(
        number="SH-KT2609A-01",
        carrier="SF Express",
        tracking_number="SF1402668730021",
        origin="Ningbo plant",
        destination="Shanghai distribution centre, Minhang",
        consignee="East China Home Appliances Co.",
        status=ShipmentStatus.delivered,
        shipped_at=shipped,
        expected_at=shipped + dt.timedelta(days=2),
        delivered_at=shipped + dt.timedelta(days=1, hours=20),
        **_record_columns("kettle-lot-shipment"),
    )
    session.add(shipment)
    session.flush()
    session.execute(shipment_batch.insert().values(shipment_id=shipment.id, batch_id=batch_id))
    # A batch's items are in the shipment one by one as well; delivered, so no longer open.
    items = select(Item.id).where(Item.batch_id == batch_id)
    session.execute(
        insert(ShipmentItem).from_select(
            ["shipment_id", "item_id", "open"],
            select(literal(shipment.id), items.subquery().c.id, literal(False)),
        )
    )
    events = [
        (ShipmentStatus.in_transit, "Hangzhou sorting centre", dt.timedelta(hours=9)),
        (ShipmentStatus.in_transit, "Shanghai Minhang depot", dt.timedelta(hours=30)),
        (ShipmentStatus.delivered, "Shanghai, Minhang", dt.timedelta(days=1, hours=20)),
    ]
    for number, (status, location, after) in enumerate(events):
        session.add(
            ShipmentEvent(
                shipment_id=shipment.id,
                occurred_at=shipped + after,
                location=location,
                status=status,
                **_record_columns(f"kettle-lot-shipment-event-{number}"),
            )
        )


def _kettle_repair(session: Session, kettle: Item, now: dt.datetime) -> None:
    repair = Repair(
        item_id=kettle.id,
        technician="Wu Qiang",  # internal: the page never names technicians
        received_at=now - dt.timedelta(days=4),
        completed_at=now - dt.timedelta(days=2),
        symptom="Kettle does not switch off after boiling",
        diagnosis="Thermostat bimetal disc worn",
        action="Replaced the thermostat; boil-dry and auto switch-off tested",
        outcome=RepairOutcome.repaired,
        under_warranty=True,
        **_record_columns("kettle-repair"),
    )
    repair.parts = [
        RepairPart(direction=PartDirection.removed, part_number="THERM-STRIX", lot="SG-0926-117"),
        RepairPart(direction=PartDirection.installed, part_number="THERM-STRIX", lot="SG-1104-020"),
    ]
    session.add(repair)


def _copied_label_scans(session: Session, item: Item, now: dt.datetime) -> None:
    """Forty scans from twelve clients within a day: the pattern of a copied label."""
    for number in range(40):
        client = hashlib.sha256(f"demo-client-{number % 12}".encode()).hexdigest()
        session.add(
            Scan(
                item_id=item.id,
                scanned_at=now - dt.timedelta(hours=23) + dt.timedelta(minutes=30 * number),
                verdict=Verdict.suspicious if number > 6 else Verdict.genuine,
                client_hash=client,
                language="zh-CN",
                user_agent_family="wechat" if number % 3 else "chrome",
            )
        )


def _recalled_cooker(session, cooker: Item, stations, inspectors, now: dt.datetime) -> None:
    made = cooker.batch.started_at + dt.timedelta(hours=6)
    _inspection(
        session,
        "cooker-final-inspection",
        cooker,
        stations["NB-A2-HIPOT"],
        inspectors["QC-0409"],
        made - dt.timedelta(minutes=15),
        final=True,
    )
    shipped = now - dt.timedelta(days=3)
    shipment = Shipment(
        number="SH-RC2608B-07",
        carrier="JD Logistics",
        tracking_number="JDX0031877265",
        origin="Ningbo plant",
        destination="Wuhan, Hongshan district",
        consignee="Hubei Kitchen Retail Ltd.",
        status=ShipmentStatus.in_transit,
        shipped_at=shipped,
        expected_at=now + dt.timedelta(days=1),
        **_record_columns("cooker-shipment"),
    )
    session.add(shipment)
    session.flush()
    session.add(ShipmentItem(shipment_id=shipment.id, item_id=cooker.id))
    session.add(
        ShipmentEvent(
            shipment_id=shipment.id,
            occurred_at=shipped + dt.timedelta(days=1, hours=6),
            location="Wuhan hub",
            status=ShipmentStatus.in_transit,
            **_record_columns("cooker-shipment-event"),
        )
    )


def urls(session: Session, base_url: str) -> list[tuple[str, str]]:
    """The demo's pages worth opening, (what, URL); empty before the demo is loaded."""
    kettles = _first_items(session, GENUINE_LOT, 2)
    cookers = _first_items(session, RECALLED_LOT, 1)
    if len(kettles) < 2 or not cookers:
        return []
    base = base_url.rstrip("/")
    cooker = cookers[0]
    digital_link = f"/01/{cooker.product.gtin}/10/{RECALLED_LOT}/21/{cooker.serial}"
    return [
        ("genuine", f"{base}/s/{kettles[0].code}"),
        ("suspicious", f"{base}/s/{kettles[1].code}"),
        ("recalled", f"{base}/s/{cooker.code}"),
        ("unknown code", f"{base}/s/{UNKNOWN_CODE}"),
        ("by serial (unverified)", f"{base}{digital_link}"),
    ]
