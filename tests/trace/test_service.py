"""Recording repairs: warranty, parts and genealogy, the unit's status, voiding, corrections."""

import datetime as dt
import json
import uuid
from itertools import pairwise

import pytest
from sqlalchemy import select

from tests import factories
from trace.audit.models import AuditEntry
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.capture import BulkRejected
from trace.errors import Conflict, Forbidden
from trace.logistics.models import ShipmentStatus
from trace.production.models import Item, ItemComponent, ItemStatus
from trace.quality.models import InspectionResult
from trace.service import services as service
from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart

TECHNICIAN = Principal("key:svc1", Role.technician)
OTHER_TECHNICIAN = Principal("key:svc2", Role.technician)
QUALITY = Principal("key:qe", Role.quality)
UTC = dt.UTC
PRODUCED = dt.datetime(2023, 6, 1, 8, tzinfo=UTC)
NOW = dt.datetime.now(UTC)


def repair(item, **overrides) -> dict:
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "technician": "Li Wei",
        "received_at": NOW - dt.timedelta(days=2),
        "completed_at": NOW - dt.timedelta(days=1),
        "symptom": "Does not heat",
        "diagnosis": "Heating element open circuit",
        "action": "Replaced heating element",
        "outcome": RepairOutcome.repaired,
    }
    return {**data, **overrides}


def record(session, item, principal=TECHNICIAN, **overrides) -> Repair:
    [recorded] = service.record_repairs(session, principal, [repair(item, **overrides)])
    return session.get(Repair, recorded.id)


def refused(session, *records) -> BulkRejected:
    with pytest.raises(BulkRejected) as error:
        service.record_repairs(session, TECHNICIAN, list(records))
    return error.value


def status(session, item) -> ItemStatus:
    return session.get(Item, item.id).status


def old_item(session, months=24, **overrides):
    product = factories.make_product(session, warranty_months=months)
    batch = factories.make_batch(session, product)
    return factories.make_item(session, batch, produced_at=PRODUCED, **overrides)


def deliver(session, item, at: dt.datetime):
    shipment = factories.make_shipment(session, [item], shipped_at=at - dt.timedelta(days=2))
    factories.make_shipment_event(
        session, shipment, status=ShipmentStatus.delivered, occurred_at=at
    )
    return shipment


def installed(part_number, **part) -> dict:
    return {"direction": PartDirection.installed, "part_number": part_number, **part}


def removed(part_number, **part) -> dict:
    return {"direction": PartDirection.removed, "part_number": part_number, **part}


def components(session, item) -> list[ItemComponent]:
    query = select(ItemComponent).where(ItemComponent.item_id == item.id).order_by(ItemComponent.id)
    return list(session.scalars(query))


def links_of(session, part) -> list[tuple]:
    """Where the tracked `part` has been: (unit id, in, out), in time order (a stay that
    ends where it began before one that begins then)."""
    query = select(ItemComponent).where(ItemComponent.component_item_id == part.id)
    stays = [(link.item_id, link.installed_at, link.removed_at) for link in session.scalars(query)]
    return sorted(stays, key=lambda stay: (stay[1], stay[2] is None, stay[2] or stay[1]))


def in_order(links: list[tuple]) -> bool:
    """Each stay ends after it began, and before the next one begins."""
    ends_after_start = all(out is None or out >= into for _, into, out in links)
    return ends_after_start and all(
        before[2] is not None and before[2] <= after[1] for before, after in pairwise(links)
    )


def refused_in_order(session, *records) -> Conflict:
    with pytest.raises(Conflict) as error:
        service.record_repairs(session, TECHNICIAN, list(records))
    return error.value


def hours_ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def when(received: float, completed: float | None = None) -> dict:
    """A repair received `received` hours ago and completed `completed` hours ago (then
    too, if not given)."""
    done = received if completed is None else completed
    return {"received_at": hours_ago(received), "completed_at": hours_ago(done)}


def correcting(old: Repair, why: str = "typo") -> dict:
    return {"replaces": old.id, "void_reason": why}


def fit_and_take_out(part) -> tuple[list[dict], list[dict]]:
    """The parts of a repair fitting the tracked `part`, and of one taking it out."""
    return [installed("PUMP-2", item_code=part.code)], [removed("PUMP-2", item_code=part.code)]


# --- recording -----------------------------------------------------------------------------


def test_a_completed_repair_is_stored_with_its_parts_and_leaves_the_status(session):
    item = old_item(session)
    deliver(session, item, dt.datetime(2026, 1, 10, tzinfo=UTC))
    parts = [removed("HEAT-ELEM-2200", serial="HE-1"), installed("HEAT-ELEM-2200", lot="L77")]
    stored = record(session, item, parts=parts)
    assert (stored.item_id, stored.outcome, stored.recorded_by) == (
        item.id,
        RepairOutcome.repaired,
        "key:svc1",
    )
    assert [(p.direction, p.serial, p.lot) for p in stored.parts] == [
        (PartDirection.removed, "HE-1", None),
        (PartDirection.installed, None, "L77"),
    ]
    assert status(session, item) is ItemStatus.delivered


def test_the_same_event_id_and_content_is_a_retry_that_changes_nothing(session):
    data = repair(old_item(session), parts=[installed("FUSE-10A", lot="F1")])
    [first] = service.record_repairs(session, TECHNICIAN, [data])
    before = [factories.count(session, m) for m in (Repair, RepairPart, ItemComponent, AuditEntry)]
    [again] = service.record_repairs(session, TECHNICIAN, [dict(data)])
    assert (again.id, again.created) == (first.id, False)
    after = [factories.count(session, m) for m in (Repair, RepairPart, ItemComponent, AuditEntry)]
    assert after == before


def test_the_same_event_id_with_other_content_is_a_conflict(session):
    data = repair(old_item(session))
    service.record_repairs(session, TECHNICIAN, [data])
    error = refused(session, {**data, "symptom": "Leaks"})
    assert error.status == 409 and "event_id" in error.fields["records"]["0"]


def test_a_bulk_post_is_all_or_nothing_and_names_every_bad_record(session):
    item = old_item(session)
    records = [
        repair(item),
        repair(item, item_code="not-a-code"),
        repair(item, completed_at=NOW - dt.timedelta(days=3)),
        repair(item, received_at=NOW + dt.timedelta(hours=1), completed_at=None),
    ]
    error = refused(session, *records)
    problems = error.fields["records"]
    assert set(problems) == {"1", "2", "3"}
    assert "item_code" in problems["1"]
    assert problems["2"] == {"completed_at": ["before received_at"]}
    assert "received_at" in problems["3"]
    assert factories.count(session, Repair) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"received_at": PRODUCED - dt.timedelta(days=1)}, "received_at"),
        ({"outcome": RepairOutcome.pending}, "outcome"),
        ({"outcome": None}, "outcome"),
        ({"completed_at": None, "outcome": RepairOutcome.repaired}, "completed_at"),
    ],
)
def test_inconsistent_repairs_are_refused(session, change, field):
    error = refused(session, repair(old_item(session), **change))
    assert error.status == 422 and field in error.fields["records"]["0"]


def test_a_scrapped_item_gets_no_repairs(session):
    error = refused(session, repair(old_item(session, status=ItemStatus.scrapped)))
    assert error.status == 409


# --- the unit's status ---------------------------------------------------------------------


def test_an_open_repair_takes_the_unit_in_and_its_completion_gives_it_back(session):
    item = old_item(session)
    deliver(session, item, dt.datetime(2026, 1, 10, tzinfo=UTC))
    opened = record(session, item, completed_at=None, outcome=None, action=None)
    assert (opened.outcome, status(session, item)) == (RepairOutcome.pending, ItemStatus.in_repair)
    done = record(session, item, **correcting(opened, "completed"))
    assert done.replaces_id == opened.id and opened.is_voided
    assert status(session, item) is ItemStatus.delivered


def test_voiding_an_open_repair_gives_the_unit_back(session):
    item = old_item(session)
    factories.make_inspection(session, item, result=InspectionResult.failed, is_final=True)
    opened = record(session, item, completed_at=None, outcome=None)
    assert status(session, item) is ItemStatus.in_repair
    service.void_repair(session, TECHNICIAN, opened, "posted for the wrong unit")
    assert status(session, item) is ItemStatus.failed


def test_a_unit_has_one_open_repair_at_a_time(session):
    item = old_item(session)
    record(session, item, completed_at=None, outcome=None)
    error = refused(session, repair(item, completed_at=None, outcome=None))
    assert error.status == 409 and "item_code" in error.fields["records"]["0"]


def test_a_unit_in_an_open_shipment_cannot_be_taken_in(session):
    item = old_item(session)
    shipment = factories.make_shipment(session, [item])
    error = refused(session, repair(item, completed_at=None, outcome=None))
    assert shipment.number in error.fields["records"]["0"]["item_code"][0]


# --- warranty ------------------------------------------------------------------------------


def test_warranty_runs_from_delivery_when_the_unit_was_delivered(session):
    item = old_item(session, months=24)  # produced 2023-06: out of warranty if counted from then
    deliver(session, item, dt.datetime(2025, 1, 10, tzinfo=UTC))
    assert record(session, item).under_warranty is True


def test_warranty_runs_from_production_when_the_unit_was_never_delivered(session):
    item = old_item(session, months=24)
    assert record(session, item).under_warranty is False
    recent = old_item(session, months=60)
    assert record(session, recent).under_warranty is True


def test_a_product_without_warranty_months_has_no_warranty(session):
    product = factories.make_product(session, warranty_months=0)
    item = factories.make_item(session, factories.make_batch(session, product))
    at = item.produced_at
    assert record(session, item, received_at=at, completed_at=at).under_warranty is False


@pytest.mark.parametrize(
    ("start", "months", "received", "expected"),
    [
        (dt.datetime(2024, 1, 31, tzinfo=UTC), 1, dt.datetime(2024, 2, 29, tzinfo=UTC), True),
        (dt.datetime(2024, 1, 31, tzinfo=UTC), 1, dt.datetime(2024, 3, 1, tzinfo=UTC), False),
        (dt.datetime(2023, 11, 15, tzinfo=UTC), 3, dt.datetime(2024, 2, 15, tzinfo=UTC), True),
        (dt.datetime(2023, 11, 15, tzinfo=UTC), 3, dt.datetime(2024, 2, 16, tzinfo=UTC), False),
        (dt.datetime(2023, 5, 1, tzinfo=UTC), 0, dt.datetime(2023, 5, 1, tzinfo=UTC), False),
    ],
)
def test_warranty_counts_calendar_months(start, months, received, expected):
    assert service.under_warranty(months, start, received) is expected


def test_overriding_the_warranty_needs_a_reason(session):
    item = old_item(session)
    error = refused(session, repair(item, under_warranty=True))
    assert error.status == 422
    assert "computed value is False" in error.fields["records"]["0"]["warranty_override_reason"][0]


def test_an_override_is_stored_and_audited_with_the_computed_value(session):
    item = old_item(session)
    reason = "goodwill: first failure after 25 months"
    stored = record(session, item, under_warranty=True, warranty_override_reason=reason)
    assert (stored.under_warranty, stored.warranty_override_reason) == (True, reason)
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "repair.warranty_override")
    )
    data = json.loads(entry.data)
    assert (entry.entity_id, data["computed"], data["under_warranty"]) == (
        str(stored.id),
        False,
        True,
    )


def test_confirming_the_computed_warranty_needs_no_reason(session):
    assert record(session, old_item(session), under_warranty=False).under_warranty is False


# --- parts and genealogy -------------------------------------------------------------------


def test_installing_a_tracked_part_records_it_inside_the_unit(session):
    unit, part = old_item(session), factories.make_item(session, serial="PUMP-77")
    stored = record(session, unit, parts=[installed("PUMP-2", item_code=part.code)])
    assert stored.parts[0].component_item_id == part.id
    assert stored.parts[0].serial == "PUMP-77"
    [component] = components(session, unit)
    assert (component.component_item_id, component.serial, component.removed_at) == (
        part.id,
        "PUMP-77",
        None,
    )
    assert component.installed_at == stored.completed_at
    assert component.installed_by_repair_id == stored.id


def test_removing_a_part_closes_its_component(session):
    unit, part = old_item(session), factories.make_item(session)
    record(session, unit, parts=[installed("PUMP-2", item_code=part.code)])
    later = record(session, unit, parts=[removed("PUMP-2", item_code=part.code)])
    [component] = components(session, unit)
    assert component.removed_at == later.completed_at
    assert component.removed_by_repair_id == later.id


def test_untracked_parts_are_matched_by_part_number_and_serial(session):
    unit = old_item(session)
    record(session, unit, parts=[installed("HEAT-ELEM-2200", serial="HE-9")])
    record(session, unit, parts=[removed("HEAT-ELEM-2200", serial="HE-9")])
    [component] = components(session, unit)
    assert component.removed_at is not None and component.component_item_id is None


def test_a_part_installed_elsewhere_must_be_removed_there_first(session):
    part = factories.make_item(session)
    record(session, old_item(session), parts=[installed("PUMP-2", item_code=part.code)])
    error = refused(
        session, repair(old_item(session), parts=[installed("PUMP-2", item_code=part.code)])
    )
    assert error.status == 409
    assert "item_code" in error.fields["records"]["0"]["parts"]["0"]


def test_a_unit_cannot_take_in_a_part_it_is_itself_inside(session):
    # A pump installed in a kettle, the kettle's controller installed in the pump: the
    # kettle cannot then go into the controller, directly or through the pump.
    kettle, pump, controller = old_item(session), old_item(session), old_item(session)
    record(session, kettle, parts=[installed("PUMP-2", item_code=pump.code)])
    record(session, pump, parts=[installed("CTRL-1", item_code=controller.code)])
    for host in (pump, kettle):
        error = refused(session, repair(controller, parts=[installed("X", item_code=host.code)]))
        assert error.status == 409
        assert "contains the repaired unit" in str(error.fields["records"]["0"]["parts"]["0"])
    # Once the pump is out of the kettle, the kettle holds nothing the controller is in.
    record(session, kettle, parts=[removed("PUMP-2", item_code=pump.code)])
    assert record(session, controller, parts=[installed("X", item_code=kettle.code)]).id


def test_one_post_cannot_put_two_units_inside_each_other(session):
    kettle, pump, controller = old_item(session), old_item(session), old_item(session)
    loops = [
        [(kettle, pump), (pump, kettle)],
        [(kettle, pump), (pump, controller), (controller, kettle)],
    ]
    for loop in loops:
        posted = [repair(host, parts=[installed("X", item_code=part.code)]) for host, part in loop]
        error = refused(session, *posted)
        assert error.status == 409
        last = str(len(loop) - 1)
        assert error.fields["records"][last]["parts"]["0"] == {
            "item_code": ["contains the repaired unit"]
        }
        assert factories.count(session, ItemComponent) == 0
    # A part taken out earlier in the post no longer holds what it held.
    record(session, kettle, parts=[installed("PUMP-2", item_code=pump.code)])
    out_and_in = [
        repair(kettle, parts=[removed("PUMP-2", item_code=pump.code)]),
        repair(pump, parts=[installed("K", item_code=kettle.code)]),
    ]
    assert all(r.created for r in service.record_repairs(session, TECHNICIAN, out_and_in))


def test_a_part_inside_a_unit_is_not_taken_in_on_its_own(session):
    kettle, pump = old_item(session), old_item(session)
    record(session, kettle, parts=[installed("PUMP-2", item_code=pump.code)])
    error = refused(session, repair(pump, completed_at=None, outcome=None))
    assert error.status == 409
    assert error.fields["records"]["0"] == {"item_code": [f"inside unit {kettle.code}"]}
    assert status(session, pump) is ItemStatus.produced
    # Taken out first, it may be.
    record(session, kettle, parts=[removed("PUMP-2", item_code=pump.code)])
    record(session, pump, completed_at=None, outcome=None)
    assert status(session, pump) is ItemStatus.in_repair


def test_voiding_a_removal_cannot_close_a_loop(session):
    # The pump comes out of the kettle, the kettle goes into the pump: voiding the removal
    # would put the pump back inside the kettle that is inside it.
    kettle, pump = old_item(session), old_item(session)
    record(session, kettle, parts=[installed("PUMP-2", item_code=pump.code)])
    removal = record(session, kettle, parts=[removed("PUMP-2", item_code=pump.code)])
    record(session, pump, parts=[installed("K", item_code=kettle.code)])
    with pytest.raises(Conflict) as error:
        service.void_repair(session, TECHNICIAN, removal, "entered on the wrong unit")
    assert "inside a part it removed" in str(error.value.fields)


def test_bad_parts_are_named_by_index(session):
    unit, part = old_item(session), factories.make_item(session, serial="PUMP-1")
    parts = [
        installed("FUSE-10A", lot="F1"),
        installed("PUMP-2", item_code=part.code, serial="PUMP-2"),
        installed("PUMP-2", item_code=unit.code),
    ]
    error = refused(session, repair(unit, parts=parts))
    assert set(error.fields["records"]["0"]["parts"]) == {"1", "2"}
    assert factories.count(session, ItemComponent) == 0


def test_voiding_a_repair_undoes_its_genealogy(session):
    unit, old_part, new_part = (
        old_item(session),
        factories.make_item(session),
        factories.make_item(session),
    )
    record(session, unit, parts=[installed("PUMP-2", item_code=old_part.code)])
    swap = record(
        session,
        unit,
        parts=[
            removed("PUMP-2", item_code=old_part.code),
            installed("PUMP-2", item_code=new_part.code),
        ],
    )
    service.void_repair(session, QUALITY, swap, "wrong unit scanned")
    [component] = components(session, unit)
    assert (component.component_item_id, component.removed_at) == (old_part.id, None)


def test_a_repair_whose_part_was_removed_since_cannot_be_voided(session):
    unit, part = old_item(session), factories.make_item(session)
    first = record(session, unit, parts=[installed("PUMP-2", item_code=part.code)])
    record(session, unit, parts=[removed("PUMP-2", item_code=part.code)])
    with pytest.raises(Conflict):
        service.void_repair(session, TECHNICIAN, first, "mistake")
    assert not first.is_voided


def test_a_removal_is_not_undone_once_the_part_went_into_a_unit_again(session):
    kettle, dryer, pump = old_item(session), old_item(session), old_item(session)
    fit, out = fit_and_take_out(pump)
    record(session, kettle, **when(40), parts=fit)
    removal = record(session, kettle, **when(30), parts=out)
    record(session, dryer, **when(20), parts=fit)
    # Out of the dryer again: free, yet undoing the removal would have it in the kettle
    # all along, and in the dryer too.
    record(session, dryer, **when(10), parts=out)
    with pytest.raises(Conflict) as error:
        service.void_repair(session, TECHNICIAN, removal, "wrong unit")
    assert error.value.fields == {"repair": ["a removed part was fitted again since"]}
    assert str(error.value).startswith(
        f"part {pump.code}, which this repair removed, went into unit {dryer.code}"
    )
    assert in_order(links_of(session, pump)) and not removal.is_voided


def test_a_correction_replaces_the_repair_and_its_genealogy(session):
    unit, wrong_part, right_part = (
        old_item(session),
        factories.make_item(session),
        factories.make_item(session),
    )
    wrong = record(session, unit, parts=[installed("PUMP-2", item_code=wrong_part.code)])
    right = record(
        session,
        unit,
        parts=[installed("PUMP-2", item_code=right_part.code)],
        **correcting(wrong, "scanned the wrong pump"),
    )
    assert right.replaces_id == wrong.id and wrong.is_voided
    assert [c.component_item_id for c in components(session, unit)] == [right_part.id]


def _ship_away(session, item) -> None:
    factories.make_shipment(session, [item], shipped_at=NOW - dt.timedelta(hours=30))
    session.refresh(item)


def test_completing_a_repair_whose_removed_part_went_back_to_its_supplier(session):
    kettle, pump = old_item(session), old_item(session)
    fitted = NOW - dt.timedelta(days=3)
    fit = [installed("PUMP-2", item_code=pump.code)]
    record(session, kettle, received_at=fitted, completed_at=fitted, parts=fit)
    received = NOW - dt.timedelta(days=2)
    parts = [removed("PUMP-2", item_code=pump.code)]
    taken_in = record(session, kettle, completed_at=None, outcome=None, parts=parts)
    _ship_away(session, pump)  # the faulty pump goes back for analysis
    assert status(session, pump) is ItemStatus.shipped
    done = record(session, kettle, parts=parts, **correcting(taken_in, "completed"))
    # The correction takes the removal over, at its own time; the pump stays where it is.
    [link] = components(session, kettle)
    assert (link.removed_by_repair_id, link.removed_at) == (done.id, done.completed_at)
    assert done.completed_at > received and taken_in.is_voided
    assert (status(session, kettle), status(session, pump)) == (
        ItemStatus.produced,
        ItemStatus.shipped,
    )
    # Voiding the correction would put the shipped pump back: that is still refused.
    with pytest.raises(Conflict) as error:
        service.void_repair(session, TECHNICIAN, done, "not needed")
    assert error.value.fields == {"repair": ["a removed part is no longer free"]}


def test_a_typo_corrected_after_a_later_repair_took_the_installed_part_out(session):
    kettle, pump = old_item(session), old_item(session)
    fit, out = fit_and_take_out(pump)
    fitted = record(session, kettle, parts=fit, diagnosis="Pump sezied")
    record(session, kettle, **when(12), parts=out)
    typo = {"replaces": fitted.id, "void_reason": "typo", "diagnosis": "Pump seized"}
    fixed = record(session, kettle, parts=fit, **typo)
    [link] = components(session, kettle)
    assert (link.installed_by_repair_id, link.removed_at) == (fixed.id, hours_ago(12))
    assert fixed.diagnosis == "Pump seized" and fitted.is_voided


def test_a_correction_cannot_move_a_part_out_after_it_went_into_another_unit(session):
    kettle, dryer, pump = old_item(session), old_item(session), old_item(session)
    fit, removal_parts = fit_and_take_out(pump)
    record(session, kettle, parts=fit)
    out = hours_ago(20)
    removal = record(session, kettle, **when(20), parts=removal_parts)
    into_dryer = hours_ago(10)
    record(session, dryer, **when(10), parts=fit)
    correction = {"replaces": removal.id, "void_reason": "finished later"}
    moved = repair(
        kettle, received_at=out, completed_at=hours_ago(5), parts=removal_parts, **correction
    )
    error = refused(session, moved)
    assert error.status == 409
    assert error.fields["records"]["0"] == {
        "completed_at": ["out of order with the part's other installations"]
    }
    session.refresh(removal)
    assert not removal.is_voided
    assert [c.removed_at for c in components(session, kettle)] == [out]
    # Finished before the pump went into the dryer, the correction stands.
    moved["completed_at"] = into_dryer - dt.timedelta(hours=1)
    service.record_repairs(session, TECHNICIAN, [{**moved, "event_id": uuid.uuid4()}])
    assert [c.removed_at for c in components(session, kettle)] == [moved["completed_at"]]


def test_a_part_is_not_fitted_before_it_left_the_unit_it_was_in(session):
    kettle, dryer, pump = old_item(session), old_item(session), old_item(session)
    fit = [installed("PUMP-2", item_code=pump.code)]
    record(session, kettle, **when(30), parts=fit)
    out = [removed("PUMP-2", item_code=pump.code)]
    record(session, kettle, **when(5), parts=out)
    too_early = repair(dryer, **when(10), parts=fit)
    session.commit()
    error = refused_in_order(session, too_early)
    assert error.fields == {"parts": [f"{pump.code}: out of order with its other installations"]}
    session.rollback()  # as the API does: the refused post leaves nothing
    fine = repair(dryer, **when(4), parts=fit)
    service.record_repairs(session, TECHNICIAN, [fine])
    assert in_order(links_of(session, pump)) and len(links_of(session, pump)) == 2


def test_a_part_is_not_fitted_before_it_was_made(session):
    kettle = old_item(session)
    pump = factories.make_item(session, produced_at=hours_ago(3))
    fit = [installed("PUMP-2", item_code=pump.code)]
    error = refused(session, repair(kettle, completed_at=hours_ago(5), parts=fit))
    assert error.fields["records"]["0"] == {
        "parts": {"0": {"item_code": ["made after this repair"]}}
    }
    record(session, kettle, completed_at=hours_ago(2), parts=fit)
    assert links_of(session, pump) == [(kettle.id, hours_ago(2), None)]


def test_nor_by_a_correction_listing_the_same_parts(session):
    kettle = old_item(session)
    pump = factories.make_item(session, produced_at=hours_ago(10))
    fit = [installed("PUMP-2", item_code=pump.code)]
    fitted = record(session, kettle, **when(5), parts=fit)
    error = refused(session, repair(kettle, **when(20), parts=fit, **correcting(fitted)))
    assert error.fields["records"]["0"] == {
        "parts": {"0": {"item_code": ["made after this repair"]}}
    }
    assert links_of(session, pump) == [(kettle.id, hours_ago(5), None)]


def test_an_untracked_part_fitted_later_is_not_the_one_taken_out_earlier(session):
    kettle = old_item(session)
    record(session, kettle, **when(5), parts=[installed("HEAT-1", serial="HE-9")])
    out = [removed("HEAT-1", serial="HE-9")]
    taken = record(session, kettle, **when(10), parts=out)
    [link] = components(session, kettle)
    assert link.removed_at is None  # another HE-9, or a typo: the genealogy cannot tell
    fixed = record(session, kettle, **when(10), parts=out, diagnosis="typo", **correcting(taken))
    assert fixed.replaces_id == taken.id


def test_a_stay_of_no_length_may_end_where_the_next_begins(session):
    kettle, dryer, pump = old_item(session), old_item(session), old_item(session)
    fit, out = fit_and_take_out(pump)
    record(session, kettle, **when(8, 5), parts=fit)
    taken = record(session, kettle, **when(5), parts=out)
    record(session, dryer, **when(5), parts=fit)
    # A typo fix rewrites the kettle's link (on PostgreSQL its row then comes after the
    # dryer's): the two stays meet at one moment, in order.
    record(session, kettle, **when(5), parts=out, diagnosis="typo", **correcting(taken))
    assert in_order(links_of(session, pump))


def test_nor_taken_out_before_it_went_in(session):
    kettle, pump = old_item(session), old_item(session)
    fit = [installed("PUMP-2", item_code=pump.code)]
    record(session, kettle, **when(10), parts=fit)
    out = [removed("PUMP-2", item_code=pump.code)]
    refused_in_order(session, repair(kettle, **when(20), parts=out))


def test_records_of_one_post_that_disagree_in_time_are_refused_together(session):
    kettle, dryer, pump = old_item(session), old_item(session), old_item(session)
    fit, out = fit_and_take_out(pump)
    record(session, kettle, **when(30), parts=fit)
    removal = record(session, kettle, **when(20), parts=out)
    # Each alone is fine; together the pump would be in the kettle until -5 h and in the
    # dryer from -10 h.
    into_dryer = repair(dryer, **when(10), parts=fit)
    later = repair(
        kettle,
        **when(20, 5),
        parts=out,
        **correcting(removal, "finished later"),
    )
    session.commit()
    refused_in_order(session, later, into_dryer)
    session.rollback()
    assert links_of(session, pump) == [(kettle.id, hours_ago(30), hours_ago(20))]


def test_two_corrections_of_one_post_cannot_turn_a_stay_inside_out(session):
    kettle, pump = old_item(session), old_item(session)
    fit, out = fit_and_take_out(pump)
    fitted = record(session, kettle, **when(30), parts=fit)
    taken = record(session, kettle, **when(10), parts=out)
    fit_later = repair(
        kettle,
        **when(30, 15),
        parts=fit,
        **correcting(fitted),
    )
    out_earlier = repair(
        kettle,
        **when(20),
        parts=out,
        **correcting(taken),
    )
    refused_in_order(session, fit_later, out_earlier)


def test_a_correction_on_a_scrapped_unit_stays_before_the_scrap(session):
    kettle, pump = old_item(session), old_item(session)
    fit, out = fit_and_take_out(pump)
    record(session, kettle, **when(30), parts=fit)
    removal = record(session, kettle, **when(20), parts=out)
    factories.make_scrap(session, kettle, occurred_at=hours_ago(10))
    correction = {"parts": out, "replaces": removal.id, "void_reason": "typo"}
    after = repair(kettle, **when(20, 5), **correction)
    error = refused(session, after)
    assert error.fields["records"]["0"] == {"completed_at": ["after the unit was scrapped"]}
    before = repair(kettle, **when(20, 12), **correction)
    service.record_repairs(session, TECHNICIAN, [before])
    assert links_of(session, pump)[0][2] == hours_ago(12)


# --- voiding -------------------------------------------------------------------------------


def test_quality_may_void_any_repair_others_only_their_own(session):
    stored = record(session, old_item(session))
    with pytest.raises(Forbidden):
        service.void_repair(session, OTHER_TECHNICIAN, stored, "not mine")
    service.void_repair(session, QUALITY, stored, "duplicate")
    assert stored.voided_by == "key:qe"
    with pytest.raises(Conflict):
        service.void_repair(session, TECHNICIAN, stored, "again")


def test_a_warranty_running_past_the_year_9999_ends_with_the_last_moment():
    from trace.service import services as service
    from trace.times import add_months

    start = dt.datetime(9999, 6, 1, tzinfo=dt.UTC)
    assert add_months(start, 24) == dt.datetime.max.replace(tzinfo=dt.UTC)
    assert add_months(dt.datetime(2026, 1, 31, 9, tzinfo=dt.UTC), 1) == dt.datetime(
        2026, 2, 28, 9, tzinfo=dt.UTC
    )
    assert service.under_warranty(24, start, dt.datetime(9999, 12, 30, tzinfo=dt.UTC))


def test_a_part_on_its_way_or_in_the_workshop_is_not_installed(session):
    kettle = old_item(session)
    shipped = old_item(session, status=ItemStatus.shipped)
    in_repair = old_item(session, status=ItemStatus.in_repair)
    parts = [installed("P", item_code=shipped.code), installed("Q", item_code=in_repair.code)]
    error = refused(session, repair(kettle, parts=parts))
    assert error.status == 409
    assert error.fields["records"]["0"]["parts"] == {
        "0": {"item_code": ["shipped"]},
        "1": {"item_code": ["in repair"]},
    }
    assert factories.count(session, ItemComponent) == 0


def test_one_post_cannot_install_a_part_and_take_it_in_too(session):
    kettle, pump = old_item(session), old_item(session)
    posted = [
        repair(kettle, parts=[installed("PUMP-2", item_code=pump.code)]),
        repair(pump, completed_at=None, outcome=None),
    ]
    error = refused(session, *posted)
    assert error.fields["records"]["1"] == {"item_code": [f"inside unit {kettle.code}"]}
    assert status(session, pump) is ItemStatus.produced


def test_a_removal_from_a_scrapped_unit_is_not_undone_behind_its_scrap(session):
    kettle, pump = old_item(session), old_item(session)
    record(session, kettle, parts=[installed("PUMP-2", item_code=pump.code)])
    removal = record(session, kettle, parts=[removed("PUMP-2", item_code=pump.code)])
    factories.make_scrap(session, kettle)
    with pytest.raises(Conflict) as error:
        service.void_repair(session, TECHNICIAN, removal, "entered on the wrong unit")
    assert error.value.fields == {"repair": ["the unit is scrapped"]}
    assert components(session, kettle)[0].removed_at is not None
