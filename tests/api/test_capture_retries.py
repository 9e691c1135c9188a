"""A retry is the same record however the client spells it.

A line PC that retries after a network drop may be a newer build than the one that sent
the first post: it may write `null` where the first left a field out, or the same instant
in another time zone. Those are the same content, so the retry is answered 200 with the
original; only a real difference is a 409.
"""

import datetime as dt
import uuid

import pytest

from tests import factories
from trace.audit.models import AuditEntry


@pytest.fixture
def world(session):
    product = factories.make_product(session, warranty_months=24)
    line = factories.make_line(session)
    station = factories.make_station(session, line)
    batch = factories.make_batch(session, product, line)
    made = dt.datetime(2026, 10, 1, 8, tzinfo=dt.UTC)
    items = [factories.make_item(session, batch, produced_at=made) for _ in range(4)]
    inspector = factories.make_inspector(session)
    session.commit()
    return {"items": items, "station": station, "inspector": inspector}


def inspection(world) -> tuple[str, dict, dict]:
    data = {
        "item_code": world["items"][0].code,
        "station": world["station"].code,
        "inspector": world["inspector"].badge,
        "occurred_at": "2026-11-01T16:00:00+08:00",
        "result": "pass",
        "measurements": [{"name": "leak", "value": 0.2, "upper_limit": 0.5}],
    }
    spelled = {
        **data,
        "occurred_at": "2026-11-01T08:00:00Z",
        "notes": None,
        "measurements": [{**data["measurements"][0], "unit": None, "lower_limit": None}],
    }
    return "/api/v1/inspections", data, spelled


def shipment(world) -> tuple[str, dict, dict]:
    data = {
        "number": factories.unique("SH-"),
        "carrier": "SF Express",
        "origin": "Ningbo plant",
        "destination": "Shanghai distribution centre",
        "consignee": "East China Appliances Co.",
        "shipped_at": "2026-11-02T08:00:00Z",
        "item_codes": [world["items"][1].code],
    }
    spelled = {
        **data,
        "shipped_at": "2026-11-02T03:00:00-05:00",
        "tracking_number": None,
        "expected_at": None,
        "override_reason": None,
    }
    return "/api/v1/shipments", data, spelled


def repair(world) -> tuple[str, dict, dict]:
    data = {
        "item_code": world["items"][2].code,
        "technician": "Li Wei (S-104)",
        "received_at": "2026-11-10T09:00:00+08:00",
        "symptom": "Does not heat",
        "parts": [{"direction": "removed", "part_number": "PUMP-2", "serial": "PUMP-0001"}],
    }
    spelled = {
        **data,
        "completed_at": None,
        "diagnosis": None,
        "action": None,
        "outcome": None,
        "under_warranty": None,
        "warranty_override_reason": None,
        "parts": [{**data["parts"][0], "lot": None, "item_code": None}],
    }
    return "/api/v1/repairs", data, spelled


def scrap(world) -> tuple[str, dict, dict]:
    data = {
        "item_code": world["items"][3].code,
        "occurred_at": "2026-11-20T10:15:00+08:00",
        "reason": "Housing cracked in the drop test",
    }
    return "/api/v1/scraps", data, {**data, "station": None}


KINDS = {"inspection": inspection, "shipment": shipment, "repair": repair, "scrap": scrap}
ROLE = {"inspection": "line", "shipment": "logistics", "repair": "technician", "scrap": "line"}


@pytest.mark.parametrize("kind", KINDS)
def test_nulls_for_absent_fields_and_other_time_zones_are_a_retry(api, session, kind, world):
    url, data, spelled = KINDS[kind](world)
    client, event_id = api(ROLE[kind]), str(uuid.uuid4())
    first = client.post(url, json={"event_id": event_id, **data})
    assert first.status_code == 201, first.json
    before = factories.count(session, AuditEntry)
    again = client.post(url, json={"event_id": event_id, **spelled})
    assert (again.status_code, again.json) == (200, first.json)
    assert factories.count(session, AuditEntry) == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_retry_spelled_the_other_way_round_is_a_retry_too(api, kind, world):
    url, data, spelled = KINDS[kind](world)
    client, event_id = api(ROLE[kind]), str(uuid.uuid4())
    first = client.post(url, json={"event_id": event_id, **spelled})
    assert first.status_code == 201, first.json
    again = client.post(url, json={"event_id": event_id, **data})
    assert (again.status_code, again.json) == (200, first.json)


def test_a_shipment_event_with_nulls_for_absent_fields_is_a_retry(api, world):
    client = api("logistics")
    _, data, _ = shipment(world)
    shipped = client.post("/api/v1/shipments", json={"event_id": str(uuid.uuid4()), **data})
    url = f"/api/v1/shipments/{shipped.json['id']}/events"
    event = {"event_id": str(uuid.uuid4()), "occurred_at": "2026-11-03T08:00:00Z"}
    event["status"] = "in_transit"
    first = client.post(url, json=event)
    assert first.status_code == 201, first.json
    spelled = {**event, "location": None, "latitude": None, "longitude": None, "note": None}
    again = client.post(url, json={**spelled, "occurred_at": "2026-11-03T16:00:00+08:00"})
    assert (again.status_code, again.json) == (200, first.json)


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("inspection", {"notes": "re-seated the lid"}),
        ("inspection", {"occurred_at": "2026-11-01T16:00:01+08:00"}),
        ("shipment", {"tracking_number": "SF1234567890"}),
        ("repair", {"diagnosis": "Pump seized"}),
        ("scrap", {"reason": "Housing cracked"}),
    ],
)
def test_a_value_where_the_first_post_had_none_is_other_content(api, kind, change, world):
    url, data, _ = KINDS[kind](world)
    client, event_id = api(ROLE[kind]), str(uuid.uuid4())
    assert client.post(url, json={"event_id": event_id, **data}).status_code == 201
    response = client.post(url, json={"event_id": event_id, **data, **change})
    assert response.status_code == 409
    assert "event_id" in response.json["error"]["fields"]


LONE_SURROGATE = "AB\udc00CD"


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("inspection", {"item_code": LONE_SURROGATE}, "item_code"),
        ("shipment", {"item_codes": [LONE_SURROGATE]}, "item_codes"),
        ("repair", {"item_code": LONE_SURROGATE}, "item_code"),
        (
            "repair",
            {"parts": [{"direction": "installed", "part_number": "P", "item_code": "\ud800"}]},
            "parts",
        ),
        ("scrap", {"item_code": LONE_SURROGATE}, "item_code"),
        ("scrap", {"salvaged": [LONE_SURROGATE]}, "salvaged"),
        ("scrap", {"item_code": "AB\x07CD"}, "item_code"),
    ],
)
def test_a_code_that_is_not_text_is_a_422_naming_it_and_writes_nothing(
    api, session, kind, change, field, world
):
    url, data, _ = KINDS[kind](world)
    client = api(ROLE[kind])
    before = factories.count(session, AuditEntry)
    response = client.post(url, json={"event_id": str(uuid.uuid4()), **data, **change})
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert factories.count(session, AuditEntry) == before
    bulk = client.post(
        f"{url}/bulk", json={"records": [{"event_id": str(uuid.uuid4()), **data, **change}]}
    )
    assert bulk.status_code == 422
    assert factories.count(session, AuditEntry) == before


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        ("inspection", {"void_reason": "a typo"}, "void_reason"),  # no replaces
        ("scrap", {"void_reason": "a typo"}, "void_reason"),
        ("scrap", {"reason": "\u200b"}, "reason"),  # reads as nothing
        ("scrap", {"reason": "\u3000\ufeff "}, "reason"),
        ("inspection", {"is_final": 1}, "is_final"),  # a number, not true
        ("inspection", {"is_final": 0.0}, "is_final"),
        ("repair", {"under_warranty": 1}, "under_warranty"),
    ],
)
def test_what_only_looks_right_is_a_422_naming_the_field(api, session, kind, change, field, world):
    url, data, _ = KINDS[kind](world)
    client = api(ROLE[kind])
    before = factories.count(session, AuditEntry)
    response = client.post(url, json={"event_id": str(uuid.uuid4()), **data, **change})
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert factories.count(session, AuditEntry) == before
