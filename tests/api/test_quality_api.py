"""The capture API for inspections and process records: status codes, retries, bad input."""

import uuid

import pytest

from tests import factories
from trace.audit.models import AuditEntry
from trace.quality.models import Inspection, Measurement, ProcessRecord


@pytest.fixture
def world(session):
    item = factories.make_item(session)
    station = factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.commit()
    return {"item": item, "station": station, "inspector": inspector}


def body(world, **overrides):
    data = {
        "event_id": str(uuid.uuid4()),
        "item_code": world["item"].code,
        "station": world["station"].code,
        "inspector": world["inspector"].badge,
        "occurred_at": "2026-11-01T16:00:00+08:00",
        "result": "pass",
        "measurements": [{"name": "leak", "value": 0.2, "unit": "mA", "upper_limit": 0.5}],
    }
    return {**data, **overrides}


def counts(session):
    return tuple(factories.count(session, m) for m in (Inspection, Measurement, AuditEntry))


def test_post_is_201_then_200_on_retry_with_the_same_record(api, session, world):
    client = api("line")
    data = body(world)
    first = client.post("/api/v1/inspections", json=data)
    assert first.status_code == 201
    assert first.json["occurred_at"] == "2026-11-01T08:00:00+00:00"
    assert first.json["measurements"][0]["name"] == "leak"
    again = client.post("/api/v1/inspections", json=data)
    assert (again.status_code, again.json) == (200, first.json)
    assert factories.count(session, Inspection) == 1


def test_the_same_event_id_with_other_content_is_409(api, session, world):
    client = api("line")
    data = body(world)
    client.post("/api/v1/inspections", json=data)
    response = client.post("/api/v1/inspections", json={**data, "result": "fail"})
    assert response.status_code == 409
    assert "event_id" in response.json["error"]["fields"]


def test_bulk_reports_created_and_replayed(api, session, world):
    client = api("line")
    records = [body(world) for _ in range(3)]
    first = client.post("/api/v1/inspections/bulk", json={"records": records})
    assert (first.status_code, first.json["created"], first.json["replayed"]) == (201, 3, 0)
    again = client.post("/api/v1/inspections/bulk", json={"records": records})
    assert (again.status_code, again.json["created"], again.json["replayed"]) == (200, 0, 3)
    assert [r["id"] for r in again.json["results"]] == [r["id"] for r in first.json["results"]]


def by_serial(world, **overrides) -> dict:
    item = world["item"]
    data = body(world, **{"sku": item.product.sku, "serial": item.serial, **overrides})
    del data["item_code"]
    return data


def test_an_item_is_inspected_by_its_products_sku_and_its_serial(api, session, world):
    client = api("line")
    data = by_serial(world, is_final=True, result="fail")
    first = client.post("/api/v1/inspections", json=data)
    assert first.status_code == 201
    assert first.json["item_id"] == world["item"].id
    session.refresh(world["item"])
    assert world["item"].status.value == "failed"
    again = client.post("/api/v1/inspections", json=data)
    assert (again.status_code, again.json) == (200, first.json)
    other = factories.make_item(session, world["item"].batch)
    session.commit()
    records = [by_serial(world), by_serial({**world, "item": other}), body(world)]
    bulk = client.post("/api/v1/inspections/bulk", json={"records": records})
    assert bulk.status_code == 201 and bulk.json["created"] == 3
    stored = [session.get(Inspection, r["id"]).item_id for r in bulk.json["results"]]
    assert stored == [world["item"].id, other.id, world["item"].id]


@pytest.mark.parametrize(
    ("change", "status", "fields"),
    [
        ({"sku": "NO-SUCH"}, 404, {"sku": ["unknown SKU"]}),
        ({"serial": "NO-SUCH-1"}, 404, {"serial": ["no item of this SKU"]}),
        ({"sku": None}, 422, {"sku": ["Field may not be null."]}),
        ({"serial": "A B"}, 422, {"serial": ["1 to 20 of A-Z a-z 0-9 . _ - only"]}),
        ({"serial": "S" * 21}, 422, {"serial": ["1 to 20 of A-Z a-z 0-9 . _ - only"]}),
    ],
)
def test_an_item_by_serial_that_names_nothing_is_refused(
    api, session, world, change, status, fields
):
    response = api("line").post("/api/v1/inspections", json={**by_serial(world), **change})
    assert response.status_code == status
    assert response.json["error"]["fields"] == fields
    assert factories.count(session, Inspection) == 0


@pytest.mark.parametrize(
    ("drop", "add", "field"),
    [
        ("serial", {}, "serial"),
        ("sku", {}, "sku"),
        (None, {"item_code": "from-world"}, "item_code"),
        (None, {"batch_id": "from-world"}, "item_code"),
    ],
)
def test_an_item_is_named_one_way_only(api, session, world, drop, add, field):
    data = by_serial(world)
    if drop:
        del data[drop]
    if add.get("item_code"):
        data["item_code"] = world["item"].code
    if add.get("batch_id"):
        data["batch_id"] = world["item"].batch_id
    response = api("line").post("/api/v1/inspections", json=data)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == [field]


def test_bulk_names_the_record_whose_serial_is_unknown(api, session, world):
    records = [by_serial(world), by_serial(world, serial="NO-SUCH-1"), body(world)]
    response = api("line").post("/api/v1/inspections/bulk", json={"records": records})
    assert response.status_code == 404
    assert response.json["error"]["fields"] == {
        "records": {"1": {"serial": ["no item of this SKU"]}}
    }
    assert factories.count(session, Inspection) == 0


def test_a_process_record_about_an_item_by_serial(api, session, world):
    data = by_serial(world, parameter="torque", value=2.4, unit="N.m", upper_limit=3)
    for name in ("inspector", "result", "measurements"):
        del data[name]
    response = api("line").post("/api/v1/process-records", json=data)
    assert response.status_code == 201
    assert (response.json["item_id"], response.json["batch_id"]) == (world["item"].id, None)


def test_a_record_twice_in_one_bulk_is_created_once_and_then_replayed(api, session, world):
    record = body(world)
    response = api("line").post("/api/v1/inspections/bulk", json={"records": [record, record]})
    assert (response.status_code, response.json["created"], response.json["replayed"]) == (
        201,
        1,
        1,
    )
    first, second = response.json["results"]
    assert first["id"] == second["id"] and (first["created"], second["created"]) == (True, False)
    assert factories.count(session, Inspection) == 1


def test_bulk_errors_name_index_and_field_and_nothing_is_written(api, session, world):
    records = [body(world) for _ in range(5)]
    records[1]["result"] = "maybe"
    records[2]["measurements"][0]["value"] = "high"
    records[3]["occurred_at"] = "9999-12-31T23:00:00-05:00"  # the year 10000 in UTC
    records[4]["item_code"] = "0000000000000000Z"
    client = api("line")
    before = counts(session)
    response = client.post("/api/v1/inspections/bulk", json={"records": records})
    assert response.status_code == 422
    fields = response.json["error"]["fields"]["records"]
    assert set(fields) == {"1", "2", "3"}
    assert "result" in fields["1"] and "measurements" in fields["2"]
    assert "occurred_at" in fields["3"]
    assert counts(session) == before


def test_bulk_domain_errors_are_named_by_index_too(api, session, world):
    records = [body(world) for _ in range(3)]
    code = factories.make_item(session).code
    # A wrong check character (one in 32 codes has "0" as its own: not that one then).
    records[2]["item_code"] = code[:-1] + ("1" if code.endswith("0") else "0")
    session.commit()
    client = api("line")
    before = counts(session)
    response = client.post("/api/v1/inspections/bulk", json={"records": records})
    assert response.status_code in (404, 422)
    assert set(response.json["error"]["fields"]["records"]) == {"2"}
    assert counts(session) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"occurred_at": "2026-11-01T16:00:00"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"occurred_at": "9999-12-31T23:00:00-05:00"}, "occurred_at"),  # year 10000 in UTC
        ({"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at"),  # year 0 in UTC
        ({"result": "PASS"}, "result"),
        ({"is_final": "yes"}, "is_final"),
        ({"measurements": [{"name": "t", "value": "NaN"}]}, "measurements"),
        (
            {"measurements": [{"name": "t", "value": 1, "lower_limit": 5, "upper_limit": 1}]},
            "measurements",
        ),
        ({"defect_codes": ["ok", "has space"]}, "defect_codes"),
        ({"notes": "x" * 1001}, "notes"),
        ({"station": "NOPE"}, "station"),
        ({"inspector": "NOBODY"}, "inspector"),
        ({"item_code": "ABC"}, "item_code"),
        ({"batch_id": 1}, "item_code"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(api, session, world, change, field):
    client = api("line")
    before = counts(session)
    response = client.post("/api/v1/inspections", json=body(world, **change))
    assert 400 <= response.status_code < 500
    assert field in response.json["error"]["fields"], response.json
    assert counts(session) == before


def test_unknown_code_is_404_with_the_field(api, session, world):
    code = factories.make_item(session).code
    session.rollback()  # the item was never committed: its code is well-formed but unknown
    response = api("line").post("/api/v1/inspections", json=body(world, item_code=code))
    assert response.status_code == 404
    assert response.json["error"]["fields"] == {"item_code": ["unknown code"]}


def test_a_station_bound_key_may_not_post_for_another_station(api, session, world):
    other = factories.make_station(session)
    session.commit()
    client = api("line", station_code=world["station"].code)
    assert client.post("/api/v1/inspections", json=body(world)).status_code == 201
    response = client.post("/api/v1/inspections", json=body(world, station=other.code))
    assert response.status_code == 403
    assert factories.count(session, Inspection) == 1


def test_a_station_bound_key_gets_no_retry_of_another_stations_record(api, session, world):
    other = factories.make_station(session)
    session.commit()
    theirs = body(world, station=other.code)
    assert api("line").post("/api/v1/inspections", json=theirs).status_code == 201
    client = api("line", station_code=world["station"].code)
    response = client.post("/api/v1/inspections", json=theirs)
    assert response.status_code == 403
    assert response.json["error"]["fields"] == {"station": ["not this key's"]}
    # Nor in a bulk post, where the refusal names the record; nor with other content.
    bulk = client.post("/api/v1/inspections/bulk", json={"records": [body(world), theirs]})
    assert bulk.status_code == 403
    assert bulk.json["error"]["fields"] == {"records": {"1": {"station": ["not this key's"]}}}
    changed = client.post("/api/v1/inspections", json={**theirs, "result": "fail"})
    assert changed.status_code == 403
    assert factories.count(session, Inspection) == 1


def test_the_poster_may_void_its_own_record(api, session, world):
    client = api("line")
    posted = client.post("/api/v1/inspections", json=body(world)).json
    response = client.post(
        f"/api/v1/inspections/{posted['id']}/void", json={"reason": "wrong unit"}
    )
    assert response.status_code == 200
    assert response.json["void_reason"] == "wrong unit" and response.json["voided_at"]
    again = client.post(f"/api/v1/inspections/{posted['id']}/void", json={"reason": "again"})
    assert again.status_code == 409


def test_another_line_key_may_not_void(api, session, world):
    posted = api("line").post("/api/v1/inspections", json=body(world)).json
    response = api("line").post(f"/api/v1/inspections/{posted['id']}/void", json={"reason": "x"})
    assert response.status_code == 403


def test_a_correction_posted_with_replaces(api, session, world):
    client = api("line")
    wrong = client.post("/api/v1/inspections", json=body(world, result="fail", is_final=True)).json
    right = client.post(
        "/api/v1/inspections",
        json=body(world, is_final=True, replaces=wrong["id"], void_reason="misread"),
    )
    assert right.status_code == 201 and right.json["replaces_id"] == wrong["id"]
    old = api("viewer").get(f"/api/v1/inspections/{wrong['id']}").json
    assert old["void_reason"] == "misread"
    assert api("viewer").get(f"/api/v1/items/{world['item'].code}").json["status"] == "produced"


def test_process_record_and_out_of_spec_query(api, session, world):
    client = api("line")
    record = {
        "event_id": str(uuid.uuid4()),
        "batch_id": world["item"].batch_id,
        "station": world["station"].code,
        "parameter": "oven_temp",
        "value": 236.0,
        "unit": "C",
        "lower_limit": 210,
        "upper_limit": 230,
        "occurred_at": "2026-11-01T02:00:00Z",
    }
    posted = client.post("/api/v1/process-records", json=record)
    assert posted.status_code == 201 and posted.json["in_spec"] is False
    query = "parameter=oven_temp&start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z"
    found = api("viewer").get(f"/api/v1/process-records/out-of-spec?{query}&direction=above")
    assert [row["batch_id"] for row in found.json["items"]] == [world["item"].batch_id]
    below = api("viewer").get(f"/api/v1/process-records/out-of-spec?{query}&direction=below")
    assert below.json["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "parameter=oven_temp&start=2026-11-02T00:00:00Z&end=2026-11-01T00:00:00Z",
        "parameter=oven_temp&start=yesterday&end=2026-11-01T00:00:00Z",
        "start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z",
        "parameter=oven_temp&start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z&direction=up",
        # Valid times that UTC cannot express (found by schemathesis: a 500 before).
        "parameter=oven_temp&start=9999-12-31T23:00:00-05:00&end=9999-12-31T23:30:00-05:00",
        "parameter=oven_temp&start=0001-01-01T00:00:00%2B05:00&end=2026-11-01T00:00:00Z",
    ],
)
def test_bad_out_of_spec_queries_are_422(api, query):
    response = api("viewer").get(f"/api/v1/process-records/out-of-spec?{query}")
    assert response.status_code == 422
    assert response.json["error"]["fields"]


def test_process_record_bulk_retry(api, session, world):
    records = [
        {
            "event_id": str(uuid.uuid4()),
            "item_code": world["item"].code,
            "station": world["station"].code,
            "parameter": "torque",
            "value": 1.2 + i,
            "occurred_at": "2026-11-01T02:00:00Z",
        }
        for i in range(3)
    ]
    client = api("line")
    assert client.post("/api/v1/process-records/bulk", json={"records": records}).status_code == 201
    assert client.post("/api/v1/process-records/bulk", json={"records": records}).status_code == 200
    assert factories.count(session, ProcessRecord) == 3


def test_two_corrections_of_one_record_in_one_bulk_name_the_second(api, session, world):
    client = api("line")
    wrong = client.post("/api/v1/inspections", json=body(world, result="fail")).json
    fixes = [body(world, replaces=wrong["id"], void_reason=why) for why in ("typo", "again")]
    before = counts(session)
    response = client.post("/api/v1/inspections/bulk", json={"records": fixes})
    assert response.status_code == 409
    assert response.json["error"]["fields"]["records"] == {
        "1": {"replaces": ["replaced twice in this post"]}
    }
    assert counts(session) == before
    assert client.get(f"/api/v1/inspections/{wrong['id']}").json["voided_at"] is None
