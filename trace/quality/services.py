"""Recording inspections and process records; finding parameters out of specification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, or_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from trace.auth.services import Principal
from trace.capture import (
    Recorded,
    References,
    check_time,
    record_many,
    replacing,
    require_poster_or_quality,
)
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
    item, batch = refs.subject(data)
    station = refs.station(data["station"])
    inspector = refs.inspector(data["inspector"])
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "item_id": item.id if item else None,
        "batch_id": batch.id if batch else None,
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


def _after_inspections(session: Session, rows: list[dict]) -> None:
    measurements = [
        {"inspection_id": row["id"], **measurement}
        for row in rows
        for measurement in row["_measurements"]
    ]
    if measurements:
        session.execute(insert(Measurement), measurements)
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
    item, batch = refs.subject(data)
    station = refs.station(data["station"])
    return {
        "event_id": data["event_id"],
        "payload_hash": digest,
        "recorded_by": refs.principal.actor,
        "item_id": item.id if item else None,
        "batch_id": batch.id if batch else None,
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
