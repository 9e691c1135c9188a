"""Valid objects with defaults, made through the domain functions.

A test states only what it cares about.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trace import codes, gs1
from trace.auth import services as auth
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.catalog import services as catalog
from trace.catalog.models import StationKind
from trace.logistics import services as logistics
from trace.logistics.models import Shipment, ShipmentEvent, ShipmentStatus
from trace.production import scrapping
from trace.production import services as production
from trace.production.models import Item, Scrap
from trace.quality import services as quality
from trace.quality.models import Inspection, InspectionResult, ProcessRecord
from trace.service import services as service
from trace.service.models import Repair, RepairOutcome

ACTOR = "test"
PRINCIPAL = Principal(ACTOR, Role.admin)
_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


def valid_gtin(n: int | None = None) -> str:
    body = f"{950600 + (n if n is not None else next(_seq)):013d}"[-13:]
    return body + gs1.gtin_check_digit(body)


def make_product(session: Session, **overrides):
    data = {"sku": unique("SKU-"), "name": "Electric kettle", "warranty_months": 24}
    data.update(overrides)
    return catalog.create_product(session, ACTOR, **data)


def make_line(session: Session, **overrides):
    data = {"code": unique("L"), "name": "Assembly line", "public_name": "Line A"}
    data.update(overrides)
    return catalog.create_line(session, ACTOR, **data)


def make_station(session: Session, line=None, **overrides):
    line = line or make_line(session)
    data = {"code": unique("ST"), "name": "Final test", "line_id": line.id}
    data.update({"kind": StationKind.inspection, **overrides})
    return catalog.create_station(session, ACTOR, **data)


def make_inspector(session: Session, **overrides):
    data = {"badge": unique("B"), "name": "Wang Fang", "qualification": "IPC-A-610"}
    data.update(overrides)
    return catalog.create_inspector(session, ACTOR, **data)


def make_material_lot(session: Session, **overrides):
    data = {
        "part_number": "HEAT-ELEM-2200",
        "supplier": "Ningbo Thermal Co.",
        "supplier_lot": unique("NT"),
        "received_on": dt.date(2026, 10, 1),
    }
    data.update(overrides)
    return catalog.create_material_lot(session, ACTOR, **data)


def make_batch(session: Session, product=None, line=None, **overrides):
    product = product or make_product(session)
    line = line or make_line(session)
    data = {"product_id": product.id, "lot_number": unique("LOT"), "line_id": line.id}
    data.update(overrides)
    return production.open_batch(session, ACTOR, **data)


# Before the times the tests post records at (shipments from 2026-11-02, say).
MADE = dt.datetime(2026, 10, 1, 8, tzinfo=dt.UTC)


def make_item(session: Session, batch=None, **overrides) -> Item:
    """One item, inserted directly: serialization has its own tests."""
    batch = batch or make_batch(session)
    item = Item(
        product_id=batch.product_id,
        batch_id=batch.id,
        serial=overrides.pop("serial", unique("S")),
        code=overrides.pop("code", codes.new_code()),
        produced_at=overrides.pop("produced_at", MADE),
        **overrides,
    )
    session.add(item)
    session.flush()
    return item


def make_inspection(session: Session, item=None, station=None, inspector=None, **overrides):
    """A passing inspection of an item, recorded through the domain as the test actor."""
    item = item or make_item(session)
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "station": (station or make_station(session)).code,
        "inspector": (inspector or make_inspector(session)).badge,
        "occurred_at": dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC),
        "result": InspectionResult.passed,
        **overrides,
    }
    [recorded] = quality.record_inspections(session, PRINCIPAL, [data])
    return session.get(Inspection, recorded.id)


def make_process_record(session: Session, batch=None, station=None, **overrides):
    """An in-spec oven temperature of a batch, recorded through the domain."""
    batch = batch or make_batch(session)
    data = {
        "event_id": uuid.uuid4(),
        "batch_id": batch.id,
        "station": (station or make_station(session)).code,
        "parameter": "oven_temp",
        "value": 220.0,
        "unit": "C",
        "lower_limit": 210.0,
        "upper_limit": 230.0,
        "occurred_at": dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC),
        **overrides,
    }
    [recorded] = quality.record_process_records(session, PRINCIPAL, [data])
    return session.get(ProcessRecord, recorded.id)


def make_shipment(session: Session, items=(), batches=(), **overrides) -> Shipment:
    """A shipment of the items and whole batches given (a new item if neither), by the domain."""
    if not items and not batches:
        items = [make_item(session)]
    data = {
        "event_id": uuid.uuid4(),
        "number": unique("SH-"),
        "carrier": "SF Express",
        "tracking_number": unique("SF"),
        "origin": "Ningbo plant",
        "destination": "Shanghai distribution centre",
        "consignee": "East China Appliances Co.",
        "shipped_at": dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC),
        "item_codes": [item.code for item in items],
        "batch_ids": [batch.id for batch in batches],
        **overrides,
    }
    [recorded] = logistics.record_shipments(session, PRINCIPAL, [data])
    return session.get(Shipment, recorded.id)


def make_shipment_event(session: Session, shipment=None, **overrides) -> ShipmentEvent:
    """An in-transit event of a shipment, recorded through the domain."""
    shipment = shipment or make_shipment(session)
    data = {
        "event_id": uuid.uuid4(),
        "shipment_id": shipment.id,
        "occurred_at": dt.datetime(2026, 11, 3, 8, tzinfo=dt.UTC),
        "status": ShipmentStatus.in_transit,
        "location": "Hangzhou hub",
        **overrides,
    }
    [recorded] = logistics.record_shipment_events(session, PRINCIPAL, [data])
    return session.get(ShipmentEvent, recorded.id)


def make_repair(session: Session, item=None, **overrides) -> Repair:
    """A completed repair of an item, received and completed now, recorded through the domain."""
    item = item or make_item(session)
    now = dt.datetime.now(dt.UTC)
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "technician": "Li Wei",
        "received_at": now,
        "completed_at": now,
        "symptom": "Does not heat",
        "outcome": RepairOutcome.repaired,
        **overrides,
    }
    [recorded] = service.record_repairs(session, PRINCIPAL, [data])
    return session.get(Repair, recorded.id)


def make_scrap(session: Session, item=None, **overrides) -> Scrap:
    """A unit scrapped now, recorded through the domain."""
    item = item or make_item(session)
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "occurred_at": dt.datetime.now(dt.UTC),
        "reason": "Housing cracked beyond rework",
        **overrides,
    }
    [recorded] = scrapping.record_scraps(session, PRINCIPAL, [data])
    return session.get(Scrap, recorded.id)


def make_key(session: Session, role: str = "admin", **binding):
    return auth.create_api_key(session, ACTOR, role=Role(role), **binding)


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


class ApiClient:
    """A Flask test client that sends the API key on every request."""

    def __init__(self, client, key: str):
        self.client, self.key = client, key

    def _call(self, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self._call("GET", path, **kw)

    def post(self, path, **kw):
        return self._call("POST", path, **kw)

    def delete(self, path, **kw):
        return self._call("DELETE", path, **kw)
