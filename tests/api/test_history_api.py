"""GET /items/<code>/history and /batches/<id>/history."""

import datetime as dt

import pytest

from tests.history_data import CONTACT, DESCRIPTION, build_story
from trace import codes


@pytest.fixture
def story(session):
    story = build_story(session)
    session.commit()
    return story


def test_an_item_history_in_time_order_with_corrections(api, story):
    response = api("viewer").get(f"/api/v1/items/{story.item.code}/history")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["item"]["code"] == story.item.code
    assert body["item"]["sku"] == story.product.sku
    events = body["events"]
    times = [dt.datetime.fromisoformat(e["time"]) for e in events]
    assert times == sorted(times) and all(t.utcoffset() is not None for t in times)
    wrong = story.process_records["wrong"]
    [voided] = [e for e in events if e["record"] == "process_record" and e["id"] == wrong.id]
    assert voided["voided"] is True and voided["void_reason"] == "decimal point misplaced"
    fixed = story.process_records["fixed"]
    assert voided["replaced_by"] == {"id": fixed.id, "event_id": str(fixed.event_id)}
    [replacement] = [e for e in events if e["id"] == fixed.id and e["kind"] == "process_record"]
    assert replacement["replaces"] == {"id": wrong.id, "event_id": str(wrong.event_id)}
    assert replacement["voided"] is False


def test_event_data_is_plain_json(api, story):
    events = api("viewer").get(f"/api/v1/items/{story.item.code}/history").get_json()["events"]
    [shipment] = [e for e in events if e["kind"] == "shipment" and e["scope"] == "item"]
    assert dt.datetime.fromisoformat(shipment["data"]["shipped_at"]).utcoffset() is not None
    [lot] = [e for e in events if e["kind"] == "material_lot"][:1]
    assert dt.date.fromisoformat(lot["data"]["received_on"])


def test_the_code_may_be_typed_as_printed(api, story):
    code = story.item.code
    spaced = "-".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()
    assert api("viewer").get(f"/api/v1/items/{spaced}/history").status_code == 200


def test_a_batch_history_with_its_summary(api, story):
    response = api("quality").get(f"/api/v1/batches/{story.batch.id}/history")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["batch"]["lot_number"] == story.batch.lot_number
    assert body["summary"]["items"] == 2
    assert body["summary"]["items_by_status"] == {"produced": 1, "scrapped": 1}
    kinds = [e["kind"] for e in body["events"]]
    assert "produced" not in kinds and "batch_opened" in kinds


def test_no_personal_data_in_either_history(api, story):
    client = api("viewer")
    text = client.get(f"/api/v1/items/{story.item.code}/history").get_data(as_text=True)
    text += client.get(f"/api/v1/batches/{story.batch.id}/history").get_data(as_text=True)
    assert "C-2026-0001" in text  # the complaint is there, by its reference
    for secret in [*CONTACT.values(), DESCRIPTION, "PRIVATE"]:
        assert secret not in text


@pytest.mark.parametrize("kind", ["history", "epcis"])
def test_an_unknown_code_is_404_and_a_malformed_one_422(api, kind):
    client = api("viewer")
    response = client.get(f"/api/v1/items/{codes.new_code()}/{kind}")
    assert response.status_code == 404
    assert response.get_json()["error"]["fields"] == {"code": ["unknown code"]}
    response = client.get(f"/api/v1/items/NOT-A-CODE/{kind}")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["code"]


@pytest.mark.parametrize("kind", ["history", "epcis"])
def test_an_unknown_batch_is_404(api, kind):
    response = api("viewer").get(f"/api/v1/batches/999999/{kind}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
