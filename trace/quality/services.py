"""Recording inspections and process records; finding parameters out of specification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace

from sqlalchemy import and_, bindparam, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from trace.auth.services import Principal
from trace.bulk import bulk_insert
from trace.capture import (
    Recorded,
    References,
    check_time,
    record_many,
    replacing,
    require_poster_or_quality,
)
from trace.catalog.models import Inspector, Station
from trace.production.models import Batch, Item, ItemStatus
from trace.quality.models import Inspection, InspectionResult, Measurement, ProcessRecord
from trace.records import void_record

# Inspections move units only between these; a shipped or delivered unit keeps its status.
INSPECTABLE = (ItemStatus.produced, ItemStatus.failed)


def record_inspections(
    session: Session, principal: Principal, records: Sequence[dict]
) -> list[Recorded]:
    """Record inspections of items (by code) or batches (by id, sampling), all or nothing.

    A final inspection that fails or sends the unit to rework quarantines it (status
    failed); a later passing final inspection releases it. Retried posts change nothing.
    """
    return record_many(session, principal, Inspection, records, _inspection_row, _after_inspections)


def _inspection_row(refs: References, data: dict, digest: str) -> dict:
    item_id, batch_id = refs.subject_ids(data)
    station = refs.station(data["station"])
    inspector = refs.inspector(data["inspector"])
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "item_id": item_id,
        "batch_id": batch_id,
        "station_id": station.id,
        "inspector_id": inspector.id,
        "occurred_at": check_time(data["occurred_at"]),
        "result": data["result"],
        "is_final": data.get("is_final", False),
        "defect_codes": data.get("defect_codes", []),
        "notes": data.get("notes"),
        "replaces_id": _replaced_id(refs, Inspection, data),
        "_measurements": data.get("measurements", []),
    }


def _replaced_id(refs: References, model, data: dict) -> int | None:
    if data.get("replaces") is None:
        return None
    old = replacing(refs.session, refs.principal, model, data)
    if model is Inspection and old.is_final and old.item_id:
        refs.session.flush()
        _restore_status(refs.session, old.item_id)
    return old.id


MEASUREMENT_COLUMNS = ("name", "value", "unit", "lower_limit", "upper_limit")


def _after_inspections(session: Session, rows: list[dict]) -> None:
    measurements = [
        (row["id"], *map(measurement.get, MEASUREMENT_COLUMNS))
        for row in rows
        for measurement in row["_measurements"]
    ]
    if measurements:
        columns = ("inspection_id", *MEASUREMENT_COLUMNS)
        bulk_insert(session.connection(), Measurement.__table__, columns, measurements)
    _apply_final_results(session, [row for row in rows if row["is_final"] and row["item_id"]])


def _apply_final_results(session: Session, finals: list[dict]) -> None:
    """Set each unit's status from its latest final inspection, this post's included."""
    if not finals:
        return
    latest: dict[int, dict] = {}
    for row in sorted(finals, key=lambda r: r["occurred_at"]):
        latest[row["item_id"]] = row
    # The newest final inspection of each unit, counting those just inserted: this post's
    # latest result decides only if nothing later was recorded before.
    newest = _latest_final_times(session, latest)
    statuses = [
        {"item": item_id, "status": _status_after(row["result"])}
        for item_id, row in latest.items()
        if row["occurred_at"] >= newest[item_id]
    ]
    _set_item_statuses(session, statuses)


def _latest_final_times(session: Session, latest: dict[int, dict]) -> dict[int, dt.datetime]:
    query = (
        select(Inspection.item_id, func.max(Inspection.occurred_at))
        .where(
            Inspection.item_id.in_(list(latest)),
            Inspection.is_final,
            Inspection.voided_at.is_(None),
        )
        .group_by(Inspection.item_id)
    )
    return dict(session.execute(query).all())


def _status_after(result: InspectionResult) -> ItemStatus:
    return ItemStatus.produced if result is InspectionResult.passed else ItemStatus.failed


def _set_item_statuses(session: Session, statuses: list[dict]) -> None:
    if not statuses:
        return
    table = Item.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("item"), or_(*(table.c.status == s for s in INSPECTABLE)))
        .values(status=bindparam("status"))
    )
    session.connection().execute(statement, statuses)
    session.expire_all()  # loaded items must not keep a status the database no longer has


def void_inspection(
    session: Session, principal: Principal, inspection: Inspection, reason: str | None
) -> Inspection:
    """Void an inspection (its poster or quality); the unit's status follows what remains."""
    require_poster_or_quality(principal, inspection)
    void_record(session, principal.actor, inspection, reason)
    if inspection.is_final and inspection.item_id:
        session.flush()
        _restore_status(session, inspection.item_id)
    return inspection


def _restore_status(session: Session, item_id: int) -> None:
    latest = session.scalar(
        select(Inspection)
        .where(Inspection.item_id == item_id, Inspection.is_final, Inspection.voided_at.is_(None))
        .order_by(Inspection.occurred_at.desc(), Inspection.id.desc())
        .limit(1)
    )
    status = _status_after(latest.result) if latest else ItemStatus.produced
    _set_item_statuses(session, [{"item": item_id, "status": status}])


# Process records -----------------------------------------------------------------------


def record_process_records(
    session: Session, principal: Principal, records: Sequence[dict]
) -> list[Recorded]:
    """Record process parameters of batches or items with their limits, all or nothing."""
    return record_many(session, principal, ProcessRecord, records, _process_row)


def _process_row(refs: References, data: dict, digest: str) -> dict:
    item_id, batch_id = refs.subject_ids(data)
    station = refs.station(data["station"])
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "item_id": item_id,
        "batch_id": batch_id,
        "station_id": station.id,
        "parameter": data["parameter"],
        "value": data["value"],
        "unit": data.get("unit"),
        "lower_limit": data.get("lower_limit"),
        "upper_limit": data.get("upper_limit"),
        "occurred_at": check_time(data["occurred_at"]),
        "is_public": data.get("is_public", False),
        "replaces_id": _replaced_id(refs, ProcessRecord, data),
    }


def void_process_record(
    session: Session, principal: Principal, record: ProcessRecord, reason: str | None
) -> ProcessRecord:
    """Void a process record (its poster or quality)."""
    require_poster_or_quality(principal, record)
    return void_record(session, principal.actor, record, reason)


def out_of_spec(
    session: Session,
    *,
    parameter: str,
    start: dt.datetime,
    end: dt.datetime,
    above: bool | None = None,
    limit: int = 500,
):
    """Batches whose `parameter` left its limits between `start` and `end`.

    `above=True` keeps only values over the upper limit, `False` under the lower one.
    Item-level records count for the item's batch. Voided records do not count.
    One row a batch: the batch, how many readings were out, the worst value, first and last.
    """
    batch_id = func.coalesce(ProcessRecord.batch_id, Item.batch_id)
    condition = _out_condition(above)
    query = (
        select(
            batch_id.label("batch_id"),
            func.count().label("readings"),
            func.min(ProcessRecord.value).label("lowest"),
            func.max(ProcessRecord.value).label("highest"),
            func.min(ProcessRecord.occurred_at).label("first_at"),
            func.max(ProcessRecord.occurred_at).label("last_at"),
        )
        .outerjoin(Item, Item.id == ProcessRecord.item_id)
        .where(
            ProcessRecord.parameter == parameter,
            ProcessRecord.occurred_at.between(start, end),
            ProcessRecord.voided_at.is_(None),
            condition,
        )
        .group_by(batch_id)
        .order_by(batch_id)
        .limit(limit)
    )
    rows = session.execute(query).all()
    batches = {
        b.id: b
        for b in session.scalars(select(Batch).where(Batch.id.in_([r.batch_id for r in rows])))
    }
    return [(batches[row.batch_id], row) for row in rows]


def _out_condition(above: bool | None):
    over = and_(
        ProcessRecord.upper_limit.is_not(None), ProcessRecord.value > ProcessRecord.upper_limit
    )
    under = and_(
        ProcessRecord.lower_limit.is_not(None), ProcessRecord.value < ProcessRecord.lower_limit
    )
    if above is True:
        return over
    if above is False:
        return under
    return ~ProcessRecord.in_spec


# Answering with one record -------------------------------------------------------------
# A record as the API shows it, with the model's attribute paths (station.code,
# inspector.badge, measurements), as plain data: the ORM's load of a record with what it
# refers to costs more than recording it. A record just created is answered from the
# values written; a retry reads the original with plain statements.

INSPECTION, PROCESS_RECORD = Inspection.__table__, ProcessRecord.__table__
STATION, INSPECTOR = Station.__table__, Inspector.__table__
INSPECTION_ANSWER = (
    select(INSPECTION, STATION.c.code.label("station_code"), INSPECTOR.c.badge)
    .join(STATION, STATION.c.id == INSPECTION.c.station_id)
    .join(INSPECTOR, INSPECTOR.c.id == INSPECTION.c.inspector_id)
    .where(INSPECTION.c.id == bindparam("id"))
)
MEASUREMENTS = (
    select(Measurement.__table__)
    .where(Measurement.inspection_id == bindparam("id"))
    .order_by(Measurement.id)
)
PROCESS_RECORD_ANSWER = (
    select(PROCESS_RECORD, STATION.c.code)
    .join(STATION, STATION.c.id == PROCESS_RECORD.c.station_id)
    .where(PROCESS_RECORD.c.id == bindparam("id"))
)
# The model's own rule (a hybrid property), applied to plain data.
_in_spec = inspect(ProcessRecord).all_orm_descriptors["in_spec"].fget


def read_inspection(session: Session, inspection_id: int) -> dict | None:
    """An inspection with its station code, inspector badge and measurements, or None."""
    connection = session.connection()
    row = connection.execute(INSPECTION_ANSWER, {"id": inspection_id}).one_or_none()
    if row is None:
        return None
    answer = row._asdict()
    answer["station"] = {"code": answer.pop("station_code")}
    answer["inspector"] = {"badge": answer.pop("badge")}
    measurements = connection.execute(MEASUREMENTS, {"id": inspection_id})
    answer["measurements"] = [measurement._asdict() for measurement in measurements]
    return answer


def written_inspection(row: dict, data: dict) -> dict:
    """What read_inspection will find for an inspection recorded from `data` as `row`."""
    answer = _as_stored(INSPECTION, row)
    answer["station"] = {"code": data["station"]}  # looked up by exactly this code
    answer["inspector"] = {"badge": data["inspector"]}
    answer["measurements"] = [
        {column: measurement.get(column) for column in MEASUREMENT_COLUMNS}
        for measurement in row["_measurements"]
    ]
    return answer


def read_process_record(session: Session, record_id: int) -> dict | None:
    """A process record with its station code and whether it is in specification, or None."""
    row = session.connection().execute(PROCESS_RECORD_ANSWER, {"id": record_id}).one_or_none()
    if row is None:
        return None
    answer = row._asdict()
    answer["station"] = {"code": answer.pop("code")}
    answer["in_spec"] = _in_spec(row)
    return answer


def written_process_record(row: dict, data: dict) -> dict:
    """What read_process_record will find for a process record recorded as `row`."""
    answer = _as_stored(PROCESS_RECORD, row)
    answer["station"] = {"code": data["station"]}
    answer["in_spec"] = _in_spec(SimpleNamespace(**answer))
    return answer


def _as_stored(table, row: dict) -> dict:
    # Every column (unset ones are NULL); times come back from the database in UTC.
    answer = {column.key: row.get(column.key) for column in table.columns}
    answer["occurred_at"] = answer["occurred_at"].astimezone(dt.UTC)
    return answer
