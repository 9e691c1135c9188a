"""The unit's story as the public scan page tells it: read straight from the trace records.

Public fields only. Never: internal ids, inspector names (the masked badge instead),
technicians, consignees and destinations, tracking numbers, notes, defect codes, the
reason a batch is on hold. Voided records are left out: the public sees the record that
stands, the history of corrections stays inside.

Times stay datetimes here (the page formats them for the reader); `jsonable` turns a
view into what the JSON form sends.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType

from sqlalchemy import Connection, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from trace.catalog.models import Inspector, Product, mask_badge
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
)
from trace.production.models import Batch, BatchStatus, ItemStatus, Scrap
from trace.quality.models import Inspection, Measurement, ProcessRecord
from trace.scans.queries import CompiledQuery, connection_of, utc
from trace.scans.services import ScanCheck, ScannedItem
from trace.service.models import Repair, RepairPart
from trace.times import add_months, in_zone

# Enough readings of one batch's public parameters to summarise; older ones add nothing.
MAX_PARAMETER_READINGS = 1000


def public_scan_view(
    session: Session | Connection, check: ScanCheck, now: dt.datetime, zone: dt.tzinfo = dt.UTC
) -> dict:
    """The verdict of a scan and the story of the item it found (`check.item` is set);
    warranty dates are days in `zone`."""
    view = {"verdict": check.verdict.value, "code": check.item.code}
    view.update(item_story(session, check.item, now, zone))
    view["scans"] = {
        "count": check.scan_count,
        "first_at": check.first_scanned_at,
        "suspicious": bool(check.reasons),
        "reasons": list(check.reasons),
    }
    return view


def item_story(
    session: Session | Connection, item: ScannedItem, now: dt.datetime, zone: dt.tzinfo = dt.UTC
) -> dict:
    """Everything the public may know about one item; warranty dates are days in `zone`."""
    connection = connection_of(session)
    shipments = _shipments(connection, item)
    return {
        "serial": item.serial,
        "product": dict(item.product),
        "batch": public_batch(item.batch),
        "produced_at": item.produced_at,
        "status": item.status,
        "line": item.line,
        "inspection": _inspection(connection, item),
        "process_parameters": _process_parameters(connection, item),
        "shipments": shipments,
        "repairs": _repairs(connection, item),
        "scrapped_on": _scrapped_on(connection, item, zone),
        "warranty": warranty(
            item.product["warranty_months"], item.produced_at, shipments, now, zone
        ),
    }


def product_view(product: Product) -> dict:
    return {
        "sku": product.sku,
        "name": product.name,
        "gtin": product.gtin,
        "description": product.description,
        "public_attributes": dict(product.public_attributes or {}),
        "warranty_months": product.warranty_months,
    }


def batch_view(batch: Batch) -> dict:
    return public_batch(
        {
            "lot_number": batch.lot_number,
            "status": batch.status.value,
            "status_reason": batch.status_reason,
        }
    )


def public_batch(batch: dict) -> dict:
    """A batch as the public sees it: why it is recalled, never why it is on hold."""
    recalled = batch["status"] == BatchStatus.recalled.value
    view = {"lot_number": batch["lot_number"], "status": batch["status"], "recalled": recalled}
    if recalled:
        view["recall_reason"] = batch["status_reason"]
    return view


# --- inspection ---------------------------------------------------------------------------

# The inspection that speaks for the item: its own before its batch's sample, a final one
# before others, the latest before earlier ones; with its measurements in the same rows.
_CHOSEN_INSPECTION = (
    select(Inspection.id)
    .where(
        or_(
            Inspection.item_id == bindparam("item_id"), Inspection.batch_id == bindparam("batch_id")
        ),
        Inspection.voided_at.is_(None),
    )
    .order_by(
        Inspection.item_id.is_(None),
        Inspection.is_final.desc(),
        Inspection.occurred_at.desc(),
        Inspection.id.desc(),
    )
    .limit(1)
    .scalar_subquery()
)
_INSPECTION = CompiledQuery(
    select(
        Inspection.result,
        Inspection.is_final,
        Inspection.item_id,
        Inspection.occurred_at,
        Inspector.badge,
        Measurement.name,
        Measurement.value,
        Measurement.unit,
        Measurement.lower_limit,
        Measurement.upper_limit,
    )
    .join(Inspector, Inspector.id == Inspection.inspector_id)
    .outerjoin(Measurement, Measurement.inspection_id == Inspection.id)
    .where(Inspection.id == _CHOSEN_INSPECTION)
    .order_by(Measurement.id)
)


def _inspection(connection: Connection, item: ScannedItem) -> dict | None:
    rows = _INSPECTION.rows(connection, item_id=item.id, batch_id=item.batch_id)
    if not rows:
        return None
    result, final, item_id, occurred_at, badge = rows[0][:5]
    return {
        "result": result,
        "final": bool(final),
        "scope": "item" if item_id is not None else "batch",
        "inspected_at": utc(occurred_at),
        "inspector": mask_badge(badge),
        "measurements": [_measurement(*row[5:]) for row in rows if row[5] is not None],
    }


def _measurement(name, value, unit, lower, upper) -> dict:
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "lower_limit": lower,
        "upper_limit": upper,
        "in_spec": in_limits(value, lower, upper),
    }


def in_limits(value: float, lower: float | None, upper: float | None) -> bool:
    """Whether `value` lies within whichever specification limits are set."""
    return (lower is None or value >= lower) and (upper is None or value <= upper)


# --- process parameters -------------------------------------------------------------------

_PARAMETERS = CompiledQuery(
    select(
        ProcessRecord.parameter,
        ProcessRecord.value,
        ProcessRecord.unit,
        ProcessRecord.lower_limit,
        ProcessRecord.upper_limit,
        ProcessRecord.occurred_at,
    )
    .where(
        or_(
            ProcessRecord.item_id == bindparam("item_id"),
            ProcessRecord.batch_id == bindparam("batch_id"),
        ),
        ProcessRecord.is_public.is_(True),
        ProcessRecord.voided_at.is_(None),
    )
    .order_by(ProcessRecord.occurred_at.desc(), ProcessRecord.id.desc())
    .limit(MAX_PARAMETER_READINGS)
)


def _process_parameters(connection: Connection, item: ScannedItem) -> Sequence[Mapping]:
    """Each public parameter once: its latest reading, and how many readings (of the item
    and of its batch) fell outside the specification limits."""
    rows = _PARAMETERS.rows(connection, item_id=item.id, batch_id=item.batch_id)
    return _shared(_summarised, rows)


# The parts of a story that most often come from the batch (its parameters, the shipments
# that carried it whole) read the same for every unit of it: the rows are summed up once
# and the same part (never to be changed) is handed to every page with those rows, which
# lets the page keep its HTML too (web/scan_html.py). Keyed by the rows themselves, a
# part is never stale: other rows are another part. Bounded: at most SHARED_PARTS parts
# of each kind, each of at most SHARED_ROWS rows (more are summed up each time).
SHARED_PARTS = 1024
SHARED_ROWS = 200


def _shared(build, rows: list[tuple]):
    """`build(rows)`: the part built before from the same rows, where it can be kept. A
    kept part is a tuple (is_shared) of read-only mappings, its lists tuples, so that a
    caller that tries to change it fails at once instead of changing the story of every
    unit of the batch."""
    rows = tuple(rows)
    if len(rows) > SHARED_ROWS:
        return list(build.__wrapped__(rows))  # this page's own
    return build(rows)


def is_shared(part) -> bool:
    """Whether a part of a story is one handed to every page with the same rows."""
    return type(part) is tuple


def _read_only(entry: dict) -> Mapping:
    """An entry of a shared part that nobody can change, nor the lists of dicts in it."""
    return MappingProxyType(
        {
            key: tuple(_read_only(inner) for inner in value) if type(value) is list else value
            for key, value in entry.items()
        }
    )


@lru_cache(maxsize=SHARED_PARTS)
def _summarised(rows: tuple[tuple, ...]) -> tuple[Mapping, ...]:
    parameters: dict[str, dict] = {}
    for parameter, value, unit, lower, upper, occurred_at in rows:
        in_spec = in_limits(value, lower, upper)
        summary = parameters.get(parameter)
        if summary is None:  # the first row is the latest reading
            summary = parameters[parameter] = {
                "parameter": parameter,
                "value": value,
                "unit": unit,
                "lower_limit": lower,
                "upper_limit": upper,
                "in_spec": in_spec,
                "recorded_at": utc(occurred_at),
                "readings": 0,
                "out_of_spec": 0,
            }
        summary["readings"] += 1
        summary["out_of_spec"] += not in_spec
    ordered = sorted(parameters.values(), key=lambda summary: summary["parameter"].lower())
    return tuple(_read_only(summary) for summary in ordered)


# --- shipments ----------------------------------------------------------------------------

# Shipments that carried the item, by itself or with its whole batch, with their standing
# events, oldest first; one row per event (or one for a shipment without events).
_SHIPMENTS = CompiledQuery(
    select(
        Shipment.id,
        Shipment.carrier,
        Shipment.origin,
        Shipment.status,
        Shipment.shipped_at,
        Shipment.expected_at,
        Shipment.delivered_at,
        ShipmentEvent.status,
        ShipmentEvent.occurred_at,
        ShipmentEvent.location,
    )
    .outerjoin(
        ShipmentEvent,
        and_(ShipmentEvent.shipment_id == Shipment.id, ShipmentEvent.voided_at.is_(None)),
    )
    .where(
        # The shipments that carried the unit: a whole-batch shipment lists the units it
        # took, and one that left this unit behind (in repair, say) is not in its story.
        Shipment.id.in_(
            select(ShipmentItem.shipment_id).where(ShipmentItem.item_id == bindparam("item_id"))
        ),
        Shipment.voided_at.is_(None),
    )
    .order_by(Shipment.shipped_at, Shipment.id, ShipmentEvent.occurred_at, ShipmentEvent.id)
)


def _shipments(connection: Connection, item: ScannedItem) -> Sequence[Mapping]:
    rows = _SHIPMENTS.rows(connection, item_id=item.id)
    return _shared(_shipment_timelines, rows)


@lru_cache(maxsize=SHARED_PARTS)
def _shipment_timelines(rows: tuple[tuple, ...]) -> tuple[Mapping, ...]:
    """The shipments of these rows (shared: see _summarised)."""
    shipments: dict[int, dict] = {}
    for shipment_id, *shipment, event_status, occurred_at, location in rows:
        if shipment_id not in shipments:
            shipments[shipment_id] = _shipment_head(*shipment)
        if event_status is not None:
            event = {"status": event_status, "occurred_at": utc(occurred_at), "location": location}
            shipments[shipment_id]["events"].append(event)
    return tuple(_read_only(_settled(shipment)) for shipment in shipments.values())


def _shipment_head(carrier, origin, status, shipped_at, expected_at, delivered_at) -> dict:
    return {
        "carrier": carrier,
        "origin": origin,
        "status": status,
        "shipped_at": utc(shipped_at),
        "expected_at": utc(expected_at),
        "delivered_at": utc(delivered_at),
        "events": [],
    }


def _settled(shipment: dict) -> dict:
    """Delivery time, status and last location as the events tell them."""
    events = shipment["events"]
    delivered_at = shipment["delivered_at"] or _first_time(events, ShipmentStatus.delivered)
    located = [event for event in events if event["location"]]
    shipment.update(
        status=_shipment_status(shipment["status"], events, delivered_at),
        delivered_at=delivered_at,
        last_location=located[-1]["location"] if located else None,
        last_event_at=events[-1]["occurred_at"] if events else None,
    )
    shipment["events"] = shipment.pop("events")  # keep it last, as the JSON always had it
    return shipment


def _first_time(events: list[dict], status: ShipmentStatus) -> dt.datetime | None:
    return next((e["occurred_at"] for e in events if e["status"] == status.value), None)


def _shipment_status(status: str, events: list[dict], delivered_at) -> str:
    # The shipment's own status is what its last event said; a delivery time settles it.
    if delivered_at is not None and status != ShipmentStatus.returned.value:
        return ShipmentStatus.delivered.value
    if events and status == ShipmentStatus.shipped.value:
        return events[-1]["status"]
    return status


# --- repairs ------------------------------------------------------------------------------

_REPAIRS = CompiledQuery(
    select(
        Repair.id,
        Repair.received_at,
        Repair.completed_at,
        Repair.action,
        Repair.outcome,
        Repair.under_warranty,
        RepairPart.direction,
        RepairPart.part_number,
    )
    .outerjoin(RepairPart, RepairPart.repair_id == Repair.id)
    .where(Repair.item_id == bindparam("item_id"), Repair.voided_at.is_(None))
    .order_by(Repair.received_at, Repair.id, RepairPart.id)
)


def _repairs(connection: Connection, item: ScannedItem) -> list[dict]:
    repairs: dict[int, dict] = {}
    for (
        repair_id,
        received,
        completed,
        action,
        outcome,
        warranty_,
        direction,
        part,
    ) in _REPAIRS.rows(connection, item_id=item.id):
        repair = repairs.get(repair_id)
        if repair is None:
            repair = repairs[repair_id] = {
                "received_at": utc(received),
                "completed_at": utc(completed),
                "action": action,
                "outcome": outcome,
                "under_warranty": bool(warranty_),
                "parts_removed": [],
                "parts_installed": [],
            }
        if direction is not None:
            repair[f"parts_{direction}"].append(part)
    return list(repairs.values())


# --- scrapping ---------------------------------------------------------------------------

_SCRAPPED_AT = CompiledQuery(
    select(Scrap.occurred_at)
    .where(Scrap.item_id == bindparam("item_id"), Scrap.voided_at.is_(None))
    .order_by(Scrap.occurred_at.desc())
    .limit(1)
)


def _scrapped_on(connection: Connection, item: ScannedItem, zone: dt.tzinfo) -> dt.date | None:
    """The day (in `zone`) the unit was scrapped, if it was; why stays inside the company."""
    if item.status != ItemStatus.scrapped.value:
        return None
    rows = _SCRAPPED_AT.rows(connection, item_id=item.id)
    return in_zone(utc(rows[0][0]), zone).date() if rows else None


# --- warranty -----------------------------------------------------------------------------


def warranty(
    months: int,
    produced_at: dt.datetime,
    shipments: Sequence[Mapping],
    now: dt.datetime,
    zone: dt.tzinfo = dt.UTC,
) -> dict | None:
    """The warranty runs the product's months from the unit's first delivery (as the
    service desk counts it, trace.service: a unit shipped back after a repair does not
    start it again), or from production when none is known; it ends with the day of the
    same date that many months later, days counted in `zone`."""
    if not months:
        return None
    deliveries = [s["delivered_at"] for s in shipments if s["status"] == "delivered"]
    start, basis = (min(deliveries), "delivery") if deliveries else (produced_at, "production")
    starts_on = in_zone(start, zone).date()
    ends_on = add_months(starts_on, months)
    return {
        "months": months,
        "basis": basis,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "active": in_zone(now, zone).date() <= ends_on,
    }


# --- JSON ---------------------------------------------------------------------------------


def jsonable(value):
    """A view with its datetimes and dates as ISO 8601 text, ready for JSON."""
    if isinstance(value, dict | MappingProxyType):  # shared parts are read-only mappings
        return {key: jsonable(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(inner) for inner in value]
    if isinstance(value, dt.date):  # datetimes too: their isoformat keeps the offset
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value
