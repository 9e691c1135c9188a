"""Recording shipments and logistics events: what may ship, delivery, voiding, corrections."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests import factories
from trace.audit.models import AuditEntry
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.capture import BulkRejected
from trace.errors import Conflict, Forbidden
from trace.logistics import services as logistics
from trace.logistics.models import (
    Shipment,
    ShipmentEvent,
    ShipmentItem,
    ShipmentStatus,
    shipment_batch,
)
from trace.production.models import BatchStatus, Item, ItemStatus
from trace.production.services import change_batch_status
from trace.quality.models import InspectionResult
from trace.service.models import PartDirection

SHIPPER = Principal("key:wms1", Role.logistics)
OTHER_SHIPPER = Principal("key:wms2", Role.logistics)
QUALITY = Principal("key:qe", Role.quality)
SHIPPED_AT = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)


def shipment(items=(), batches=(), **overrides) -> dict:
    data = {
        "event_id": uuid.uuid4(),
        "number": factories.unique("SH-"),
        "carrier": "SF Express",
        "tracking_number": "SF1234567890",
        "origin": "Ningbo plant",
        "destination": "Shanghai distribution centre",
        "consignee": "East China Appliances Co.",
        "shipped_at": SHIPPED_AT,
        "item_codes": [item.code for item in items],
        "batch_ids": [batch.id for batch in batches],
    }
    return {**data, **overrides}


def event(shipment_id: int, status=ShipmentStatus.in_transit, **overrides) -> dict:
    data = {
        "event_id": uuid.uuid4(),
        "shipment_id": shipment_id,
        "occurred_at": SHIPPED_AT + dt.timedelta(days=1),
        "status": status,
        "location": "Hangzhou hub",
    }
    return {**data, **overrides}


def ship(session, *items, principal=SHIPPER, **overrides) -> Shipment:
    [recorded] = logistics.record_shipments(session, principal, [shipment(items, **overrides)])
    return session.get(Shipment, recorded.id)


def post_event(session, shipment_id, status=ShipmentStatus.in_transit, **overrides):
    data = event(shipment_id, status, **overrides)
    [recorded] = logistics.record_shipment_events(session, SHIPPER, [data])
    return session.get(ShipmentEvent, recorded.id)


def statuses(session, *items) -> list[ItemStatus]:
    return [session.get(Item, item.id).status for item in items]


def open_flags(session, shipment_id) -> list[bool]:
    query = select(ShipmentItem.open).where(ShipmentItem.shipment_id == shipment_id)
    return sorted(session.scalars(query))


def refused(call, *args) -> BulkRejected:
    with pytest.raises(BulkRejected) as error:
        call(*args)
    return error.value


def fail_final_inspection(session, item):
    factories.make_inspection(session, item, result=InspectionResult.failed, is_final=True)


# --- shipping ------------------------------------------------------------------------------


def test_a_shipment_carries_its_items_which_are_then_shipped(session):
    items = [factories.make_item(session) for _ in range(2)]
    stored = ship(session, *items)
    assert stored.status is ShipmentStatus.shipped and stored.recorded_by == "key:wms1"
    assert stored.item_count == 2
    assert open_flags(session, stored.id) == [True, True]
    assert statuses(session, *items) == [ItemStatus.shipped] * 2
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "shipment.record"))
    assert [entry.entity_id for entry in audit] == [str(stored.id)]


def test_the_same_event_id_and_content_is_a_retry_that_changes_nothing(session):
    data = shipment([factories.make_item(session)])
    [first] = logistics.record_shipments(session, SHIPPER, [data])
    before = [factories.count(session, m) for m in (Shipment, ShipmentItem, AuditEntry)]
    [again] = logistics.record_shipments(session, SHIPPER, [dict(data)])
    assert (again.id, again.created) == (first.id, False)
    assert [factories.count(session, m) for m in (Shipment, ShipmentItem, AuditEntry)] == before


def test_the_same_event_id_with_other_content_is_a_conflict(session):
    data = shipment([factories.make_item(session)])
    logistics.record_shipments(session, SHIPPER, [data])
    error = refused(logistics.record_shipments, session, SHIPPER, [{**data, "carrier": "EMS"}])
    assert error.status == 409
    assert "event_id" in error.fields["records"]["0"]


def test_a_bulk_post_is_all_or_nothing_and_names_every_bad_record(session):
    good = factories.make_item(session)
    records = [
        shipment([good]),
        shipment(item_codes=["not-a-code"]),
        shipment(batch_ids=[10**9]),
        shipment(
            [factories.make_item(session)],
            shipped_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        ),
    ]
    error = refused(logistics.record_shipments, session, SHIPPER, records)
    problems = error.fields["records"]
    assert set(problems) == {"1", "2", "3"}
    assert set(problems["1"]["item_codes"]) == {"0"}
    assert problems["2"] == {"batch_ids": {"0": ["unknown id"]}}
    assert "shipped_at" in problems["3"]
    assert factories.count(session, Shipment) == 0
    assert statuses(session, good) == [ItemStatus.produced]


def test_an_item_in_an_open_shipment_cannot_be_shipped_again(session):
    item = factories.make_item(session)
    first = ship(session, item)
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment([item])])
    assert error.status == 409
    [message] = error.fields["records"]["0"]["item_codes"]["0"]
    assert item.code in message and first.number in message


def test_one_post_cannot_put_an_item_in_two_shipments(session):
    item = factories.make_item(session)
    records = [shipment([item]), shipment([item])]
    error = refused(logistics.record_shipments, session, SHIPPER, records)
    assert set(error.fields["records"]) == {"1"}
    assert factories.count(session, Shipment) == 0


def test_the_database_refuses_a_second_open_shipment_of_an_item_too(session):
    item = factories.make_item(session)
    ship(session, item)
    second = ship(session, factories.make_item(session))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(ShipmentItem(shipment_id=second.id, item_id=item.id))


def test_shipment_numbers_are_never_reused(session):
    first = ship(session, factories.make_item(session))
    record = shipment([factories.make_item(session)], number=first.number)
    error = refused(logistics.record_shipments, session, SHIPPER, [record])
    assert error.status == 409 and "number" in error.fields["records"]["0"]


def test_scrapped_items_and_items_in_repair_cannot_be_shipped(session):
    scrapped = factories.make_item(session, status=ItemStatus.scrapped)
    in_repair = factories.make_item(session, status=ItemStatus.in_repair)
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment([scrapped, in_repair])])
    assert error.status == 409
    assert set(error.fields["records"]["0"]["item_codes"]) == {"0", "1"}


def test_expected_before_shipped_is_refused(session):
    record = shipment([factories.make_item(session)], expected_at=SHIPPED_AT - dt.timedelta(days=1))
    error = refused(logistics.record_shipments, session, SHIPPER, [record])
    assert error.status == 422 and "expected_at" in error.fields["records"]["0"]


def test_a_unit_cannot_leave_before_it_was_made(session):
    late = factories.make_item(session, produced_at=SHIPPED_AT + dt.timedelta(hours=1))
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment([late])])
    assert error.status == 422
    assert error.fields["records"]["0"] == {"shipped_at": [f"before {late.code} was made"]}
    assert statuses(session, late) == [ItemStatus.produced]


def test_a_whole_batch_takes_only_the_units_made_by_the_time_it_left(session):
    batch = factories.make_batch(session)
    made = factories.make_item(session, batch)
    later = factories.make_item(session, batch, produced_at=SHIPPED_AT + dt.timedelta(hours=1))
    stored = ship(session, batches=[batch])
    carried = select(ShipmentItem.item_id).where(ShipmentItem.shipment_id == stored.id)
    assert list(session.scalars(carried)) == [made.id]
    assert statuses(session, made, later) == [ItemStatus.shipped, ItemStatus.produced]


def _installed(session, part):
    tracked = {"direction": PartDirection.installed, "part_number": "PUMP", "item_code": part.code}
    host = factories.make_item(session)
    factories.make_repair(session, host, parts=[tracked])
    return host


def test_a_part_inside_a_unit_cannot_leave_on_its_own(session):
    batch = factories.make_batch(session)
    part, spare = factories.make_item(session, batch), factories.make_item(session, batch)
    host = _installed(session, part)
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment([part])])
    assert error.status == 409
    [why] = error.fields["records"]["0"]["item_codes"]["0"]
    assert why == f"item {part.code} is installed in unit {host.code}: a repair removes it first"
    # Its batch shipped whole leaves it where it is, inside the unit.
    stored = ship(session, batches=[batch])
    carried = select(ShipmentItem.item_id).where(ShipmentItem.shipment_id == stored.id)
    assert list(session.scalars(carried)) == [spare.id]
    assert statuses(session, part) == [ItemStatus.produced]


def test_a_whole_batch_with_nothing_to_take_then_is_refused(session):
    batch = factories.make_batch(session)
    _installed(session, factories.make_item(session, batch))
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment(batches=[batch])])
    assert error.fields["records"]["0"]["batch_ids"] == {
        "0": [f"no item of batch {batch.lot_number} is in stock"]
    }
    factories.make_item(session, batch, produced_at=SHIPPED_AT + dt.timedelta(hours=1))
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment(batches=[batch])])
    assert error.fields["records"]["0"]["batch_ids"] == {
        "0": [f"no item of batch {batch.lot_number} in stock was made by shipped_at"]
    }


def test_a_failed_unit_made_after_the_shipment_left_asks_no_override_of_its_batch(session):
    batch = factories.make_batch(session)
    spare = factories.make_item(session, batch)
    late = factories.make_item(session, batch, produced_at=SHIPPED_AT + dt.timedelta(hours=1))
    fail_final_inspection(session, late)
    stored = ship(session, batches=[batch])
    assert stored.override_reason is None
    assert statuses(session, spare, late) == [ItemStatus.shipped, ItemStatus.failed]
    # Made before it left, the failed unit goes with the batch, and only with a reason.
    early = factories.make_item(session, batch)
    fail_final_inspection(session, early)
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment(batches=[batch])])
    reasons = error.fields["records"]["0"]["override_reason"]
    assert reasons == [f"required: batch {batch.lot_number} has 1 failed items"]


def test_a_failed_unit_made_the_moment_it_left_goes_and_asks_a_reason(session):
    batch = factories.make_batch(session)
    tied = factories.make_item(session, batch, produced_at=SHIPPED_AT)
    fail_final_inspection(session, tied)
    east_8 = dt.timezone(dt.timedelta(hours=8))
    local = shipment(batches=[batch], shipped_at=SHIPPED_AT.astimezone(east_8))
    error = refused(logistics.record_shipments, session, SHIPPER, [local])
    assert error.fields["records"]["0"]["override_reason"] == [
        f"required: batch {batch.lot_number} has 1 failed items"
    ]
    logistics.record_shipments(session, SHIPPER, [{**local, "override_reason": "customer ok"}])
    assert statuses(session, tied) == [ItemStatus.shipped]


def test_a_failed_unit_freed_later_in_the_post_does_not_go_with_its_batch_unasked(session):
    batch = factories.make_batch(session)
    factories.make_item(session, batch)
    failed = factories.make_item(session, batch)
    fail_final_inspection(session, failed)
    [old] = logistics.record_shipments(
        session, SHIPPER, [shipment([failed], override_reason="customer ok")]
    )
    spare = factories.make_item(session)
    session.commit()
    # Counted while the failed unit was in the old shipment: no reason asked. The
    # correction after it frees the unit, which the whole batch would then take.
    whole = shipment(batches=[batch])
    correction = shipment([spare], replaces=old.id, void_reason="wrong")
    error = refused(logistics.record_shipments, session, SHIPPER, [whole, correction])
    assert (error.status, error.fields["records"]) == (
        409,
        {"0": {"override_reason": [f"required: item {failed.code} failed its final inspection"]}},
    )
    session.rollback()
    assert statuses(session, failed) == [ItemStatus.shipped]
    # Given a reason up front, the whole batch takes the freed unit, and the override of
    # it is audited.
    whole["override_reason"] = "the customer takes the failed one too"
    logistics.record_shipments(session, SHIPPER, [whole, correction])
    assert statuses(session, failed) == [ItemStatus.shipped]
    [audited] = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "shipment.override", AuditEntry.data.contains(whole["number"])
        )
    ).all()
    assert f"item {failed.code} failed its final inspection" in audited.data


def test_a_failed_unit_inside_another_asks_no_override_of_its_batch(session):
    batch = factories.make_batch(session)
    spare = factories.make_item(session, batch)
    failed = factories.make_item(session, batch)
    fail_final_inspection(session, failed)
    _installed(session, failed)  # reworked into another unit: not in the batch's stock
    stored = ship(session, batches=[batch])
    assert stored.override_reason is None
    assert statuses(session, spare, failed) == [ItemStatus.shipped, ItemStatus.failed]


# --- overrides -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [BatchStatus.on_hold, BatchStatus.recalled])
def test_items_of_held_or_recalled_batches_need_an_override(session, status):
    batch = factories.make_batch(session)
    item = factories.make_item(session, batch)
    change_batch_status(session, "qe", batch, status=status, reason="leak test failures")
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment([item])])
    assert error.status == 409
    [reason] = error.fields["records"]["0"]["override_reason"]
    assert batch.lot_number in reason
    assert statuses(session, item) == [ItemStatus.produced]


def test_an_override_is_stored_on_the_shipment_and_audited(session):
    batch = factories.make_batch(session)
    item = factories.make_item(session, batch)
    change_batch_status(session, "qe", batch, status=BatchStatus.on_hold, reason="audit")
    stored = ship(session, item, override_reason="customer accepted the hold deviation")
    assert stored.override_reason == "customer accepted the hold deviation"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "shipment.override"))
    assert entry.entity_id == str(stored.id) and "hold deviation" in entry.data
    assert batch.lot_number in entry.data
    assert statuses(session, item) == [ItemStatus.shipped]


def test_a_failed_item_needs_an_override_and_goes_back_to_failed_when_released(session):
    item = factories.make_item(session)
    fail_final_inspection(session, item)
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment([item])])
    assert "failed its final inspection" in error.fields["records"]["0"]["override_reason"][0]
    stored = ship(session, item, override_reason="sold as B-grade")
    assert statuses(session, item) == [ItemStatus.shipped]
    logistics.void_shipment(session, SHIPPER, stored, "wrong truck")
    assert statuses(session, item) == [ItemStatus.failed]


# --- whole batches -------------------------------------------------------------------------


def test_a_whole_batch_ships_its_items_in_stock(session):
    batch = factories.make_batch(session)
    items = [factories.make_item(session, batch) for _ in range(4)]
    scrapped = factories.make_item(session, batch, status=ItemStatus.scrapped)
    stored = ship(session, batches=[batch])
    assert stored.item_count == 4
    assert [b.id for b in stored.batches] == [batch.id]
    link = session.execute(select(shipment_batch)).all()
    assert [(row.shipment_id, row.batch_id) for row in link] == [(stored.id, batch.id)]
    assert statuses(session, *items, scrapped) == [ItemStatus.shipped] * 4 + [ItemStatus.scrapped]


def test_a_batch_can_go_out_in_parts(session):
    batch = factories.make_batch(session)
    items = [factories.make_item(session, batch) for _ in range(3)]
    first = ship(session, items[0])
    rest = ship(session, batches=[batch])
    assert (first.item_count, rest.item_count) == (1, 2)
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment(batches=[batch])])
    assert "in stock" in error.fields["records"]["0"]["batch_ids"]["0"][0]


def test_an_item_listed_with_its_own_batch_is_carried_once(session):
    batch = factories.make_batch(session)
    items = [factories.make_item(session, batch) for _ in range(2)]
    stored = ship(session, items[0], batches=[batch])
    assert stored.item_count == 2


def test_failed_items_in_a_whole_batch_need_an_override(session):
    batch = factories.make_batch(session)
    factories.make_item(session, batch)
    fail_final_inspection(session, factories.make_item(session, batch))
    error = refused(logistics.record_shipments, session, SHIPPER, [shipment(batches=[batch])])
    assert "1 failed items" in error.fields["records"]["0"]["override_reason"][0]
    assert ship(session, batches=[batch], override_reason="rework on site").item_count == 2


def test_a_batch_and_one_of_its_items_cannot_go_in_two_shipments_of_one_post(session):
    batch = factories.make_batch(session)
    item = factories.make_item(session, batch)
    records = [shipment([item]), shipment(batches=[batch])]
    error = refused(logistics.record_shipments, session, SHIPPER, records)
    assert set(error.fields["records"]) == {"1"}


def test_shipping_a_large_batch_whole_is_set_based(session):
    batch = factories.make_batch(session)
    session.execute(
        Item.__table__.insert(),
        [
            {
                "product_id": batch.product_id,
                "batch_id": batch.id,
                "serial": f"BIG{n}",
                "code": f"BIG{n:017d}",
                "status": ItemStatus.produced,
                "produced_at": SHIPPED_AT,
            }
            for n in range(3000)
        ],
    )
    stored = ship(session, batches=[batch])
    assert stored.item_count == 3000
    shipped = select(Item.id).where(Item.batch_id == batch.id, Item.status == ItemStatus.shipped)
    assert len(session.scalars(shipped).all()) == 3000


# --- events and delivery -------------------------------------------------------------------


def test_events_move_the_shipment_and_delivery_confirms_it(session):
    items = [factories.make_item(session) for _ in range(2)]
    stored = ship(session, *items)
    post_event(session, stored.id, location="Hangzhou hub", latitude=30.27, longitude=120.15)
    assert stored.status is ShipmentStatus.in_transit
    delivered_at = SHIPPED_AT + dt.timedelta(days=2)
    post_event(session, stored.id, ShipmentStatus.delivered, occurred_at=delivered_at)
    assert (stored.status, stored.delivered_at) == (ShipmentStatus.delivered, delivered_at)
    assert open_flags(session, stored.id) == [False, False]
    assert statuses(session, *items) == [ItemStatus.delivered] * 2


def test_an_event_names_its_shipment_by_number_too(session):
    stored = ship(session, factories.make_item(session))
    data = event(None, shipment_number=stored.number)
    del data["shipment_id"]
    [recorded] = logistics.record_shipment_events(session, SHIPPER, [data])
    assert session.get(ShipmentEvent, recorded.id).shipment_id == stored.id


def test_events_after_delivery_are_kept_but_do_not_reopen(session):
    stored = ship(session, factories.make_item(session))
    post_event(session, stored.id, ShipmentStatus.delivered)
    post_event(session, stored.id, occurred_at=SHIPPED_AT + dt.timedelta(days=3))
    assert stored.status is ShipmentStatus.delivered


def test_a_second_delivery_is_a_conflict_until_the_first_is_voided(session):
    stored = ship(session, factories.make_item(session))
    first = post_event(session, stored.id, ShipmentStatus.delivered)
    data = event(stored.id, ShipmentStatus.delivered)
    error = refused(logistics.record_shipment_events, session, SHIPPER, [data])
    assert error.status == 409 and "status" in error.fields["records"]["0"]
    logistics.void_shipment_event(session, SHIPPER, first, "wrong parcel scanned")
    logistics.record_shipment_events(session, SHIPPER, [data])
    assert stored.status is ShipmentStatus.delivered


def test_voiding_the_delivery_reopens_the_shipment(session):
    item = factories.make_item(session)
    stored = ship(session, item)
    post_event(session, stored.id)
    delivery = post_event(session, stored.id, ShipmentStatus.delivered)
    logistics.void_shipment_event(session, QUALITY, delivery, "delivered to the wrong address")
    assert (stored.status, stored.delivered_at) == (ShipmentStatus.in_transit, None)
    assert open_flags(session, stored.id) == [True]
    assert statuses(session, item) == [ItemStatus.shipped]
    assert delivery.voided_by == "key:qe"


def test_a_shipment_whose_items_left_again_cannot_reopen(session):
    item = factories.make_item(session)
    first = ship(session, item)
    delivery = post_event(session, first.id, ShipmentStatus.delivered)
    second = ship(session, item)
    with pytest.raises(Conflict, match=second.number):
        logistics.void_shipment_event(session, SHIPPER, delivery, "scanned too early")


def test_a_shipment_whose_unit_went_into_repair_since_cannot_reopen(session):
    item = factories.make_item(session)
    stored = ship(session, item)
    delivery = post_event(session, stored.id, ShipmentStatus.delivered)
    factories.make_repair(session, item, completed_at=None, outcome=None)
    with pytest.raises(Conflict) as error:
        logistics.void_shipment_event(session, SHIPPER, delivery, "scanned too early")
    assert error.value.fields == {"items": [f"{item.code} is in repair"]}
    assert statuses(session, item) == [ItemStatus.in_repair]


def test_a_returned_shipment_gives_its_items_back(session):
    item = factories.make_item(session)
    stored = ship(session, item)
    post_event(session, stored.id, ShipmentStatus.returned)
    assert stored.status is ShipmentStatus.returned and stored.delivered_at is None
    assert open_flags(session, stored.id) == [False]
    assert statuses(session, item) == [ItemStatus.produced]


def test_a_delivered_item_can_be_shipped_again_and_is_delivered_when_that_is_voided(session):
    item = factories.make_item(session)
    first = ship(session, item)
    post_event(session, first.id, ShipmentStatus.delivered)
    again = ship(session, item)
    assert statuses(session, item) == [ItemStatus.shipped]
    logistics.void_shipment(session, SHIPPER, again, "booked twice")
    assert statuses(session, item) == [ItemStatus.delivered]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"occurred_at": SHIPPED_AT - dt.timedelta(hours=1)}, 422, "occurred_at"),
        ({"occurred_at": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)}, 422, "occurred_at"),
        ({"shipment_id": 10**9}, 404, "shipment_id"),
    ],
)
def test_bad_events_are_refused(session, change, status, field):
    stored = ship(session, factories.make_item(session))
    data = {**event(stored.id), **change}
    error = refused(logistics.record_shipment_events, session, SHIPPER, [data])
    assert error.status == status and field in error.fields["records"]["0"]
    assert factories.count(session, ShipmentEvent) == 0


def test_a_voided_shipment_takes_no_events(session):
    stored = ship(session, factories.make_item(session))
    logistics.void_shipment(session, SHIPPER, stored, "cancelled")
    error = refused(logistics.record_shipment_events, session, SHIPPER, [event(stored.id)])
    assert error.status == 409


def test_event_retries_change_nothing(session):
    stored = ship(session, factories.make_item(session))
    data = event(stored.id, ShipmentStatus.delivered)
    [first] = logistics.record_shipment_events(session, SHIPPER, [data])
    [again] = logistics.record_shipment_events(session, SHIPPER, [dict(data)])
    assert (again.id, again.created) == (first.id, False)
    error = refused(logistics.record_shipment_events, session, SHIPPER, [{**data, "note": "x"}])
    assert error.status == 409


# --- voiding and corrections ---------------------------------------------------------------


def test_voiding_a_shipment_releases_its_items(session):
    items = [factories.make_item(session) for _ in range(2)]
    stored = ship(session, *items)
    logistics.void_shipment(session, SHIPPER, stored, "booked on the wrong truck")
    assert stored.is_voided and stored.void_reason == "booked on the wrong truck"
    assert open_flags(session, stored.id) == [False, False]
    assert statuses(session, *items) == [ItemStatus.produced] * 2
    assert ship(session, *items).item_count == 2


def test_quality_may_void_any_shipment_others_only_their_own(session):
    stored = ship(session, factories.make_item(session))
    with pytest.raises(Forbidden):
        logistics.void_shipment(session, OTHER_SHIPPER, stored, "not mine")
    logistics.void_shipment(session, QUALITY, stored, "recall")
    with pytest.raises(Conflict):
        logistics.void_shipment(session, QUALITY, stored, "again")


def test_a_correction_replaces_a_shipment_and_takes_over_its_items(session):
    items = [factories.make_item(session) for _ in range(2)]
    wrong = ship(session, *items, consignee="Wrong Co.")
    [recorded] = logistics.record_shipments(
        session,
        SHIPPER,
        [shipment(items, replaces=wrong.id, void_reason="wrong consignee")],
    )
    right = session.get(Shipment, recorded.id)
    assert right.replaces_id == wrong.id and wrong.void_reason == "wrong consignee"
    assert right.item_count == 2 and open_flags(session, wrong.id) == [False, False]
    assert statuses(session, *items) == [ItemStatus.shipped] * 2


def test_a_corrected_delivery_time_moves_the_delivery(session):
    stored = ship(session, factories.make_item(session))
    wrong = post_event(session, stored.id, ShipmentStatus.delivered)
    right_time = SHIPPED_AT + dt.timedelta(days=4)
    post_event(
        session,
        stored.id,
        ShipmentStatus.delivered,
        occurred_at=right_time,
        replaces=wrong.id,
        void_reason="scanner clock was wrong",
    )
    assert (stored.status, stored.delivered_at) == (ShipmentStatus.delivered, right_time)
    assert wrong.is_voided


def test_an_event_cannot_correct_another_shipments_event(session):
    one = ship(session, factories.make_item(session))
    other = ship(session, factories.make_item(session))
    wrong = post_event(session, one.id)
    data = event(other.id, replaces=wrong.id, void_reason="moved")
    error = refused(logistics.record_shipment_events, session, SHIPPER, [data])
    assert "replaces" in error.fields["records"]["0"]
    assert not wrong.is_voided


def test_the_items_of_a_shipment_are_listed_by_page(session):
    items = [factories.make_item(session) for _ in range(3)]
    stored = ship(session, *items)
    page = logistics.list_shipment_items(session, stored, limit=2)
    assert [item.id for item in page.items] == [items[0].id, items[1].id]
    rest = logistics.list_shipment_items(session, stored, after=page.next_after)
    assert [item.id for item in rest.items] == [items[2].id] and rest.next_after is None
