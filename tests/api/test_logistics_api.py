"""The shipment and logistics-event API: status codes, retries, delivery, voiding, bad input."""

import datetime as dt
import json
import uuid

import pytest

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.logistics.models import Shipment, ShipmentEvent, ShipmentItem
from trace.production.models import BatchStatus
from trace.production.services import change_batch_status


@pytest.fixture
def world(session):
    batch = factories.make_batch(session)
    items = [factories.make_item(session, batch) for _ in range(3)]
    session.commit()
    return {"batch": batch, "items": items}


def body(world, **overrides) -> dict:
    data = {
        "event_id": str(uuid.uuid4()),
        "number": factories.unique("SH-"),
        "carrier": "SF Express",
        "tracking_number": "SF1234567890",
        "origin": "Ningbo plant",
        "destination": "Shanghai distribution centre",
        "consignee": "East China Appliances Co.",
        "shipped_at": "2026-11-02T16:00:00+08:00",
        "expected_at": "2026-11-04T16:00:00+08:00",
        "item_codes": [world["items"][0].code],
    }
    return {**data, **overrides}


def event_body(**overrides) -> dict:
    data = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-11-03T08:00:00Z",
        "status": "in_transit",
        "location": "Hangzhou hub",
        "latitude": 30.27,
        "longitude": 120.15,
    }
    return {**data, **overrides}


def counts(session):
    models = (Shipment, ShipmentItem, ShipmentEvent, AuditEntry)
    return tuple(factories.count(session, model) for model in models)


def shipped(client, world, **overrides):
    response = client.post("/api/v1/shipments", json=body(world, **overrides))
    assert response.status_code == 201, response.json
    return response.json


def test_post_is_201_then_200_on_retry_with_the_same_record(api, session, world):
    client = api("logistics")
    data = body(world)
    first = client.post("/api/v1/shipments", json=data)
    assert first.status_code == 201
    assert first.json["shipped_at"] == "2026-11-02T08:00:00+00:00"
    assert (first.json["status"], first.json["item_count"], first.json["events"]) == (
        "shipped",
        1,
        [],
    )
    assert "payload_hash" not in first.json
    again = client.post("/api/v1/shipments", json=data)
    assert (again.status_code, again.json) == (200, first.json)
    assert factories.count(session, Shipment) == 1


def test_the_same_event_id_with_other_content_is_409(api, world):
    client = api("logistics")
    data = body(world)
    client.post("/api/v1/shipments", json=data)
    response = client.post("/api/v1/shipments", json={**data, "carrier": "EMS"})
    assert response.status_code == 409
    assert "event_id" in response.json["error"]["fields"]


def test_bulk_reports_created_and_replayed(api, world):
    client = api("logistics")
    records = [body(world, item_codes=[item.code]) for item in world["items"]]
    first = client.post("/api/v1/shipments/bulk", json={"records": records})
    assert (first.status_code, first.json["created"], first.json["replayed"]) == (201, 3, 0)
    again = client.post("/api/v1/shipments/bulk", json={"records": records})
    assert (again.status_code, again.json["created"], again.json["replayed"]) == (200, 0, 3)


def test_bulk_errors_name_index_and_field_and_nothing_is_written(api, session, world):
    records = [body(world, item_codes=[item.code]) for item in world["items"]]
    records[1]["shipped_at"] = "2999-01-01T00:00:00Z"
    records[2]["item_codes"] = ["0000000000000000Z"]
    client = api("logistics")
    before = counts(session)
    response = client.post("/api/v1/shipments/bulk", json={"records": records})
    assert response.status_code == 422
    fields = response.json["error"]["fields"]["records"]
    assert set(fields) == {"1", "2"}
    assert "shipped_at" in fields["1"] and "item_codes" in fields["2"]
    assert counts(session) == before


def test_an_item_in_an_open_shipment_is_409_naming_item_and_shipment(api, session, world):
    client = api("logistics")
    first = shipped(client, world)
    before = counts(session)
    response = client.post("/api/v1/shipments", json=body(world))
    assert response.status_code == 409
    message = response.json["error"]["message"]
    assert world["items"][0].code in message and first["number"] in message
    assert counts(session) == before


def test_a_held_batch_ships_only_with_an_override_reason(api, session, world):
    change_batch_status(session, "qe", world["batch"], status=BatchStatus.on_hold, reason="audit")
    session.commit()
    client = api("logistics")
    before = counts(session)
    response = client.post("/api/v1/shipments", json=body(world))
    assert response.status_code == 409
    assert "override_reason" in response.json["error"]["fields"]
    assert counts(session) == before
    done = shipped(client, world, override_reason="customer accepted the deviation")
    assert done["override_reason"] == "customer accepted the deviation"


def test_a_whole_batch_ships_and_its_items_are_listed(api, world):
    client = api("logistics")
    stored = shipped(client, world, item_codes=[], batch_ids=[world["batch"].id])
    assert stored["item_count"] == 3
    assert stored["batches"] == [{"id": world["batch"].id, "lot_number": world["batch"].lot_number}]
    page = client.get(f"/api/v1/shipments/{stored['id']}/items?limit=2").json
    assert [i["code"] for i in page["items"]] == [i.code for i in world["items"][:2]]
    assert page["items"][0]["status"] == "shipped"
    rest = client.get(f"/api/v1/shipments/{stored['id']}/items?after={page['next_after']}").json
    assert [i["code"] for i in rest["items"]] == [world["items"][2].code]


def test_a_unit_a_whole_batch_shipment_left_behind_has_no_part_in_it(api, client, world):
    behind = world["items"][1].code
    intake = {
        "event_id": str(uuid.uuid4()),
        "item_code": behind,
        "technician": "Li Wei",
        "received_at": dt.datetime.now(dt.UTC).isoformat(),
        "symptom": "Found scratched at packing",
    }
    assert api("technician").post("/api/v1/repairs", json=intake).status_code == 201
    logistics = api("logistics")
    stored = shipped(logistics, world, item_codes=[], batch_ids=[world["batch"].id])
    assert stored["item_count"] == 2
    delivered = event_body(status="delivered", occurred_at="2026-11-04T10:00:00+08:00")
    path = f"/api/v1/shipments/{stored['id']}/events"
    assert logistics.post(path, json=delivered).status_code == 201
    story = logistics.get(f"/api/v1/items/{behind}/history").json["events"]
    assert not [e for e in story if e["kind"] in ("shipment", "shipment_event", "delivery")]
    page = client.get(f"/s/{behind}", headers={"Accept": "application/json"}).json
    assert page["shipments"] == [] and page["status"] == "in_repair"
    assert page["warranty"]["basis"] != "delivery"
    taken = client.get(f"/s/{world['items'][0].code}", headers={"Accept": "application/json"})
    assert [s["status"] for s in taken.json["shipments"]] == ["delivered"]


def test_events_and_delivery_confirmation(api, world):
    client = api("logistics")
    stored = shipped(client, world)
    path = f"/api/v1/shipments/{stored['id']}/events"
    response = client.post(path, json=event_body())
    assert response.status_code == 201
    assert (response.json["shipment_id"], response.json["latitude"]) == (stored["id"], 30.27)
    delivery = event_body(status="delivered", occurred_at="2026-11-04T10:00:00+08:00")
    assert client.post(path, json=delivery).status_code == 201
    now = client.get(f"/api/v1/shipments/{stored['id']}").json
    assert (now["status"], now["delivered_at"]) == ("delivered", "2026-11-04T02:00:00+00:00")
    assert [e["status"] for e in now["events"]] == ["in_transit", "delivered"]
    item = client.get(f"/api/v1/items/{world['items'][0].code}").json
    assert item["status"] == "delivered"


def test_events_by_shipment_number_alone_and_in_bulk(api, world):
    client = api("logistics")
    stored = shipped(client, world)
    one = client.post("/api/v1/shipment-events", json=event_body(shipment_number=stored["number"]))
    assert one.status_code == 201
    assert client.get(f"/api/v1/shipment-events/{one.json['id']}").json == one.json
    records = [event_body(shipment_id=stored["id"]) for _ in range(2)]
    bulk = client.post("/api/v1/shipment-events/bulk", json={"records": records})
    assert (bulk.status_code, bulk.json["created"]) == (201, 2)


def test_voiding_the_delivery_reopens_the_shipment(api, world):
    client = api("logistics")
    stored = shipped(client, world)
    path = f"/api/v1/shipments/{stored['id']}/events"
    delivery = client.post(path, json=event_body(status="delivered")).json
    voided = client.post(
        f"/api/v1/shipment-events/{delivery['id']}/void", json={"reason": "wrong address"}
    )
    assert voided.status_code == 200 and voided.json["void_reason"] == "wrong address"
    now = client.get(f"/api/v1/shipments/{stored['id']}").json
    assert (now["status"], now["delivered_at"]) == ("shipped", None)
    assert now["events"][0]["voided_at"] is not None


def test_voiding_by_poster_and_quality_not_by_others_and_not_twice(api, session, world):
    poster = api("logistics")
    mine = shipped(poster, world)
    theirs = shipped(poster, world, item_codes=[world["items"][1].code])
    stranger = api("logistics")
    before = counts(session)
    other = stranger.post(f"/api/v1/shipments/{mine['id']}/void", json={"reason": "x"})
    assert other.status_code == 403
    assert counts(session) == before
    response = poster.post(f"/api/v1/shipments/{mine['id']}/void", json={"reason": "cancelled"})
    assert response.status_code == 200 and response.json["voided_by"] == mine["recorded_by"]
    again = poster.post(f"/api/v1/shipments/{mine['id']}/void", json={"reason": "again"})
    assert again.status_code == 409
    by_quality = api("quality").post(
        f"/api/v1/shipments/{theirs['id']}/void", json={"reason": "recall"}
    )
    assert by_quality.status_code == 200
    item = poster.get(f"/api/v1/items/{world['items'][0].code}").json
    assert item["status"] == "produced"


def test_a_correction_names_the_shipment_it_replaces(api, world):
    client = api("logistics")
    wrong = shipped(client, world, consignee="Wrong Co.")
    right = shipped(client, world, replaces=wrong["id"], void_reason="wrong consignee")
    assert right["replaces_id"] == wrong["id"]
    old = client.get(f"/api/v1/shipments/{wrong['id']}").json
    assert (old["void_reason"], old["item_count"]) == ("wrong consignee", 1)


def test_unknown_shipments_and_events_are_404(api):
    client = api("viewer")
    assert client.get("/api/v1/shipments/999999").status_code == 404
    assert client.get("/api/v1/shipment-events/999999").status_code == 404
    response = api("logistics").post("/api/v1/shipments/999999/events", json=event_body())
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"event_id": "not-a-uuid"}, 422, "event_id"),
        ({"item_codes": "ABC"}, 422, "item_codes"),
        ({"item_codes": [], "batch_ids": []}, 422, "item_codes"),
        ({"batch_ids": ["1"]}, 422, "batch_ids"),
        ({"item_codes": [codes.new_code()]}, 404, "item_codes"),
        ({"item_codes": ["0000000000000000Z"]}, 422, "item_codes"),
        ({"shipped_at": "2026-11-02T08:00:00"}, 422, "shipped_at"),
        ({"shipped_at": "2999-01-01T00:00:00Z"}, 422, "shipped_at"),
        ({"expected_at": "2026-11-01T00:00:00Z"}, 422, "expected_at"),
        # No time zone may be unable to show it (the scan page shows it in Shanghai's).
        ({"expected_at": "9999-12-31T23:00:00Z"}, 422, "expected_at"),
        ({"expected_at": "9999-12-31T23:00:00-05:00"}, 422, "expected_at"),
        ({"carrier": "x" * 121}, 422, "carrier"),
        ({"consignee": "  "}, 422, "consignee"),
        ({"number": "has space"}, 422, "number"),
        ({"override_reason": "x" * 501}, 422, "override_reason"),
    ],
)
def test_bad_shipments_are_refused_and_nothing_is_written(
    api, session, world, change, status, field
):
    client = api("logistics")
    before = counts(session)
    response = client.post("/api/v1/shipments", json=body(world, **change))
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"]
    assert counts(session) == before


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"latitude": 91.0}, 422, "latitude"),
        ({"longitude": -180.5}, 422, "longitude"),
        ({"latitude": "30.2"}, 422, "latitude"),
        ({"longitude": None}, 422, "longitude"),
        ({"status": "lost"}, 422, "status"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, 422, "occurred_at"),
        ({"occurred_at": "2026-10-01T00:00:00Z"}, 422, "occurred_at"),
        ({"location": "x" * 201}, 422, "location"),
        ({"note": "bad\x00byte"}, 422, "note"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_written(api, session, world, change, status, field):
    client = api("logistics")
    stored = shipped(client, world)
    before = counts(session)
    response = client.post(f"/api/v1/shipments/{stored['id']}/events", json=event_body(**change))
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"]
    assert counts(session) == before


def test_an_event_names_exactly_one_shipment(api, session, world):
    client = api("logistics")
    stored = shipped(client, world)
    both = event_body(shipment_id=stored["id"], shipment_number=stored["number"])
    assert client.post("/api/v1/shipment-events", json=both).status_code == 422
    assert client.post("/api/v1/shipment-events", json=event_body()).status_code == 422


def test_malformed_and_non_json_bodies_are_refused(api, session, world):
    client = api("logistics")
    before = counts(session)
    broken = client.post("/api/v1/shipments", data="{not json", content_type="application/json")
    assert broken.status_code == 400
    as_form = client.post("/api/v1/shipments", data=json.dumps(body(world)))
    assert as_form.status_code == 415
    assert counts(session) == before
