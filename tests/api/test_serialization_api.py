"""POST /api/v1/batches/<id>/items: serializing over the API."""

import pytest
from sqlalchemy import func, select

from tests import factories
from trace.audit.models import AuditEntry
from trace.production.models import BatchStatus, Item
from trace.production.services import change_batch_status


def item_count(session, batch=None):
    query = select(func.count()).select_from(Item)
    if batch is not None:
        query = query.where(Item.batch_id == batch.id)
    return session.scalar(query)


@pytest.fixture
def batch(session):
    batch = factories.make_batch(session, lot_number="API1")
    session.commit()
    return batch


def test_count_creates_items_and_answers_with_the_range(api, session, batch):
    response = api("line").post(f"/api/v1/batches/{batch.id}/items", json={"count": 3})
    assert response.status_code == 201
    assert response.json == {
        "batch_id": batch.id,
        "count": 3,
        "first_serial": "API1-000001",
        "last_serial": "API1-000003",
    }
    assert item_count(session, batch) == 3


def test_a_list_of_serials_is_used_as_given(api, session, batch):
    response = api("line").post(f"/api/v1/batches/{batch.id}/items", json={"serials": ["Q1", "Q2"]})
    assert response.status_code == 201
    listed = api("viewer").get(f"/api/v1/batches/{batch.id}/items").json["items"]
    assert [item["serial"] for item in listed] == ["Q1", "Q2"]


def test_a_hundred_thousand_items_in_one_request(api, session, batch):
    response = api("line").post(f"/api/v1/batches/{batch.id}/items", json={"count": 100_000})
    assert response.status_code == 201
    assert item_count(session, batch) == 100_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": 0}, "count"),
        ({"count": -5}, "count"),
        ({"count": 1_000_001}, "count"),
        ({"count": "10"}, "count"),
        ({"count": 2.5}, "count"),
        ({}, "count"),
        ({"count": 1, "serials": ["A"]}, "count"),
        ({"serials": []}, "serials"),
        ({"serials": "A1"}, "serials"),
        ({"count": 1, "colour": "red"}, "colour"),
    ],
)
def test_invalid_requests_are_422_and_write_nothing(api, session, batch, body, field):
    client = api("line")
    audit_before = factories.count(session, AuditEntry)
    response = client.post(f"/api/v1/batches/{batch.id}/items", json=body)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert item_count(session) == 0
    assert factories.count(session, AuditEntry) == audit_before


def test_duplicate_and_illegal_serials_are_named_by_index(api, session, batch):
    response = api("line").post(
        f"/api/v1/batches/{batch.id}/items",
        json={"serials": ["A1", "A1", "A 3", "<b>", 7, "Z" * 21]},
    )
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]["serials"]) == {"1", "2", "3", "4", "5"}
    assert item_count(session) == 0


def test_serials_that_are_lists_or_objects_are_named_not_a_500(api, session, batch):
    # Found by schemathesis: they were kept to spot duplicates, and a list is no key.
    response = api("line").post(
        f"/api/v1/batches/{batch.id}/items", json={"serials": [["A1"], {"s": 1}, "A1", [[]]]}
    )
    assert response.status_code == 422
    fields = response.json["error"]["fields"]["serials"]
    assert fields == {"0": ["not a string"], "1": ["not a string"], "3": ["not a string"]}
    assert item_count(session) == 0


def test_unknown_batch_is_404(api):
    response = api("line").post("/api/v1/batches/999999/items", json={"count": 1})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_recalled_batch_is_409_and_nothing_is_written(api, session, batch):
    change_batch_status(session, "test", batch, BatchStatus.recalled, "coating flakes")
    session.commit()
    response = api("line").post(f"/api/v1/batches/{batch.id}/items", json={"count": 2})
    assert response.status_code == 409
    assert "status" in response.json["error"]["fields"]
    assert item_count(session) == 0


def test_a_key_bound_to_another_line_may_not_serialize(api, session, batch):
    other = factories.make_line(session)
    session.commit()
    response = api("line", line_code=other.code).post(
        f"/api/v1/batches/{batch.id}/items", json={"count": 1}
    )
    assert response.status_code == 403
    assert item_count(session) == 0


def test_a_key_bound_to_the_batch_line_may_serialize(api, session, batch):
    response = api("line", line_code=batch.line.code).post(
        f"/api/v1/batches/{batch.id}/items", json={"count": 1}
    )
    assert response.status_code == 201


@pytest.mark.parametrize("role", ["quality", "logistics", "technician", "viewer"])
def test_other_roles_may_not_serialize(api, session, batch, role):
    response = api(role).post(f"/api/v1/batches/{batch.id}/items", json={"count": 1})
    assert response.status_code == 403
