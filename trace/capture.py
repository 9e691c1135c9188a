"""What every posted trace record goes through: idempotency, references, time sanity, bulk.

A production line retries after network drops, so every record carries a client event id.
Posting the same id with the same content returns the first result and changes nothing;
the same id with other content is a conflict. Bulk posts are all-or-nothing and name the
index and field of every bad record. One record is a bulk of one: there is one path.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import Connection, Table, bindparam, func, insert, literal_column, select
from sqlalchemy.orm import Session

from trace import codes
from trace.audit.services import canonical_json, record_audit
from trace.auth.models import Role
from trace.auth.services import Principal, require_station
from trace.bulk import bulk_insert
from trace.catalog.models import Inspector, Product, Station
from trace.db import Prepared, utcnow
from trace.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from trace.production.models import Batch, Item
from trace.records import void_record

# Clocks on the shop floor drift; a record from further ahead than this is a mistake.
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_BULK = 10_000
LOOKUP_CHUNK = 500


class Recorded(NamedTuple):
    """A posted record's id and whether this call created it (False: a retry).

    A created record comes with `row`, the values written (its builder's row, with id
    and recorded_at): enough to answer with, without reading it back. (A named tuple: a
    bulk post makes 10,000 of them.)
    """

    id: int
    event_id: object
    created: bool
    row: dict | None = None


def payload_digest(payload: dict) -> str:
    """The fingerprint that tells a harmless retry from a clash on the same event id.

    A retry may spell the same record another way (a client built later writes `null`
    where the first post left a field out, or gives a time in another zone): the
    fingerprint is of the content, with no nulls and every time in UTC.
    """
    return _sha256(_content(payload))


def _content(value):
    if type(value) is dict:
        return {key: _content(part) for key, part in value.items() if part is not None}
    if type(value) is list:
        return [_content(part) for part in value]
    if type(value) is dt.datetime:
        return value.astimezone(dt.UTC)
    return value


def _legacy_digest(payload: dict) -> str:
    """The fingerprint as records stored before 2026-12-05 have it: nulls and zones kept."""
    return _sha256(payload)


def _sha256(data) -> str:
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def check_time(value: dt.datetime, field: str = "occurred_at") -> dt.datetime:
    """Refuse times from the future (beyond clock skew) and before the year 2000."""
    if value > utcnow() + MAX_CLOCK_SKEW:
        raise Invalid("a time lies in the future", {field: ["more than 10 minutes ahead"]})
    if value.year < 2000:
        raise Invalid("a time lies too far in the past", {field: ["before the year 2000"]})
    return value


def lookup(session: Session, column, values: Iterable, *, lock: str | None = None) -> dict:
    """Rows of `column`'s model keyed by that column, for all `values`, a chunk per query.

    With `lock` ("update" or "share"), the rows are locked for the rest of the transaction
    (PostgreSQL's FOR UPDATE or FOR SHARE; SQLite's writers take turns anyway), in the
    column's order, and read as committed once the lock is had.
    """
    values, found = sorted(values) if lock else list(values), {}
    for start in range(0, len(values), LOOKUP_CHUNK):
        query = select(column.class_).where(column.in_(values[start : start + LOOKUP_CHUNK]))
        if lock:
            query = query.order_by(column).with_for_update(read=lock == "share")
            query = query.execution_options(populate_existing=True)
        for row in session.scalars(query):
            found[getattr(row, column.key)] = row
    return found


def lookup_rows(connection: Connection, key, columns: tuple, values: Iterable) -> dict:
    """Plain rows of `key` and `columns` (named tuples), keyed by `key`, for all `values`.

    The light form of `lookup`: no ORM objects (a bulk post refers to thousands of items),
    and statements compiled once and sent straight to the driver (trace.db.Prepared).
    """
    values, found = list(values), {}
    if len(values) == 1:
        statement, shape = _one(key, columns)
        found.update(
            (row[0], shape._make(row))
            for row in statement.execute(connection, {"key": values[0]}).rows
        )
        return found
    statement, shape = _many(key, tuple(columns))
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        # Always LOOKUP_CHUNK values, the last repeated: one statement, compiled once
        # (SQLAlchemy would render an IN list anew on every run).
        chunk += chunk[-1:] * (LOOKUP_CHUNK - len(chunk))
        params = dict(zip(_CHUNK_NAMES, chunk, strict=True))
        rows = statement.execute(connection, params).rows
        found.update((row[0], shape._make(row)) for row in rows)
    return found


_CHUNK_NAMES = tuple(f"k{i}" for i in range(LOOKUP_CHUNK))


@functools.cache
def _one(key, columns: tuple) -> tuple:
    statement = select(key, *columns).where(key == bindparam("key"))
    return Prepared(statement), _shape(key, columns)


@functools.cache
def _many(key, columns: tuple) -> tuple:
    keys = [bindparam(name, type_=key.type) for name in _CHUNK_NAMES]
    return Prepared(select(key, *columns).where(key.in_(keys))), _shape(key, columns)


def _shape(key, columns: tuple):
    return namedtuple("Found", [c.key for c in (key, *columns)])


def lookup_each_one(connection: Connection, lookups: Sequence[tuple]) -> list:
    """For each `(key, columns, value)`: the plain row of `key` and `columns` whose unique
    `key` equals `value`, or None; all in one statement.

    A post of one record refers to a station, an inspector and an item, and may repeat an
    earlier post: one statement instead of four, each of which costs more to send than
    to run.
    """
    specs = tuple((key, tuple(columns)) for key, columns, _ in lookups)
    statement, shapes = _each_one(specs)
    values = {f"v{i}": value for i, (_, _, value) in enumerate(lookups)}
    [row], found, start = statement.execute(connection, values).rows, [], 0
    for shape in shapes:
        part = row[start : start + len(shape._fields)]
        found.append(None if part[0] is None else shape._make(part))
        start += len(shape._fields)
    return found


@functools.cache
def _each_one(specs: tuple) -> tuple:
    # SELECT ... FROM (SELECT 1) LEFT JOIN station t0 ON t0.code = :v0 LEFT JOIN ...:
    # one row whatever is found, each table's columns NULL where nothing matched.
    joined, selected, shapes = select(literal_column("1").label("one")).subquery(), [], []
    for i, (key, columns) in enumerate(specs):
        table = key.class_.__table__.alias(f"t{i}")
        wanted = [table.corresponding_column(c.expression) for c in (key, *columns)]
        joined = joined.outerjoin(table, wanted[0] == bindparam(f"v{i}"))
        selected += wanted
        shapes.append(_shape(key, columns))
    return Prepared(select(*selected).select_from(joined)), tuple(shapes)


def _items_by_serial(connection: Connection, sku: str, product_id: int, serials: list[str]):
    """((sku, serial), id) of the product's items with these serials, a chunk per query."""
    for start in range(0, len(serials), LOOKUP_CHUNK):
        query = select(Item.serial, Item.id).where(
            Item.product_id == product_id, Item.serial.in_(serials[start : start + LOOKUP_CHUNK])
        )
        for serial, item_id in connection.execute(query):
            yield (sku, serial), item_id


def _given(records: Sequence[dict], field: str) -> set:
    return {r[field] for r in records if r.get(field)}


STATION_COLUMNS = (Station.id, Station.line_id)
INSPECTOR_COLUMNS = (Inspector.id, Inspector.active)


class References:
    """What a post refers to, looked up once for all its records.

    Stations and inspectors are plain rows (id, line_id; id, active). The subject of a
    record comes as ids (`subject_ids`) or, for checks that need more of it, as the item
    or batch object (`subject`); each kind is looked up on first use, for every record.
    `earlier` holds the records of `model` already posted with these event ids (id,
    payload_hash). A single record's references come in one statement (_look_up_one).
    """

    def __init__(self, session: Session, principal: Principal, records: Sequence[dict], model):
        self.session, self.principal, self.records = session, principal, records
        connection = session.connection()
        if len(records) == 1:
            self._look_up_one(connection, model, records[0])
            return
        self.stations = lookup_rows(
            connection, Station.code, STATION_COLUMNS, _given(records, "station")
        )
        self.inspectors = lookup_rows(
            connection, Inspector.badge, INSPECTOR_COLUMNS, _given(records, "inspector")
        )
        self.earlier = lookup_rows(
            connection,
            model.event_id,
            (model.id, model.payload_hash),
            {data["event_id"] for data in records},
        )

    def _look_up_one(self, connection: Connection, model, data: dict) -> None:
        lookups = {"earlier": (model.event_id, (model.id, model.payload_hash), data["event_id"])}
        if data.get("station"):
            lookups["stations"] = (Station.code, STATION_COLUMNS, data["station"])
        if data.get("inspector"):
            lookups["inspectors"] = (Inspector.badge, INSPECTOR_COLUMNS, data["inspector"])
        if data.get("item_code"):  # as printed; other spellings are left to item_ids
            lookups["item_ids"] = (Item.code, (Item.id,), data["item_code"])
        found = dict(zip(lookups, lookup_each_one(connection, list(lookups.values())), strict=True))
        for name in ("earlier", "stations", "inspectors"):
            row = found.get(name)
            setattr(self, name, {} if row is None else {row[0]: row})
        if found.get("item_ids") is not None:
            self.item_ids = {data["item_code"]: found["item_ids"].id}

    @functools.cached_property
    def items(self) -> dict[str, Item | DomainError]:
        return items_by_code(self.session, _given(self.records, "item_code"))

    @functools.cached_property
    def batches(self) -> dict[int, Batch]:
        return lookup(self.session, Batch.id, _given(self.records, "batch_id"))

    @functools.cached_property
    def item_ids(self) -> dict[str, int | DomainError]:
        # Line software posts codes as printed, canonical: found as they are. Only the
        # others are normalized (case, hyphens, confusables) and looked up once more.
        texts, connection = _given(self.records, "item_code"), self.session.connection()
        exact = lookup_rows(connection, Item.code, (Item.id,), texts)
        result, canonical = _canonical_codes(texts - exact.keys())
        known = lookup_rows(connection, Item.code, (Item.id,), set(canonical.values()))
        for text, code in canonical.items():
            row = known.get(code)
            result[text] = (
                row.id if row else NotFound("unknown code", {"item_code": ["unknown code"]})
            )
        result.update((text, row.id) for text, row in exact.items())
        return result

    @functools.cached_property
    def serial_ids(self) -> dict[tuple[str, str], int | DomainError]:
        """Items given by product SKU and serial: their ids, or why there is none."""
        pairs = {(r["sku"], r["serial"]) for r in self.records if r.get("serial")}
        connection = self.session.connection()
        products = lookup_rows(connection, Product.sku, (Product.id,), {sku for sku, _ in pairs})
        serials: dict[str, set[str]] = {}
        for sku, serial in pairs:
            serials.setdefault(sku, set()).add(serial)
        found: dict[tuple[str, str], int] = {}
        for sku, wanted in serials.items():
            if sku in products:
                found.update(_items_by_serial(connection, sku, products[sku].id, sorted(wanted)))
        unknown_product = NotFound("unknown product", {"sku": ["unknown SKU"]})
        unknown_serial = NotFound("unknown serial", {"serial": ["no item of this SKU"]})
        return {
            pair: found.get(pair) or (unknown_serial if pair[0] in products else unknown_product)
            for pair in pairs
        }

    @functools.cached_property
    def batch_ids(self) -> set[int]:
        batch_ids = _given(self.records, "batch_id")
        return set(lookup_rows(self.session.connection(), Batch.id, (), batch_ids))

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

    def subject_ids(self, data: dict) -> tuple[int | None, int | None]:
        """The ids of what a record is about: (item id, None) for an item by code or by
        SKU and serial, or (None, batch id)."""
        if data.get("item_code"):
            found = self.item_ids[data["item_code"]]
        elif data.get("serial"):
            found = self.serial_ids[(data["sku"], data["serial"])]
        elif data.get("batch_id") in self.batch_ids:
            return None, data["batch_id"]
        else:
            raise NotFound("no such batch", {"batch_id": ["unknown id"]})
        if isinstance(found, DomainError):
            raise found
        return found, None

    def station(self, code: str):
        """The station (id, line_id) by code, if this caller's key may post for it."""
        station = self.stations.get(code)
        if station is None:
            raise NotFound(f"no station {code!r}", {"station": ["unknown station"]})
        require_station(self.principal, station)
        return station

    def posting_station(self, data: dict):
        """The station a record names (or None), if this caller's key may post there; a
        key bound to a line or station must name one."""
        if data.get("station"):
            return self.station(data["station"])
        if self.principal.station_id is not None or self.principal.line_id is not None:
            raise Forbidden(
                "this key is bound to a line or station: name the station",
                {"station": ["required for this key"]},
            )
        return None

    def inspector(self, badge: str):
        """The inspector (id, active) by badge, if still active."""
        inspector = self.inspectors.get(badge)
        if inspector is None:
            raise NotFound(f"no inspector {badge!r}", {"inspector": ["unknown badge"]})
        if not inspector.active:
            raise Conflict(f"inspector {badge!r} is not active", {"inspector": ["not active"]})
        return inspector


def items_by_code(session: Session, texts: set[str]) -> dict[str, Item | DomainError]:
    """Each posted code mapped to its item, or to the error that says why there is none."""
    result, canonical = _canonical_codes(texts)
    known = lookup(session, Item.code, set(canonical.values()))
    for text, code in canonical.items():
        result[text] = known.get(code) or NotFound("unknown code", {"item_code": ["unknown code"]})
    return result


def _canonical_codes(texts: set[str]) -> tuple[dict[str, DomainError], dict[str, str]]:
    """Malformed codes mapped to their errors, and the others to their canonical form."""
    errors, canonical = {}, {}
    for text in texts:
        try:
            canonical[text] = codes.normalize_code(text)
        except codes.MalformedCode as error:
            errors[text] = Invalid("malformed item code", {"item_code": [str(error)]})
    return errors, canonical


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
    together (see insert_records); `after_insert(session, rows)` sees them with their ids.
    """
    if not 1 <= len(records) <= MAX_BULK:
        raise Invalid("wrong number of records", {"records": [f"1 to {MAX_BULK:,} records"]})
    session.flush()  # the lookups read through the connection, past the session
    digests = [payload_digest(data) for data in records]
    refs = References(session, principal, records, model)
    earlier = refs.earlier
    stationed = "station_id" in model.__table__.c
    new_rows, errors, replaced = {}, {}, set()
    for index, (data, digest) in enumerate(zip(records, digests, strict=True)):
        event_id = data["event_id"]
        try:
            previous = earlier.get(event_id) or new_rows.get(event_id)
            if previous is None:
                _check_replaced_once(replaced, data)
                row = build_row(refs, data, digest)
                row["_index"] = index
                new_rows[event_id] = row
            else:
                # A retry is answered to a key that may post the record, and to no other
                # (a bound key would otherwise read another station's record back).
                if stationed:
                    refs.posting_station(data)
                _check_replay(previous, digest, data)
        except DomainError as error:
            errors[index] = error
    if errors:
        raise rejected(errors, len(records))
    try:
        _insert(session, principal, model, list(new_rows.values()), after_insert)
    except RowsRefused as refused:
        raise rejected(refused.errors, len(records)) from None
    # A record repeated within the post is a retry of its first occurrence.
    answered: set = set()
    results = []
    for data in records:
        event_id = data["event_id"]
        results.append(_result(earlier, new_rows, event_id, first=event_id not in answered))
        answered.add(event_id)
    return results


class RowsRefused(Exception):
    """What an `after_insert` hook raises to refuse rows that only the insert could show
    wrong: by the index of their record (row["_index"]), answered as a bulk refusal."""

    def __init__(self, errors: dict[int, DomainError]):
        super().__init__(errors)
        self.errors = errors


def _check_replaced_once(replaced: set, data: dict) -> None:
    """Two corrections of one record in one post: the second is refused by name (the
    database would refuse it too, but only as an anonymous clash at the end)."""
    old = data.get("replaces")
    if old is None:
        return
    if old in replaced:
        raise Conflict(
            "another record of this post already replaces that record",
            {"replaces": ["replaced twice in this post"]},
        )
    replaced.add(old)


def _check_replay(previous, digest: str, data: dict) -> None:
    """A retry (an earlier record, or one earlier in this post) must say the same."""
    known_digest = getattr(previous, "payload_hash", None) or previous["payload_hash"]
    if known_digest != digest and known_digest != _legacy_digest(data):
        raise Conflict(
            "this event id was already used for a different record",
            {"event_id": ["already used with other content"]},
        )


def _insert(session, principal, model, rows: list[dict], after_insert) -> None:
    """Insert the new rows, giving each its id and recorded_at; their children; the audit."""
    if not rows:
        return
    session.flush()  # a correction voids the record it replaces through the session
    recorded_at = utcnow()  # one post, one moment; and the answer knows it without a read
    for row in rows:
        row["recorded_at"] = recorded_at
    # Keys starting with _ carry data for after_insert (children), not columns.
    names = [key for key in rows[0] if not key.startswith("_")]
    new_ids = insert_records(session.connection(), model.__table__, names, rows)
    for row, new_id in zip(rows, new_ids, strict=True):
        row["id"] = new_id
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


def insert_records(
    connection: Connection, table: Table, names: list[str], rows: list[dict]
) -> list[int]:
    """Insert the `names` columns of `rows` (other keys are left out) and return the new
    rows' ids, in the order given."""
    if len(rows) == 1 and not _needs_defaults(table, names):
        return [_insert_one(table, tuple(names)).execute(connection, rows[0]).rows[0][0]]
    if len(rows) == 1 or connection.dialect.name != "sqlite":
        values = [{name: row[name] for name in names} for row in rows]
        if len(values) == 1:
            return [connection.scalar(_returning_statement(table), values[0])]
        return list(connection.scalars(_returning_statement(table), values))
    # SQLite cannot say in which order INSERT ... RETURNING hands back many rows, so
    # SQLAlchemy would send one statement a row. SQLite gives a new row max(id) + 1
    # anyway, and no one else can take those ids meanwhile: a write transaction holds the
    # only write lock (BEGIN IMMEDIATE), and one that began as a read fails rather than
    # write over another's commit. So the ids are taken here, and the rows go to the
    # driver's executemany with each column's values converted by its type, as
    # SQLAlchemy's own executemany would, without its bookkeeping for every row.
    first = (connection.scalar(_max_id_statement(table)) or 0) + 1
    ids = range(first, first + len(rows))
    if _needs_defaults(table, names):
        values = [
            {name: row[name] for name in names} | {"id": i}
            for row, i in zip(rows, ids, strict=True)
        ]
        connection.execute(_insert_statement(table), values)
        return list(ids)
    columns = [_converted(connection, table.c[name], [row[name] for row in rows]) for name in names]
    bulk_insert(connection, table, [*names, "id"], zip(*columns, ids, strict=True))
    return list(ids)


def _needs_defaults(table: Table, names: list[str]) -> bool:
    return _left_out_defaults(table, tuple(names))


@functools.cache
def _left_out_defaults(table: Table, names: tuple[str, ...]) -> bool:
    # Columns left out whose default SQLAlchemy computes: only its own insert applies it.
    return any(column.default is not None for column in table.columns if column.key not in names)


def _converted(connection: Connection, column, values: list) -> list:
    """The column's values as its type binds them, each distinct value converted once."""
    dialect = connection.dialect
    convert = column.type.dialect_impl(dialect).bind_processor(dialect)
    if convert is None:
        return values
    # Rows of a post share many values (its moment, its stations, a handful of results).
    done = {}
    try:
        return [
            done[value] if value in done else done.setdefault(value, convert(value))
            for value in values
        ]
    except TypeError:  # unhashable values (JSON documents: most are []): keyed by repr
        # Two documents of JSON's types with the same repr serialize alike.
        by_repr = {}
        return [
            by_repr[key]
            if (key := repr(value)) in by_repr
            else by_repr.setdefault(key, convert(value))
            for value in values
        ]


@functools.cache
def _max_id_statement(table: Table):
    return select(func.max(table.c.id))


@functools.cache
def _insert_statement(table: Table):
    return insert(table)


@functools.cache
def _insert_one(table: Table, names: tuple[str, ...]) -> Prepared:
    # A single record's insert, the statement a single post runs most.
    values = {name: bindparam(name, type_=table.c[name].type) for name in names}
    return Prepared(insert(table).values(values).returning(table.c.id))


@functools.cache
def _returning_statement(table: Table):
    return insert(table).returning(table.c.id, sort_by_parameter_order=True)


def _result(earlier: dict, new_rows: dict, event_id, first: bool) -> Recorded:
    row = new_rows.get(event_id)
    if row is not None:
        return Recorded(row["id"], event_id, first, row)
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
        void_record(
            session, principal.actor, old, data.get("void_reason"), reason_field="void_reason"
        )
    return old
