"""What every posted trace record goes through: idempotency, references, time sanity, bulk.

A production line retries after network drops, so every record carries a client event id.
Posting the same id with the same content returns the first result and changes nothing;
the same id with other content is a conflict. Bulk posts are all-or-nothing and name the
index and field of every bad record. One record is a bulk of one: there is one path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from trace import codes
from trace.audit.services import canonical_json, record_audit
from trace.auth.models import Role
from trace.auth.services import Principal, require_station
from trace.catalog.models import Inspector, Station
from trace.db import utcnow
from trace.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from trace.production.models import Batch, Item
from trace.records import void_record

# Clocks on the shop floor drift; a record from further ahead than this is a mistake.
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_BULK = 10_000
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class Recorded:
    """A posted record's id and whether this call created it (False: a retry)."""

    id: int
    event_id: object
    created: bool


def payload_digest(payload: dict) -> str:
    """The fingerprint that tells a harmless retry from a clash on the same event id."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def check_time(value: dt.datetime, field: str = "occurred_at") -> dt.datetime:
    """Refuse times from the future (beyond clock skew) and before the year 2000."""
    if value > utcnow() + MAX_CLOCK_SKEW:
        raise Invalid("a time lies in the future", {field: ["more than 10 minutes ahead"]})
    if value.year < 2000:
        raise Invalid("a time lies too far in the past", {field: ["before the year 2000"]})
    return value


def lookup(session: Session, column, values: Iterable) -> dict:
    """Rows of `column`'s model keyed by that column, for all `values`, a chunk per query."""
    values, found = list(values), {}
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        for row in session.scalars(select(column.class_).where(column.in_(chunk))):
            found[getattr(row, column.key)] = row
    return found


class References:
    """What a post refers to, looked up once for all its records."""

    def __init__(self, session: Session, principal: Principal, records: Sequence[dict]):
        self.session, self.principal = session, principal
        self.items = _items_by_code(
            session, {r["item_code"] for r in records if r.get("item_code")}
        )
        self.batches = lookup(
            session, Batch.id, {r["batch_id"] for r in records if r.get("batch_id")}
        )
        self.stations = lookup(
            session, Station.code, {r["station"] for r in records if r.get("station")}
        )
        self.inspectors = lookup(
            session, Inspector.badge, {r["inspector"] for r in records if r.get("inspector")}
        )

    def subject(self, data: dict) -> tuple[Item | None, Batch | None]:
        """The item (by `item_code`) or the batch (by `batch_id`) a record is about."""
        if data.get("item_code"):
            found = self.items[data["item_code"]]
            if isinstance(found, DomainError):
                raise found
            return found, None
        batch = self.batches.get(data.get("batch_id"))
        if batch is None:
            raise NotFound("no such batch", {"batch_id": ["unknown id"]})
        return None, batch

    def station(self, code: str) -> Station:
        """The station by code, if this caller's key may post for it."""
        station = self.stations.get(code)
        if station is None:
            raise NotFound(f"no station {code!r}", {"station": ["unknown station"]})
        require_station(self.principal, station)
        return station

    def inspector(self, badge: str) -> Inspector:
        inspector = self.inspectors.get(badge)
        if inspector is None:
            raise NotFound(f"no inspector {badge!r}", {"inspector": ["unknown badge"]})
        if not inspector.active:
            raise Conflict(f"inspector {badge!r} is not active", {"inspector": ["not active"]})
        return inspector


def _items_by_code(session: Session, texts: set[str]) -> dict[str, Item | DomainError]:
    """Each posted code mapped to its item, or to the error that says why there is none."""
    result, canonical = {}, {}
    for text in texts:
        try:
            canonical[text] = codes.normalize_code(text)
        except codes.MalformedCode as error:
            result[text] = Invalid("malformed item code", {"item_code": [str(error)]})
    known = lookup(session, Item.code, set(canonical.values()))
    for text, code in canonical.items():
        result[text] = known.get(code) or NotFound("unknown code", {"item_code": ["unknown code"]})
    return result


RowBuilder = Callable[[References, dict, str], dict]


def record_many(
    session: Session,
    principal: Principal,
    model,
    records: Sequence[dict],
    build_row: RowBuilder,
    after_insert: Callable[[Session, list[dict]], None] | None = None,
) -> list[Recorded]:
    """Record `records` of `model` all or nothing; retries come back as they were.

    `build_row(refs, data, digest)` checks one record and returns its row (raising a
    DomainError for a bad one); every bad record is reported by index. New rows go in
    with one INSERT ... RETURNING; `after_insert(session, rows)` sees them with their ids.
    """
    if not 1 <= len(records) <= MAX_BULK:
        raise Invalid("wrong number of records", {"records": [f"1 to {MAX_BULK:,} records"]})
    digests = [payload_digest(data) for data in records]
    refs = References(session, principal, records)
    earlier = lookup(session, model.event_id, {data["event_id"] for data in records})
    new_rows, errors = {}, {}
    for index, (data, digest) in enumerate(zip(records, digests, strict=True)):
        try:
            _check_replay(earlier, new_rows, data, digest)
            if data["event_id"] not in earlier and data["event_id"] not in new_rows:
                new_rows[data["event_id"]] = build_row(refs, data, digest)
        except DomainError as error:
            errors[index] = error
    if errors:
        raise rejected(errors, len(records))
    ids = _insert(session, principal, model, list(new_rows.values()), after_insert)
    return [_result(earlier, ids, data["event_id"]) for data in records]


def _check_replay(earlier: dict, new_rows: dict, data: dict, digest: str) -> None:
    previous = earlier.get(data["event_id"]) or new_rows.get(data["event_id"])
    if previous is None:
        return
    known_digest = getattr(previous, "payload_hash", None) or previous["payload_hash"]
    if known_digest != digest:
        raise Conflict(
            "this event id was already used for a different record",
            {"event_id": ["already used with other content"]},
        )


def _insert(session, principal, model, rows: list[dict], after_insert) -> dict:
    if not rows:
        return {}
    statement = insert(model).returning(model.id, model.event_id, sort_by_parameter_order=True)
    # Keys starting with _ carry data for after_insert (children), not columns.
    values = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]
    ids = {}
    for row, (new_id, event_id) in zip(rows, session.execute(statement, values), strict=True):
        row["id"], ids[event_id] = new_id, new_id
    if after_insert:
        after_insert(session, rows)
    record_audit(
        session,
        actor=principal.actor,
        action=f"{model.__tablename__}.record",
        entity_type=model.__tablename__,
        entity_id=rows[0]["id"] if len(rows) == 1 else None,
        data={"ids": [row["id"] for row in rows]},
    )
    return ids


def _result(earlier: dict, ids: dict, event_id) -> Recorded:
    if event_id in ids:
        return Recorded(ids[event_id], event_id, True)
    return Recorded(earlier[event_id].id, event_id, False)


def rejected(errors: dict[int, DomainError], total: int) -> BulkRejected:
    """One error for a refused bulk post, its status the most telling of the records'."""
    statuses = {error.status for error in errors.values()}
    status = 403 if 403 in statuses else (statuses.pop() if len(statuses) == 1 else 422)
    by_index = {str(i): e.fields or {"_record": [e.message]} for i, e in sorted(errors.items())}
    rejection = BulkRejected(f"{len(errors)} of {total} records were refused", by_index, status)
    rejection.errors = errors
    return rejection


class BulkRejected(DomainError):
    """A bulk post refused whole; `fields` maps each bad index to its field errors."""

    code = "bulk_rejected"

    def __init__(self, message: str, by_index: dict, status: int):
        super().__init__(message, {"records": by_index})
        self.status = status
        self.errors: dict[int, DomainError] = {}


def record_one(record_many_fn, session: Session, principal: Principal, data: dict) -> Recorded:
    """Post one record through a bulk recorder; its error comes back as it is, not by index."""
    try:
        return record_many_fn(session, principal, [data])[0]
    except BulkRejected as rejection:
        raise rejection.errors.get(0, rejection) from None


def require_poster_or_quality(principal: Principal, record) -> None:
    """A record may be voided by whoever posted it, or by quality (admins may do anything)."""
    if principal.actor == record.recorded_by:
        return
    if principal.role not in (Role.quality, Role.admin):
        raise Forbidden("only the record's poster or quality may void it")


def replacing(session: Session, principal: Principal, model, data: dict):
    """The record a posted correction replaces, voided now if it was not yet.

    A correction names the record it replaces (`replaces`, an id of the same kind) and,
    unless that record was voided already, the reason (`void_reason`).
    """
    old = session.get(model, data["replaces"])
    if old is None:
        raise NotFound("the record to replace does not exist", {"replaces": ["unknown id"]})
    require_poster_or_quality(principal, old)
    if session.scalar(select(model.id).where(model.replaces_id == old.id)):
        raise Conflict("that record was already replaced", {"replaces": ["already replaced"]})
    if not old.is_voided:
        void_record(session, principal.actor, old, data.get("void_reason"))
    return old
