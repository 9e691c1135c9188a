"""Serializing a batch: giving each unit a serial and an unguessable code, all or nothing.

Built for factory scale: rows go in with Core executemany in bounded chunks inside the
caller's single transaction, so a million items take seconds, memory stays flat, and a
process killed midway leaves nothing behind (nothing is committed here).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace import codes
from trace.audit.services import audit_write
from trace.bulk import bulk_insert
from trace.capture import check_time
from trace.db import utcnow
from trace.errors import Conflict, Invalid
from trace.production.models import Batch, BatchStatus, Item, ItemStatus
from trace.production.serials import DEFAULT_FORMAT, check_serial, compile_format

MAX_ITEMS_PER_CALL = 1_000_000
CHUNK = 10_000
SERIALIZABLE = frozenset({BatchStatus.open, BatchStatus.released})
MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True)
class Serialized:
    batch_id: int
    count: int
    first_serial: str | None
    last_serial: str | None


def serialize(
    session: Session,
    actor: str,
    batch: Batch,
    *,
    count: int | None = None,
    serials: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    produced_at: dt.datetime | None = None,
) -> Serialized:
    """Create `count` items with generated serials, or one item per serial in `serials`.

    `produced_at` dates the units when they are registered after the fact (a line's
    buffer uploaded later); it defaults to now and may not lie in the future.
    """
    _check_batch(batch)
    produced_at = check_time(produced_at, "produced_at") if produced_at else utcnow()
    if (count is None) == (serials is None):
        raise Invalid("give either a count or a list of serials", {"count": ["count or serials"]})
    if serials is not None:
        _check_serials(session, batch, serials)
        chunks = _chunks(serials)
    else:
        _check_count(count)
        chunks = _generated(batch, count)
        batch.serial_sequence += count
    written, first, last = _insert(session, batch, chunks, progress, produced_at)
    audit_write(
        session,
        actor,
        "batch.serialize",
        batch,
        {"count": written, "first_serial": first, "last_serial": last},
    )
    return Serialized(batch.id, written, first, last)


def _check_batch(batch: Batch) -> None:
    if batch.status not in SERIALIZABLE:
        raise Conflict(
            f"a batch that is {batch.status.value} cannot be serialized",
            {"status": [f"must be open or released, not {batch.status.value}"]},
        )


def _check_count(count: int) -> None:
    if (
        not isinstance(count, int)
        or isinstance(count, bool)
        or not 1 <= count <= MAX_ITEMS_PER_CALL
    ):
        raise Invalid(
            "count out of range", {"count": [f"between 1 and {MAX_ITEMS_PER_CALL:,} per call"]}
        )


def _generated(batch: Batch, count: int) -> Iterator[list[str]]:
    """The serials' chunks; checked now (first and last serial), made lazily."""
    make = compile_format(batch.product.serial_format or DEFAULT_FORMAT)(
        batch.lot_number, (batch.started_at or utcnow()).year
    )
    start = batch.serial_sequence + 1
    end = start + count
    for serial in (make(start), make(end - 1)):
        if problem := check_serial(serial):
            raise Invalid(
                f"the serial scheme makes {serial!r}: {problem}",
                {"serial_format": [f"{serial!r}: {problem}; change the product's serial_format"]},
            )
    return (
        list(map(make, range(chunk, min(chunk + CHUNK, end)))) for chunk in range(start, end, CHUNK)
    )


def _check_serials(session: Session, batch: Batch, serials: list[str]) -> None:
    if not 1 <= len(serials) <= MAX_ITEMS_PER_CALL:
        raise Invalid("serials out of range", {"serials": [f"1 to {MAX_ITEMS_PER_CALL:,} serials"]})
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for index, serial in enumerate(serials):
        problem = check_serial(serial) if isinstance(serial, str) else "not a string"
        if problem is None and serial in seen:
            problem = f"duplicate of index {seen[serial]}"
        if problem:
            errors[str(index)] = [problem]
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
        else:  # only a serial that is one: a list or an object cannot be a key
            seen.setdefault(serial, index)
    if errors:
        raise Invalid("some serials cannot be used", {"serials": errors})
    _refuse_existing(session, batch.product_id, serials)


def _refuse_existing(session: Session, product_id: int, serials: list[str]) -> None:
    taken = []
    for chunk in _chunks(serials, 500):
        query = select(Item.serial).where(Item.product_id == product_id, Item.serial.in_(chunk))
        taken += session.scalars(query).all()
        if len(taken) >= MAX_REPORTED_ERRORS:
            break
    if taken:
        index = {serial: i for i, serial in enumerate(serials)}
        fields = {str(index[s]): ["serial already exists for this product"] for s in taken}
        raise Conflict("some serials already exist for this product", {"serials": fields})


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# A million items dirty ~140 MB of pages in one transaction; past the cache SQLite spills
# them to the log mid-transaction and writes them twice. A larger cache, for this
# transaction only and still bounded, keeps them in memory until the commit.
SQLITE_SERIALIZE_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def _roomy_cache(connection):
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_SERIALIZE_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _insert(session: Session, batch: Batch, chunks: Iterable[list[str]], progress, produced_at):
    connection = session.connection()
    with _roomy_cache(connection):
        return _insert_chunks(connection, batch, chunks, progress, produced_at)


def _insert_chunks(connection, batch: Batch, chunks: Iterable[list[str]], progress, produced_at):
    table = Item.__table__
    constants = {
        "product_id": batch.product_id,
        "batch_id": batch.id,
        "status": ItemStatus.produced,
        "produced_at": produced_at,
    }
    written, first, last = 0, None, None
    for serials in chunks:
        rows = zip(serials, codes.new_codes(len(serials)), strict=True)
        bulk_insert(connection, table, ("serial", "code"), rows, constants)
        written += len(serials)
        first, last = first or serials[0], serials[-1]
        if progress:
            progress(written)
    return written, first, last


def parse_serial_csv(text: str) -> list[str]:
    """Serials from the manufacturer's CSV: a `serial` column, or the first column.

    Every problem is reported with its line number (duplicates, bad characters, lengths),
    so the file can be fixed in one pass.
    """
    rows = list(csv.reader(io.StringIO(text)))
    column, start = _serial_column(rows)
    serials, errors, seen = [], {}, {}
    for line_number, row in enumerate(rows[start:], start=start + 1):
        if not row or not "".join(row).strip():
            continue
        serial = row[column].strip() if column < len(row) else ""
        problem = check_serial(serial)
        if problem is None and serial in seen:
            problem = f"duplicate of line {seen[serial]}"
        if problem:
            errors[f"line {line_number}"] = [f"{serial!r}: {problem}"]
        seen.setdefault(serial, line_number)
        serials.append(serial)
    if errors:
        raise Invalid("the CSV has serials that cannot be used", {"csv": errors})
    if not serials:
        raise Invalid("the CSV has no serials", {"csv": ["empty"]})
    return serials


def _serial_column(rows: list[list[str]]) -> tuple[int, int]:
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "serial" in header:
        return header.index("serial"), 1
    return 0, 0
