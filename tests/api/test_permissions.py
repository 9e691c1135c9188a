"""Who may call what: every endpoint against every role, with the expected answer written out.

The table below is the contract, typed by hand on purpose: it is not read from the
endpoint declarations, so a role change in the code has to be made here as well.
"""

import datetime as dt
import json
import re

import pytest

from tests import factories
from trace.audit.models import AuditEntry
from trace.production.models import Batch

ROLES = ("admin", "quality", "line", "logistics", "technician", "viewer")
EVERYONE = frozenset(ROLES)
PUBLIC = "public"  # no key needed at all

# (method, Flask rule, roles allowed, success status)
MATRIX = [
    # reads: every role
    ("GET", "/api/v1/products", EVERYONE, 200),
    ("GET", "/api/v1/products/<int:product_id>", EVERYONE, 200),
    ("GET", "/api/v1/lines", EVERYONE, 200),
    ("GET", "/api/v1/stations", EVERYONE, 200),
    ("GET", "/api/v1/inspectors", EVERYONE, 200),
    ("GET", "/api/v1/material-lots", EVERYONE, 200),
    ("GET", "/api/v1/material-lots/<int:material_lot_id>", EVERYONE, 200),
    ("GET", "/api/v1/batches", EVERYONE, 200),
    ("GET", "/api/v1/batches/<int:batch_id>", EVERYONE, 200),
    ("GET", "/api/v1/batches/<int:batch_id>/items", EVERYONE, 200),
    ("GET", "/api/v1/items/<code>", EVERYONE, 200),
    ("GET", "/api/v1/items", EVERYONE, 200),
    # catalog writes
    ("POST", "/api/v1/products", {"admin", "quality"}, 201),
    ("POST", "/api/v1/sites", {"admin"}, 201),
    ("POST", "/api/v1/lines", {"admin"}, 201),
    ("POST", "/api/v1/stations", {"admin"}, 201),
    ("POST", "/api/v1/inspectors", {"admin", "quality"}, 201),
    ("POST", "/api/v1/material-lots", {"admin", "quality", "line"}, 201),
    # production writes
    ("POST", "/api/v1/batches", {"admin", "quality", "line"}, 201),
    ("POST", "/api/v1/batches/<int:batch_id>/material-lots", {"admin", "quality", "line"}, 200),
    ("POST", "/api/v1/batches/<int:batch_id>/status", {"admin", "quality"}, 200),
    ("POST", "/api/v1/batches/<int:batch_id>/items", {"admin", "line"}, 201),
    # labels: whoever prints them
    ("GET", "/api/v1/items/<code>/label", {"admin", "quality", "line"}, 200),
    ("GET", "/api/v1/batches/<int:batch_id>/labels", {"admin", "quality", "line"}, 200),
    # quality records: lines and quality post; voiding is for the poster or quality
    ("POST", "/api/v1/inspections", {"admin", "quality", "line"}, 201),
    ("POST", "/api/v1/inspections/bulk", {"admin", "quality", "line"}, 201),
    ("GET", "/api/v1/inspections/<int:inspection_id>", EVERYONE, 200),
    ("POST", "/api/v1/inspections/<int:inspection_id>/void", {"admin", "quality"}, 200),
    ("POST", "/api/v1/process-records", {"admin", "quality", "line"}, 201),
    ("POST", "/api/v1/process-records/bulk", {"admin", "quality", "line"}, 201),
    ("GET", "/api/v1/process-records/<int:record_id>", EVERYONE, 200),
    ("POST", "/api/v1/process-records/<int:record_id>/void", {"admin", "quality"}, 200),
    ("GET", "/api/v1/process-records/out-of-spec", EVERYONE, 200),
    # shipments and their events: logistics posts; voiding is for the poster or quality
    ("POST", "/api/v1/shipments", {"admin", "logistics"}, 201),
    ("POST", "/api/v1/shipments/bulk", {"admin", "logistics"}, 201),
    ("GET", "/api/v1/shipments/<int:shipment_id>", EVERYONE, 200),
    ("GET", "/api/v1/shipments/<int:shipment_id>/items", EVERYONE, 200),
    ("POST", "/api/v1/shipments/<int:shipment_id>/void", {"admin", "quality"}, 200),
    ("POST", "/api/v1/shipments/<int:shipment_id>/events", {"admin", "logistics"}, 201),
    ("POST", "/api/v1/shipment-events", {"admin", "logistics"}, 201),
    ("POST", "/api/v1/shipment-events/bulk", {"admin", "logistics"}, 201),
    ("GET", "/api/v1/shipment-events/<int:shipment_event_id>", EVERYONE, 200),
    ("POST", "/api/v1/shipment-events/<int:shipment_event_id>/void", {"admin", "quality"}, 200),
    # repairs: technicians post; voiding is for the poster or quality
    ("POST", "/api/v1/repairs", {"admin", "technician"}, 201),
    ("POST", "/api/v1/repairs/bulk", {"admin", "technician"}, 201),
    ("GET", "/api/v1/repairs/<int:repair_id>", EVERYONE, 200),
    ("POST", "/api/v1/repairs/<int:repair_id>/void", {"admin", "quality"}, 200),
    # scrapping: lines, technicians and quality scrap; voiding is for the poster or quality
    ("POST", "/api/v1/scraps", {"admin", "quality", "line", "technician"}, 201),
    ("POST", "/api/v1/scraps/bulk", {"admin", "quality", "line", "technician"}, 201),
    ("GET", "/api/v1/scraps/<int:scrap_id>", EVERYONE, 200),
    ("POST", "/api/v1/scraps/<int:scrap_id>/void", {"admin", "quality"}, 200),
    # histories and their EPCIS exports: every staff role reads them
    ("GET", "/api/v1/items/<code>/history", EVERYONE, 200),
    ("GET", "/api/v1/batches/<int:batch_id>/history", EVERYONE, 200),
    ("GET", "/api/v1/items/<code>/epcis", EVERYONE, 200),
    ("GET", "/api/v1/batches/<int:batch_id>/epcis", EVERYONE, 200),
    # the API's own description needs no key
    ("GET", "/api/v1/openapi.json", PUBLIC, 200),
    ("GET", "/api/v1/docs", PUBLIC, 200),
]

QUERIES = {
    "/api/v1/items": "?sku={sku}&serial={serial}",
    "/api/v1/process-records/out-of-spec": (
        "?parameter=oven_temp&start=2026-01-01T00:00:00Z&end=2026-12-31T00:00:00Z"
    ),
}
# Roles that may also void records, but only those they posted themselves (tested apart).
POSTERS_MAY_VOID = {
    "/api/v1/inspections/<int:inspection_id>/void": {"line"},
    "/api/v1/process-records/<int:record_id>/void": {"line"},
    "/api/v1/shipments/<int:shipment_id>/void": {"logistics"},
    "/api/v1/shipment-events/<int:shipment_event_id>/void": {"logistics"},
    "/api/v1/repairs/<int:repair_id>/void": {"technician"},
    "/api/v1/scraps/<int:scrap_id>/void": {"line", "technician"},
}
EVENT_ID = "2f1c7a3e-1d7b-4c5e-9a61-0c8d2b7e4f10"


@pytest.fixture
def world(session):
    """One of everything the endpoints refer to, committed so the API sees it."""
    product = factories.make_product(session)
    line = factories.make_line(session)
    lots = [factories.make_material_lot(session) for _ in range(2)]
    batch = factories.make_batch(session, product, line, material_lot_ids=[lots[0].id])
    item = factories.make_item(session, batch)
    station = factories.make_station(session, line)
    inspector = factories.make_inspector(session)
    inspection = factories.make_inspection(session, item, station, inspector)
    process_record = factories.make_process_record(session, batch, station)
    shipment = factories.make_shipment(session, [factories.make_item(session, batch)])
    shipment_event = factories.make_shipment_event(session, shipment)
    repair = factories.make_repair(session, factories.make_item(session, batch))
    scrap = factories.make_scrap(session, factories.make_item(session, batch))
    session.commit()
    return {
        "station": station.code,
        "badge": inspector.badge,
        "inspection_id": inspection.id,
        "record_id": process_record.id,
        "shipment_id": shipment.id,
        "shipment_event_id": shipment_event.id,
        "repair_id": repair.id,
        "scrap_id": scrap.id,
        "product_id": product.id,
        "line_id": line.id,
        "material_lot_id": lots[0].id,
        "unlinked_lot_id": lots[1].id,
        "batch_id": batch.id,
        "code": item.code,
        "sku": product.sku,
        "serial": item.serial,
    }


def concrete(rule: str, world: dict) -> str:
    """The rule with its path parameters filled from the world, plus any required query."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(world[m.group(1)]), rule)
    return path + QUERIES.get(rule, "").format(**world)


def valid_body(rule: str, world: dict) -> dict | None:
    """A body the endpoint accepts, so that an allowed role gets a success."""
    recorded = {
        "event_id": EVENT_ID,
        "station": world["station"],
        "occurred_at": "2026-11-01T08:00:00Z",
    }
    inspection = {
        **recorded,
        "item_code": world["code"],
        "inspector": world["badge"],
        "result": "pass",
    }
    process_record = {
        **recorded,
        "batch_id": world["batch_id"],
        "parameter": "oven_temp",
        "value": 1.5,
    }
    scrap = {
        **recorded,
        "item_code": world["code"],
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "reason": "Cracked housing",
    }
    bodies = {
        "/api/v1/products": {"sku": "PERM-SKU", "name": "Permission kettle"},
        "/api/v1/sites": {"code": "PERM-SITE", "name": "Permission site"},
        "/api/v1/lines": {"code": "PERM-LINE", "name": "Permission line"},
        "/api/v1/stations": {
            "code": "PERM-ST",
            "name": "Permission station",
            "line_id": world["line_id"],
            "kind": "process",
        },
        "/api/v1/inspectors": {"badge": "PERM-B", "name": "Permission inspector"},
        "/api/v1/material-lots": {
            "part_number": "PERM-P",
            "supplier": "Permission supplier",
            "supplier_lot": "PERM-1",
            "received_on": "2026-10-01",
        },
        "/api/v1/batches": {
            "product_id": world["product_id"],
            "lot_number": "PERM-LOT",
            "line_id": world["line_id"],
        },
        "/api/v1/batches/<int:batch_id>/material-lots": {
            "material_lot_ids": [world["unlinked_lot_id"]]
        },
        "/api/v1/batches/<int:batch_id>/status": {"status": "released"},
        "/api/v1/batches/<int:batch_id>/items": {"count": 2},
        "/api/v1/inspections": inspection,
        "/api/v1/inspections/bulk": {"records": [inspection]},
        "/api/v1/inspections/<int:inspection_id>/void": {"reason": "wrong station"},
        "/api/v1/process-records": process_record,
        "/api/v1/process-records/bulk": {"records": [process_record]},
        "/api/v1/process-records/<int:record_id>/void": {"reason": "sensor fault"},
        "/api/v1/shipments": shipment_body(world),
        "/api/v1/shipments/bulk": {"records": [shipment_body(world)]},
        "/api/v1/shipments/<int:shipment_id>/void": {"reason": "booked twice"},
        "/api/v1/shipments/<int:shipment_id>/events": event_body(),
        "/api/v1/shipment-events": {**event_body(), "shipment_id": world["shipment_id"]},
        "/api/v1/shipment-events/bulk": {
            "records": [{**event_body(), "shipment_id": world["shipment_id"]}]
        },
        "/api/v1/shipment-events/<int:shipment_event_id>/void": {"reason": "wrong parcel"},
        "/api/v1/repairs": repair_body(world),
        "/api/v1/repairs/bulk": {"records": [repair_body(world)]},
        "/api/v1/repairs/<int:repair_id>/void": {"reason": "wrong unit scanned"},
        "/api/v1/scraps": scrap,
        "/api/v1/scraps/bulk": {"records": [scrap]},
        "/api/v1/scraps/<int:scrap_id>/void": {"reason": "scrapped the wrong unit"},
    }
    return bodies.get(rule)


def shipment_body(world: dict) -> dict:
    return {
        "event_id": EVENT_ID,
        "number": "PERM-SH-1",
        "carrier": "SF Express",
        "origin": "Ningbo plant",
        "destination": "Shanghai distribution centre",
        "consignee": "Permission Appliances Co.",
        "shipped_at": "2026-11-02T08:00:00Z",
        "item_codes": [world["code"]],
    }


def event_body() -> dict:
    return {"event_id": EVENT_ID, "occurred_at": "2026-11-03T09:00:00Z", "status": "in_transit"}


def repair_body(world: dict) -> dict:
    now = dt.datetime.now(dt.UTC).isoformat()
    return {
        "event_id": EVENT_ID,
        "item_code": world["code"],
        "technician": "Li Wei",
        "received_at": now,
        "completed_at": now,
        "symptom": "Does not heat",
        "outcome": "repaired",
    }


def call(client, method: str, rule: str, world: dict, key: str | None = None):
    """`method` on the rule made concrete, with a valid body for writes and the key if given."""
    body = valid_body(rule, world)
    kwargs = {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.open(concrete(rule, world), method=method, headers=headers, **kwargs)


CASES = [
    (role, method, rule, allowed == PUBLIC or role in allowed, status)
    for method, rule, allowed, status in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize(
    ("role", "method", "rule", "allowed", "status"),
    CASES,
    ids=[f"{role}-{method}-{rule.removeprefix('/api/v1')}" for role, method, rule, *_ in CASES],
)
def test_role_on_endpoint(api, session, world, role, method, rule, allowed, status):
    keyed = api(role)
    audit_before = factories.count(session, AuditEntry)
    response = call(keyed.client, method, rule, world, keyed.key)
    if allowed:
        assert response.status_code == status, response.get_data(as_text=True)
    else:
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "forbidden"
        assert factories.count(session, AuditEntry) == audit_before


@pytest.mark.parametrize(("method", "rule", "allowed", "status"), MATRIX)
def test_without_a_key_only_the_public_endpoints_answer(
    client, world, method, rule, allowed, status
):
    response = call(client, method, rule, world)
    if allowed == PUBLIC:
        assert response.status_code == status
    else:
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_every_api_route_has_a_row_in_the_matrix(app):
    registered = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    in_matrix = {(method, rule) for method, rule, _, _ in MATRIX}
    assert registered == in_matrix


def test_the_documented_roles_are_the_enforced_ones(client):
    """The OpenAPI document's x-roles tells integrators the same thing the matrix does."""
    document = client.get("/api/v1/openapi.json").get_json()
    for method, rule, allowed, _ in MATRIX:
        if allowed == PUBLIC:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.removeprefix("/api/v1"))
        operation = document["paths"][path][method.lower()]
        expected = set(allowed) | POSTERS_MAY_VOID.get(rule, set())
        assert set(operation["x-roles"]) == expected, (method, rule)


# --- line and station bindings -------------------------------------------------------------


@pytest.fixture
def two_lines(session):
    product = factories.make_product(session)
    own, other = factories.make_line(session), factories.make_line(session)
    station = factories.make_station(session, own)
    session.commit()
    return {"product": product, "own": own, "other": other, "station": station}


def _open_batch(client, two_lines, line, lot_number):
    body = {"product_id": two_lines["product"].id, "lot_number": lot_number, "line_id": line.id}
    return client.post("/api/v1/batches", data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("binding", ["line", "station"])
def test_a_bound_line_key_opens_batches_only_on_its_own_line(api, session, two_lines, binding):
    if binding == "line":
        client = api("line", line_code=two_lines["own"].code)
    else:
        client = api("line", station_code=two_lines["station"].code)
    assert _open_batch(client, two_lines, two_lines["own"], "OWN-1").status_code == 201
    before = (factories.count(session, Batch), factories.count(session, AuditEntry))
    response = _open_batch(client, two_lines, two_lines["other"], "OTHER-1")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert response.get_json()["error"]["fields"] == {"line_id": ["another line's"]}
    assert (factories.count(session, Batch), factories.count(session, AuditEntry)) == before


def test_a_bound_line_key_links_material_lots_only_on_its_own_line(api, session, two_lines):
    lot = factories.make_material_lot(session)
    own = factories.make_batch(session, two_lines["product"], two_lines["own"])
    other = factories.make_batch(session, two_lines["product"], two_lines["other"])
    session.commit()
    client = api("line", line_code=two_lines["own"].code)
    body = json.dumps({"material_lot_ids": [lot.id]})
    path = "/api/v1/batches/{}/material-lots"
    response = client.post(path.format(other.id), data=body, content_type="application/json")
    assert response.status_code == 403
    assert response.get_json()["error"]["fields"] == {"batch_id": ["another line's"]}
    response = client.post(path.format(own.id), data=body, content_type="application/json")
    assert response.status_code == 200


def test_a_bound_quality_key_changes_status_only_on_its_own_line(api, session, two_lines):
    own = factories.make_batch(session, two_lines["product"], two_lines["own"])
    other = factories.make_batch(session, two_lines["product"], two_lines["other"])
    session.commit()
    client = api("quality", line_code=two_lines["own"].code)
    body = json.dumps({"status": "released"})
    path = "/api/v1/batches/{}/status"
    response = client.post(path.format(other.id), data=body, content_type="application/json")
    assert response.status_code == 403
    response = client.post(path.format(own.id), data=body, content_type="application/json")
    assert response.status_code == 200


def test_an_unbound_line_key_opens_batches_on_any_line(api, two_lines):
    client = api("line")
    assert _open_batch(client, two_lines, two_lines["own"], "A-1").status_code == 201
    assert _open_batch(client, two_lines, two_lines["other"], "B-1").status_code == 201
