"""An item's and a batch's history: complete, in order, corrections visible, no personal data."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import event

from tests import factories
from tests.history_data import CONTACT, DESCRIPTION, at, build_story, record_fields
from trace import history
from trace.logistics.models import Shipment, ShipmentItem, ShipmentStatus
from trace.quality.models import InspectionResult
from trace.service.models import Repair, RepairOutcome

ITEM_KINDS = {
    "material_lot",
    "produced",
    "component_installed",
    "component_removed",
    "installed_in",
    "process_record",
    "inspection",
    "batch_status",
    "shipment",
    "shipment_event",
    "repair",
    "complaint",
    "scrapped",
}


@pytest.fixture
def story(session):
    return build_story(session)


def _of(events, kind, record_id=None):
    return [e for e in events if e.kind == kind and (record_id is None or e.id == record_id)]


def _one(events, kind, record_id):
    [found] = _of(events, kind, record_id)
    return found


def test_an_item_history_tells_every_kind_of_event_in_time_order(session, story):
    events = history.item_history(session, story.item)
    assert {e.kind for e in events} == ITEM_KINDS
    times = [e.time for e in events]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)


def test_production_names_product_batch_and_line(session, story):
    [produced] = _of(history.item_history(session, story.item), "produced")
    assert produced.time == story.item.produced_at
    assert produced.data["serial"] == story.item.serial
    assert produced.data["product"]["sku"] == story.product.sku
    assert produced.data["batch"]["lot_number"] == story.batch.lot_number
    assert produced.data["line"]["code"] == story.batch.line.code


def test_material_lots_and_components_both_ways(session, story):
    events = history.item_history(session, story.item)
    lots = {e.data["supplier_lot"] for e in _of(events, "material_lot")}
    assert lots == {lot.supplier_lot for lot in story.batch.material_lots}
    installed = {e.data["part_number"]: e for e in _of(events, "component_installed")}
    assert installed["PUMP-7"].data["item"]["serial"]  # a tracked component is named
    assert installed["GASKET-3"].data["item"] is None
    [removed] = _of(events, "component_removed")
    assert removed.data["part_number"] == "GASKET-3"
    [inside] = _of(events, "installed_in")
    assert inside.data["parent"]["code"] == story.kit.code


def test_batch_level_records_appear_in_each_unit_of_the_batch(session, story):
    for unit in (story.item, story.sibling):
        events = history.item_history(session, unit)
        sampling = _one(events, "inspection", story.inspections["sampling"].id)
        hot = _one(events, "process_record", story.process_records["hot"].id)
        assert sampling.scope == hot.scope == "batch"
    sibling = history.item_history(session, story.sibling)
    assert not _of(sibling, "inspection", story.inspections["failed"].id)
    assert not _of(sibling, "repair") and not _of(sibling, "complaint")


def test_inspections_keep_result_measurements_and_the_rework_sequence(session, story):
    events = _of(history.item_history(session, story.item), "inspection")
    own = [e for e in events if e.scope == "item"]
    assert [e.data["result"] for e in own] == ["fail", "rework", "pass"]
    failed = own[0]
    assert failed.data["final"] is True and failed.data["defect_codes"] == ["LEAK"]
    leak = failed.data["measurements"][0]
    assert (leak["name"], leak["unit"], leak["in_spec"]) == ("leak_current", "mA", False)
    assert failed.data["inspector"]["badge"]
    assert failed.event_id == story.inspections["failed"].event_id


def test_process_records_say_whether_they_were_in_specification(session, story):
    events = history.item_history(session, story.item)
    hot = _one(events, "process_record", story.process_records["hot"].id)
    own = _one(events, "process_record", story.process_records["own"].id)
    assert hot.data["in_spec"] is False and hot.data["value"] == 236.5
    assert own.data["in_spec"] is True and own.scope == "item"


def test_a_voided_record_is_marked_and_linked_to_its_replacement(session, story):
    events = history.item_history(session, story.item)
    wrong = _one(events, "process_record", story.process_records["wrong"].id)
    fixed = _one(events, "process_record", story.process_records["fixed"].id)
    assert wrong.voided and wrong.void_reason == "decimal point misplaced"
    assert wrong.voided_by == "test" and wrong.voided_at is not None
    assert not fixed.voided
    assert wrong.replaced_by == history.RecordRef(fixed.id, fixed.event_id)
    assert fixed.replaces == history.RecordRef(wrong.id, wrong.event_id)


def test_corrected_logistics_events_are_linked_too(session, story):
    events = history.item_history(session, story.item)
    moving = _one(events, "shipment_event", story.shipment_events["moving"].id)
    corrected = _one(events, "shipment_event", story.shipment_events["corrected"].id)
    assert moving.voided and moving.void_reason == "wrong hub"
    assert moving.replaced_by.id == corrected.id and corrected.replaces.id == moving.id


def test_a_correction_moved_to_another_unit_is_linked_from_both_stories(session, story):
    """An inspection posted for the wrong unit, replaced by one of the right unit."""
    mistaken = factories.make_inspection(session, story.sibling, occurred_at=at(2, 9))
    right = factories.make_inspection(
        session, story.item, occurred_at=at(2, 9), replaces=mistaken.id, void_reason="wrong unit"
    )
    item_events = history.item_history(session, story.item)
    sibling_events = history.item_history(session, story.sibling)
    assert _one(item_events, "inspection", right.id).replaces.event_id == mistaken.event_id
    moved = _one(sibling_events, "inspection", mistaken.id)
    assert moved.voided and moved.replaced_by.event_id == right.event_id


def test_shipments_with_their_events_and_a_delivery_told_once(session, story):
    events = history.item_history(session, story.item)
    direct = _one(events, "shipment", story.shipments["direct"].id)
    assert direct.scope == "item"
    assert direct.data["tracking_number"] == "SF123456789CN"
    logged = [e.data["status"] for e in _of(events, "shipment_event")]
    assert logged == ["shipped", "in_transit", "in_transit", "delivered"]
    # The direct shipment's delivery was logged: no second, confirmed one.
    assert not _of(events, "delivery")


def test_a_whole_batch_shipment_is_in_the_story_of_the_units_it_took(session, story):
    whole = story.shipments["whole"]
    events = history.item_history(session, story.sibling)
    shipment = _one(events, "shipment", whole.id)
    assert shipment.scope == "item" and shipment.data["whole_batch"] is True
    # Its delivery was only confirmed, not logged: told once, at the confirmed time.
    [delivery] = _of(events, "delivery")
    assert (delivery.id, delivery.time) == (whole.id, whole.delivered_at)
    # The unit that went on its own (on its way then) was not taken, nor is it told.
    assert not _of(history.item_history(session, story.item), "shipment", whole.id)


def test_a_shipment_that_lists_the_unit_of_a_whole_batch_is_about_the_unit(session, story):
    whole = story.shipments["whole"]
    session.add(ShipmentItem(shipment_id=whole.id, item_id=story.item.id))
    session.flush()
    shipment = _one(history.item_history(session, story.item), "shipment", whole.id)
    assert shipment.scope == "item" and shipment.data["whole_batch"] is True


def test_repairs_with_their_parts(session, story):
    [repair] = _of(history.item_history(session, story.item), "repair")
    assert repair.time == story.repair.received_at
    assert repair.data["outcome"] == "repaired" and repair.data["under_warranty"] is True
    parts = {p["direction"]: p for p in repair.data["parts"]}
    assert parts["removed"]["part_number"] == parts["installed"]["part_number"] == "PUMP-7"
    assert parts["installed"]["item"]["code"]  # the spare is itself a tracked unit


def test_batch_holds_and_recalls_come_from_the_audit_trail(session, story):
    statuses = _of(history.item_history(session, story.item), "batch_status")
    assert [(e.data["from"], e.data["to"]) for e in statuses] == [
        ("open", "released"),
        ("released", "on_hold"),
    ]
    assert statuses[1].data["reason"] == "seal leak complaints"


def test_complaints_show_their_reference_and_status_and_no_personal_data(session, story):
    events = history.item_history(session, story.item)
    [complaint] = _of(events, "complaint")
    assert complaint.data["reference"] == "C-2026-0001"
    assert complaint.data["status"] == "investigating"
    assert complaint.time == story.complaint.created_at
    text = repr(events) + repr(history.batch_history(session, story.batch))
    for secret in [*CONTACT.values(), DESCRIPTION, "PRIVATE"]:
        assert secret not in text


def test_a_bare_unit_has_a_short_story(session):
    item = factories.make_item(session)
    assert [e.kind for e in history.item_history(session, item)] == ["produced"]


def _count_queries(session, action) -> int:
    statements = []

    def count(*_args):
        statements.append(1)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_story(session, story):
    """One query per kind of record (no N+1): more records, the same queries."""
    session.expunge_all()
    item = session.get(type(story.item), story.item.id)
    before = _count_queries(session, lambda: history.item_history(session, item))
    for hour in range(10, 16):
        factories.make_inspection(
            session,
            item,
            occurred_at=at(25, hour),
            result=InspectionResult.failed,
            measurements=[{"name": "leak_current", "value": 0.7, "unit": "mA"}],
        )
        shipment = Shipment(
            **record_fields(),
            number=f"SH-N{hour}",
            carrier="SF",
            origin="A",
            destination="B",
            consignee="C",
            status=ShipmentStatus.shipped,
            shipped_at=at(26, hour),
        )
        session.add(shipment)
        session.flush()
        session.add(ShipmentItem(shipment_id=shipment.id, item_id=item.id, open=False))
        session.add(
            Repair(
                **record_fields(),
                item_id=item.id,
                technician="T",
                received_at=at(27, hour),
                completed_at=at(28, hour),  # a unit is in one open repair at a time
                symptom="noise",
                outcome=RepairOutcome.repaired,
                under_warranty=False,
            )
        )
    session.flush()
    session.expunge_all()
    item = session.get(type(story.item), story.item.id)
    after = _count_queries(session, lambda: history.item_history(session, item))
    assert after == before
    assert before <= 16


# --- a batch's story ---------------------------------------------------------------------------


def test_a_batch_history_has_batch_level_events_and_no_unit_events(session, story):
    events = history.batch_history(session, story.batch)
    kinds = {e.kind for e in events}
    assert {"batch_opened", "material_lot", "batch_status", "inspection", "process_record"} <= kinds
    assert {"shipment", "shipment_event", "delivery"} <= kinds
    assert not kinds & {"produced", "repair", "complaint", "component_installed"}
    inspections = _of(events, "inspection")
    assert [e.id for e in inspections] == [story.inspections["sampling"].id]
    times = [e.time for e in events]
    assert times == sorted(times)
    assert events[0].kind in {"material_lot", "batch_opened"}


def test_a_batch_history_counts_the_units_its_shipments_carried(session, story):
    events = history.batch_history(session, story.batch)
    direct = _one(events, "shipment", story.shipments["direct"].id)
    whole = _one(events, "shipment", story.shipments["whole"].id)
    assert (direct.scope, direct.data["items_of_batch"]) == ("items", 1)
    assert whole.scope == "batch"


def test_a_batch_summary_counts_units_inspections_shipments_repairs_complaints(session, story):
    summary = history.batch_summary(session, story.batch)
    assert summary["items"] == 2
    assert summary["items_by_status"] == {"produced": 1, "scrapped": 1}
    assert summary["first_produced_at"] == story.item.produced_at
    assert summary["item_inspections_by_result"] == {"fail": 1, "rework": 1, "pass": 1}
    assert (summary["shipments"], summary["repairs"], summary["complaints"]) == (2, 1, 1)


def test_a_batch_history_stays_bounded(session, monkeypatch):
    monkeypatch.setattr(history, "MAX_BATCH_SHIPMENTS", 3)
    batch = factories.make_batch(session)
    for n in range(5):
        item = factories.make_item(session, batch)
        shipment = Shipment(
            **record_fields(event_id=uuid.uuid4()),
            number=f"SH-B{n}",
            carrier="SF",
            origin="A",
            destination="B",
            consignee="C",
            shipped_at=dt.datetime(2026, 10, 1 + n, tzinfo=dt.UTC),
        )
        session.add(shipment)
        session.flush()
        session.add(ShipmentItem(shipment_id=shipment.id, item_id=item.id))
    session.flush()
    shipments = _of(history.batch_history(session, batch), "shipment")
    assert [e.data["number"] for e in shipments] == ["SH-B2", "SH-B3", "SH-B4"]
    assert history.batch_summary(session, batch)["shipments"] == 5
