"""A post is answered with the record as a later GET shows it, new or retried, one or bulk."""

import uuid

import pytest

from tests import factories


@pytest.fixture
def world(session):
    item = factories.make_item(session)
    station = factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.commit()
    return {"item": item, "station": station, "inspector": inspector}


def inspection(world, **overrides):
    return {
        "event_id": str(uuid.uuid4()),
        "item_code": world["item"].code,
        "station": world["station"].code,
        "inspector": world["inspector"].badge,
        "occurred_at": "2026-11-01T16:00:00.250000+08:00",
        "result": "pass",
        **overrides,
    }


def process_record(world, **overrides):
    return {
        "event_id": str(uuid.uuid4()),
        "batch_id": world["item"].batch_id,
        "station": world["station"].code,
        "parameter": "oven_temp",
        "value": 231,
        "occurred_at": "2026-11-01T02:00:00-05:00",
        **overrides,
    }


INSPECTIONS = [
    {},
    {"measurements": [{"name": " leak ", "value": 0.2, "unit": "mA", "upper_limit": 0.5}]},
    {
        "measurements": [
            {"name": "t1", "value": 3, "lower_limit": 1, "upper_limit": 5},
            {"name": "t2", "value": -1.5, "unit": None},
        ],
        "defect_codes": ["SCRATCH", "D-2"],
        "notes": "  re-seated the lid  ",
        "is_final": True,
        "result": "rework",
    },
]


@pytest.mark.parametrize("overrides", INSPECTIONS)
def test_an_inspection_post_answers_what_get_shows(api, world, overrides):
    client = api("line")
    data = inspection(world, **overrides)
    posted = client.post("/api/v1/inspections", json=data)
    assert posted.status_code == 201
    shown = api("viewer").get(f"/api/v1/inspections/{posted.json['id']}").json
    assert posted.json == shown
    again = client.post("/api/v1/inspections", json=data)
    assert (again.status_code, again.json) == (200, shown)


def test_a_batch_inspection_post_answers_what_get_shows(api, world):
    data = inspection(world, batch_id=world["item"].batch_id)
    del data["item_code"]
    posted = api("line").post("/api/v1/inspections", json=data)
    assert posted.status_code == 201
    assert posted.json == api("viewer").get(f"/api/v1/inspections/{posted.json['id']}").json


@pytest.mark.parametrize(
    "overrides",
    [{}, {"unit": "C", "lower_limit": 210, "upper_limit": 230.5}, {"upper_limit": 231}],
)
def test_a_process_record_post_answers_what_get_shows(api, world, overrides):
    client = api("line")
    data = process_record(world, **overrides)
    posted = client.post("/api/v1/process-records", json=data)
    assert posted.status_code == 201
    shown = api("viewer").get(f"/api/v1/process-records/{posted.json['id']}").json
    assert posted.json == shown
    assert (client.post("/api/v1/process-records", json=data).json) == shown


def test_a_correction_post_answers_what_get_shows(api, world):
    client = api("line")
    wrong = client.post("/api/v1/inspections", json=inspection(world, result="fail")).json
    right = client.post(
        "/api/v1/inspections",
        json=inspection(world, replaces=wrong["id"], void_reason="misread"),
    )
    assert right.json["replaces_id"] == wrong["id"]
    assert right.json == api("viewer").get(f"/api/v1/inspections/{right.json['id']}").json


def test_bulk_records_are_stored_as_single_posts_store_them(api, world):
    """Bulk rows go in through the driver's executemany; single ones through SQLAlchemy."""
    client = api("line")
    shapes = [inspection(world, **overrides) for overrides in INSPECTIONS]
    bulk = client.post("/api/v1/inspections/bulk", json={"records": shapes}).json["results"]
    singles = [
        client.post("/api/v1/inspections", json={**shape, "event_id": str(uuid.uuid4())}).json
        for shape in shapes
    ]
    viewer = api("viewer")
    for result, single in zip(bulk, singles, strict=True):
        stored = viewer.get(f"/api/v1/inspections/{result['id']}").json
        other = viewer.get(f"/api/v1/inspections/{single['id']}").json
        for key in ("id", "event_id", "recorded_at"):
            del stored[key], other[key]
        assert stored == other
