"""The demo's stories for the public scan page, on top of trace.demo's batches.

Three units worth scanning:

* a genuine kettle (first unit of lot KT2609A): final inspection with measurements,
  public process parameters, its lot's delivery by SF Express, and a thermostat repair;
* a kettle of the same lot whose code was scanned like a copied label: many scans from
  many clients in the last day, so its page says "suspicious";
* a rice cooker of the recalled lot RC2608B, still on its way to the customer.

Every record goes through the capture services (so the audit trail has it) with a fixed
event id; the stories are marked as loaded by their first record and written once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace.auth.models import Role
from trace.auth.services import Principal
from trace.codes import check_character
from trace.db import utcnow
from trace.logistics import services as logistics
from trace.logistics.models import ShipmentStatus
from trace.production.models import Batch, Item
from trace.quality import services as quality
from trace.quality.models import Inspection, InspectionResult
from trace.scans.models import Scan, Verdict
from trace.scans.services import record_scan
from trace.service import services as service
from trace.service.models import PartDirection, RepairOutcome

DEMO = Principal("demo", Role.admin)
_NAMESPACE = uuid.UUID("6f1c9a52-3d0e-4b8a-9a57-2f0c7d1e5b10")
GENUINE_LOT, RECALLED_LOT = "KT2609A", "RC2608B"
# Well formed (its check character is right) and, being all zeros, nobody's code.
UNKNOWN_CODE = "0" * 16 + check_character("0" * 16)
# Keys the demo's client hashes; they only need to be distinct from one another.
DEMO_SCAN_SECRET = "demo"
COPIED_LABEL_SCANS = 40


def _event_id(name: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, name)


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
    _kettle_lot(session, kettle)
    _delivered_lot_shipment(session, kettle.batch_id, now)
    _kettle_repair(session, kettle, now)
    _copied_label_scans(session, copied, now)
    _recalled_cooker(session, cooker, now)
    session.flush()
    return "demo stories loaded: a genuine, a suspicious and a recalled unit (flask demo urls)"


def _kettle_lot(session: Session, kettle: Item) -> None:
    made = kettle.produced_at
    parameters = [
        ("Element brazing temperature", 836.0, "°C", 820.0, 850.0, True),
        ("Lid hinge torque", 1.9, "N·m", 1.5, 2.5, True),
        ("Leak test pressure drop", 0.6, "kPa", None, 2.0, True),
        ("Conveyor speed", 4.2, "m/min", None, None, False),  # internal: not on the page
    ]
    records = [
        {
            "event_id": _event_id(f"kettle-lot-parameter-{number}"),
            "batch_id": kettle.batch_id,
            "station": "NB-A1-ASM",
            "parameter": name,
            "value": value,
            "unit": unit,
            "lower_limit": lower,
            "upper_limit": upper,
            "occurred_at": made - dt.timedelta(hours=2, minutes=number),
            "is_public": public,
        }
        for number, (name, value, unit, lower, upper, public) in enumerate(parameters)
    ]
    records.append(
        {
            "event_id": _event_id("kettle-thermostat-calibration"),
            "item_code": kettle.code,
            "station": "NB-A1-HIPOT",
            "parameter": "Thermostat cut-off",
            "value": 100.4,
            "unit": "°C",
            "lower_limit": 98.0,
            "upper_limit": 102.0,
            "occurred_at": made - dt.timedelta(minutes=40),
            "is_public": True,
        }
    )
    quality.record_process_records(session, DEMO, records)
    first = _inspection(
        "kettle-first-inspection",
        kettle,
        "NB-A1-HIPOT",
        "QC-0231",
        made - dt.timedelta(minutes=30),
        final=False,
    )
    final = _inspection(
        "kettle-final-inspection",
        kettle,
        "NB-A1-HIPOT",
        "QC-0342",
        made - dt.timedelta(minutes=10),
        final=True,
        notes="Fixture 3 recalibrated before this test",
    )  # internal: never public
    final["measurements"] = [
        {"name": "Leakage current", "value": 0.12, "unit": "mA", "upper_limit": 0.75},
        {"name": "Earth resistance", "value": 0.05, "unit": "Ω", "upper_limit": 0.1},
        {"name": "Insulation resistance", "value": 120.0, "unit": "MΩ", "lower_limit": 2.0},
    ]
    quality.record_inspections(session, DEMO, [first, final])


def _inspection(name, item, station, badge, when, *, final, notes=None) -> dict:
    return {
        "event_id": _event_id(name),
        "item_code": item.code,
        "station": station,
        "inspector": badge,
        "occurred_at": when,
        "result": InspectionResult.passed,
        "is_final": final,
        "notes": notes,
    }


def _delivered_lot_shipment(session: Session, batch_id: int, now: dt.datetime) -> None:
    """The whole lot went to Shanghai by SF Express and was delivered."""
    shipped = now - dt.timedelta(days=12, hours=3)
    logistics.record_shipments(
        session,
        DEMO,
        [
            {
                "event_id": _event_id("kettle-lot-shipment"),
                "number": "SH-KT2609A-01",
                "carrier": "SF Express",
                "tracking_number": "SF1402668730021",
                "origin": "Ningbo plant",
                "destination": "Shanghai distribution centre, Minhang",
                "consignee": "East China Home Appliances Co.",
                "shipped_at": shipped,
                "expected_at": shipped + dt.timedelta(days=2),
                "batch_ids": [batch_id],
            }
        ],
    )
    events = [
        (ShipmentStatus.in_transit, "Hangzhou sorting centre", dt.timedelta(hours=9)),
        (ShipmentStatus.in_transit, "Shanghai Minhang depot", dt.timedelta(hours=30)),
        (ShipmentStatus.delivered, "Shanghai, Minhang", dt.timedelta(days=1, hours=20)),
    ]
    logistics.record_shipment_events(
        session,
        DEMO,
        [
            {
                "event_id": _event_id(f"kettle-lot-shipment-event-{number}"),
                "shipment_number": "SH-KT2609A-01",
                "occurred_at": shipped + after,
                "status": status,
                "location": location,
            }
            for number, (status, location, after) in enumerate(events)
        ],
    )


def _kettle_repair(session: Session, kettle: Item, now: dt.datetime) -> None:
    service.record_repairs(
        session,
        DEMO,
        [
            {
                "event_id": _event_id("kettle-repair"),
                "item_code": kettle.code,
                "technician": "Wu Qiang",  # internal: the page never names technicians
                "received_at": now - dt.timedelta(days=4),
                "completed_at": now - dt.timedelta(days=2),
                "symptom": "Kettle does not switch off after boiling",
                "diagnosis": "Thermostat bimetal disc worn",
                "action": "Replaced the thermostat; boil-dry and auto switch-off tested",
                "outcome": RepairOutcome.repaired,
                "parts": [
                    {
                        "direction": PartDirection.removed,
                        "part_number": "THERM-STRIX",
                        "lot": "SG-0926-117",
                    },
                    {
                        "direction": PartDirection.installed,
                        "part_number": "THERM-STRIX",
                        "lot": "SG-1104-020",
                    },
                ],
            }
        ],
    )


def refresh_copied_label(session: Session) -> str | None:
    """Scan the copied label again once its scans have aged: a unit is suspicious only for
    scans within the window (72 hours by default), and `make run` is run again on later
    days. Returns what was done, or None when its scans are still fresh."""
    _, copied = _first_items(session, GENUINE_LOT, 2)
    now = utcnow().replace(microsecond=0)
    fresh = session.scalar(
        select(func.count())
        .select_from(Scan)
        .where(Scan.item_id == copied.id, Scan.scanned_at >= now - dt.timedelta(hours=24))
    )
    if fresh >= COPIED_LABEL_SCANS:
        return None
    _copied_label_scans(session, copied, now)
    session.flush()
    return "demo: the copied label was scanned again, so its page stays suspicious"


def _copied_label_scans(session: Session, item: Item, now: dt.datetime) -> None:
    """Forty scans from twelve clients within a day: the pattern of a copied label."""
    for number in range(COPIED_LABEL_SCANS):
        record_scan(
            session,
            item,
            Verdict.suspicious if number > 6 else Verdict.genuine,
            f"198.51.100.{number % 12}",  # a documentation range: nobody's address
            "zh-CN",
            "Mozilla/5.0 MicroMessenger/8.0" if number % 3 else "Mozilla/5.0 Chrome/120.0",
            secret=DEMO_SCAN_SECRET,
            scanned_at=now - dt.timedelta(hours=23) + dt.timedelta(minutes=30 * number),
        )


def _recalled_cooker(session: Session, cooker: Item, now: dt.datetime) -> None:
    """Inspected and on its way to a shop when its lot was recalled."""
    quality.record_inspections(
        session,
        DEMO,
        [
            _inspection(
                "cooker-final-inspection",
                cooker,
                "NB-A2-HIPOT",
                "QC-0409",
                cooker.produced_at - dt.timedelta(minutes=15),
                final=True,
            )
        ],
    )
    shipped = now - dt.timedelta(days=3)
    logistics.record_shipments(
        session,
        DEMO,
        [
            {
                "event_id": _event_id("cooker-shipment"),
                "number": "SH-RC2608B-07",
                "carrier": "JD Logistics",
                "tracking_number": "JDX0031877265",
                "origin": "Ningbo plant",
                "destination": "Wuhan, Hongshan district",
                "consignee": "Hubei Kitchen Retail Ltd.",
                "shipped_at": shipped,
                "expected_at": now + dt.timedelta(days=1),
                "item_codes": [cooker.code],
                # The demo recalls the lot before this story; in the story the unit left first.
                "override_reason": "left the plant before the recall of lot RC2608B",
            }
        ],
    )
    logistics.record_shipment_events(
        session,
        DEMO,
        [
            {
                "event_id": _event_id("cooker-shipment-event"),
                "shipment_number": "SH-RC2608B-07",
                "occurred_at": shipped + dt.timedelta(days=1, hours=6),
                "status": ShipmentStatus.in_transit,
                "location": "Wuhan hub",
            }
        ],
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
