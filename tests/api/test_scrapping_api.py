"""The scrapping API: status codes, retries, refusals, voiding, the unit's status and story."""

import datetime as dt
import json
import uuid

import pytest

from tests import factories
from tests.api.test_epcis import assert_valid, validator  # noqa: F401  (a fixture)
from trace import codes
from trace.audit.models import AuditEntry
from trace.production.models import Scrap
from trace.service.models import PartDirection

PRODUCED = dt.datetime(2026, 10, 1, 8, tzinfo=dt.UTC)


@pytest.fixture
def world(session):
    product = factories.make_product(session, gtin=factories.valid_gtin())
    line = factories.make_line(session)
    station = factories.make_station(session, line)
    batch = factories.make_batch(session, product, line)
    unit = factories.make_item(session, batch, produced_at=PRODUCED)
    session.commit()
    return {"unit": unit, "station": station, "line": line}


def body(world, **overrides) -> dict:
    data = {
        "event_id": str(uuid.uuid4()),
        "item_code": world["unit"].code,
        "station": world["station"].code,
        "occurred_at": "2026-11-20T10:15:00+08:00",
        "reason": "Housing cracked in the drop test",
    }
    return {**data, **overrides}


def counts(session):
    return factories.count(session, Scrap), factories.count(session, AuditEntry)


def item_status(client, world) -> str:
    return client.get(f"/api/v1/items/{world['unit'].code}").json["status"]


def test_post_is_201_then_200_on_retry_and_409_with_other_content(api, session, world):
    client = api("line")
    data = body(world)
    response = client.post("/api/v1/scraps", json=data)
    assert response.status_code == 201, response.json
    scrap = response.json
    assert scrap["item_code"] == world["unit"].code and scrap["station"] == world["station"].code
    assert scrap["reason"] == "Housing cracked in the drop test"
    assert scrap["occurred_at"] == "2026-11-20T02:15:00+00:00"
    assert item_status(client, world) == "scrapped"
    before = counts(session)
    again = client.post("/api/v1/scraps", json=data)
    assert again.status_code == 200 and again.json == scrap
    clash = client.post("/api/v1/scraps", json={**data, "reason": "Other"})
    assert clash.status_code == 409 and "event_id" in clash.json["error"]["fields"]
    assert counts(session) == before
    assert client.get(f"/api/v1/scraps/{scrap['id']}").json == scrap


def test_a_scrapped_unit_is_refused_a_second_scrap_a_shipment_and_a_repair(api, session, world):
    api("quality").post("/api/v1/scraps", json=body(world))
    technician, logistics = api("technician"), api("logistics")
    before = counts(session)
    response = technician.post("/api/v1/scraps", json=body(world, station=None))
    assert response.status_code == 409
    assert response.json["error"]["fields"] == {"item_code": ["already scrapped"]}
    shipment = {
        "event_id": str(uuid.uuid4()),
        "number": "SCRAP-SH-1",
        "carrier": "SF Express",
        "origin": "Ningbo plant",
        "destination": "Shanghai DC",
        "consignee": "East China Appliances Co.",
        "shipped_at": "2026-11-21T08:00:00Z",
        "item_codes": [world["unit"].code],
    }
    assert logistics.post("/api/v1/shipments", json=shipment).status_code == 409
    repair = {
        "event_id": str(uuid.uuid4()),
        "item_code": world["unit"].code,
        "technician": "Li Wei",
        "received_at": dt.datetime.now(dt.UTC).isoformat(),
        "symptom": "Does not heat",
    }
    refused = technician.post("/api/v1/repairs", json=repair)
    assert refused.status_code == 409 and refused.json["error"]["fields"] == {
        "item_code": ["scrapped"]
    }
    assert counts(session) == before


def test_bulk_is_all_or_nothing_and_names_each_bad_record(api, session, world):
    client = api("line")
    others = [factories.make_item(session, produced_at=PRODUCED) for _ in range(2)]
    session.commit()
    records = [
        body(world),
        body({**world, "unit": others[0]}),
        body({**world, "unit": others[1]}, item_code=codes.new_code()),
        body(world),
    ]
    before = counts(session)
    response = client.post("/api/v1/scraps/bulk", json={"records": records})
    assert response.status_code == 422
    fields = response.json["error"]["fields"]["records"]
    assert fields == {
        "2": {"item_code": ["unknown code"]},
        "3": {"item_code": ["twice in this post"]},
    }
    blank = client.post("/api/v1/scraps/bulk", json={"records": [body(world, reason=" ")]})
    assert blank.status_code == 422
    assert "reason" in blank.json["error"]["fields"]["records"]["0"]
    assert counts(session) == before
    good = client.post("/api/v1/scraps/bulk", json={"records": records[:2]})
    assert good.status_code == 201 and good.json["created"] == 2


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"event_id": "not-a-uuid"}, 422, "event_id"),
        ({"item_code": codes.new_code()}, 404, "item_code"),
        ({"item_code": "0000000000000000Z"}, 422, "item_code"),
        ({"item_code": 42}, 422, "item_code"),
        ({"station": "NOPE-9"}, 404, "station"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, 422, "occurred_at"),
        ({"occurred_at": "last week"}, 422, "occurred_at"),
        ({"reason": ""}, 422, "reason"),
        ({"reason": "x" * 501}, 422, "reason"),
        ({"reason": None}, 422, "reason"),
        ({"replaces": 999999}, 404, "replaces"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_written(
    api, session, world, change, status, field
):
    client = api("line")
    before = counts(session)
    response = client.post("/api/v1/scraps", json=body(world, **change))
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"]
    assert counts(session) == before


def test_malformed_json_and_a_missing_reason_write_nothing(api, session, world):
    client = api("line")
    before = counts(session)
    raw = client.client.post(
        "/api/v1/scraps",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.key}"},
    )
    assert raw.status_code == 400
    data = body(world)
    del data["reason"]
    assert client.post("/api/v1/scraps", json=data).status_code == 422
    assert counts(session) == before


def test_a_station_bound_key_scraps_only_at_its_station(api, session, world):
    client = api("line", station_code=world["station"].code)
    assert client.post("/api/v1/scraps", json=body(world, station=None)).status_code == 403
    other = factories.make_station(session)
    session.commit()
    assert client.post("/api/v1/scraps", json=body(world, station=other.code)).status_code == 403
    assert client.post("/api/v1/scraps", json=body(world)).status_code == 201


def test_a_station_bound_key_gets_no_retry_of_a_scrap_posted_without_a_station(api, session, world):
    unbound = body(world, station=None)
    assert api("line").post("/api/v1/scraps", json=unbound).status_code == 201
    client = api("line", station_code=world["station"].code)
    response = client.post("/api/v1/scraps", json=unbound)
    assert response.status_code == 403
    assert response.json["error"]["fields"] == {"station": ["required for this key"]}


def test_voiding_by_poster_and_quality_gives_the_unit_its_status_back(api, session, world):
    poster = api("line")
    scrap = poster.post("/api/v1/scraps", json=body(world)).json
    stranger = api("line")
    before = counts(session)
    response = stranger.post(f"/api/v1/scraps/{scrap['id']}/void", json={"reason": "x"})
    assert response.status_code == 403
    assert counts(session) == before
    response = poster.post(f"/api/v1/scraps/{scrap['id']}/void", json={"reason": "wrong unit"})
    assert response.status_code == 200 and response.json["void_reason"] == "wrong unit"
    assert item_status(poster, world) == "produced"
    again = api("quality").post(f"/api/v1/scraps/{scrap['id']}/void", json={"reason": "again"})
    assert again.status_code == 409


def test_a_correction_keeps_the_unit_scrapped_and_the_story_shows_both(
    api,
    session,
    world,
    validator,  # noqa: F811
):
    client = api("quality")
    first = client.post("/api/v1/scraps", json=body(world, reason="Cracked")).json
    fixed = body(world, replaces=first["id"], void_reason="Wrong reason", reason="Dented")
    second = client.post("/api/v1/scraps", json=fixed)
    assert second.status_code == 201 and second.json["replaces_id"] == first["id"]
    assert item_status(client, world) == "scrapped"
    story = client.get(f"/api/v1/items/{world['unit'].code}/history").json
    scraps = [e for e in story["events"] if e["kind"] == "scrapped"]
    assert [e["data"]["reason"] for e in scraps] == ["Cracked", "Dented"]
    assert scraps[0]["voided_at"] is not None and scraps[0]["void_reason"] == "Wrong reason"
    assert scraps[0]["replaced_by"]["id"] == second.json["id"]
    assert scraps[1]["data"]["station"]["code"] == world["station"].code
    response = client.get(f"/api/v1/items/{world['unit'].code}/epcis")
    document = json.loads(response.get_data(as_text=True))
    assert_valid(validator, document)
    destroyed = [e for e in document["epcisBody"]["eventList"] if e.get("bizStep") == "destroying"]
    assert [e["trace:reason"] for e in destroyed] == ["Cracked", "Dented"]
    assert {(e["action"], e["disposition"]) for e in destroyed} == {("DELETE", "destroyed")}
    assert destroyed[0]["errorDeclaration"]["correctiveEventIDs"] == [
        f"urn:uuid:{fixed['event_id']}"
    ]
    assert "readPoint" in destroyed[1]


def test_the_batch_summary_counts_scrapped_units(api, session, world):
    client = api("line")
    client.post("/api/v1/scraps", json=body(world))
    batch_id = world["unit"].batch_id
    summary = client.get(f"/api/v1/batches/{batch_id}/history").json["summary"]
    assert summary["items_by_status"] == {"scrapped": 1}


def test_unknown_scraps_are_404(api):
    assert api("viewer").get("/api/v1/scraps/999999").status_code == 404
    response = api("quality").post("/api/v1/scraps/999999/void", json={"reason": "x"})
    assert response.status_code == 404


@pytest.fixture
def assembled(session, world):
    """The unit with two tracked parts a repair installed: a pump and a heater."""
    pump, heater = (factories.make_item(session, produced_at=PRODUCED) for _ in range(2))
    parts = [
        {"direction": "installed", "part_number": "P", "item_code": item.code}
        for item in (pump, heater)
    ]
    factories.make_repair(
        session,
        world["unit"],
        parts=[{**part, "direction": PartDirection.installed} for part in parts],
        received_at=PRODUCED,
        completed_at=PRODUCED,
    )
    session.commit()
    return {"pump": pump, "heater": heater}


def test_parts_inside_go_with_the_unit_or_are_salvaged_and_the_stories_say_so(
    api,
    world,
    assembled,
    validator,  # noqa: F811
):
    client, pump, heater = api("line"), assembled["pump"], assembled["heater"]
    response = client.post("/api/v1/scraps", json=body(world, salvaged=[heater.code]))
    assert response.status_code == 201, response.json
    scrap = response.json
    assert scrap["salvaged"] == [heater.code] and scrap["inside_scrap_id"] is None
    [part_scrap] = scrap["parts_scrapped"]
    assert part_scrap["item_code"] == pump.code
    shown = client.get(f"/api/v1/scraps/{part_scrap['scrap_id']}").json
    assert (shown["inside_scrap_id"], shown["reason"]) == (scrap["id"], scrap["reason"])
    assert client.get(f"/api/v1/scraps/{scrap['id']}").json == scrap
    assert client.get(f"/api/v1/items/{pump.code}").json["status"] == "scrapped"
    assert client.get(f"/api/v1/items/{heater.code}").json["status"] == "produced"
    story = client.get(f"/api/v1/items/{pump.code}/history").json["events"]
    [gone] = [e for e in story if e["kind"] == "scrapped"]
    assert gone["data"]["inside"] == {"item_code": world["unit"].code, "scrap_id": scrap["id"]}
    story = client.get(f"/api/v1/items/{heater.code}/history").json["events"]
    [out] = [e for e in story if e["kind"] == "removed_from"]
    assert out["data"]["salvaged_by_scrap_id"] == scrap["id"]
    document = json.loads(client.get(f"/api/v1/items/{pump.code}/epcis").get_data(as_text=True))
    assert_valid(validator, document)
    [destroyed] = [e for e in document["epcisBody"]["eventList"] if e.get("action") == "DELETE"]
    assert destroyed["trace:scrappedInside"] == world["unit"].code


def test_a_part_scrap_is_voided_only_with_its_unit_and_voiding_that_frees_it(
    api, session, world, assembled
):
    client, pump = api("line"), assembled["pump"]
    scrap = client.post("/api/v1/scraps", json=body(world)).json
    part_scrap = scrap["parts_scrapped"][0]["scrap_id"]
    before = counts(session)
    response = client.post(f"/api/v1/scraps/{part_scrap}/void", json={"reason": "mistake"})
    assert response.status_code == 409
    assert response.json["error"]["fields"] == {"scrap_id": [f"part of scrap {scrap['id']}"]}
    assert counts(session) == before
    response = client.post(f"/api/v1/scraps/{scrap['id']}/void", json={"reason": "mistake"})
    assert response.status_code == 200
    assert client.get(f"/api/v1/items/{pump.code}").json["status"] == "produced"
    assert client.get(f"/api/v1/scraps/{part_scrap}").json["voided_at"] is not None


@pytest.mark.parametrize(
    ("salvaged", "status"),
    [(["UNKNOWN-CODE-0000"], 422), ("not a list", 422), ([""], 422), (["x" * 65], 422)],
)
def test_bad_salvaged_codes_are_refused_and_write_nothing(
    api, session, world, assembled, salvaged, status
):
    client = api("line")
    before = counts(session)
    response = client.post("/api/v1/scraps", json=body(world, salvaged=salvaged))
    assert response.status_code == status, response.json
    assert "salvaged" in response.json["error"]["fields"]
    assert counts(session) == before
    assert item_status(api("viewer"), world) == "produced"


def test_a_part_not_inside_the_unit_cannot_be_salvaged(api, session, world, assembled):
    loose = factories.make_item(session)
    session.commit()
    client = api("line")
    before = counts(session)
    response = client.post("/api/v1/scraps", json=body(world, salvaged=[loose.code]))
    assert response.status_code == 409
    assert response.json["error"]["fields"] == {"salvaged": [f"{loose.code}: not inside this unit"]}
    assert counts(session) == before
