"""The demo's production and after-sales records, written through the capture services.

On lots the scan-page stories leave alone: KT2610A (kettles) gets final inspections with
failures, reworks, a quarantined unit and one scrapped, and a brazing-temperature log
whose window went over the upper limit; HD2610A (hair dryers) gets its inspections, three
shipments to consignees in Beijing, Guangzhou and Chengdu with tracking events, and
repairs: one with a replaced motor, one finding no fault, and two units beyond repair,
scrapped by the service centre. Both had had their heater replaced by a spare module with
a code of its own (HM2610A): the drowned one's module is salvaged for reuse, the burnt
one's goes with its dryer. Event ids are derived from names, so the records are stable.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace.auth.models import Role
from trace.auth.services import Principal
from trace.logistics import services as logistics
from trace.logistics.models import ShipmentStatus
from trace.production import scrapping
from trace.production.models import Batch, Item
from trace.quality import services as quality
from trace.quality.models import InspectionResult
from trace.service import services as service
from trace.service.models import PartDirection, RepairOutcome

DEMO = Principal("demo", Role.admin)
NAMESPACE = uuid.UUID("0b8f6a3e-2c41-4d7e-9f15-7a3c9e2d5b61")
HOUR = dt.timedelta(hours=1)
SHIPMENTS = [
    # number, carrier, tracking, item range, destination, consignee,
    # events as (hours after shipping, status, place)
    (
        "SH-HD2610A-01",
        "JD Logistics",
        "JDX0001829384",
        (0, 20),
        "Beijing, Daxing",
        "North China Retail Co.",
        [(10, "in_transit", "Tianjin hub"), (30, "delivered", "Beijing, Daxing")],
    ),
    (
        "SH-HD2610A-02",
        "Cainiao",
        "CN7712093311",
        (20, 35),
        "Guangzhou, Baiyun",
        "Pearl River Appliances Ltd.",
        [(14, "in_transit", "Changsha hub")],
    ),
    (
        "SH-HD2610A-03",
        "ZTO Express",
        "ZTO55120984",
        (35, 45),
        "Chengdu, Shuangliu",
        "Sichuan Home Electric",
        [],
    ),
]


def event_id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def load_records(session: Session) -> str:
    """Write the records; the caller commits. Needs trace.demo's batches."""
    kettles, dryers = _lot(session, "KT2610A"), _lot(session, "HD2610A")
    modules = _lot(session, "HM2610A")
    _kettle_inspections(session, kettles)
    _brazing_log(session, kettles[0].batch)
    _dryer_inspections(session, dryers)
    shipped = _dryer_shipments(session, dryers)
    _dryer_repairs(session, dryers, modules, shipped)
    _scraps(session, kettles, dryers, modules, shipped)
    return "demo records loaded: inspections, an out-of-spec window, shipments, repairs, scraps"


def _lot(session: Session, lot_number: str) -> list[Item]:
    query = select(Item).join(Item.batch).where(Batch.lot_number == lot_number).order_by(Item.id)
    return list(session.scalars(query))


def _made(item: Item) -> dt.datetime:
    return item.produced_at


def _final(name, item, station, result, when, defects=(), inspector="QC-0342"):
    return {
        "event_id": event_id(name),
        "item_code": item.code,
        "station": station,
        "inspector": inspector,
        "occurred_at": when,
        "result": result,
        "is_final": True,
        "defect_codes": list(defects),
        "measurements": [
            {
                "name": "Leakage current",
                "value": 0.92 if defects else 0.14,
                "unit": "mA",
                "upper_limit": 0.75,
            },
            {"name": "Earth resistance", "value": 0.04, "unit": "Ω", "upper_limit": 0.1},
        ],
    }


def _kettle_inspections(session: Session, kettles: list[Item]) -> None:
    """Units 5-9 fail hi-pot, go to rework and pass; units 10 and 11 stay quarantined
    (11 is scrapped later: _scraps)."""
    station, records = "NB-A1-HIPOT", []
    for n, kettle in enumerate(kettles[:60], start=1):
        first = _made(kettle) + 2 * HOUR
        failing = 5 <= n <= 11
        result = InspectionResult.failed if failing else InspectionResult.passed
        records.append(
            _final(
                f"kt-final-{n}", kettle, station, result, first, ["HIPOT-LEAK"] if failing else ()
            )
        )
        if 5 <= n <= 9:
            rework = {
                **_final(f"kt-rework-{n}", kettle, station, InspectionResult.rework, first + HOUR),
                "is_final": False,
                "notes": "re-seated element",
            }
            records += [
                rework,
                _final(
                    f"kt-repass-{n}", kettle, station, InspectionResult.passed, first + 3 * HOUR
                ),
            ]
    quality.record_inspections(session, DEMO, records)


def _brazing_log(session: Session, batch: Batch) -> None:
    """Element brazing temperature every half hour; the ovens ran hot for an hour and a half."""
    start = batch.started_at
    records = []
    for n in range(16):
        hot = 6 <= n <= 8
        records.append(
            {
                "event_id": event_id(f"kt-brazing-{n}"),
                "batch_id": batch.id,
                "station": "NB-A1-ASM",
                "parameter": "element_brazing_temp",
                "value": 861.5 + n if hot else 836.0 + (n % 3),
                "unit": "°C",
                "lower_limit": 820.0,
                "upper_limit": 850.0,
                "is_public": True,
                "occurred_at": start + n * HOUR / 2,
            }
        )
    quality.record_process_records(session, DEMO, records)


def _dryer_inspections(session: Session, dryers: list[Item]) -> None:
    records = [
        _final(
            f"hd-final-{n}",
            dryer,
            "NB-A2-HIPOT",
            InspectionResult.passed,
            _made(dryer) + HOUR,
            inspector="QC-0409",
        )
        for n, dryer in enumerate(dryers, start=1)
    ]
    quality.record_inspections(session, DEMO, records)


def _dryer_shipments(session: Session, dryers: list[Item]) -> dict[str, dt.datetime]:
    """Three shipments from the Ningbo plant; returns when each was delivered, if it was."""
    departed = max(_made(d) for d in dryers) + 10 * HOUR
    delivered = {}
    for number, carrier, tracking, (first, last), where, consignee, events in SHIPMENTS:
        logistics.record_shipments(
            session,
            DEMO,
            [
                {
                    "event_id": event_id(number),
                    "number": number,
                    "carrier": carrier,
                    "tracking_number": tracking,
                    "origin": "Ningbo plant",
                    "destination": where,
                    "consignee": consignee,
                    "shipped_at": departed,
                    "expected_at": departed + 48 * HOUR,
                    "item_codes": [d.code for d in dryers[first:last]],
                }
            ],
        )
        if not events:
            continue
        logistics.record_shipment_events(
            session,
            DEMO,
            [
                {
                    "event_id": event_id(f"{number}-{hours}"),
                    "shipment_number": number,
                    "occurred_at": departed + hours * HOUR,
                    "status": ShipmentStatus(status),
                    "location": place,
                }
                for hours, status, place in events
            ],
        )
        if events and events[-1][1] == "delivered":
            delivered[number] = departed + events[-1][0] * HOUR
    return delivered


def _dryer_repairs(
    session: Session, dryers: list[Item], modules: list[Item], delivered: dict
) -> None:
    """Four dryers of the Beijing delivery came back: a motor replaced, a fault not found,
    and two given a spare heater module, then back again, one drowned and one burnt, and
    not repairable."""
    back = delivered["SH-HD2610A-01"] + 72 * HOUR
    service.record_repairs(
        session,
        DEMO,
        [
            _spare_module("hd-repair-heater", dryers[9], modules[0], back + 1 * HOUR),
            _spare_module("hd-repair-heater-2", dryers[4], modules[1], back + 2 * HOUR),
            {
                "event_id": event_id("hd-repair-motor"),
                "item_code": dryers[2].code,
                "technician": "Zhou Lin",
                "received_at": back,
                "completed_at": back + 26 * HOUR,
                "symptom": "Stops after a few seconds; smells of burning",
                "diagnosis": "Motor winding short",
                "action": "Replaced the DC motor",
                "outcome": RepairOutcome.replaced,
                "parts": [
                    {
                        "direction": PartDirection.removed,
                        "part_number": "MOTOR-DC18",
                        "lot": "CM-2610-B2",
                    },
                    {
                        "direction": PartDirection.installed,
                        "part_number": "MOTOR-DC18",
                        "serial": "CM18-2611-004417",
                    },
                ],
            },
            {
                "event_id": event_id("hd-repair-nff"),
                "item_code": dryers[6].code,
                "technician": "Zhou Lin",
                "received_at": back + 5 * HOUR,
                "completed_at": back + 20 * HOUR,
                "symptom": "Customer reports weak airflow",
                "diagnosis": "Filter blocked with lint; motor and heater within spec",
                "action": "Cleaned the filter, showed the customer how",
                "outcome": RepairOutcome.no_fault_found,
            },
            {
                "event_id": event_id("hd-repair-water"),
                "item_code": dryers[9].code,
                "technician": "Zhou Lin",
                "received_at": back + 8 * HOUR,
                "completed_at": back + 30 * HOUR,
                "symptom": "Dead after being dropped into a filled washbasin",
                "diagnosis": "Water ingress: control board corroded; the heater module fitted "
                "in the last repair tests fine",
                "action": "None; the customer was offered a trade-in",
                "outcome": RepairOutcome.not_repairable,
            },
            {
                "event_id": event_id("hd-repair-fire"),
                "item_code": dryers[4].code,
                "technician": "Zhou Lin",
                "received_at": back + 40 * HOUR,
                "completed_at": back + 42 * HOUR,
                "symptom": "Sparked at the switch and went dead; smells of burnt plastic",
                "diagnosis": "Short circuit in the switch; housing and heater module burnt",
                "action": "None; the customer was offered a trade-in",
                "outcome": RepairOutcome.not_repairable,
            },
        ],
    )


def _spare_module(name: str, dryer: Item, module: Item, received: dt.datetime) -> dict:
    """A repair of a dryer blowing cold: its heater swapped for a spare module."""
    return {
        "event_id": event_id(name),
        "item_code": dryer.code,
        "technician": "Zhou Lin",
        "received_at": received,
        "completed_at": received + 3 * HOUR,
        "symptom": "Blows cold air only",
        "diagnosis": "Heater element open circuit",
        "action": "Fitted a spare heater module",
        "outcome": RepairOutcome.replaced,
        "parts": [
            {"direction": PartDirection.removed, "part_number": "HM-1800", "lot": "HD2610A"},
            {
                "direction": PartDirection.installed,
                "part_number": "HM-1800",
                "item_code": module.code,
            },
        ],
    }


def _scraps(
    session: Session, kettles: list[Item], dryers: list[Item], modules: list[Item], delivered: dict
) -> None:
    """Kettle 11 failed hi-pot and is not worth reworking; the drowned dryer is written off,
    its heater module salvaged; the burnt one too, its module with it."""
    back = delivered["SH-HD2610A-01"] + 72 * HOUR
    scrapping.record_scraps(
        session,
        DEMO,
        [
            {
                "event_id": event_id("kt-scrap-11"),
                "item_code": kettles[10].code,
                "station": "NB-A1-HIPOT",
                "occurred_at": _made(kettles[10]) + 6 * HOUR,
                "reason": "Element housing cracked at the seam; rework not economical",
            },
            {
                "event_id": event_id("hd-scrap-water"),
                "item_code": dryers[9].code,
                "occurred_at": back + 31 * HOUR,
                "reason": "Water damage beyond repair (repair found it not repairable)",
                "salvaged": [modules[0].code],
            },
            {
                "event_id": event_id("hd-scrap-fire"),
                "item_code": dryers[4].code,
                "occurred_at": back + 43 * HOUR,
                "reason": "Burnt in a short circuit; nothing worth salvaging",
            },
        ],
    )
