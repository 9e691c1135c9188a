"""Recording inspections and process records: idempotency, quarantine, corrections, queries."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests import factories
from trace.audit.models import AuditEntry
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.capture import MAX_BULK, BulkRejected
from trace.errors import Conflict, Forbidden, Invalid
from trace.production.models import ItemStatus
from trace.quality import services as quality
from trace.quality.models import Inspection, InspectionResult, Measurement, ProcessRecord

LINE = Principal("key:line1", Role.line)
QUALITY = Principal("key:qe", Role.quality)
T0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


@pytest.fixture
def world(session):
    item = factories.make_item(session)
    station = factories.make_station(session)
    inspector = factories.make_inspector(session)
    return item, station, inspector


def inspection(world, **overrides):
    item, station, inspector = world
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "station": station.code,
        "inspector": inspector.badge,
        "occurred_at": T0,
        "result": InspectionResult.passed,
    }
    return {**data, **overrides}


def test_an_inspection_is_stored_with_its_measurements(session, world):
    data = inspection(
        world, measurements=[{"name": "leak", "value": 0.2, "unit": "mA", "upper_limit": 0.5}]
    )
    [recorded] = quality.record_inspections(session, LINE, [data])
    stored = session.get(Inspection, recorded.id)
    assert recorded.created and stored.item_id == world[0].id
    assert [(m.name, m.value, m.upper_limit) for m in stored.measurements] == [("leak", 0.2, 0.5)]
    assert stored.recorded_by == "key:line1"


def test_items_by_sku_and_serial_across_products_in_one_post(session, world):
    item = world[0]
    twin = factories.make_item(session, serial=item.serial)  # another product, same serial
    records = [
        inspection(world, item_code=None, sku=unit.product.sku, serial=unit.serial)
        for unit in (item, twin)
    ]
    for record in records:
        del record["item_code"]
    recorded = quality.record_inspections(session, LINE, records)
    assert [session.get(Inspection, r.id).item_id for r in recorded] == [item.id, twin.id]
    unknown = {**records[0], "event_id": uuid.uuid4(), "serial": "NOT-MADE"}
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(session, LINE, [records[1], unknown])
    assert error.value.fields == {"records": {"1": {"serial": ["no item of this SKU"]}}}


def test_the_same_event_id_and_content_is_a_retry_that_changes_nothing(session, world):
    data = inspection(world)
    [first] = quality.record_inspections(session, LINE, [data])
    audit_before = factories.count(session, AuditEntry)
    [again] = quality.record_inspections(session, LINE, [dict(data)])
    assert (again.id, again.created) == (first.id, False)
    assert factories.count(session, Inspection) == 1
    assert factories.count(session, AuditEntry) == audit_before


def test_the_same_event_id_with_other_content_is_a_conflict(session, world):
    data = inspection(world)
    quality.record_inspections(session, LINE, [data])
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(session, LINE, [{**data, "result": InspectionResult.failed}])
    assert error.value.status == 409
    assert "event_id" in error.value.fields["records"]["0"]


def test_a_bulk_post_is_all_or_nothing_and_names_every_bad_record(session, world):
    records = [inspection(world) for _ in range(4)]
    records[1]["station"] = "NOPE"
    records[3]["item_code"] = "not-a-code"
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(session, LINE, records)
    problems = error.value.fields["records"]
    assert set(problems) == {"1", "3"}
    assert problems["1"] == {"station": ["unknown station"]}
    assert "item_code" in problems["3"]
    assert factories.count(session, Inspection) == 0


def test_a_repeated_event_id_within_one_post_is_stored_once(session, world):
    data = inspection(world)
    results = quality.record_inspections(session, LINE, [data, dict(data)])
    assert results[0].id == results[1].id
    assert factories.count(session, Inspection) == 1


@pytest.mark.parametrize("count", [0, MAX_BULK + 1])
def test_bulk_size_is_limited(session, world, count):
    with pytest.raises(Invalid):
        quality.record_inspections(session, LINE, [inspection(world)] * count)


def test_times_too_far_in_the_future_are_refused(session, world):
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(session, LINE, [inspection(world, occurred_at=future)])
    assert "occurred_at" in error.value.fields["records"]["0"]


def test_an_inactive_inspector_is_refused(session, world):
    inactive = factories.make_inspector(session, active=False)
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(session, LINE, [inspection(world, inspector=inactive.badge)])
    assert error.value.status == 409


def test_a_station_bound_key_may_post_only_for_its_station(session, world):
    station = world[1]
    other = factories.make_station(session)
    bound = Principal("key:st", Role.line, line_id=station.line_id, station_id=station.id)
    quality.record_inspections(session, bound, [inspection(world)])
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(session, bound, [inspection(world, station=other.code)])
    assert error.value.status == 403


def test_failed_final_inspection_quarantines_and_a_later_pass_releases(session, world):
    item = world[0]
    quality.record_inspections(
        session, LINE, [inspection(world, result=InspectionResult.failed, is_final=True)]
    )
    session.refresh(item)
    assert item.status is ItemStatus.failed
    quality.record_inspections(
        session,
        LINE,
        [
            inspection(
                world, result=InspectionResult.rework, occurred_at=T0 + dt.timedelta(hours=1)
            ),
            inspection(world, is_final=True, occurred_at=T0 + dt.timedelta(hours=2)),
        ],
    )
    session.refresh(item)
    assert item.status is ItemStatus.produced


def test_a_late_arriving_older_final_does_not_override_a_newer_one(session, world):
    item = world[0]
    quality.record_inspections(session, LINE, [inspection(world, is_final=True, occurred_at=T0)])
    older_fail = inspection(
        world, result=InspectionResult.failed, is_final=True, occurred_at=T0 - dt.timedelta(hours=3)
    )
    quality.record_inspections(session, LINE, [older_fail])
    session.refresh(item)
    assert item.status is ItemStatus.produced


def test_non_final_failures_do_not_change_the_status(session, world):
    quality.record_inspections(session, LINE, [inspection(world, result=InspectionResult.failed)])
    session.refresh(world[0])
    assert world[0].status is ItemStatus.produced


def test_voiding_the_failing_final_releases_the_unit(session, world):
    [recorded] = quality.record_inspections(
        session, LINE, [inspection(world, result=InspectionResult.failed, is_final=True)]
    )
    quality.void_inspection(
        session, LINE, session.get(Inspection, recorded.id), "wrong unit scanned"
    )
    session.refresh(world[0])
    assert world[0].status is ItemStatus.produced


def test_only_the_poster_or_quality_may_void(session, world):
    [recorded] = quality.record_inspections(session, LINE, [inspection(world)])
    record = session.get(Inspection, recorded.id)
    with pytest.raises(Forbidden):
        quality.void_inspection(session, Principal("key:other", Role.line), record, "mine now")
    quality.void_inspection(session, QUALITY, record, "checked by QE")
    assert record.voided_by == "key:qe"
    with pytest.raises(Conflict):
        quality.void_inspection(session, QUALITY, record, "again")


def test_a_correction_voids_and_links_the_record_it_replaces(session, world):
    [wrong] = quality.record_inspections(
        session, LINE, [inspection(world, result=InspectionResult.failed, is_final=True)]
    )
    correction = inspection(world, is_final=True, replaces=wrong.id, void_reason="misread gauge")
    [right] = quality.record_inspections(session, LINE, [correction])
    old, new = session.get(Inspection, wrong.id), session.get(Inspection, right.id)
    assert old.is_voided and old.void_reason == "misread gauge"
    assert new.replaces_id == old.id
    session.refresh(world[0])
    assert world[0].status is ItemStatus.produced


def test_a_correction_needs_a_reason_and_cannot_replace_twice(session, world):
    [wrong] = quality.record_inspections(session, LINE, [inspection(world)])
    with pytest.raises(BulkRejected):
        quality.record_inspections(session, LINE, [inspection(world, replaces=wrong.id)])
    quality.record_inspections(
        session, LINE, [inspection(world, replaces=wrong.id, void_reason="x")]
    )
    with pytest.raises(BulkRejected) as error:
        quality.record_inspections(
            session, LINE, [inspection(world, replaces=wrong.id, void_reason="y")]
        )
    assert error.value.status == 409


def test_batch_level_sampling_inspection(session, world):
    batch = world[0].batch
    data = inspection(world, batch_id=batch.id)
    del data["item_code"]
    [recorded] = quality.record_inspections(session, LINE, [data])
    assert session.get(Inspection, recorded.id).batch_id == batch.id


def test_one_audit_entry_lists_the_records_of_a_post(session, world):
    results = quality.record_inspections(session, LINE, [inspection(world) for _ in range(3)])
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
    assert entry.action == "inspection.record"
    assert entry.data == f'{{"ids":[{",".join(str(r.id) for r in results)}]}}'


# Process records ------------------------------------------------------------------------


def process(world, batch=None, **overrides):
    item, station, _ = world
    data = {
        "event_id": uuid.uuid4(),
        "batch_id": (batch or item.batch).id,
        "station": station.code,
        "parameter": "oven_temp",
        "value": 220.0,
        "unit": "C",
        "lower_limit": 210.0,
        "upper_limit": 230.0,
        "occurred_at": T0,
    }
    return {**data, **overrides}


def test_in_spec_is_derived_from_the_limits(session, world):
    results = quality.record_process_records(
        session,
        LINE,
        [
            process(world),
            process(world, value=231.0),
            process(world, value=209.0),
            process(world, value=500.0, upper_limit=None),
        ],
    )
    flags = [session.get(ProcessRecord, r.id).in_spec for r in results]
    assert flags == [True, False, False, True]


def test_out_of_spec_finds_the_batches_above_the_limit_in_a_window(session, world):
    hot = factories.make_batch(session)
    cold = factories.make_batch(session)
    quality.record_process_records(
        session,
        LINE,
        [
            process(world, batch=hot, value=236.0),
            process(world, batch=hot, value=238.5, occurred_at=T0 + dt.timedelta(minutes=5)),
            process(world, batch=cold, value=205.0),
            process(world, value=225.0),
            process(world, batch=hot, value=240.0, occurred_at=T0 + dt.timedelta(days=5)),
        ],
    )
    window = {"parameter": "oven_temp", "start": T0, "end": T0 + dt.timedelta(hours=1)}
    above = quality.out_of_spec(session, above=True, **window)
    assert [(batch.id, row.readings, row.highest) for batch, row in above] == [(hot.id, 2, 238.5)]
    both = quality.out_of_spec(session, **window)
    assert {batch.id for batch, _ in both} == {hot.id, cold.id}


def test_item_level_records_count_for_their_batch_and_voided_ones_do_not(session, world):
    item = world[0]
    data = process(world, value=250.0, item_code=item.code)
    del data["batch_id"]
    [recorded] = quality.record_process_records(session, LINE, [data])
    window = {"parameter": "oven_temp", "start": T0, "end": T0 + dt.timedelta(hours=1)}
    assert [b.id for b, _ in quality.out_of_spec(session, **window)] == [item.batch_id]
    quality.void_process_record(session, LINE, session.get(ProcessRecord, recorded.id), "bad probe")
    assert quality.out_of_spec(session, **window) == []


def test_unknown_batch_is_named(session, world):
    with pytest.raises(BulkRejected) as error:
        quality.record_process_records(
            session, LINE, [process(world, batch=None) | {"batch_id": 999999}]
        )
    assert error.value.fields["records"]["0"] == {"batch_id": ["unknown id"]}
    assert factories.count(session, Measurement) == 0


def test_one_post_sets_the_status_of_many_units(session, world):
    """Statuses are set with one executemany UPDATE for all the units of a post."""
    station, inspector = world[1], world[2]
    items = [factories.make_item(session) for _ in range(4)]
    results = [
        InspectionResult.failed,
        InspectionResult.passed,
        InspectionResult.rework,
        InspectionResult.passed,
    ]
    records = [
        inspection((item, station, inspector), result=result, is_final=True)
        for item, result in zip(items, results, strict=True)
    ]
    quality.record_inspections(session, LINE, records)
    for item in items:
        session.refresh(item)
    assert [i.status for i in items] == [
        ItemStatus.failed,
        ItemStatus.produced,
        ItemStatus.failed,
        ItemStatus.produced,
    ]
