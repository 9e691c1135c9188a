"""The shared capture path: many rows in one go, references looked up once."""

import contextlib
import datetime as dt
import hashlib
import uuid

import pytest
from sqlalchemy import event, select

from tests import factories
from trace import codes
from trace.audit.services import canonical_json
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.capture import (
    LOOKUP_CHUNK,
    BulkRejected,
    References,
    insert_records,
    lookup_each_one,
    lookup_rows,
    payload_digest,
)
from trace.catalog.models import Station
from trace.errors import Conflict, NotFound
from trace.quality import services as quality
from trace.quality.models import Inspection, InspectionResult

LINE = Principal("key:line1", Role.line)
T0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


def rows(item, station, inspector, count):
    return [
        {
            "event_id": uuid.uuid4(),
            "payload_hash": f"{n:064d}",
            "recorded_by": "test",
            "item_id": item.id,
            "batch_id": None,
            "station_id": station.id,
            "inspector_id": inspector.id,
            "occurred_at": T0 + dt.timedelta(seconds=n),
            "recorded_at": T0,
            "result": [InspectionResult.passed, InspectionResult.failed][n % 2],
            "is_final": n % 3 == 0,
            "defect_codes": [] if n % 2 else ["D1"],
            "notes": None,
            "replaces_id": None,
            "_ignored": "not a column",
        }
        for n in range(count)
    ]


def test_many_rows_go_in_at_once_with_their_ids_in_order(session):
    item, station = factories.make_item(session), factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.flush()
    written = rows(item, station, inspector, 25)
    names = [name for name in written[0] if not name.startswith("_")]
    ids = insert_records(session.connection(), Inspection.__table__, names, written)
    assert len(set(ids)) == 25
    stored = {i.id: i for i in session.scalars(select(Inspection).where(Inspection.id.in_(ids)))}
    for row, new_id in zip(written, ids, strict=True):
        record = stored[new_id]
        assert (record.event_id, record.occurred_at, record.result) == (
            row["event_id"],
            row["occurred_at"],
            row["result"],
        )
        assert (record.is_final, record.defect_codes, record.recorded_at) == (
            row["is_final"],
            row["defect_codes"],
            T0,
        )


def test_one_row_goes_in_too(session):
    item, station = factories.make_item(session), factories.make_station(session)
    [row] = rows(item, station, factories.make_inspector(session), 1)
    names = [name for name in row if not name.startswith("_")]
    [new_id] = insert_records(session.connection(), Inspection.__table__, names, [row])
    assert session.get(Inspection, new_id).event_id == row["event_id"]


def test_codes_as_people_type_them_are_found_as_well_as_printed_ones(session):
    first, second = factories.make_item(session), factories.make_item(session)
    session.flush()
    typed = codes.format_code(second.code).lower()  # "abcd-efgh-..."
    records = [
        {"event_id": uuid.uuid4(), "item_code": first.code},
        {"event_id": uuid.uuid4(), "item_code": typed},
    ]
    refs = References(session, LINE, records, Inspection)
    assert refs.item_ids == {first.code: first.id, typed: second.id}
    assert refs.subject_ids({"item_code": typed}) == (second.id, None)
    assert refs.subject({"item_code": typed})[0] is second
    assert refs.earlier == {}


def test_lookup_rows_over_several_chunks_finds_each_once(session):
    stations = [factories.make_station(session) for _ in range(3)]
    session.flush()
    # More than one chunk, the last one short (it is padded with its last value).
    wanted = [f"NONE-{n}" for n in range(LOOKUP_CHUNK + 100)] + [s.code for s in stations]
    found = lookup_rows(session.connection(), Station.code, (Station.id,), wanted)
    assert {code: row.id for code, row in found.items()} == {s.code: s.id for s in stations}


@pytest.mark.parametrize("printed", [True, False])
def test_the_references_of_one_record_are_found_in_one_statement(session, printed):
    item, station = factories.make_item(session), factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.flush()
    code = item.code if printed else codes.format_code(item.code).lower()
    data = {
        "event_id": uuid.uuid4(),
        "item_code": code,
        "station": station.code,
        "inspector": inspector.badge,
    }
    with count_statements(session) as statements:
        refs = References(session, LINE, [data], Inspection)
        assert refs.subject_ids(data) == (item.id, None)
    assert len(statements) == (1 if printed else 3)  # a typed code: looked up as printed first
    assert (refs.station(station.code).id, refs.station(station.code).line_id) == (
        station.id,
        station.line_id,
    )
    assert (refs.inspector(inspector.badge).id, refs.inspector(inspector.badge).active) == (
        inspector.id,
        True,
    )
    assert refs.earlier == {}


def test_one_record_finds_its_earlier_post_and_misses_what_is_not_there(session):
    item, station = factories.make_item(session), factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.flush()
    [posted] = rows(item, station, inspector, 1)
    names = [name for name in posted if not name.startswith("_")]
    [posted_id] = insert_records(session.connection(), Inspection.__table__, names, [posted])
    data = {"event_id": posted["event_id"], "station": "NO-SUCH", "inspector": "NO-SUCH"}
    refs = References(session, LINE, [data], Inspection)
    earlier = refs.earlier[posted["event_id"]]
    assert (earlier.id, earlier.payload_hash) == (posted_id, posted["payload_hash"])
    assert (refs.stations, refs.inspectors) == ({}, {})
    with pytest.raises(NotFound):
        refs.station("NO-SUCH")


def test_lookup_each_one_answers_none_for_what_it_does_not_find(session):
    station = factories.make_station(session)
    session.flush()
    lookups = [
        (Station.code, (Station.id, Station.line_id), station.code),
        (Station.code, (Station.id,), "NO-SUCH"),
        (Inspection.event_id, (Inspection.id,), uuid.uuid4()),
    ]
    found, missing, no_record = lookup_each_one(session.connection(), lookups)
    assert (found.code, found.id, found.line_id) == (station.code, station.id, station.line_id)
    assert (missing, no_record) == (None, None)


@contextlib.contextmanager
def count_statements(session):
    statements = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(statement)

    engine = session.connection().engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_lookup_rows_finds_one_or_many(session):
    stations = [factories.make_station(session) for _ in range(3)]
    session.flush()
    connection = session.connection()
    one = lookup_rows(connection, Station.code, (Station.id,), [stations[0].code])
    assert {code: row.id for code, row in one.items()} == {stations[0].code: stations[0].id}
    many = lookup_rows(connection, Station.code, (Station.id,), [s.code for s in stations])
    assert {code: row.id for code, row in many.items()} == {s.code: s.id for s in stations}
    assert lookup_rows(connection, Station.code, (Station.id,), []) == {}


def test_a_bulk_post_with_repeats_and_retries(session):
    item, station = factories.make_item(session), factories.make_station(session)
    inspector = factories.make_inspector(session)
    data = [
        {
            "event_id": uuid.uuid4(),
            "item_code": item.code,
            "station": station.code,
            "inspector": inspector.badge,
            "occurred_at": T0,
            "result": InspectionResult.passed,
        }
        for _ in range(3)
    ]
    first = quality.record_inspections(session, LINE, data[:2])
    results = quality.record_inspections(session, LINE, [data[0], data[2], dict(data[2])])
    # A repeat within the post is the record it repeats, a retry of it.
    assert [r.created for r in results] == [False, True, False]
    assert results[0].id == first[0].id and results[1].id == results[2].id
    assert results[1].row["recorded_at"].tzinfo is not None


def test_records_fingerprinted_before_nulls_were_dropped_still_take_their_retries(session):
    item, station = factories.make_item(session), factories.make_station(session)
    inspector = factories.make_inspector(session)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    data = {
        "event_id": uuid.uuid4(),
        "item_code": item.code,
        "station": station.code,
        "inspector": inspector.badge,
        "occurred_at": T0.astimezone(shanghai),
        "result": InspectionResult.passed,
        "notes": None,
    }
    [first] = quality.record_inspections(session, LINE, [data])
    stored = session.get(Inspection, first.id)
    assert stored.payload_hash == payload_digest({**data, "occurred_at": T0})
    # As a record posted before the change was fingerprinted: null and zone kept.
    stored.payload_hash = hashlib.sha256(canonical_json(data).encode()).hexdigest()
    [again] = quality.record_inspections(session, LINE, [dict(data)])
    assert (again.id, again.created) == (first.id, False)
    with pytest.raises(BulkRejected) as refused:
        quality.record_inspections(session, LINE, [{**data, "notes": "other"}])
    assert isinstance(refused.value.errors[0], Conflict)
