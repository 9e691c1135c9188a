"""Statements sent straight to the driver behave as SQLAlchemy's own: types, errors, events."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from tests import factories
from trace.db import Prepared
from trace.quality.models import Inspection, InspectionResult

INSPECTION = Inspection.__table__
T0 = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
COLUMNS = (
    "event_id",
    "payload_hash",
    "recorded_by",
    "recorded_at",
    "item_id",
    "station_id",
    "inspector_id",
    "occurred_at",
    "result",
    "is_final",
    "defect_codes",
)
INSERT = Prepared(
    insert(INSPECTION)
    .values({name: bindparam(name, type_=INSPECTION.c[name].type) for name in COLUMNS})
    .returning(INSPECTION.c.id)
)
READ = Prepared(
    select(
        INSPECTION.c.event_id,
        INSPECTION.c.occurred_at,
        INSPECTION.c.result,
        INSPECTION.c.is_final,
        INSPECTION.c.defect_codes,
    ).where(INSPECTION.c.id == bindparam("id"))
)


@pytest.fixture
def values(session):
    item, station = factories.make_item(session), factories.make_station(session)
    inspector = factories.make_inspector(session)
    session.flush()
    return {
        "event_id": uuid.uuid4(),
        "payload_hash": "0" * 64,
        "recorded_by": "test",
        "recorded_at": T0,
        "item_id": item.id,
        "station_id": station.id,
        "inspector_id": inspector.id,
        "occurred_at": T0,
        "result": InspectionResult.rework,
        "is_final": True,
        "defect_codes": ["D1", "D2"],
    }


def test_values_go_in_and_come_back_as_their_types_make_them(session, values):
    connection = session.connection()
    [(new_id,)] = INSERT.execute(connection, values).rows
    stored = session.get(Inspection, new_id)
    assert (stored.event_id, stored.occurred_at, stored.result) == (
        values["event_id"],
        T0,
        InspectionResult.rework,
    )
    [row] = READ.execute(connection, {"id": new_id}).rows
    expected = connection.execute(READ.statement, {"id": new_id}).one()
    assert row == tuple(expected)
    assert row == (values["event_id"], T0, InspectionResult.rework, True, ["D1", "D2"])


def test_an_update_tells_how_many_rows_it_changed(session, values):
    connection = session.connection()
    [(new_id,)] = INSERT.execute(connection, values).rows
    void = Prepared(
        update(INSPECTION)
        .where(INSPECTION.c.id == bindparam("id"))
        .values(voided_by=bindparam("actor"))
    )
    assert void.execute(connection, {"id": new_id, "actor": "test"}).rowcount == 1
    assert void.execute(connection, {"id": new_id + 1000, "actor": "test"}).rowcount == 0


def test_a_driver_error_comes_back_as_sqlalchemys(session, values):
    connection = session.connection()
    savepoint = connection.begin_nested()
    INSERT.execute(connection, values)
    with pytest.raises(IntegrityError):  # the same event id twice
        INSERT.execute(connection, {**values, "payload_hash": "1" * 64})
    savepoint.rollback()


def test_cursor_listeners_see_the_statements(session, values):
    connection = session.connection()
    seen = []

    def listener(_conn, _cursor, statement, *_):
        seen.append(statement.split()[0])

    event.listen(connection, "before_cursor_execute", listener)
    try:
        INSERT.execute(connection, values)
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    assert seen == ["INSERT"]


def test_many_rows_in_one_executemany_with_their_types(session, values):
    connection = session.connection()
    many = Prepared(
        insert(INSPECTION)
        .inline()
        .values({name: bindparam(name, type_=INSPECTION.c[name].type) for name in COLUMNS})
    )
    rows = [
        {**values, "event_id": uuid.uuid4(), "occurred_at": T0 + dt.timedelta(minutes=n)}
        for n in range(3)
    ]
    seen = []
    event.listen(connection, "before_cursor_execute", lambda *args: seen.append(args[-1]))
    assert many.execute_many(connection, rows) == 3
    assert seen == [True]  # listeners are told it is an executemany
    stored = session.scalars(
        select(Inspection.occurred_at).where(Inspection.event_id.in_([r["event_id"] for r in rows]))
    )
    assert sorted(stored) == [row["occurred_at"] for row in rows]
    with pytest.raises(IntegrityError):
        many.execute_many(connection, rows[:1])  # the same event id again
