"""The whole story of an item, or of a batch, in time order: what staff see and EPCIS exports.

An item's story: how it was made (product, batch, line, material lots of the batch),
its components and what it went into, inspections and process records (its own and its
batch's), shipments that carried it (by itself or with its whole batch) and their events,
repairs with their parts, its batch's holds and recalls, its scrapping, and complaints
about it (the reference and workflow only: a complaint's contact details and text are
personal data and never leave the complaints area).

Corrections stay visible: a voided record is in the story, marked, with who voided it
and why; a replacement points at what it replaces, and the voided record at its
replacement.

Reading is a fixed handful of indexed queries, one per kind of record, whatever the
item's story holds. They select columns rather than ORM objects and are built once with
bound parameters: with a batch's oven log in every unit's story, building objects and
statements, not the database, would otherwise take most of the time. A batch's story is
bounded: batch-level records, shipments (up to MAX_BATCH_SHIPMENTS) and counts instead
of one event per unit.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from trace.audit.models import AuditEntry
from trace.catalog.models import Inspector, Line, MaterialLot, Product, Station
from trace.complaints.models import Complaint, CorrectiveAction, corrective_action_batch
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
    shipment_batch,
)
from trace.production.models import Batch, Item, ItemComponent, Scrap, batch_material
from trace.quality.models import Inspection, Measurement, ProcessRecord
from trace.service.models import Repair, RepairPart

# Events at the same instant read in the order things happen to a unit.
KIND_ORDER = {
    kind: rank
    for rank, kind in enumerate(
        [
            "material_lot",
            "batch_opened",
            "produced",
            "component_installed",
            "installed_in",
            "process_record",
            "inspection",
            "batch_status",
            "corrective_action",
            "shipment",
            "shipment_event",
            "delivery",
            "complaint",
            "repair",
            "component_removed",
            "removed_from",
            "scrapped",
        ]
    )
}
# A batch's story lists at most this many shipments (the newest); the summary counts all.
MAX_BATCH_SHIPMENTS = 500


@dataclass(frozen=True)
class RecordRef:
    """Another trace record of the same kind: its id and the client's event id."""

    id: int
    event_id: uuid.UUID


@dataclass(frozen=True)
class Event:
    """One thing that happened, told compactly.

    `scope` says whom it is about: "item" (the unit itself), "batch" (its batch as a
    whole: sampling inspections, batch process parameters, whole-batch shipments, holds,
    recalls) or "items" (in a batch's story: some of the batch's units). `record`, `id`
    and `event_id` name the record behind the event, if there is one.
    """

    kind: str
    time: dt.datetime
    scope: str
    data: dict
    record: str | None = None
    id: int | None = None
    event_id: uuid.UUID | None = None
    recorded_at: dt.datetime | None = None
    recorded_by: str | None = None
    voided_at: dt.datetime | None = None
    voided_by: str | None = None
    void_reason: str | None = None
    replaces: RecordRef | None = None
    replaced_by: RecordRef | None = None

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


def _order(event: Event):
    return (event.time, KIND_ORDER[event.kind], event.id or 0)


def _run(session: Session, statement, parameters: dict):
    """Rows of a prepared statement, through the session's connection: plain rows, no ORM
    bookkeeping, which is most of the cost of a short query."""
    return session.connection().execute(statement, parameters)


def _record_columns(model) -> tuple:
    return (
        model.id,
        model.event_id,
        model.recorded_at,
        model.recorded_by,
        model.voided_at,
        model.voided_by,
        model.void_reason,
        model.replaces_id,
    )


def _subjects(model, scope: str):
    """The rows of a record kind about the item or its batch ("item"), or the batch only."""
    if scope == "batch":
        return model.batch_id == bindparam("batch_id")
    return or_(model.item_id == bindparam("item_id"), model.batch_id == bindparam("batch_id"))


# --- an item's story --------------------------------------------------------------------


def item_history(session: Session, item: Item) -> list[Event]:
    """The item's whole story, oldest first (see the module's docstring for what is in it)."""
    session.flush()  # the reads below go straight to the connection, past autoflush
    batch = _batch(session, item.batch_id)
    ids = {"item_id": item.id, "batch_id": item.batch_id}
    components = _run(session, _components_query(), ids).all()
    repairs = _run(session, _repairs_query(), ids).all()
    parts = _parts(session, repairs)
    related = _related_items(session, item.id, components, parts)
    events = [_produced(item, batch)]
    events += _material_lots(session, batch)
    events += _batch_statuses(session, batch)
    events += _component_events(item.id, components, related)
    events += _inspections(session, "item", ids)
    events += _process_records(session, "item", ids)
    events += _item_shipments(session, ids)
    events += _repair_events(session, repairs, parts, related)
    events += _complaints(session, item.id)
    events += _scraps(session, item.id)
    return sorted(events, key=_order)


@cache
def _batch_query():
    return (
        select(
            Batch.id,
            Batch.lot_number,
            Batch.status,
            Batch.status_reason,
            Batch.planned_quantity,
            Batch.started_at,
            Batch.ended_at,
            Batch.created_at,
            Product.id.label("product_id"),
            Product.sku,
            Product.name.label("product_name"),
            Product.gtin,
            Line.id.label("line_id"),
            Line.code.label("line_code"),
            Line.name.label("line_name"),
        )
        .join(Product, Product.id == Batch.product_id)
        .join(Line, Line.id == Batch.line_id)
        .where(Batch.id == bindparam("batch_id"))
    )


def _batch(session: Session, batch_id: int):
    return _run(session, _batch_query(), {"batch_id": batch_id}).one()


def _produced(item: Item, batch) -> Event:
    return Event(
        "produced",
        item.produced_at,
        "item",
        {
            "code": item.code,
            "serial": item.serial,
            "status": item.status.value,
            "product": _product(batch),
            "batch": {"id": batch.id, "lot_number": batch.lot_number, "status": batch.status.value},
            "line": _line(batch),
        },
    )


def _product(batch) -> dict:
    return {
        "id": batch.product_id,
        "sku": batch.sku,
        "name": batch.product_name,
        "gtin": batch.gtin,
    }


def _line(batch) -> dict:
    return {"id": batch.line_id, "code": batch.line_code, "name": batch.line_name}


@cache
def _material_lots_query():
    return (
        select(
            MaterialLot.id,
            MaterialLot.part_number,
            MaterialLot.description,
            MaterialLot.supplier,
            MaterialLot.supplier_lot,
            MaterialLot.received_on,
        )
        .join(batch_material, batch_material.c.material_lot_id == MaterialLot.id)
        .where(batch_material.c.batch_id == bindparam("batch_id"))
        .order_by(MaterialLot.id)
    )


def _material_lots(session: Session, batch) -> list[Event]:
    # A lot enters the story on the day it was received; the batch consumed it later.
    lots = _run(session, _material_lots_query(), {"batch_id": batch.id})
    return [_material_lot(lot) for lot in lots]


def _material_lot(lot) -> Event:
    received = dt.datetime.combine(lot.received_on, dt.time(), dt.UTC)
    data = {
        "material_lot_id": lot.id,
        "part_number": lot.part_number,
        "description": lot.description,
        "supplier": lot.supplier,
        "supplier_lot": lot.supplier_lot,
        "received_on": lot.received_on,
    }
    return Event("material_lot", received, "batch", data)


@cache
def _batch_status_query():
    return select(AuditEntry.seq, AuditEntry.occurred_at, AuditEntry.actor, AuditEntry.data).where(
        AuditEntry.entity_type == Batch.__tablename__,
        AuditEntry.entity_id == bindparam("entity_id"),
        AuditEntry.action == "batch.status",
    )


def _batch_statuses(session: Session, batch) -> list[Event]:
    """Status changes of the batch (holds, releases, recalls), read from the audit trail."""
    events = []
    for entry in _run(session, _batch_status_query(), {"entity_id": str(batch.id)}):
        change = json.loads(entry.data)
        data = {"from": change.get("from"), "to": change.get("to"), "reason": change.get("reason")}
        data["audit_seq"] = entry.seq
        events.append(
            Event("batch_status", entry.occurred_at, "batch", data, recorded_by=entry.actor)
        )
    return events


# --- components (unit-to-unit genealogy) ---------------------------------------------------


@cache
def _components_query():
    return select(
        ItemComponent.id,
        ItemComponent.item_id,
        ItemComponent.component_item_id,
        ItemComponent.part_number,
        ItemComponent.serial,
        ItemComponent.lot,
        ItemComponent.installed_at,
        ItemComponent.removed_at,
        ItemComponent.removed_by_scrap_id,
    ).where(
        or_(
            ItemComponent.item_id == bindparam("item_id"),
            ItemComponent.component_item_id == bindparam("item_id"),
        )
    )


@cache
def _related_query():
    return (
        select(Item.id, Item.code, Item.serial, Product.sku, Product.gtin)
        .join(Product, Product.id == Item.product_id)
        .where(Item.id.in_(bindparam("ids", expanding=True)))
    )


def _related_items(session, item_id: int, components, parts: dict) -> dict[int, dict]:
    """Other tracked items the story names (components, what this went into, parts)."""
    ids = {c.component_item_id for c in components} | {c.item_id for c in components}
    ids |= {part.component_item_id for found in parts.values() for part in found}
    ids -= {None, item_id}
    if not ids:
        return {}
    rows = _run(session, _related_query(), {"ids": list(ids)})
    return {
        row.id: {"code": row.code, "serial": row.serial, "sku": row.sku, "gtin": row.gtin}
        for row in rows
    }


def _component_events(item_id: int, components, related: dict) -> list[Event]:
    events = []
    for component in components:
        if component.item_id == item_id:
            installed, removed = "component_installed", "component_removed"
            data = {
                "component_id": component.id,
                "part_number": component.part_number,
                "serial": component.serial,
                "lot": component.lot,
                "item": related.get(component.component_item_id),
            }
        else:
            installed, removed = "installed_in", "removed_from"
            data = {"component_id": component.id, "part_number": component.part_number}
            data["parent"] = related.get(component.item_id)
        events.append(Event(installed, component.installed_at, "item", data, id=component.id))
        if component.removed_at is not None:
            if component.removed_by_scrap_id is not None:  # taken out of a unit scrapped
                data = {**data, "salvaged_by_scrap_id": component.removed_by_scrap_id}
            events.append(Event(removed, component.removed_at, "item", data, id=component.id))
    return events


# --- trace records and their corrections ----------------------------------------------------


@dataclass
class _Links:
    """Which record replaces which; looked up further only for those not in this story."""

    replaces: dict[int, RecordRef] = field(default_factory=dict)
    replaced_by: dict[int, RecordRef] = field(default_factory=dict)


def _links(session: Session, model, records: list) -> _Links:
    by_id = {r.id: r for r in records}
    links = _Links()
    for record in records:
        if record.replaces_id is not None:
            old = by_id.get(record.replaces_id)
            if old is not None:
                links.replaces[record.id] = RecordRef(old.id, old.event_id)
                links.replaced_by[old.id] = RecordRef(record.id, record.event_id)
    _look_up_missing(session, model, records, links)
    return links


def _look_up_missing(session: Session, model, records: list, links: _Links) -> None:
    # A correction may sit in another story (an inspection moved to the right unit, say):
    # one query per direction, and only when such a record is in this story.
    wanted_old = {
        r.replaces_id: r.id for r in records if r.replaces_id and r.id not in links.replaces
    }
    if wanted_old:
        query = select(model.id, model.event_id).where(model.id.in_(wanted_old))
        for old_id, event_id in session.execute(query):
            links.replaces[wanted_old[old_id]] = RecordRef(old_id, event_id)
    wanted_new = [r.id for r in records if r.voided_at and r.id not in links.replaced_by]
    if wanted_new:
        query = select(model.id, model.event_id, model.replaces_id).where(
            model.replaces_id.in_(wanted_new)
        )
        for new_id, event_id, old_id in session.execute(query):
            links.replaced_by[old_id] = RecordRef(new_id, event_id)


def _record_event(kind, time, scope, record_name, record, data, links: _Links) -> Event:
    return Event(
        kind,
        time,
        scope,
        data,
        record=record_name,
        id=record.id,
        event_id=record.event_id,
        recorded_at=record.recorded_at,
        recorded_by=record.recorded_by,
        voided_at=record.voided_at,
        voided_by=record.voided_by,
        void_reason=record.void_reason,
        replaces=links.replaces.get(record.id),
        replaced_by=links.replaced_by.get(record.id),
    )


def _scope(record) -> str:
    return "item" if record.item_id is not None else "batch"


def _station(record) -> dict:
    return {"code": record.station_code, "name": record.station_name, "line": record.line_code}


_STATION_COLUMNS = (
    Station.code.label("station_code"),
    Station.name.label("station_name"),
    Line.code.label("line_code"),
)


def in_limits(value: float, lower: float | None, upper: float | None) -> bool:
    """Whether `value` lies within whichever specification limits are set."""
    return (lower is None or value >= lower) and (upper is None or value <= upper)


@cache
def _inspections_query(scope: str):
    return (
        select(
            *_record_columns(Inspection),
            Inspection.item_id,
            Inspection.occurred_at,
            Inspection.result,
            Inspection.is_final,
            Inspection.defect_codes,
            Inspection.notes,
            Inspector.badge,
            Inspector.name.label("inspector_name"),
            *_STATION_COLUMNS,
        )
        .join(Station, Station.id == Inspection.station_id)
        .join(Line, Line.id == Station.line_id)
        .join(Inspector, Inspector.id == Inspection.inspector_id)
        .where(_subjects(Inspection, scope))
    )


@cache
def _measurements_query():
    return (
        select(
            Measurement.inspection_id,
            Measurement.name,
            Measurement.value,
            Measurement.unit,
            Measurement.lower_limit,
            Measurement.upper_limit,
        )
        .where(Measurement.inspection_id.in_(bindparam("ids", expanding=True)))
        .order_by(Measurement.id)
    )


def _inspections(session: Session, scope: str, ids: dict) -> list[Event]:
    records = _run(session, _inspections_query(scope), ids).all()
    measured = defaultdict(list)
    if records:
        found = _run(session, _measurements_query(), {"ids": [r.id for r in records]})
        for measurement in found:
            measured[measurement.inspection_id].append(_measurement(measurement))
    links = _links(session, Inspection, records)
    return [
        _record_event(
            "inspection",
            r.occurred_at,
            _scope(r),
            "inspection",
            r,
            _inspection_data(r, measured[r.id]),
            links,
        )
        for r in records
    ]


def _inspection_data(inspection, measurements: list[dict]) -> dict:
    return {
        "station": _station(inspection),
        "inspector": {"badge": inspection.badge, "name": inspection.inspector_name},
        "result": inspection.result.value,
        "final": inspection.is_final,
        "defect_codes": list(inspection.defect_codes or []),
        "notes": inspection.notes,
        "measurements": measurements,
    }


def _measurement(measurement) -> dict:
    return {
        "name": measurement.name,
        "value": measurement.value,
        "unit": measurement.unit,
        "lower_limit": measurement.lower_limit,
        "upper_limit": measurement.upper_limit,
        "in_spec": in_limits(measurement.value, measurement.lower_limit, measurement.upper_limit),
    }


@cache
def _process_records_query(scope: str):
    return (
        select(
            *_record_columns(ProcessRecord),
            ProcessRecord.item_id,
            ProcessRecord.occurred_at,
            ProcessRecord.parameter,
            ProcessRecord.value,
            ProcessRecord.unit,
            ProcessRecord.lower_limit,
            ProcessRecord.upper_limit,
            ProcessRecord.is_public,
            *_STATION_COLUMNS,
        )
        .join(Station, Station.id == ProcessRecord.station_id)
        .join(Line, Line.id == Station.line_id)
        .where(_subjects(ProcessRecord, scope))
    )


def _process_records(session: Session, scope: str, ids: dict) -> list[Event]:
    records = _run(session, _process_records_query(scope), ids).all()
    links = _links(session, ProcessRecord, records)
    return [
        _record_event(
            "process_record", r.occurred_at, _scope(r), "process_record", r, _process_data(r), links
        )
        for r in records
    ]


def _process_data(record) -> dict:
    return {
        "station": _station(record),
        "parameter": record.parameter,
        "value": record.value,
        "unit": record.unit,
        "lower_limit": record.lower_limit,
        "upper_limit": record.upper_limit,
        "in_spec": in_limits(record.value, record.lower_limit, record.upper_limit),
        "public": record.is_public,
    }


# --- shipments ----------------------------------------------------------------------------

_SHIPMENT_COLUMNS = (
    *_record_columns(Shipment),
    Shipment.number,
    Shipment.carrier,
    Shipment.tracking_number,
    Shipment.origin,
    Shipment.destination,
    Shipment.consignee,
    Shipment.status,
    Shipment.shipped_at,
    Shipment.expected_at,
    Shipment.delivered_at,
    Shipment.override_reason,
)


def _whole_batch_shipments():
    return select(shipment_batch.c.shipment_id).where(
        shipment_batch.c.batch_id == bindparam("batch_id")
    )


@cache
def _item_shipments_query():
    carried = select(ShipmentItem.shipment_id).where(ShipmentItem.item_id == bindparam("item_id"))
    whole = _whole_batch_shipments()
    return select(*_SHIPMENT_COLUMNS, Shipment.id.in_(whole).label("whole_batch")).where(
        Shipment.id.in_(carried)
    )


@cache
def _shipment_events_query():
    return (
        select(
            *_record_columns(ShipmentEvent),
            ShipmentEvent.shipment_id,
            ShipmentEvent.occurred_at,
            ShipmentEvent.status,
            ShipmentEvent.location,
            ShipmentEvent.latitude,
            ShipmentEvent.longitude,
            ShipmentEvent.note,
        )
        .where(ShipmentEvent.shipment_id.in_(bindparam("ids", expanding=True)))
        .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)
    )


def _item_shipments(session: Session, ids: dict) -> list[Event]:
    """Shipments that carried the item, listed with it or with its whole batch (which
    lists the units it took: one left behind, in repair say, was not carried)."""
    rows = _run(session, _item_shipments_query(), ids).all()
    scopes = {row.id: "item" for row in rows}
    wholes = {row.id for row in rows if row.whole_batch}
    return _shipment_events(session, rows, scopes, wholes, {})


def _shipment_events(session: Session, shipments: list, scopes: dict, wholes: set, counts: dict):
    """Each shipment, its logged events and its delivery; `counts` (in a batch's story)
    says how many of the batch's units a shipment carried."""
    if not shipments:
        return []
    logged = _run(session, _shipment_events_query(), {"ids": [s.id for s in shipments]}).all()
    by_shipment = defaultdict(list)
    for event in logged:
        by_shipment[event.shipment_id].append(event)
    links = _links(session, Shipment, shipments)
    event_links = _links(session, ShipmentEvent, logged)
    events = []
    for shipment in shipments:
        scope = scopes[shipment.id]
        count = {"items_of_batch": counts[shipment.id]} if shipment.id in counts else {}
        data = _shipment_data(shipment, shipment.id in wholes) | count
        events.append(
            _record_event("shipment", shipment.shipped_at, scope, "shipment", shipment, data, links)
        )
        for e in by_shipment[shipment.id]:
            data = _logged(shipment, e) | count
            events.append(
                _record_event(
                    "shipment_event", e.occurred_at, scope, "shipment_event", e, data, event_links
                )
            )
        events += _delivery(shipment, by_shipment[shipment.id], scope, count, links)
    return events


def _shipment_data(shipment, whole_batch: bool) -> dict:
    return {
        "number": shipment.number,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "origin": shipment.origin,
        "destination": shipment.destination,
        "consignee": shipment.consignee,
        "status": shipment.status.value,
        "shipped_at": shipment.shipped_at,
        "expected_at": shipment.expected_at,
        "delivered_at": shipment.delivered_at,
        "override_reason": shipment.override_reason,
        "whole_batch": whole_batch,
    }


def _logged(shipment, event) -> dict:
    return {
        "shipment": shipment.number,
        "status": event.status.value,
        "location": event.location,
        "latitude": event.latitude,
        "longitude": event.longitude,
        "note": event.note,
    }


def _delivery(shipment, logged: list, scope: str, count: dict, links: _Links) -> list[Event]:
    """The delivery confirmation, unless a logged "delivered" event already tells it."""
    if shipment.delivered_at is None:
        return []
    if any(e.status is ShipmentStatus.delivered and e.voided_at is None for e in logged):
        return []
    data = {"shipment": shipment.number, "consignee": shipment.consignee} | count
    return [
        _record_event("delivery", shipment.delivered_at, scope, "shipment", shipment, data, links)
    ]


# --- repairs and complaints -----------------------------------------------------------------


@cache
def _repairs_query():
    return select(
        *_record_columns(Repair),
        Repair.technician,
        Repair.received_at,
        Repair.completed_at,
        Repair.symptom,
        Repair.diagnosis,
        Repair.action,
        Repair.outcome,
        Repair.under_warranty,
        Repair.warranty_override_reason,
    ).where(Repair.item_id == bindparam("item_id"))


@cache
def _parts_query():
    return (
        select(
            RepairPart.repair_id,
            RepairPart.direction,
            RepairPart.part_number,
            RepairPart.serial,
            RepairPart.lot,
            RepairPart.component_item_id,
        )
        .where(RepairPart.repair_id.in_(bindparam("ids", expanding=True)))
        .order_by(RepairPart.id)
    )


def _parts(session: Session, repairs: list) -> dict[int, list]:
    parts = defaultdict(list)
    if repairs:
        for part in _run(session, _parts_query(), {"ids": [r.id for r in repairs]}):
            parts[part.repair_id].append(part)
    return parts


def _repair_events(session: Session, repairs: list, parts: dict, related: dict) -> list[Event]:
    links = _links(session, Repair, repairs)
    return [
        _record_event(
            "repair",
            r.received_at,
            "item",
            "repair",
            r,
            _repair_data(r, parts[r.id], related),
            links,
        )
        for r in repairs
    ]


def _repair_data(repair, parts: list, related: dict) -> dict:
    return {
        "technician": repair.technician,
        "received_at": repair.received_at,
        "completed_at": repair.completed_at,
        "symptom": repair.symptom,
        "diagnosis": repair.diagnosis,
        "action": repair.action,
        "outcome": repair.outcome.value,
        "under_warranty": repair.under_warranty,
        "warranty_override_reason": repair.warranty_override_reason,
        "parts": [
            {
                "direction": part.direction.value,
                "part_number": part.part_number,
                "serial": part.serial,
                "lot": part.lot,
                "item": related.get(part.component_item_id),
            }
            for part in parts
        ],
    }


@cache
def _complaints_query():
    # Only these columns are read: contact details and the customer's own words stay unread.
    return select(
        Complaint.id,
        Complaint.reference,
        Complaint.status,
        Complaint.category,
        Complaint.severity,
        Complaint.created_at,
        Complaint.first_response_at,
        Complaint.resolved_at,
        Complaint.closed_at,
    ).where(Complaint.item_id == bindparam("item_id"))


def _complaints(session: Session, item_id: int) -> list[Event]:
    return [
        Event(
            "complaint",
            row.created_at,
            "item",
            {
                "reference": row.reference,
                "status": row.status.value,
                "category": row.category,
                "severity": row.severity.value,
                "first_response_at": row.first_response_at,
                "resolved_at": row.resolved_at,
                "closed_at": row.closed_at,
            },
            record=Complaint.__tablename__,
            id=row.id,
        )
        for row in _run(session, _complaints_query(), {"item_id": item_id})
    ]


@cache
def _scraps_query():
    host_scrap, host = aliased(Scrap), aliased(Item)
    return (
        select(
            *_record_columns(Scrap),
            Scrap.occurred_at,
            Scrap.reason,
            Scrap.inside_scrap_id,
            host.code.label("inside_code"),
            *_STATION_COLUMNS,
        )
        .outerjoin(Station, Station.id == Scrap.station_id)
        .outerjoin(Line, Line.id == Station.line_id)
        .outerjoin(host_scrap, host_scrap.id == Scrap.inside_scrap_id)
        .outerjoin(host, host.id == host_scrap.item_id)
        .where(Scrap.item_id == bindparam("item_id"))
    )


def _scraps(session: Session, item_id: int) -> list[Event]:
    scraps = _run(session, _scraps_query(), {"item_id": item_id}).all()
    links = _links(session, Scrap, scraps)
    return [
        _record_event(
            "scrapped",
            row.occurred_at,
            "item",
            "scrap",
            row,
            {
                "reason": row.reason,
                "station": _station(row) if row.station_code else None,
                # A part that went with the unit it was inside: that unit, and its scrap.
                "inside": (
                    {"item_code": row.inside_code, "scrap_id": row.inside_scrap_id}
                    if row.inside_scrap_id is not None
                    else None
                ),
            },
            links,
        )
        for row in scraps
    ]


# --- a batch's story --------------------------------------------------------------------------


def batch_history(session: Session, batch: Batch) -> list[Event]:
    """The batch's story, oldest first: opened, status changes, material lots, batch-level
    inspections and process records, corrective actions, and shipments (whole-batch ones,
    and the newest MAX_BATCH_SHIPMENTS that carried some of its units). Bounded: the
    units themselves are counted by `batch_summary`, not told one by one."""
    session.flush()  # the reads below go straight to the connection, past autoflush
    row = _batch(session, batch.id)
    ids = {"batch_id": batch.id}
    events = [_opened(row)]
    events += _material_lots(session, row)
    events += _batch_statuses(session, row)
    events += _inspections(session, "batch", ids)
    events += _process_records(session, "batch", ids)
    events += _corrective_actions(session, batch)
    events += _batch_shipments(session, batch)
    return sorted(events, key=_order)


def _opened(batch) -> Event:
    data = {
        "lot_number": batch.lot_number,
        "product": _product(batch),
        "line": _line(batch),
        "planned_quantity": batch.planned_quantity,
        "started_at": batch.started_at,
        "ended_at": batch.ended_at,
        "created_at": batch.created_at,
        "status": batch.status.value,
        "status_reason": batch.status_reason,
    }
    # A batch registered after the fact starts its story when its production window does.
    opened = min(batch.created_at, batch.started_at or batch.created_at)
    return Event("batch_opened", opened, "batch", data, record="batch", id=batch.id)


def _corrective_actions(session: Session, batch: Batch) -> list[Event]:
    query = (
        select(CorrectiveAction)
        .join(corrective_action_batch)
        .where(corrective_action_batch.c.batch_id == batch.id)
    )
    return [
        Event(
            "corrective_action",
            action.created_at,
            "batch",
            {
                "number": action.number,
                "title": action.title,
                "status": action.status.value,
                "owner": action.owner,
                "due_on": action.due_on,
                "closed_at": action.closed_at,
            },
            record=CorrectiveAction.__tablename__,
            id=action.id,
        )
        for action in session.scalars(query)
    ]


def _batch_shipments(session: Session, batch: Batch) -> list[Event]:
    whole_ids = set(session.scalars(_whole_batch_shipments(), {"batch_id": batch.id}))
    counts = _units_shipped(session, batch)
    scopes = {shipment_id: "items" for shipment_id in counts}
    scopes.update({shipment_id: "batch" for shipment_id in whole_ids})
    if not scopes:
        return []
    query = select(*_SHIPMENT_COLUMNS).where(Shipment.id.in_(list(scopes)))
    shipments = session.execute(query).all()
    return _shipment_events(session, shipments, scopes, whole_ids, counts)


def _units_shipped(session: Session, batch: Batch) -> dict[int, int]:
    """For the newest shipments that carried units of the batch: how many each carried."""
    query = (
        select(ShipmentItem.shipment_id, func.count())
        .join(Item, Item.id == ShipmentItem.item_id)
        .where(Item.batch_id == batch.id)
        .group_by(ShipmentItem.shipment_id)
        .order_by(ShipmentItem.shipment_id.desc())
        .limit(MAX_BATCH_SHIPMENTS)
    )
    return dict(session.execute(query).all())


def batch_summary(session: Session, batch: Batch) -> dict:
    """Counts over the batch's units: by status, their own inspections by result (voided
    ones left out), how many shipments carried some of them, repairs and complaints."""
    statuses = session.execute(
        select(Item.status, func.count(), func.min(Item.produced_at), func.max(Item.produced_at))
        .where(Item.batch_id == batch.id)
        .group_by(Item.status)
    ).all()
    results = session.execute(
        select(Inspection.result, func.count())
        .join(Item, Item.id == Inspection.item_id)
        .where(Item.batch_id == batch.id, Inspection.voided_at.is_(None))
        .group_by(Inspection.result)
    ).all()
    return {
        "items": sum(row[1] for row in statuses),
        "items_by_status": {status.value: n for status, n, *_ in statuses},
        "first_produced_at": min((row[2] for row in statuses), default=None),
        "last_produced_at": max((row[3] for row in statuses), default=None),
        "item_inspections_by_result": {result.value: n for result, n in results},
        "shipments": _count_shipments(session, batch),
        "repairs": _count_through_items(session, batch, Repair.item_id, Repair.voided_at),
        "complaints": _count_through_items(session, batch, Complaint.item_id),
    }


def _count_shipments(session: Session, batch: Batch) -> int:
    by_item = (
        select(ShipmentItem.shipment_id)
        .join(Item, Item.id == ShipmentItem.item_id)
        .where(Item.batch_id == batch.id)
    )
    whole = select(shipment_batch.c.shipment_id).where(shipment_batch.c.batch_id == batch.id)
    ids = by_item.union(whole).subquery()
    return session.scalar(select(func.count()).select_from(ids))


def _count_through_items(session: Session, batch: Batch, item_column, voided_at=None) -> int:
    query = (
        select(func.count())
        .select_from(item_column.class_)
        .join(Item, Item.id == item_column)
        .where(Item.batch_id == batch.id)
    )
    if voided_at is not None:
        query = query.where(voided_at.is_(None))
    return session.scalar(query)


def count_items(session: Session, batch: Batch) -> int:
    """How many units the batch has (its serialized items)."""
    return session.scalar(select(func.count()).select_from(Item).where(Item.batch_id == batch.id))
