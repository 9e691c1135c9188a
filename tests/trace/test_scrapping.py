"""Scrapping units: the status it sets, what it refuses, corrections, voiding, retries."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests import factories
from trace import codes
from trace.audit.models import AuditEntry
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.capture import BulkRejected
from trace.errors import Conflict, Forbidden, Invalid
from trace.logistics import services as logistics
from trace.logistics.models import ShipmentStatus
from trace.production import scrapping
from trace.production.models import Item, ItemComponent, ItemStatus, Scrap
from trace.production.status import ITEM, derive_statuses
from trace.quality import services as quality
from trace.quality.models import InspectionResult
from trace.service import services as service
from trace.service.models import PartDirection, Repair, RepairOutcome

LINE = Principal("key:line1", Role.line)
OTHER_LINE = Principal("key:line2", Role.line)
QUALITY = Principal("key:qe", Role.quality)
NOW = dt.datetime.now(dt.UTC)


def scrap(item, **overrides) -> dict:
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "occurred_at": dt.datetime.now(dt.UTC),
        "reason": "Housing cracked beyond rework",
    }
    return {**data, **overrides}


def record(session, item, principal=LINE, **overrides) -> Scrap:
    [recorded] = scrapping.record_scraps(session, principal, [scrap(item, **overrides)])
    return session.get(Scrap, recorded.id)


def refused(session, *records, principal=LINE) -> BulkRejected:
    with pytest.raises(BulkRejected) as error:
        scrapping.record_scraps(session, principal, list(records))
    return error.value


def part_installed(session) -> tuple:
    """A unit, a tracked part a repair installed in it, and that part as the repair gave it."""
    unit, part = factories.make_item(session), factories.make_item(session)
    installed = {
        "direction": PartDirection.installed,
        "part_number": "PUMP",
        "item_code": part.code,
    }
    factories.make_repair(session, unit, parts=[installed])
    return unit, part, installed


def status(session, item) -> ItemStatus:
    return session.get(Item, item.id).status


def test_a_scrapped_unit_has_the_status_and_the_record_says_when_where_and_why(session):
    station = factories.make_station(session)
    item = factories.make_item(session)
    record(session, item, station=station.code, reason="  Dropped off the conveyor  ")
    assert status(session, item) is ItemStatus.scrapped
    [row] = session.query(Scrap).all()
    assert (row.item_id, row.station_id, row.reason) == (
        item.id,
        station.id,
        "Dropped off the conveyor",
    )
    assert row.recorded_by == LINE.actor and row.occurred_at >= item.produced_at


def test_a_failed_unit_and_a_delivered_one_may_be_scrapped(session):
    failed = factories.make_item(session)
    factories.make_inspection(session, failed, result=InspectionResult.failed, is_final=True)
    assert status(session, failed) is ItemStatus.failed
    delivered = factories.make_item(session, status=ItemStatus.delivered)
    scrapping.record_scraps(session, LINE, [scrap(failed), scrap(delivered)])
    assert status(session, failed) is status(session, delivered) is ItemStatus.scrapped


def test_a_retry_changes_nothing_and_other_content_is_a_conflict(session):
    item = factories.make_item(session)
    data = scrap(item)
    [first] = scrapping.record_scraps(session, LINE, [data])
    audits = factories.count(session, AuditEntry)
    [again] = scrapping.record_scraps(session, LINE, [dict(data)])
    assert (again.id, again.created, first.created) == (first.id, False, True)
    assert factories.count(session, AuditEntry) == audits
    error = refused(session, {**data, "reason": "Something else"})
    assert isinstance(error.errors[0], Conflict)
    assert factories.count(session, Scrap) == 1


@pytest.mark.parametrize(
    ("status_now", "field_error"),
    [
        (ItemStatus.scrapped, "already scrapped"),
        (ItemStatus.shipped, "in a shipment"),
        (ItemStatus.in_repair, "in repair"),
    ],
)
def test_units_that_cannot_be_scrapped_now_are_refused_with_the_reason(
    session, status_now, field_error
):
    item = factories.make_item(session, status=status_now)
    error = refused(session, scrap(item)).errors[0]
    assert isinstance(error, Conflict)
    assert error.fields == {"item_code": [field_error]}
    assert status(session, item) is status_now
    assert factories.count(session, Scrap) == 0


def test_a_unit_in_an_open_shipment_is_refused(session):
    item = factories.make_item(session)
    factories.make_shipment(session, [item])
    assert status(session, item) is ItemStatus.shipped
    assert refused(session, scrap(item)).errors[0].fields == {"item_code": ["in a shipment"]}


def test_a_part_installed_in_another_unit_is_refused_until_a_repair_removes_it(session):
    unit, part, installed = part_installed(session)
    error = refused(session, scrap(part)).errors[0]
    assert error.fields == {"item_code": ["installed in another unit"]}
    assert unit.code in error.message
    removed = {**installed, "direction": PartDirection.removed}
    factories.make_repair(session, unit, parts=[removed])
    record(session, part)
    assert status(session, part) is ItemStatus.scrapped


def test_a_unit_scrapped_after_a_repair_found_it_not_repairable(session):
    item = factories.make_item(session, status=ItemStatus.delivered)
    technician = Principal("key:svc", Role.technician)
    factories.make_repair(session, item, outcome=RepairOutcome.not_repairable)
    record(session, item, principal=technician, reason="Not repairable: board burnt")
    assert status(session, item) is ItemStatus.scrapped


def test_a_scrapped_unit_cannot_be_shipped_or_repaired(session):
    item = factories.make_item(session)
    record(session, item)
    with pytest.raises(BulkRejected):
        factories.make_shipment(session, [item])
    with pytest.raises(BulkRejected):
        factories.make_repair(session, item)


def test_the_same_unit_twice_in_one_post_is_refused_whole(session):
    item, other = factories.make_item(session), factories.make_item(session)
    error = refused(session, scrap(other), scrap(item), scrap(item))
    assert list(error.errors) == [2]
    assert error.errors[2].fields == {"item_code": ["twice in this post"]}
    assert factories.count(session, Scrap) == 0
    assert status(session, other) is ItemStatus.produced


def test_unknown_and_malformed_codes_and_times_ahead_are_refused_by_index(session):
    item = factories.make_item(session)
    error = refused(
        session,
        scrap(item),
        scrap(item, item_code=codes.new_code()),
        scrap(item, item_code="not a code"),
        scrap(factories.make_item(session), occurred_at=NOW + dt.timedelta(hours=1)),
    )
    assert sorted(error.errors) == [1, 2, 3]
    assert error.errors[1].fields == {"item_code": ["unknown code"]}
    assert isinstance(error.errors[2], Invalid)
    assert "occurred_at" in error.errors[3].fields
    assert status(session, item) is ItemStatus.produced


def test_a_scrap_needs_a_reason(session):
    item = factories.make_item(session)
    error = refused(
        session, scrap(item, reason="   "), scrap(item, event_id=uuid.uuid4(), reason=None)
    )
    assert [e.fields for e in error.errors.values()] == [{"reason": ["required"]}] * 2


def test_a_bound_key_names_its_own_station(session):
    line = factories.make_line(session)
    own, other = factories.make_station(session, line), factories.make_station(session)
    bound = Principal("key:st", Role.line, line.id, own.id)
    item = factories.make_item(session)
    assert refused(session, scrap(item), principal=bound).errors[0].fields == {
        "station": ["required for this key"]
    }
    error = refused(session, scrap(item, station=other.code), principal=bound).errors[0]
    assert isinstance(error, Forbidden)
    record(session, item, principal=bound, station=own.code)
    assert status(session, item) is ItemStatus.scrapped


def test_voiding_gives_the_unit_back_the_status_its_records_give(session):
    item = factories.make_item(session)
    factories.make_inspection(session, item, result=InspectionResult.failed, is_final=True)
    scrapped = record(session, item)
    scrapping.void_scrap(session, LINE, scrapped, "Wrong unit taken off the line")
    assert status(session, item) is ItemStatus.failed
    assert scrapped.is_voided and scrapped.voided_by == LINE.actor
    delivered = factories.make_item(session)
    shipment = factories.make_shipment(session, [delivered])
    factories.make_shipment_event(session, shipment, status=ShipmentStatus.delivered)
    assert status(session, delivered) is ItemStatus.delivered
    other = record(session, delivered)
    scrapping.void_scrap(session, QUALITY, other, "Scanned the wrong label")
    assert status(session, delivered) is ItemStatus.delivered


def test_voiding_is_for_the_poster_or_quality_and_only_once(session):
    scrapped = record(session, factories.make_item(session))
    with pytest.raises(Forbidden):
        scrapping.void_scrap(session, OTHER_LINE, scrapped, "not mine")
    scrapping.void_scrap(session, QUALITY, scrapped, "duplicate")
    with pytest.raises(Conflict):
        scrapping.void_scrap(session, LINE, scrapped, "again")
    with pytest.raises(Invalid):
        scrapping.void_scrap(session, QUALITY, record(session, scrapped.item), "  ")


def test_a_correction_replaces_a_scrap_of_the_same_unit_which_stays_scrapped(session):
    item = factories.make_item(session)
    first = record(session, item, reason="Cracked")
    second = record(
        session, item, replaces=first.id, void_reason="Wrong reason", reason="Dented beyond repair"
    )
    assert second.replaces_id == first.id and first.is_voided
    assert status(session, item) is ItemStatus.scrapped
    scrapping.void_scrap(session, LINE, second, "Not scrapped after all")
    assert status(session, item) is ItemStatus.produced


def test_a_correction_may_not_move_a_scrap_to_another_unit(session):
    item, other = factories.make_item(session), factories.make_item(session)
    first = record(session, item)
    error = refused(session, scrap(other, replaces=first.id, void_reason="wrong unit"))
    assert error.errors[0].fields == {"replaces": ["a scrap of another unit"]}
    assert not session.get(Scrap, first.id).is_voided
    assert status(session, other) is ItemStatus.produced


def test_a_correction_of_a_voided_scrap_must_find_the_unit_scrappable(session):
    item = factories.make_item(session)
    first = record(session, item)
    scrapping.void_scrap(session, LINE, first, "Not scrapped after all")
    factories.make_shipment(session, [item])
    error = refused(session, scrap(item, replaces=first.id)).errors[0]
    assert error.fields == {"item_code": ["in a shipment"]}


def test_voiding_a_failed_final_inspection_leaves_a_scrapped_unit_scrapped(session):
    item = factories.make_item(session)
    failed = factories.make_inspection(session, item, result=InspectionResult.failed, is_final=True)
    record(session, item)
    quality.void_inspection(session, QUALITY, failed, "wrong unit tested")
    assert status(session, item) is ItemStatus.scrapped


def test_a_delivery_of_a_since_scrapped_unit_cannot_be_undone(session):
    item = factories.make_item(session)
    shipment = factories.make_shipment(session, [item])
    delivered = factories.make_shipment_event(session, shipment, status=ShipmentStatus.delivered)
    record(session, item)
    with pytest.raises(Conflict) as error:
        logistics.void_shipment_event(session, QUALITY, delivered, "not delivered after all")
    assert error.value.fields == {"items": [f"{item.code} is scrapped"]}


def test_a_repair_whose_removed_part_was_scrapped_since_cannot_be_undone(session):
    unit, part, installed = part_installed(session)
    removal = factories.make_repair(
        session, unit, parts=[{**installed, "direction": PartDirection.removed}]
    )
    record(session, part)
    with pytest.raises(Conflict) as error:
        service.void_repair(session, QUALITY, removal, "wrong unit")
    assert error.value.fields == {"repair": ["a removed part was scrapped since"]}
    assert status(session, part) is ItemStatus.scrapped


def test_a_unit_cannot_be_scrapped_before_it_was_made(session):
    item = factories.make_item(session)
    early = refused(session, scrap(item, occurred_at=item.produced_at - dt.timedelta(minutes=1)))
    assert early.errors[0].fields == {"occurred_at": ["before produced_at"]}


def test_a_correction_without_a_void_reason_names_that_field(session):
    first = record(session, factories.make_item(session))
    error = refused(session, scrap(first.item, replaces=first.id)).errors[0]
    assert error.fields == {"void_reason": ["required"]}


def test_a_status_derived_from_the_records_counts_a_live_scrap_first(session):
    item = factories.make_item(session)
    shipment = factories.make_shipment(session, [item])
    factories.make_shipment_event(session, shipment, status=ShipmentStatus.delivered)
    record(session, item, principal=QUALITY)
    derive_statuses(session, ITEM.c.id == item.id, unscrap=True)
    assert status(session, item) is ItemStatus.scrapped


def test_the_repair_that_found_a_unit_not_repairable_can_still_be_corrected(session):
    item = factories.make_item(session)
    technician = Principal("key:svc", Role.technician)
    found = factories.make_repair(session, item, outcome=RepairOutcome.not_repairable)
    record(session, item, principal=technician)
    correction = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "technician": "Li Wei",
        "received_at": found.received_at,
        "completed_at": found.completed_at,
        "symptom": "Does not heat",
        "diagnosis": "Board burnt (typo fixed)",
        "outcome": RepairOutcome.not_repairable,
        "replaces": found.id,
        "void_reason": "typo in the diagnosis",
    }
    [fixed] = service.record_repairs(session, QUALITY, [correction])
    assert fixed.created and session.get(type(found), found.id).is_voided
    assert status(session, item) is ItemStatus.scrapped
    reopened = {**correction, "event_id": uuid.uuid4(), "replaces": fixed.id, "completed_at": None}
    reopened["outcome"] = None
    with pytest.raises(BulkRejected) as error:
        service.record_repairs(session, QUALITY, [reopened])
    assert error.value.errors[0].fields == {"item_code": ["scrapped"]}


def _correction(repair, **changes) -> dict:
    return {
        "event_id": uuid.uuid4(),
        "item_code": repair.item.code,
        "technician": "Li Wei",
        "received_at": repair.received_at,
        "completed_at": repair.completed_at,
        "symptom": "Does not heat",
        "outcome": repair.outcome,
        "replaces": repair.id,
        "void_reason": "typo",
        **changes,
    }


def _refused_repair(session, data) -> dict:
    with pytest.raises(BulkRejected) as error:
        service.record_repairs(session, QUALITY, [data])
    return error.value.errors[0].fields


def test_a_scrapped_unit_takes_no_repair_dressed_as_a_correction(session):
    item, other = factories.make_item(session), factories.make_item(session)
    elsewhere = factories.make_repair(session, other)
    voided = factories.make_repair(session, item)
    service.void_repair(session, QUALITY, voided, "wrong unit")
    record(session, item)
    # A correction of another unit's repair, or of one voided already, is a new repair.
    for data in (
        _correction(elsewhere, item_code=item.code),
        _correction(voided, item_code=item.code),
    ):
        assert _refused_repair(session, data) == {"item_code": ["scrapped"]}
    assert status(session, other) is ItemStatus.produced
    assert not session.get(Repair, elsewhere.id).is_voided


def test_a_correction_on_a_scrapped_unit_keeps_its_parts_as_they_were(session):
    unit, part, installed = part_installed(session)
    repair = session.scalars(select(Repair).where(Repair.item_id == unit.id)).one()
    record(session, unit)
    spare = factories.make_item(session)
    other_part = {**installed, "item_code": spare.code}
    assert _refused_repair(session, _correction(repair, parts=[other_part])) == {
        "item_code": ["scrapped"]
    }
    assert _refused_repair(session, _correction(repair, parts=[])) == {"item_code": ["scrapped"]}
    [fixed] = service.record_repairs(session, QUALITY, [_correction(repair, parts=[installed])])
    assert fixed.created and status(session, unit) is ItemStatus.scrapped
    # The part that went with the unit is still inside it, and still scrapped with it.
    assert status(session, part) is ItemStatus.scrapped
    assert inside(session, unit) == [part.id]
    assert refused(session, scrap(part)).errors[0].fields == {"item_code": ["already scrapped"]}


# --- the tracked parts inside a scrapped unit ---------------------------------------------------


def inside(session, unit) -> list[int]:
    """The tracked parts inside `unit` now, by item id."""
    links = select(ItemComponent.component_item_id).where(
        ItemComponent.item_id == unit.id, ItemComponent.removed_at.is_(None)
    )
    return sorted(session.scalars(links))


def live_scrap(session, item) -> Scrap | None:
    query = select(Scrap).where(Scrap.item_id == item.id, Scrap.voided_at.is_(None))
    return session.scalars(query).one_or_none()


def installed_in(session, unit, part) -> dict:
    part_row = {"direction": PartDirection.installed, "part_number": "P", "item_code": part.code}
    factories.make_repair(session, unit, parts=[part_row])
    return part_row


def test_tracked_parts_left_inside_go_with_the_unit_down_the_tree(session):
    unit, pump, motor, heater = (factories.make_item(session) for _ in range(4))
    installed_in(session, pump, motor)  # the motor is inside the pump
    installed_in(session, unit, pump)
    installed_in(session, unit, heater)
    unit_scrap = record(session, unit, reason="Flood damage")
    assert {status(session, i) for i in (unit, pump, motor, heater)} == {ItemStatus.scrapped}
    pump_scrap, motor_scrap = live_scrap(session, pump), live_scrap(session, motor)
    assert (
        pump_scrap.inside_scrap_id == unit_scrap.id == live_scrap(session, heater).inside_scrap_id
    )
    assert motor_scrap.inside_scrap_id == pump_scrap.id
    assert (pump_scrap.reason, pump_scrap.occurred_at) == ("Flood damage", unit_scrap.occurred_at)
    assert pump_scrap.recorded_by == LINE.actor
    # The genealogy stays as it was: the parts are still inside, scrapped there.
    assert inside(session, unit) == sorted([pump.id, heater.id])
    assert [p.item_id for p in unit_scrap.parts_scrapped] == sorted([pump.id, heater.id])


def test_a_retried_scrap_scraps_no_part_twice(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)
    data = scrap(unit)
    scrapping.record_scraps(session, LINE, [data])
    before = factories.count(session, Scrap), factories.count(session, AuditEntry)
    [again] = scrapping.record_scraps(session, LINE, [dict(data)])
    assert not again.created
    assert (factories.count(session, Scrap), factories.count(session, AuditEntry)) == before


def test_salvaged_parts_come_out_and_keep_their_status(session):
    unit, pump, heater = (factories.make_item(session) for _ in range(3))
    installed_in(session, unit, pump)
    installed_in(session, unit, heater)
    unit_scrap = record(session, unit, salvaged=[pump.code.lower()])  # as a reader typed it
    assert status(session, pump) is ItemStatus.produced and live_scrap(session, pump) is None
    assert status(session, heater) is ItemStatus.scrapped
    assert inside(session, unit) == [heater.id]
    [link] = unit_scrap.salvaged
    assert (link.component_item_id, link.removed_by_scrap_id) == (pump.id, unit_scrap.id)
    assert link.removed_at == unit_scrap.occurred_at
    # Free again: a repair may put the salvaged pump into another unit.
    other = factories.make_item(session)
    installed_in(session, other, pump)
    assert inside(session, other) == [pump.id]


def test_only_a_part_inside_the_unit_can_be_salvaged_and_once(session):
    unit, pump, elsewhere, loose = (factories.make_item(session) for _ in range(4))
    installed_in(session, unit, pump)
    installed_in(session, factories.make_item(session), elsewhere)
    for salvaged, error in [
        ([elsewhere.code], {"salvaged": [f"{elsewhere.code}: not inside this unit"]}),
        ([loose.code], {"salvaged": [f"{loose.code}: not inside this unit"]}),
        ([pump.code, pump.code], {"salvaged": [f"{pump.code}: named twice"]}),
        (["NOT-A-CODE"], {"salvaged": ["NOT-A-CODE: A code has 17 characters; this one has 8."]}),
    ]:
        before = factories.count(session, Scrap)
        assert refused(session, scrap(unit, salvaged=salvaged)).errors[0].fields == error
        assert factories.count(session, Scrap) == before
        assert status(session, unit) is status(session, pump) is ItemStatus.produced
        assert inside(session, unit) == [pump.id]


def test_a_part_that_went_with_a_unit_is_voided_and_corrected_only_with_it(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)
    unit_scrap = record(session, unit)
    pump_scrap = live_scrap(session, pump)
    with pytest.raises(Conflict) as error:
        scrapping.void_scrap(session, QUALITY, pump_scrap, "wrong")
    assert error.value.fields == {"scrap_id": [f"part of scrap {unit_scrap.id}"]}
    correction = scrap(pump, replaces=pump_scrap.id, void_reason="wrong")
    assert refused(session, correction, principal=QUALITY).errors[0].fields == {
        "replaces": [f"part of scrap {unit_scrap.id}"]
    }
    assert live_scrap(session, pump) == pump_scrap


def test_voiding_the_unit_scrap_frees_its_parts_and_puts_salvaged_ones_back(session):
    unit, pump, motor, heater = (factories.make_item(session) for _ in range(4))
    installed_in(session, pump, motor)
    installed_in(session, unit, pump)
    installed_in(session, unit, heater)
    unit_scrap = record(session, unit, salvaged=[heater.code])
    scrapping.void_scrap(session, QUALITY, unit_scrap, "scrapped the wrong unit")
    assert {status(session, i) for i in (unit, pump, motor, heater)} == {ItemStatus.produced}
    assert inside(session, unit) == sorted([pump.id, heater.id])
    assert inside(session, pump) == [motor.id]
    voided = session.scalars(select(Scrap).where(Scrap.inside_scrap_id.is_not(None))).all()
    assert len(voided) == 2 and all(s.is_voided for s in voided)
    assert {s.void_reason for s in voided} == {
        f"with scrap {unit_scrap.id}: scrapped the wrong unit"
    }
    # Scrapped again later: the parts go with it again.
    record(session, unit)
    assert status(session, motor) is ItemStatus.scrapped


def test_a_salvaged_part_used_since_keeps_its_scrap_from_being_undone(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)
    unit_scrap = record(session, unit, salvaged=[pump.code])
    installed_in(session, factories.make_item(session), pump)
    with pytest.raises(Conflict) as error:
        scrapping.void_scrap(session, QUALITY, unit_scrap, "oops")
    assert error.value.fields == {"scrap_id": [f"salvaged part {pump.code}: inside another unit"]}
    correction = scrap(unit, replaces=unit_scrap.id, void_reason="oops")
    assert refused(session, correction, principal=QUALITY).errors[0].fields == {
        "replaces": [f"salvaged part {pump.code}: inside another unit"]
    }
    assert not session.get(Scrap, unit_scrap.id).is_voided
    assert status(session, unit) is ItemStatus.scrapped


def test_a_salvaged_part_used_and_taken_out_again_keeps_the_scrap_too(session):
    unit, pump, dryer = (factories.make_item(session) for _ in range(3))
    part_row = installed_in(session, unit, pump)
    unit_scrap = record(session, unit, salvaged=[pump.code])
    installed_in(session, dryer, pump)
    factories.make_repair(session, dryer, parts=[{**part_row, "direction": PartDirection.removed}])
    assert status(session, pump) is ItemStatus.produced and not inside(session, dryer)
    with pytest.raises(Conflict) as error:
        scrapping.void_scrap(session, QUALITY, unit_scrap, "oops")
    assert error.value.fields == {"scrap_id": [f"salvaged part {pump.code}: fitted again since"]}
    assert not session.get(Scrap, unit_scrap.id).is_voided and inside(session, unit) == []


def test_a_unit_is_scrapped_after_its_repairs(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)  # now
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    error = refused(session, scrap(unit, occurred_at=earlier))
    assert error.fields["records"]["0"] == {"occurred_at": ["before a repair of this unit"]}
    assert status(session, pump) is ItemStatus.produced


def test_a_correction_salvaging_the_same_parts_leaves_a_reused_one_where_it_is(session):
    unit, pump, dryer = (factories.make_item(session) for _ in range(3))
    installed_in(session, unit, pump)
    unit_scrap = record(session, unit, salvaged=[pump.code], reason="Housing crakced")
    installed_in(session, dryer, pump)  # the salvaged pump, used again
    fixed = record(
        session,
        unit,
        salvaged=[pump.code],
        reason="Housing cracked",
        occurred_at=unit_scrap.occurred_at,
        replaces=unit_scrap.id,
        void_reason="typo",
    )
    session.refresh(unit_scrap)
    assert unit_scrap.is_voided and fixed.reason == "Housing cracked"
    assert [link.component_item_id for link in fixed.salvaged] == [pump.id]
    assert inside(session, dryer) == [pump.id] and inside(session, unit) == []
    assert status(session, unit) is ItemStatus.scrapped
    assert status(session, pump) is ItemStatus.produced


def test_nor_does_it_move_the_salvage_past_the_parts_next_unit(session):
    unit, pump, dryer = (factories.make_item(session) for _ in range(3))
    installed_in(session, unit, pump)
    unit_scrap = record(session, unit, salvaged=[pump.code])
    installed_in(session, dryer, pump)
    too_late = dt.datetime.now(dt.UTC)
    correction = scrap(
        unit, salvaged=[pump.code], occurred_at=too_late, replaces=unit_scrap.id, void_reason="x"
    )
    error = refused(session, correction)
    assert error.fields["records"]["0"] == {"occurred_at": [f"after {pump.code} was fitted again"]}


def test_a_correction_may_change_what_was_salvaged(session):
    unit, pump, heater = (factories.make_item(session) for _ in range(3))
    installed_in(session, unit, pump)
    installed_in(session, unit, heater)
    first = record(session, unit, salvaged=[pump.code])
    correction = scrap(
        unit, replaces=first.id, void_reason="it was the heater", salvaged=[heater.code]
    )
    [fixed] = scrapping.record_scraps(session, QUALITY, [correction])
    assert status(session, unit) is status(session, pump) is ItemStatus.scrapped
    assert status(session, heater) is ItemStatus.produced
    assert inside(session, unit) == [pump.id]
    assert live_scrap(session, pump).inside_scrap_id == fixed.id


def test_a_part_in_repair_of_its_own_keeps_its_unit_from_being_scrapped(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)
    session.get(Item, pump.id).status = ItemStatus.in_repair  # as an odd legacy import left it
    session.flush()
    assert refused(session, scrap(unit)).errors[0].fields == {
        "item_code": [f"part {pump.code} inside: in repair"]
    }
    assert status(session, unit) is ItemStatus.produced and live_scrap(session, pump) is None


def test_a_repair_that_installed_a_part_gone_with_the_unit_or_salvaged_stays(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)
    repair = session.scalars(select(Repair).where(Repair.item_id == unit.id)).one()
    unit_scrap = record(session, unit)
    with pytest.raises(Conflict) as error:
        service.void_repair(session, QUALITY, repair, "wrong unit")
    assert error.value.fields == {"repair": ["an installed part was scrapped since"]}
    scrapping.void_scrap(session, QUALITY, unit_scrap, "not scrapped after all")
    salvaging = record(session, unit, salvaged=[pump.code])
    with pytest.raises(Conflict) as error:
        service.void_repair(session, QUALITY, repair, "wrong unit")
    assert error.value.fields == {"repair": [f"scrap {salvaging.id} depends on it"]}


def test_a_void_without_a_reason_says_so_before_anything_else(session):
    unit, pump = factories.make_item(session), factories.make_item(session)
    installed_in(session, unit, pump)
    unit_scrap = record(session, unit, salvaged=[pump.code])
    installed_in(session, factories.make_item(session), pump)  # the pump cannot go back
    with pytest.raises(Invalid) as error:
        scrapping.void_scrap(session, QUALITY, unit_scrap, "  ")
    assert error.value.fields == {"reason": ["required"]}
    correction = scrap(unit, replaces=unit_scrap.id)
    assert refused(session, correction, principal=QUALITY).errors[0].fields == {
        "void_reason": ["required"]
    }
