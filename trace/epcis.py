"""An item's or a batch's history as an EPCIS 2.0 JSON-LD document (GS1 EPCIS/CBV 2.0).

What each kind of history event becomes:

- production: ObjectEvent ADD, bizStep commissioning, disposition active; the lot number
  and the material lots consumed go in `ilmd`;
- components: AggregationEvent ADD (installing) and DELETE (removing), parent the
  finished unit;
- inspections: ObjectEvent OBSERVE, inspecting, conformant or non_conformant (fail and
  rework), measurements as sensor reports;
- process records: ObjectEvent OBSERVE, sensor_reporting, the value as a sensor report
  with its limits; a value out of its limits carries exception ALARM_CONDITION;
- shipments: shipping (in_transit); logged events departing, transporting, receiving
  (delivered: active) or returned; a confirmed delivery without a logged one: receiving;
- repairs: repairing, disposition from the outcome; parts in the extension;
- batch holds and recalls: holding, non_sellable_other or recalled (released: active);
- scrapping: ObjectEvent DELETE, destroying, destroyed; the reason in the extension.

Complaints and corrective actions are not supply-chain events and stay out.

Identifiers: a product with a GTIN gets canonical GS1 Digital Link URIs
(https://id.gs1.org/01/{gtin}/21/{serial} for a unit, /10/{lot} for its batch), which
EPCIS 2.0 accepts as EPCs; others get URIs under our public base URL built from SKU and
serial (never the item code: it proves authenticity and is not an identifier to pass
around). Stations and lines are readPoint and bizLocation URIs under the same base.

Event ids: a record about one subject keeps the client's event id (urn:uuid:...). A
shipment is about many units, and the item's and the batch's documents each tell only
their part of it, so those events get a name-based UUID of the record's event id and
the subject: the same event always gets the same id, different views never share one.
Event ids are unique per kind of record, so a client may post one id to two resources (a
tester's run as an inspection and as a process record, say); the record posted first
keeps it, and the others are named by a UUID of the id and their kind, with the id as
posted beside it (trace:clientEventID).
Voided records carry an errorDeclaration pointing at their replacement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from trace import gs1
from trace.capture import lookup_rows
from trace.history import Event, RecordRef, batch_history, batch_summary, count_items, item_history
from trace.production.models import Batch, Item, Scrap
from trace.quality.models import Inspection, ProcessRecord
from trace.service.models import Repair
from trace.times import in_zone

CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
GS1_ID = "https://id.gs1.org"
MEDIA_TYPE = "application/ld+json"
NS = "trace"

# Our units of measure as CBV measurement types and UN/ECE Recommendation 20 codes.
UNITS: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("°C", "C", "degC", "celsius"), ("Temperature", "CEL")),
    **dict.fromkeys(("°F", "F", "degF"), ("Temperature", "FAH")),
    "K": ("Temperature", "KEL"),
    "µm": ("Length", "4H"),
    "um": ("Length", "4H"),
    "mm": ("Length", "MMT"),
    "cm": ("Length", "CMT"),
    "m": ("Length", "MTR"),
    "mg": ("Mass", "MGM"),
    "g": ("Mass", "GRM"),
    "kg": ("Mass", "KGM"),
    "ms": ("Time", "C26"),
    "s": ("Time", "SEC"),
    "min": ("Time", "MIN"),
    "h": ("Time", "HUR"),
    "Pa": ("Pressure", "PAL"),
    "kPa": ("Pressure", "KPA"),
    "MPa": ("Pressure", "MPA"),
    "bar": ("Pressure", "BAR"),
    "mbar": ("Pressure", "MBR"),
    "mV": ("Voltage", "2Z"),
    "V": ("Voltage", "VLT"),
    "kV": ("Voltage", "KVT"),
    "mA": ("ElectricCurrent", "4K"),
    "A": ("ElectricCurrent", "AMP"),
    "W": ("Power", "WTT"),
    "kW": ("Power", "KWT"),
    **dict.fromkeys(("Ω", "ohm"), ("Resistance", "OHM")),
    "kΩ": ("Resistance", "B49"),
    "MΩ": ("Resistance", "B75"),
    "Hz": ("Frequency", "HTZ"),
    "kHz": ("Frequency", "KHZ"),
    "N": ("Force", "NEU"),
    **dict.fromkeys(("N·m", "Nm", "N.m"), ("Torque", "NU")),
    "J": ("Energy", "JOU"),
    "kWh": ("Energy", "KWH"),
    "mL": ("Volume", "MLT"),
    "L": ("Volume", "LTR"),
    "m/s": ("Speed", "MTS"),
    "rpm": ("AngularVelocity", "RPM"),
    "lx": ("Illuminance", "LUX"),
    "%RH": ("RelativeHumidity", "P1"),
    "%": ("Dimensionless", "P1"),
}

# (bizStep, disposition) of the logged shipment events, by status.
SHIPMENT_STEPS = {
    "shipped": ("departing", "in_transit"),
    "in_transit": ("transporting", "in_transit"),
    "delivered": ("receiving", "active"),
    "returned": ("receiving", "returned"),
}
REPAIR_DISPOSITIONS = {
    "repaired": "conformant",
    "no_fault_found": "conformant",
    "pending": "in_progress",
    "replaced": "needs_replacement",
    "not_repairable": "damaged",
}
# Batch status changes that change what may happen to its units; closing does not.
BATCH_STEPS = {
    "on_hold": ("holding", "non_sellable_other"),
    "recalled": ("holding", "recalled"),
    "released": (None, "active"),
    "open": (None, "active"),
}
SAME_AGGREGATION = {"installed_in": "component_installed", "removed_from": "component_removed"}
# Records about many units, whose events each document tells for its own subject.
SHARED_RECORDS = {"shipment", "shipment_event"}
# Records whose eventID is the client's event id, in the order that settles a tie.
OWN_ID_RECORDS = {
    "inspection": Inspection,
    "process_record": ProcessRecord,
    "repair": Repair,
    "scrap": Scrap,
}


class Identifiers:
    """The URIs of units, lots, parts, places and extension terms of one installation."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.namespace = f"{self.base}/ns/epcis/"

    def _own(self, *segments: str) -> str:
        return "/".join([self.base, "id", *(quote(s, safe="") for s in segments)])

    def unit(self, sku: str, gtin: str | None, serial: str) -> str:
        return self._digital_link(gtin, serial=serial) or self._own("products", sku, serial)

    def lot(self, sku: str, gtin: str | None, lot_number: str) -> str:
        return self._digital_link(gtin, lot=lot_number) or self._own(
            "products", sku, "lots", lot_number
        )

    def _digital_link(self, gtin: str | None, **qualifier) -> str | None:
        if not gtin:
            return None
        try:
            return gs1.build_digital_link(GS1_ID, gtin, **qualifier)
        except (gs1.InvalidGTIN, gs1.InvalidDigitalLink):
            return None  # e.g. a legacy serial outside GS1's character set

    def part(self, part_number: str, serial: str | None, lot: str | None) -> tuple[str, bool]:
        """A part's URI, and whether it names one instance (a serial) or a class."""
        if serial:
            return self._own("parts", part_number, serial), True
        if lot:
            return self._own("parts", part_number, "lots", lot), False
        return self._own("parts", part_number), False

    def station(self, code: str) -> str:
        return self._own("stations", code)

    def line(self, code: str) -> str:
        return self._own("lines", code)

    def shipment(self, number: str) -> str:
        return self._own("shipments", number)

    def parameter(self, name: str) -> str:
        return f"{self.namespace}parameters/{quote(name, safe='')}"

    def derived_event(self, name: str) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.base}/epcis/{name}')}"


class _Subject:
    """What the document is about: one unit (epcList) or one batch (its lot, as a class)."""

    def __init__(
        self, ids: Identifiers, batch: Batch, item: Item | None, events, batch_items, renamed
    ):
        product = batch.product
        self.ids, self.batch, self.item = ids, batch, item
        self.renamed: frozenset[tuple[str, int]] = renamed
        self.lot_uri = ids.lot(product.sku, product.gtin, batch.lot_number)
        self.unit_uri = ids.unit(product.sku, product.gtin, item.serial) if item else None
        self.batch_items = batch_items
        self.material_lots = [e.data for e in events if e.kind == "material_lot"]

    def what(self, event: Event) -> dict:
        """The what-dimension: the unit, or the batch's units counted under their lot."""
        if event.scope == "item" and self.unit_uri:
            return {"epcList": [self.unit_uri]}
        quantity = event.data.get("items_of_batch", self.batch_items)
        return {"quantityList": [{"epcClass": self.lot_uri, "quantity": quantity}]}

    def uri(self, event: Event) -> str:
        return self.unit_uri if event.scope == "item" and self.unit_uri else self.lot_uri


def item_document(session: Session, item: Item, base_url: str, zone: str, now: dt.datetime) -> dict:
    """The item's history as an EPCISDocument; `zone` gives eventTimeZoneOffset."""
    events = item_history(session, item)
    batch_items = count_items(session, item.batch) if _has_batch_events(events) else 0
    renamed = _renamed(session, events)
    subject = _Subject(Identifiers(base_url), item.batch, item, events, batch_items, renamed)
    return _document(subject, events, zone, now)


def batch_document(
    session: Session, batch: Batch, base_url: str, zone: str, now: dt.datetime
) -> dict:
    """The batch's history as an EPCISDocument: class-level events about its lot."""
    events = batch_history(session, batch)
    summary = batch_summary(session, batch)
    renamed = _renamed(session, events)
    subject = _Subject(Identifiers(base_url), batch, None, events, summary["items"], renamed)
    document = _document(subject, events, zone, now)
    if summary["items"]:
        commissioning = _batch_commissioning(subject, summary, ZoneInfo(zone))
        document["epcisBody"]["eventList"].insert(0, commissioning)
    return document


def _renamed(session: Session, events: list[Event]) -> frozenset[tuple[str, int]]:
    """The records (kind, id) whose event id a record of another kind was posted with first.

    Posting order, not the kind, decides, so a record exported under its id keeps it when
    a record of another kind comes later with the same id. (On PostgreSQL two such posts
    under way at once may commit in the other order than they took their recorded_at: a
    window of one commit in which an export can see the later one alone.)
    """
    story: dict[tuple[str, uuid.UUID], tuple] = {}  # the records this story has
    wanted: set[uuid.UUID] = set()
    for event in events:
        if event.record in OWN_ID_RECORDS and event.event_id is not None:
            story[(event.record, event.event_id)] = (event.recorded_at, event.id)
            wanted.add(event.event_id)
            wanted.update(ref.event_id for ref in (event.replaces, event.replaced_by) if ref)
    posts = defaultdict(list)
    connection = session.connection()
    for order, (name, model) in enumerate(OWN_ID_RECORDS.items()):
        elsewhere = {event_id for event_id in wanted if (name, event_id) not in story}
        found = lookup_rows(connection, model.event_id, (model.id, model.recorded_at), elsewhere)
        for event_id in wanted:
            if (name, event_id) in story:
                recorded_at, record_id = story[(name, event_id)]
            elif event_id in found:
                recorded_at, record_id = found[event_id].recorded_at, found[event_id].id
            else:
                continue
            posts[event_id].append((recorded_at, order, name, record_id))
    return frozenset(
        (name, record_id)
        for same_id in posts.values()
        if len(same_id) > 1
        for _, _, name, record_id in sorted(same_id)[1:]
    )


def _has_batch_events(events: list[Event]) -> bool:
    return any(event.scope != "item" for event in events)


def _document(subject: _Subject, events: list[Event], zone: str, now: dt.datetime) -> dict:
    tz = ZoneInfo(zone)
    converters = _converters(subject)
    event_list = []
    for event in events:
        convert = converters.get(event.kind)
        if convert is None:
            continue
        epcis_event = convert(event)
        if epcis_event is not None:
            event_list.append(_finish(subject, event, epcis_event, tz))
    return {
        "@context": [CONTEXT, {NS: subject.ids.namespace}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(now, dt.UTC),
        "epcisBody": {"eventList": event_list},
    }


def _converters(subject: _Subject) -> dict:
    ids = subject.ids
    return {
        "produced": lambda e: _commissioning(subject, e),
        "component_installed": lambda e: _component(subject, e, installed=True),
        "component_removed": lambda e: _component(subject, e, installed=False),
        "installed_in": lambda e: _installed_in(subject, e, installed=True),
        "removed_from": lambda e: _installed_in(subject, e, installed=False),
        "inspection": lambda e: _inspection(subject, e),
        "process_record": lambda e: _process_record(subject, e),
        "shipment": lambda e: _shipping(subject, e),
        "shipment_event": lambda e: _logistics(subject, e),
        "delivery": lambda e: _object(subject, e, "receiving", "active", _shipment_link(ids, e)),
        "repair": lambda e: _repair(subject, e),
        "batch_status": lambda e: _batch_status(subject, e),
        "scrapped": lambda e: _scrapping(subject, e),
    }


# --- the common parts of every event ----------------------------------------------------------


def _time(moment: dt.datetime, tz) -> str:
    return in_zone(moment, tz).isoformat(timespec="milliseconds")


def _offset(moment: dt.datetime, tz) -> str:
    offset = in_zone(moment, tz).utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _finish(subject: _Subject, event: Event, body: dict, tz) -> dict:
    """Add when, the event id, the record time and, for a voided record, its error
    declaration to an event's own fields."""
    when = body.pop("_time", event.time)
    head = {
        "type": body.pop("type", "ObjectEvent"),
        "eventTime": _time(when, tz),
        "eventTimeZoneOffset": _offset(when, tz),
        "eventID": _event_id(subject, event),
    }
    if (event.record, event.id) in subject.renamed:
        head[f"{NS}:clientEventID"] = f"urn:uuid:{event.event_id}"
    if event.recorded_at is not None:
        head["recordTime"] = _time(event.recorded_at, dt.UTC)
    if event.voided_at is not None:
        head["errorDeclaration"] = _error_declaration(subject, event, tz)
    if event.replaces is not None:
        body[f"{NS}:replaces"] = _record_event_id(subject, event, event.replaces, own=False)
    return {**head, **body}


def _event_id(subject: _Subject, event: Event) -> str:
    if event.event_id is not None:
        return _record_event_id(subject, event, RecordRef(event.id, event.event_id), own=True)
    if event.kind == "batch_status":
        return subject.ids.derived_event(f"audit/{event.data['audit_seq']}")
    if event.kind == "produced":
        return subject.ids.derived_event(f"commissioning/{subject.unit_uri}")
    # The parent's "component installed" and the component's "installed in" are one event.
    step = SAME_AGGREGATION.get(event.kind, event.kind)
    return subject.ids.derived_event(f"item_component/{event.data['component_id']}/{step}")


def _record_event_id(subject: _Subject, event: Event, record: RecordRef, own: bool) -> str:
    """The eventID of `record` (the event's own, or one it replaces or is replaced by).

    A shipment's events are named per subject; the record linked to a derived event (a
    delivery confirmation) is named as that record's own kind of event.
    """
    if event.record not in SHARED_RECORDS:
        if (event.record, record.id) in subject.renamed:
            return f"urn:uuid:{uuid.uuid5(record.event_id, event.record)}"
        return f"urn:uuid:{record.event_id}"
    kind = event.kind if own else event.record
    return f"urn:uuid:{uuid.uuid5(record.event_id, f'{kind}|{subject.uri(event)}')}"


def _error_declaration(subject: _Subject, event: Event, tz) -> dict:
    declaration = {
        "declarationTime": _time(event.voided_at, tz),
        "reason": "incorrect_data" if event.replaced_by else "did_not_occur",
        f"{NS}:reason": event.void_reason,
    }
    if event.replaced_by is not None:
        declaration["correctiveEventIDs"] = [
            _record_event_id(subject, event, event.replaced_by, own=False)
        ]
    return declaration


def _object(subject, event, step, disposition, extra=None, action="OBSERVE") -> dict:
    body = {"type": "ObjectEvent", **subject.what(event), "action": action, "bizStep": step}
    if disposition:
        body["disposition"] = disposition
    return {**body, **(extra or {})}


def _places(ids: Identifiers, station: dict) -> dict:
    return {
        "readPoint": {"id": ids.station(station["code"])},
        "bizLocation": {"id": ids.line(station["line"])},
    }


def _terms(values: dict) -> dict:
    """Extension fields in our namespace, leaving out those without a value."""
    return {f"{NS}:{name}": value for name, value in values.items() if value not in (None, [])}


# --- one converter per kind of event -----------------------------------------------------------


def _commissioning(subject: _Subject, event: Event) -> dict:
    ids, batch = subject.ids, subject.batch
    extra = {
        "bizLocation": {"id": ids.line(batch.line.code)},
        "ilmd": {"cbvmda:lotNumber": batch.lot_number, **_material_terms(subject)},
    }
    return _object(subject, event, "commissioning", "active", extra, action="ADD")


def _material_terms(subject: _Subject) -> dict:
    """The material lots the batch consumed, as instance/lot master data."""
    lots = [
        _terms(
            {
                "partNumber": lot["part_number"],
                "supplier": lot["supplier"],
                "supplierLot": lot["supplier_lot"],
                "receivedOn": lot["received_on"].isoformat(),
            }
        )
        for lot in subject.material_lots
    ]
    return _terms({"materialLots": lots})


def _batch_commissioning(subject: _Subject, summary: dict, tz) -> dict:
    """The batch's units, commissioned as a quantity of its lot, at its first unit's time."""
    batch, ids = subject.batch, subject.ids
    when = summary["first_produced_at"]
    return {
        "type": "ObjectEvent",
        "eventTime": _time(when, tz),
        "eventTimeZoneOffset": _offset(when, tz),
        "eventID": ids.derived_event(f"commissioning/{subject.lot_uri}"),
        "quantityList": [{"epcClass": subject.lot_uri, "quantity": summary["items"]}],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "bizLocation": {"id": ids.line(batch.line.code)},
        "ilmd": {"cbvmda:lotNumber": batch.lot_number, **_material_terms(subject)},
    }


def _component(subject: _Subject, event: Event, installed: bool) -> dict:
    data = event.data
    tracked = data.get("item")
    if tracked:
        child = {
            "childEPCs": [subject.ids.unit(tracked["sku"], tracked["gtin"], tracked["serial"])]
        }
    else:
        uri, instance = subject.ids.part(data["part_number"], data["serial"], data["lot"])
        child = (
            {"childEPCs": [uri]}
            if instance
            else {"childQuantityList": [{"epcClass": uri, "quantity": 1}]}
        )
    return _aggregation(subject.unit_uri, child, installed)


def _installed_in(subject: _Subject, event: Event, installed: bool) -> dict | None:
    parent = event.data.get("parent")
    if parent is None:
        return None
    parent_uri = subject.ids.unit(parent["sku"], parent["gtin"], parent["serial"])
    return _aggregation(parent_uri, {"childEPCs": [subject.unit_uri]}, installed)


def _aggregation(parent_uri: str, child: dict, installed: bool) -> dict:
    return {
        "type": "AggregationEvent",
        "parentID": parent_uri,
        **child,
        "action": "ADD" if installed else "DELETE",
        "bizStep": "installing" if installed else "removing",
    }


def _inspection(subject: _Subject, event: Event) -> dict:
    data = event.data
    disposition = "conformant" if data["result"] == "pass" else "non_conformant"
    extra = _places(subject.ids, data["station"])
    reports = [_sensor_report(subject.ids, m["name"], m) for m in data["measurements"]]
    if reports:
        extra["sensorElementList"] = [{"sensorReport": reports}]
    extra |= _terms(
        {
            "result": data["result"],
            "finalInspection": data["final"],
            "defectCodes": data["defect_codes"],
        }
    )
    return _object(subject, event, "inspecting", disposition, extra)


def _process_record(subject: _Subject, event: Event) -> dict:
    data = event.data
    extra = _places(subject.ids, data["station"])
    extra["sensorElementList"] = [
        {"sensorReport": [_sensor_report(subject.ids, data["parameter"], data)]}
    ]
    return _object(subject, event, "sensor_reporting", None, extra)


def _sensor_report(ids: Identifiers, name: str, reading: dict) -> dict:
    """A reading as a sensor report: CBV type and UN/ECE unit where we know the unit;
    otherwise the parameter's own type URI with our unit in the extension."""
    unit = reading.get("unit")
    known = UNITS.get(unit) if unit else None
    report = {"type": known[0] if known else ids.parameter(name), "value": reading["value"]}
    if known:
        report["uom"] = known[1]
    if not reading["in_spec"]:
        report["exception"] = "ALARM_CONDITION"
    report |= _terms(
        {
            "parameter": name,
            "unit": None if known else unit,
            "lowerLimit": reading.get("lower_limit"),
            "upperLimit": reading.get("upper_limit"),
            "inSpec": reading["in_spec"],
        }
    )
    return report


def _shipment_link(ids: Identifiers, event: Event) -> dict:
    return {
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": ids.shipment(event.data["shipment"])}
        ]
    }


def _shipping(subject: _Subject, event: Event) -> dict:
    data = event.data
    extra = {
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": subject.ids.shipment(data["number"])}
        ]
    }
    extra |= _terms(
        {
            "carrier": data["carrier"],
            "trackingNumber": data["tracking_number"],
            "origin": data["origin"],
            "destination": data["destination"],
            "wholeBatch": data["whole_batch"],
        }
    )
    extra["_time"] = data["shipped_at"]
    return _object(subject, event, "shipping", "in_transit", extra)


def _logistics(subject: _Subject, event: Event) -> dict:
    data = event.data
    step, disposition = SHIPMENT_STEPS[data["status"]]
    extra = _shipment_link(subject.ids, event)
    extra |= _terms(
        {"location": data["location"], "latitude": data["latitude"], "longitude": data["longitude"]}
    )
    return _object(subject, event, step, disposition, extra)


def _repair(subject: _Subject, event: Event) -> dict:
    data = event.data
    parts = {
        direction: [
            _terms({"partNumber": p["part_number"], "serial": p["serial"], "lot": p["lot"]})
            for p in data["parts"]
            if p["direction"] == direction
        ]
        for direction in ("removed", "installed")
    }
    extra = _terms(
        {
            "outcome": data["outcome"],
            "underWarranty": data["under_warranty"],
            "symptom": data["symptom"],
            "diagnosis": data["diagnosis"],
            "repairAction": data["action"],
            "receivedAt": data["received_at"].isoformat(),
            "partsRemoved": parts["removed"],
            "partsInstalled": parts["installed"],
        }
    )
    extra["_time"] = data["completed_at"] or data["received_at"]
    return _object(subject, event, "repairing", REPAIR_DISPOSITIONS[data["outcome"]], extra)


def _scrapping(subject: _Subject, event: Event) -> dict:
    station = event.data["station"]
    inside = event.data.get("inside")
    extra = (_places(subject.ids, station) if station else {}) | _terms(
        {"reason": event.data["reason"], "scrappedInside": inside and inside["item_code"]}
    )
    return _object(subject, event, "destroying", "destroyed", extra, action="DELETE")


def _batch_status(subject: _Subject, event: Event) -> dict | None:
    step = BATCH_STEPS.get(event.data["to"])
    if step is None:
        return None
    body = {"type": "ObjectEvent", **subject.what(event), "action": "OBSERVE"}
    if step[0]:
        body["bizStep"] = step[0]
    body["disposition"] = step[1]
    return body | _terms({"batchStatus": event.data["to"], "reason": event.data["reason"]})
