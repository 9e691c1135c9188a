"""Batch and item endpoints: happy paths, pages, and bad input that writes nothing."""

import contextlib
import json

import pytest
from sqlalchemy import func, select

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.production.models import Batch, batch_material


def post_json(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _links(session) -> int:
    return session.scalar(select(func.count()).select_from(batch_material))


@contextlib.contextmanager
def nothing_written(session):
    """No batch, no material-lot link, no status change and no audit entry came of the block."""

    def state():
        statuses = session.execute(select(Batch.id, Batch.status, Batch.status_reason)).all()
        return (
            factories.count(session, Batch),
            _links(session),
            factories.count(session, AuditEntry),
            sorted(statuses),
        )

    before = state()
    yield
    assert state() == before


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error


@pytest.fixture
def ready(session):
    """A product, a line and two material lots, committed so the API sees them."""
    objects = {
        "product": factories.make_product(session),
        "line": factories.make_line(session),
        "lots": [factories.make_material_lot(session) for _ in range(2)],
    }
    session.commit()
    return objects


def _batch_body(ready, **changes) -> dict:
    body = {
        "product_id": ready["product"].id,
        "lot_number": "K2611A",
        "line_id": ready["line"].id,
        "planned_quantity": 1200,
        "started_at": "2026-11-02T08:00:00+00:00",
        "ended_at": "2026-11-02T16:00:00+00:00",
        "material_lot_ids": [lot.id for lot in ready["lots"]],
    }
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key)
        else:
            body[key] = value
    return body


MISSING = object()


# --- happy paths ------------------------------------------------------------------------


def test_open_a_batch_then_get_it(api, ready):
    client = api("line")
    response = post_json(client, "/api/v1/batches", _batch_body(ready))
    assert response.status_code == 201, response.get_data(as_text=True)
    batch = response.get_json()
    assert batch["status"] == "open"
    assert batch["lot_number"] == "K2611A"
    assert [lot["id"] for lot in batch["material_lots"]] == [lot.id for lot in ready["lots"]]
    assert client.get(f"/api/v1/batches/{batch['id']}").get_json() == batch


def test_times_are_stored_in_utc_and_sent_with_an_offset(api, ready):
    body = _batch_body(
        ready, started_at="2026-11-02T16:00:00+08:00", ended_at="2026-11-02T17:30:00+08:00"
    )
    client = api("line")
    batch = post_json(client, "/api/v1/batches", body).get_json()
    assert batch["started_at"] == "2026-11-02T08:00:00+00:00"
    assert batch["ended_at"] == "2026-11-02T09:30:00+00:00"
    assert client.get(f"/api/v1/batches/{batch['id']}").get_json() == batch


def test_a_batch_needs_only_product_lot_and_line(api, ready):
    body = {"product_id": ready["product"].id, "lot_number": "K1", "line_id": ready["line"].id}
    batch = post_json(api("quality"), "/api/v1/batches", body).get_json()
    assert batch["planned_quantity"] == 0
    assert (batch["started_at"], batch["ended_at"], batch["material_lots"]) == (None, None, [])


def test_list_batches_in_pages_and_by_filter(api, session, ready):
    client = api("admin")
    ids = [
        post_json(
            client, "/api/v1/batches", _batch_body(ready, lot_number=f"K{n}", material_lot_ids=[])
        ).get_json()["id"]
        for n in range(3)
    ]
    first = client.get("/api/v1/batches?limit=2").get_json()
    assert [b["id"] for b in first["items"]] == ids[:2]
    rest = client.get(f"/api/v1/batches?limit=2&after={first['next_after']}").get_json()
    assert ([b["id"] for b in rest["items"]], rest["next_after"]) == (ids[2:], None)
    lot = ready["lots"][0].id
    post_json(client, f"/api/v1/batches/{ids[1]}/material-lots", {"material_lot_ids": [lot]})
    by_lot = client.get(f"/api/v1/batches?material_lot_id={lot}").get_json()
    assert [b["id"] for b in by_lot["items"]] == [ids[1]]
    post_json(client, f"/api/v1/batches/{ids[2]}/status", {"status": "on_hold", "reason": "leak"})
    held = client.get(f"/api/v1/batches?status=on_hold&product_id={ready['product'].id}")
    assert [b["id"] for b in held.get_json()["items"]] == [ids[2]]


def test_link_material_lots_once_each(api, session, ready):
    batch = factories.make_batch(session, ready["product"], ready["line"])
    session.commit()
    client = api("line")
    first, second = (lot.id for lot in ready["lots"])
    path = f"/api/v1/batches/{batch.id}/material-lots"
    response = post_json(client, path, {"material_lot_ids": [first]})
    assert response.status_code == 200
    response = post_json(client, path, {"material_lot_ids": [first, second, second]})
    assert [lot["id"] for lot in response.get_json()["material_lots"]] == [first, second]
    assert _links(session) == 2


def test_change_batch_status(api, session, ready):
    batch = factories.make_batch(session, ready["product"], ready["line"])
    session.commit()
    client = api("quality")
    path = f"/api/v1/batches/{batch.id}/status"
    held = post_json(client, path, {"status": "on_hold", "reason": "seal leak at ST3"})
    assert held.status_code == 200
    assert (held.get_json()["status"], held.get_json()["status_reason"]) == (
        "on_hold",
        "seal leak at ST3",
    )
    released = post_json(client, path, {"status": "released"})
    assert released.get_json()["status"] == "released"
    assert client.get(f"/api/v1/batches/{batch.id}").get_json()["status"] == "released"


def test_items_of_a_batch_in_pages(api, session):
    batch = factories.make_batch(session)
    items = [factories.make_item(session, batch) for _ in range(3)]
    factories.make_item(session)
    session.commit()
    client = api("viewer")
    first = client.get(f"/api/v1/batches/{batch.id}/items?limit=2").get_json()
    assert [i["code"] for i in first["items"]] == [items[0].code, items[1].code]
    path = f"/api/v1/batches/{batch.id}/items?after={first['next_after']}"
    rest = client.get(path).get_json()
    assert ([i["serial"] for i in rest["items"]], rest["next_after"]) == ([items[2].serial], None)


def test_item_by_code(api, session):
    item = factories.make_item(session, serial="K-000001")
    session.commit()
    response = api("technician").get(f"/api/v1/items/{item.code}")
    assert response.status_code == 200
    found = response.get_json()
    assert (found["id"], found["serial"], found["status"]) == (item.id, "K-000001", "produced")
    assert found["sku"] == item.product.sku
    assert found["lot_number"] == item.batch.lot_number
    assert found["produced_at"].endswith("+00:00")


def test_item_by_code_typed_in_lower_case_with_hyphens(api, session):
    item = factories.make_item(session)
    session.commit()
    typed = codes.format_code(item.code).lower()
    assert api("viewer").get(f"/api/v1/items/{typed}").get_json()["id"] == item.id


def test_a_malformed_code_is_422_and_an_unknown_one_404(api, session):
    factories.make_item(session)
    session.commit()
    client = api("viewer")
    assert "code" in error_of(client.get("/api/v1/items/NOT-A-CODE"), 422)["fields"]
    assert error_of(client.get(f"/api/v1/items/{codes.new_code()}"), 404)["fields"] == {
        "code": ["unknown code"]
    }


def test_item_by_sku_and_serial(api, session):
    product = factories.make_product(session, sku="KET-9")
    item = factories.make_item(session, factories.make_batch(session, product), serial="K-7")
    session.commit()
    client = api("viewer")
    assert client.get("/api/v1/items?sku=KET-9&serial=K-7").get_json()["id"] == item.id
    assert error_of(client.get("/api/v1/items?sku=KET-9&serial=K-8"), 404)["fields"] == {
        "serial": ["unknown serial"]
    }
    assert "serial" in error_of(client.get("/api/v1/items?sku=KET-9"), 422)["fields"]
    assert "sku" in error_of(client.get("/api/v1/items?sku=KET 9&serial=K-7"), 422)["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/batches/999999",
        "/api/v1/batches/999999/items",
        f"/api/v1/batches/{2**64}",
        f"/api/v1/batches/{2**64}/items",
    ],
)
def test_unknown_batches_are_404(api, path):
    assert error_of(api("viewer").get(path), 404)["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    ["status=bogus", "product_id=x", f"product_id={2**64}", f"material_lot_id={2**64}", "after=-5"],
)
def test_bad_batch_filters_are_422(api, query):
    assert error_of(api("viewer").get(f"/api/v1/batches?{query}"), 422)["fields"]


# --- bad input: opening a batch ------------------------------------------------------------

BAD_BATCHES = [
    ("product_id", {"product_id": "5"}),
    ("product_id", {"product_id": 5.0}),
    ("product_id", {"product_id": [1]}),
    ("product_id", {"product_id": True}),
    ("product_id", {"product_id": 0}),
    ("product_id", {"product_id": MISSING}),
    ("line_id", {"line_id": None}),
    ("line_id", {"line_id": {"id": 1}}),
    ("line_id", {"line_id": 2**63}),
    ("lot_number", {"lot_number": 2611}),
    ("lot_number", {"lot_number": "K 2611"}),
    ("lot_number", {"lot_number": "K2611\n"}),
    ("lot_number", {"lot_number": "K" * 21}),
    ("lot_number", {"lot_number": ""}),
    ("lot_number", {"lot_number": "K/2611"}),
    ("lot_number", {"lot_number": MISSING}),
    ("planned_quantity", {"planned_quantity": "100"}),
    ("planned_quantity", {"planned_quantity": -1}),
    ("planned_quantity", {"planned_quantity": 10**12}),
    ("started_at", {"started_at": "2026-11-02T08:00:00"}),
    ("started_at", {"started_at": "yesterday"}),
    ("started_at", {"started_at": 1793606400}),
    ("ended_at", {"ended_at": "2026-11-02T16:00:00"}),
    ("ended_at", {"ended_at": "9999-12-31T23:00:00-05:00"}),  # the year 10000 in UTC
    ("ended_at", {"ended_at": "9999-12-31T23:00:00Z"}),  # the year 10000 in Shanghai
    ("ended_at", {"ended_at": "2026-11-02T07:59:59+00:00"}),
    ("ended_at", {"started_at": "2026-11-02T08:00:00Z", "ended_at": "2026-11-02T15:59:00+08:00"}),
    ("material_lot_ids", {"material_lot_ids": "1,2"}),
    ("material_lot_ids", {"material_lot_ids": {"1": 1}}),
    ("material_lot_ids", {"material_lot_ids": [1, "2"]}),
    ("material_lot_ids", {"material_lot_ids": [0]}),
    ("material_lot_ids", {"material_lot_ids": list(range(1, 502))}),
    ("status", {"status": "released"}),
    ("id", {"id": 7}),
]


@pytest.mark.parametrize(
    ("field", "changes"), BAD_BATCHES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_BATCHES)]
)
def test_bad_batch_is_a_422_naming_the_field_and_writes_nothing(
    api, session, ready, field, changes
):
    client = api("admin")
    with nothing_written(session):
        response = post_json(client, "/api/v1/batches", _batch_body(ready, **changes))
    error = error_of(response, 422)
    assert field in error["fields"], error


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("product_id", {"product_id": 999_999}),
        ("line_id", {"line_id": 999_999}),
        ("material_lot_ids", {"material_lot_ids": [999_999]}),
    ],
)
def test_batch_with_unknown_ids_is_404_and_writes_nothing(api, session, ready, field, changes):
    client = api("admin")
    if field == "material_lot_ids":
        changes = {"material_lot_ids": [ready["lots"][0].id, 999_999]}
    with nothing_written(session):
        response = post_json(client, "/api/v1/batches", _batch_body(ready, **changes))
    assert field in error_of(response, 404)["fields"]


def test_a_lot_number_twice_for_one_product_is_409_and_writes_nothing(api, session, ready):
    client = api("admin")
    assert post_json(client, "/api/v1/batches", _batch_body(ready)).status_code == 201
    with nothing_written(session):
        response = post_json(client, "/api/v1/batches", _batch_body(ready))
    assert error_of(response, 409)["fields"] == {"lot_number": ["already exists"]}


# --- bad input: material lots and status ---------------------------------------------------


@pytest.fixture
def batch(session, ready):
    batch = factories.make_batch(session, ready["product"], ready["line"])
    session.commit()
    return batch


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "material_lot_ids"),
        ({"material_lot_ids": []}, "material_lot_ids"),
        ({"material_lot_ids": "1"}, "material_lot_ids"),
        ({"material_lot_ids": ["1"]}, "material_lot_ids"),
        ({"material_lot_ids": [1], "note": "x"}, "note"),
    ],
)
def test_bad_material_lot_link_is_422_and_links_nothing(api, session, batch, body, field):
    client = api("line")
    with nothing_written(session):
        response = post_json(client, f"/api/v1/batches/{batch.id}/material-lots", body)
    assert field in error_of(response, 422)["fields"]


def test_linking_an_unknown_material_lot_is_404_and_links_none(api, session, ready, batch):
    client = api("line")
    body = {"material_lot_ids": [ready["lots"][0].id, 999_999]}
    with nothing_written(session):
        response = post_json(client, f"/api/v1/batches/{batch.id}/material-lots", body)
    assert error_of(response, 404)["fields"] == {"material_lot_ids": ["unknown id 999999"]}


def test_linking_to_an_unknown_batch_is_404(api, session, ready):
    client = api("line")
    body = {"material_lot_ids": [ready["lots"][0].id]}
    with nothing_written(session):
        response = post_json(client, "/api/v1/batches/999999/material-lots", body)
    assert error_of(response, 404)["fields"] == {"batch_id": ["unknown id"]}


def test_linking_to_a_recalled_batch_is_409(api, session, ready, batch):
    client = api("admin")
    path = f"/api/v1/batches/{batch.id}"
    assert (
        post_json(client, f"{path}/status", {"status": "recalled", "reason": "x"}).status_code
        == 200
    )
    with nothing_written(session):
        response = post_json(
            client, f"{path}/material-lots", {"material_lot_ids": [ready["lots"][0].id]}
        )
    assert error_of(response, 409)["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "status"),
        ({"status": "bogus"}, "status"),
        ({"status": "RELEASED"}, "status"),
        ({"status": 1}, "status"),
        ({"status": ["released"]}, "status"),
        ({"status": "on_hold", "reason": 5}, "reason"),
        ({"status": "on_hold", "reason": "r" * 501}, "reason"),
        ({"status": "on_hold", "reason": "leak\x00"}, "reason"),
        ({"status": "on_hold", "reason": "   "}, "reason"),
        ({"status": "on_hold"}, "reason"),
        ({"status": "recalled", "reason": None}, "reason"),
        ({"status": "released", "by": "me"}, "by"),
    ],
)
def test_bad_status_change_is_422_and_changes_nothing(api, session, batch, body, field):
    client = api("quality")
    with nothing_written(session):
        response = post_json(client, f"/api/v1/batches/{batch.id}/status", body)
    assert field in error_of(response, 422)["fields"]


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], {"status": "open"}),
        ([], {"status": "closed"}),
        ([{"status": "recalled", "reason": "supplier recall"}], {"status": "open"}),
        ([{"status": "recalled", "reason": "supplier recall"}], {"status": "released"}),
        ([{"status": "released"}], {"status": "open"}),
    ],
)
def test_an_invalid_transition_is_409_and_changes_nothing(api, session, batch, steps, refused):
    client = api("quality")
    path = f"/api/v1/batches/{batch.id}/status"
    for step in steps:
        assert post_json(client, path, step).status_code == 200
    with nothing_written(session):
        response = post_json(client, path, refused)
    assert "status" in error_of(response, 409)["fields"]


def test_status_of_an_unknown_batch_is_404(api):
    response = post_json(api("quality"), "/api/v1/batches/999999/status", {"status": "released"})
    assert error_of(response, 404)["fields"] == {"batch_id": ["unknown id"]}


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/batches/{2**31}", f"/api/v1/batches/{2**31}/items", f"/api/v1/products/{2**31}"],
)
def test_ids_beyond_the_32_bit_key_range_are_unknown_not_errors(api, path):
    """PostgreSQL keys are 32-bit: a larger id must be a 404 there as on SQLite, not a 500."""
    assert api("viewer").get(path).status_code == 404


def test_filters_beyond_the_32_bit_key_range_are_refused(api):
    response = api("viewer").get(f"/api/v1/batches?product_id={2**31}")
    assert response.status_code == 422
