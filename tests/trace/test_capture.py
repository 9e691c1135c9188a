"""The shared capture path: many rows in one go, references looked up once."""

import datetime as dt
import uuid

from sqlalchemy import select

from tests import factories
from trace import codes
from trace.auth.models import Role
from trace.auth.services import Principal
from trace.capture import References, insert_records, lookup_rows
from trace.catalog.models import Station
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
    refs = References(session, LINE, [{"item_code": first.code}, {"item_code": typed}])
    assert refs.item_ids == {first.code: first.id, typed: second.id}
    assert refs.subject_ids({"item_code": typed}) == (second.id, None)
    assert refs.subject({"item_code": typed})[0] is second


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
    # A repeat within the post is the record it repeats (created by this post).
    assert [r.created for r in results] == [False, True, True]
    assert results[0].id == first[0].id and results[1].id == results[2].id
    assert results[1].row["recorded_at"].tzinfo is not None
