"""The repair API: status codes, retries, warranty, parts, voiding, bad input."""

import datetime as dt
import json
import uuid

import pytest

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.logistics.models import ShipmentStatus
from trace.production.models import ItemComponent
from trace.service.models import Repair, RepairPart

PRODUCED = dt.datetime(2025, 3, 1, 8, tzinfo=dt.UTC)


@pytest.fixture
def world(session):
    product = factories.make_product(session, warranty_months=24)
    batch = factories.make_batch(session, product)
    unit = factories.make_item(session, batch, produced_at=PRODUCED)
    part = factories.make_item(session, serial="PUMP-0042", produced_at=PRODUCED)
    session.commit()
    return {"unit": unit, "part": part}


def body(world, **overrides) -> dict:
    data = {
        "event_id": str(uuid.uuid4()),
        "item_code": world["unit"].code,
        "technician": "Li Wei (S-104)",
        "received_at": "2026-11-10T09:00:00+08:00",
        "completed_at": "2026-11-11T17:30:00+08:00",
        "symptom": "Does not heat",
        "diagnosis": "Pump seized",
        "action": "Replaced the pump",
        "outcome": "repaired",
        "parts": [
            {"direction": "removed", "part_number": "PUMP-2", "serial": "PUMP-0001"},
            {"direction": "installed", "part_number": "PUMP-2", "item_code": world["part"].code},
        ],
    }
    return {**data, **overrides}


def counts(session):
    models = (Repair, RepairPart, ItemComponent, AuditEntry)
    return tuple(factories.count(session, model) for model in models)


def posted(client, world, **overrides):
    response = client.post("/api/v1/repairs", json=body(world, **overrides))
    assert response.status_code == 201, response.json
    return response.json


def test_post_is_201_then_200_on_retry_with_the_same_record(api, session, world):
    client = api("technician")
    data = body(world)
    first = client.post("/api/v1/repairs", json=data)
    assert first.status_code == 201
    assert first.json["received_at"] == "2026-11-10T01:00:00+00:00"
    assert (first.json["item_code"], first.json["under_warranty"]) == (world["unit"].code, True)
    assert first.json["parts"][1] == {
        "direction": "installed",
        "part_number": "PUMP-2",
        "serial": "PUMP-0042",
        "lot": None,
        "item_code": world["part"].code,
    }
    assert "payload_hash" not in first.json
    again = client.post("/api/v1/repairs", json=data)
    assert (again.status_code, again.json) == (200, first.json)
    assert factories.count(session, Repair) == 1
    assert factories.count(session, ItemComponent) == 1


def test_the_same_event_id_with_other_content_is_409(api, world):
    client = api("technician")
    data = body(world)
    client.post("/api/v1/repairs", json=data)
    response = client.post("/api/v1/repairs", json={**data, "symptom": "Leaks"})
    assert response.status_code == 409
    assert "event_id" in response.json["error"]["fields"]


def test_bulk_reports_created_and_replayed_and_names_bad_records(api, session, world):
    client = api("technician")
    records = [body(world, parts=[]) for _ in range(3)]
    first = client.post("/api/v1/repairs/bulk", json={"records": records})
    assert (first.status_code, first.json["created"]) == (201, 3)
    again = client.post("/api/v1/repairs/bulk", json={"records": records})
    assert (again.status_code, again.json["replayed"]) == (200, 3)
    bad = [body(world, parts=[]) for _ in range(3)]
    bad[0]["outcome"] = "fixed"
    bad[2]["completed_at"] = "2026-11-09T00:00:00Z"
    before = counts(session)
    response = client.post("/api/v1/repairs/bulk", json={"records": bad})
    assert response.status_code == 422
    fields = response.json["error"]["fields"]["records"]
    assert set(fields) == {"0"}  # the schema refuses first; domain checks need valid input
    assert "outcome" in fields["0"]
    bad[0]["outcome"] = "repaired"
    response = client.post("/api/v1/repairs/bulk", json={"records": bad})
    assert response.json["error"]["fields"]["records"] == {
        "2": {"completed_at": ["before received_at"]}
    }
    assert counts(session) == before


def test_an_open_repair_puts_the_unit_in_repair_until_completed(api, world):
    client = api("technician")
    opened = posted(client, world, completed_at=None, outcome=None, parts=[])
    assert opened["outcome"] == "pending"
    item = client.get(f"/api/v1/items/{world['unit'].code}").json
    assert item["status"] == "in_repair"
    done = posted(client, world, parts=[], replaces=opened["id"], void_reason="completed")
    assert done["replaces_id"] == opened["id"]
    assert client.get(f"/api/v1/items/{world['unit'].code}").json["status"] == "produced"


def test_overriding_the_warranty_needs_a_reason(api, session, world):
    client = api("technician")
    before = counts(session)
    response = client.post("/api/v1/repairs", json=body(world, under_warranty=False))
    assert response.status_code == 422
    assert "warranty_override_reason" in response.json["error"]["fields"]
    assert counts(session) == before
    stored = posted(client, world, under_warranty=False, warranty_override_reason="water damage")
    assert (stored["under_warranty"], stored["warranty_override_reason"]) == (
        False,
        "water damage",
    )


def test_a_tracked_part_installed_elsewhere_is_409(api, session, world):
    client = api("technician")
    posted(client, world)
    other = factories.make_item(session, produced_at=PRODUCED)
    session.commit()
    before = counts(session)
    response = client.post("/api/v1/repairs", json=body({**world, "unit": other}))
    assert response.status_code == 409
    assert "parts" in response.json["error"]["fields"]
    assert counts(session) == before


def test_voiding_by_poster_and_quality_not_by_others_and_not_twice(api, session, world):
    poster = api("technician")
    mine = posted(poster, world)
    theirs = posted(poster, world, parts=[])
    stranger = api("technician")
    before = counts(session)
    response = stranger.post(f"/api/v1/repairs/{mine['id']}/void", json={"reason": "x"})
    assert response.status_code == 403
    assert counts(session) == before
    response = poster.post(f"/api/v1/repairs/{mine['id']}/void", json={"reason": "wrong unit"})
    assert response.status_code == 200 and response.json["void_reason"] == "wrong unit"
    assert factories.count(session, ItemComponent) == 0  # its genealogy is undone
    again = poster.post(f"/api/v1/repairs/{mine['id']}/void", json={"reason": "again"})
    assert again.status_code == 409
    by_quality = api("quality").post(f"/api/v1/repairs/{theirs['id']}/void", json={"reason": "dup"})
    assert by_quality.status_code == 200
    assert poster.get(f"/api/v1/repairs/{theirs['id']}").json["voided_at"] is not None


def test_unknown_repairs_are_404(api):
    assert api("viewer").get("/api/v1/repairs/999999").status_code == 404
    response = api("technician").post("/api/v1/repairs/999999/void", json={"reason": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"event_id": 42}, 422, "event_id"),
        ({"item_code": codes.new_code()}, 404, "item_code"),
        ({"item_code": "0000000000000000Z"}, 422, "item_code"),
        ({"received_at": "2999-01-01T00:00:00Z", "completed_at": None}, 422, "received_at"),
        ({"completed_at": "2999-01-01T00:00:00Z"}, 422, "completed_at"),
        ({"completed_at": "2026-11-09T00:00:00Z"}, 422, "completed_at"),
        ({"received_at": "2024-01-01T00:00:00Z"}, 422, "received_at"),
        ({"received_at": "yesterday"}, 422, "received_at"),
        ({"outcome": "fixed"}, 422, "outcome"),
        ({"outcome": "pending"}, 422, "outcome"),
        ({"under_warranty": "yes"}, 422, "under_warranty"),
        ({"symptom": "x" * 2001}, 422, "symptom"),
        ({"technician": ""}, 422, "technician"),
        ({"parts": [{"direction": "installed", "part_number": "P-1"}]}, 422, "parts"),
        ({"parts": [{"direction": "sideways", "part_number": "P-1", "lot": "L"}]}, 422, "parts"),
        ({"parts": "pump"}, 422, "parts"),
        (
            {
                "parts": [
                    {"direction": "installed", "part_number": "P", "item_code": codes.new_code()}
                ]
            },
            404,
            "parts",
        ),
    ],
)
def test_bad_repairs_are_refused_and_nothing_is_written(api, session, world, change, status, field):
    client = api("technician")
    before = counts(session)
    response = client.post("/api/v1/repairs", json=body(world, **change))
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"]
    assert counts(session) == before


def test_malformed_and_non_json_bodies_are_refused(api, session, world):
    client = api("technician")
    before = counts(session)
    assert (
        client.post("/api/v1/repairs", data="[", content_type="application/json").status_code == 400
    )
    assert client.post("/api/v1/repairs", data=json.dumps(body(world))).status_code == 415
    assert counts(session) == before


def test_the_scan_page_and_the_service_desk_count_the_warranty_alike(api, client, session):
    now = dt.datetime.now(dt.UTC)
    product = factories.make_product(session, warranty_months=1)
    unit = factories.make_item(
        session, factories.make_batch(session, product), produced_at=now - dt.timedelta(days=90)
    )
    noon = now.replace(hour=4, minute=0, second=0, microsecond=0)  # the same day in UTC+8
    for days_ago in (60, 10):  # delivered, then shipped back after a repair
        sent = factories.make_shipment(
            session, [unit], shipped_at=noon - dt.timedelta(days=days_ago + 1)
        )
        factories.make_shipment_event(
            session,
            sent,
            status=ShipmentStatus.delivered,
            occurred_at=noon - dt.timedelta(days=days_ago),
        )
    session.commit()
    page = client.get(f"/s/{unit.code}", headers={"Accept": "application/json"}).json
    first = (noon - dt.timedelta(days=60)).date().isoformat()
    assert (page["warranty"]["starts_on"], page["warranty"]["active"]) == (first, False)
    data = {
        "event_id": str(uuid.uuid4()),
        "item_code": unit.code,
        "technician": "Li Wei",
        "received_at": now.isoformat(),
        "symptom": "Does not heat",
    }
    assert api("technician").post("/api/v1/repairs", json=data).json["under_warranty"] is False
