"""The full history of one item, read from a factory-sized SQLite database.

Budget (DESIGN.md §8, issue 4): under 10 ms median for one item's whole history with
1,000,000 items and 5,000,000 trace records in the database. No same-run baseline: the
figure is absolute, taken on the machine at hand.

The data set (built once, cached under bench/out/, rebuilt with --rebuild): the real
migrations, then rows written straight with trace/bulk.py in chunks of CHUNK, in the order
a factory would write them (so ids and dates grow together), with time-ordered event ids
(the first half counts up, as UUIDv7 client ids do). For --items N (default 1,000,000):

- 4 products (2 with a GTIN), 2 lines, 8 stations, 20 inspectors, 2,000 material lots;
  N/1,000 batches of 1,000 items, 2 material lots each; one batch in ten held and
  released again (real audit entries, through the domain);
- inspections: 2 or 3 per item (2.4 N; in one item of 50 the third is a correction that
  voids and replaces the second), 5 sampling inspections per batch; one measurement on
  each item's first inspection;
- process records: 1 or 2 per item (1.9 N), 50 per batch (the oven's log);
- shipments: one per 10 items (0.1 N), every item in one; 5 logistics events each (0.5 N),
  delivery confirmed;
- repairs: 45 in 1,000 items, one part each; genealogy rows for a tenth of the items
  (every tenth of those a tracked unit); complaints for 1 in 100 items;
- the audit trail: N entries of capture posts (a real hash chain), as the capture API
  writes them, so finding a batch's status changes needs its index.

That is 5.0 N trace records: 2.405 N inspections, 1.95 N process records, 0.1 N
shipments, 0.5 N shipment events, 0.045 N repairs. Timed: for --samples random items
(seeded), in a fresh session each, looking the item up by its code and reading its whole
history (the API's work less HTTP and JSON), after a warm-up. Every item's story then has
about 70 events, most of them its batch's oven log. The database file is about 2 GB;
reads come from the OS page cache once it is warm (the build leaves it warm).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from pathlib import Path

from budget import ROOT, budget

OUT = ROOT / "bench" / "out"
CHUNK = 50_000
BATCH_SIZE = 1_000
SHIPMENT_SIZE = 10
BATCH_PROCESS_RECORDS = 50
SAMPLING_INSPECTIONS = 5
EVENTS_PER_SHIPMENT = 5
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _made(item_id: int) -> dt.datetime:
    """When the item was made: one every 30 seconds, batch after batch."""
    return START + dt.timedelta(seconds=30 * item_id)


def _when(moment: dt.datetime) -> str:
    """A time as SQLite stores our UTC datetimes (naive, microseconds)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class EventIds:
    """Client event ids as the driver stores them (32 hex digits), ordered by time."""

    def __init__(self, rng: random.Random):
        self.rng, self.n = rng, 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.n:016x}{self.rng.getrandbits(64):016x}"


class Writer:
    """Rows of one table, sent with bulk_insert every CHUNK rows; the rows of `parent` (the
    table this one refers to) go first, so foreign keys always find their row."""

    def __init__(self, connection, table, columns, constants=None, parent=None):
        self.connection, self.table, self.columns = connection, table, columns
        self.constants, self.parent, self.rows, self.count = constants or {}, parent, [], 0

    def add(self, *row) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        from trace.bulk import bulk_insert

        if self.parent is not None:
            self.parent.flush()
        if self.rows:
            bulk_insert(self.connection, self.table, self.columns, self.rows, self.constants)
            self.count += len(self.rows)
            self.rows = []


def _catalog(session, batches: int) -> dict:
    from trace.catalog import services as catalog
    from trace.catalog.models import StationKind
    from trace.production import services as production
    from trace.production.models import BatchStatus

    products = [
        catalog.create_product(
            session, "bench", sku=f"HB-{n}", name=f"Kettle {n}", gtin=gtin, warranty_months=24
        )
        for n, gtin in enumerate(["09506000134352", None, "09506000134369", None])
    ]
    lines = [catalog.create_line(session, "bench", code=f"HL{n}", name=f"Line {n}") for n in (1, 2)]
    stations = [
        catalog.create_station(
            session,
            "bench",
            code=f"HS{n}",
            name=f"Station {n}",
            line_id=lines[n % 2].id,
            kind=StationKind.inspection if n < 4 else StationKind.process,
        )
        for n in range(8)
    ]
    inspectors = [
        catalog.create_inspector(session, "bench", badge=f"HQ{n}", name=f"Inspector {n}")
        for n in range(20)
    ]
    lots = [
        catalog.create_material_lot(
            session,
            "bench",
            part_number=f"P{n % 40}",
            supplier="Bench supplier",
            supplier_lot=f"SL{n}",
            received_on=dt.date(2025, 12, 1),
        )
        for n in range(2 * batches)
    ]
    created = []
    for b in range(batches):
        batch = production.open_batch(
            session,
            "bench",
            product_id=products[b % 4].id,
            lot_number=f"HB{b:05d}",
            line_id=lines[b % 2].id,
            planned_quantity=BATCH_SIZE,
            material_lot_ids=[lots[2 * b].id, lots[2 * b + 1].id],
        )
        created.append(batch)
        if b % 10 == 0:
            production.change_batch_status(session, "bench", batch, BatchStatus.on_hold, "check")
            production.change_batch_status(session, "bench", batch, BatchStatus.released)
    session.commit()
    return {
        "products": [(p.id, p.sku) for p in products],
        "batches": [(b.id, b.product_id) for b in created],
        "stations": [s.id for s in stations],
        "inspectors": [i.id for i in inspectors],
    }


def _items(connection, world: dict, count: int) -> list[str]:
    from trace import codes
    from trace.production.models import Item

    writer = Writer(
        connection,
        Item.__table__,
        ["id", "product_id", "batch_id", "serial", "code", "status", "produced_at"],
    )
    codes_made = []
    for batch_no, (batch_id, product_id) in enumerate(world["batches"]):
        first = batch_no * BATCH_SIZE
        for offset, code in enumerate(codes.new_codes(min(BATCH_SIZE, count - first))):
            item_id = first + offset + 1
            produced = _made(item_id)
            writer.add(
                item_id,
                product_id,
                batch_id,
                f"HB{batch_no:05d}-{offset:04d}",
                code,
                "produced",
                _when(produced),
            )
            codes_made.append(code)
    writer.flush()
    return codes_made


def _inspections(connection, world: dict, count: int, ids: EventIds) -> int:
    from trace.quality.models import Inspection, Measurement

    columns = [
        "id",
        "event_id",
        "item_id",
        "batch_id",
        "station_id",
        "inspector_id",
        "occurred_at",
        "result",
        "is_final",
        "defect_codes",
        "recorded_at",
        "voided_at",
        "void_reason",
        "voided_by",
        "replaces_id",
    ]
    constants = {"payload_hash": "x", "recorded_by": "bench"}
    writer = Writer(connection, Inspection.__table__, columns, constants)
    measurements = Writer(
        connection,
        Measurement.__table__,
        ["inspection_id", "value"],
        {"name": "leak_current", "unit": "mA", "upper_limit": 0.5},
        parent=writer,
    )
    stations, inspectors, next_id = world["stations"][:4], world["inspectors"], 0
    for item_id in range(1, count + 1):
        made = _made(item_id)
        rounds = 3 if item_id % 5 < 2 else 2
        for n in range(rounds):
            next_id += 1
            at = _when(made + dt.timedelta(minutes=10 * (n + 1)))
            voided = rounds == 3 and n == 1 and item_id % 50 == 0  # corrected by the third
            replaces = next_id - 1 if rounds == 3 and n == 2 and item_id % 50 == 0 else None
            result = "fail" if n == 0 and item_id % 7 == 0 else "pass"
            writer.add(
                next_id,
                ids(),
                item_id,
                None,
                stations[n % 4],
                inspectors[item_id % 20],
                at,
                result,
                int(n == rounds - 1),
                "[]",
                at,
                at if voided else None,
                "wrong station" if voided else None,
                "bench" if voided else None,
                replaces,
            )
            if n == 0:
                measurements.add(next_id, 0.2 + (item_id % 5) / 10)
    for b, (batch_id, _) in enumerate(world["batches"]):
        for n in range(SAMPLING_INSPECTIONS):
            next_id += 1
            at = _when(_made(b * BATCH_SIZE) + dt.timedelta(minutes=100 * n))
            writer.add(
                next_id,
                ids(),
                None,
                batch_id,
                stations[0],
                inspectors[0],
                at,
                "pass",
                0,
                "[]",
                at,
                None,
                None,
                None,
                None,
            )
    writer.flush()
    measurements.flush()
    return writer.count


def _process_records(connection, world: dict, count: int, ids: EventIds) -> int:
    from trace.quality.models import ProcessRecord

    columns = [
        "event_id",
        "item_id",
        "batch_id",
        "station_id",
        "parameter",
        "value",
        "lower_limit",
        "upper_limit",
        "occurred_at",
        "recorded_at",
    ]
    constants = {"payload_hash": "x", "recorded_by": "bench", "unit": "°C", "is_public": False}
    writer = Writer(connection, ProcessRecord.__table__, columns, constants)
    stations = world["stations"][4:]
    for item_id in range(1, count + 1):
        at = _when(_made(item_id) + dt.timedelta(seconds=20))
        for n in range(1 if item_id % 10 == 0 else 2):
            writer.add(
                ids(),
                item_id,
                None,
                stations[n],
                "solder_temp",
                245.0 + item_id % 9,
                240.0,
                250.0,
                at,
                at,
            )
    for b, (batch_id, _) in enumerate(world["batches"]):
        for n in range(BATCH_PROCESS_RECORDS):
            at = _when(_made(b * BATCH_SIZE) + dt.timedelta(minutes=10 * n))
            writer.add(
                ids(),
                None,
                batch_id,
                stations[2],
                "oven_temp",
                220.0 + n % 13,
                210.0,
                230.0,
                at,
                at,
            )
    writer.flush()
    return writer.count


def _shipments(connection, count: int, ids: EventIds) -> tuple[int, int]:
    from trace.logistics.models import Shipment, ShipmentEvent, ShipmentItem

    constants = {
        "payload_hash": "x",
        "recorded_by": "bench",
        "carrier": "SF Express",
        "origin": "Ningbo plant",
        "destination": "Shanghai DC",
        "consignee": "Shanghai DC",
        "status": "delivered",
    }
    shipments = Writer(
        connection,
        Shipment.__table__,
        [
            "id",
            "event_id",
            "number",
            "tracking_number",
            "shipped_at",
            "delivered_at",
            "recorded_at",
        ],
        constants,
    )
    carried = Writer(
        connection,
        ShipmentItem.__table__,
        ["shipment_id", "item_id"],
        {"open": False},
        parent=shipments,
    )
    events = Writer(
        connection,
        ShipmentEvent.__table__,
        ["event_id", "shipment_id", "occurred_at", "status", "location", "recorded_at"],
        {"payload_hash": "x", "recorded_by": "bench"},
        parent=shipments,
    )
    statuses = ["shipped", "in_transit", "in_transit", "in_transit", "delivered"]
    for shipment_id in range(1, count // SHIPMENT_SIZE + 1):
        first_item = (shipment_id - 1) * SHIPMENT_SIZE + 1
        shipped = _made(first_item) + dt.timedelta(days=3)
        delivered = shipped + dt.timedelta(hours=30)
        shipments.add(
            shipment_id,
            ids(),
            f"SH{shipment_id:08d}",
            f"SF{shipment_id:012d}",
            _when(shipped),
            _when(delivered),
            _when(shipped),
        )
        for item_id in range(first_item, first_item + SHIPMENT_SIZE):
            carried.add(shipment_id, item_id)
        for n, status in enumerate(statuses):
            at = _when(shipped + dt.timedelta(hours=7.5 * n))
            events.add(ids(), shipment_id, at, status, f"Hub {n}", at)
    for writer in (shipments, carried, events):
        writer.flush()
    return shipments.count, events.count


def _service(connection, count: int, ids: EventIds, rng: random.Random) -> int:
    from trace.complaints.models import Complaint
    from trace.production.models import ItemComponent
    from trace.service.models import Repair, RepairPart

    repairs = Writer(
        connection,
        Repair.__table__,
        ["id", "event_id", "item_id", "received_at", "completed_at", "recorded_at"],
        {
            "payload_hash": "x",
            "recorded_by": "bench",
            "technician": "T1",
            "symptom": "does not heat",
            "outcome": "repaired",
            "under_warranty": True,
        },
    )
    parts = Writer(
        connection,
        RepairPart.__table__,
        ["repair_id", "serial"],
        {"direction": "installed", "part_number": "HEAT-ELEM"},
        parent=repairs,
    )
    components = Writer(
        connection,
        ItemComponent.__table__,
        ["item_id", "component_item_id", "serial", "installed_at"],
        {"part_number": "PUMP-7"},
    )
    complaints = Writer(
        connection,
        Complaint.__table__,
        ["reference", "token_hash", "item_id", "created_at"],
        {
            "channel": "web",
            "category": "function",
            "severity": "medium",
            "description": "stopped working",
            "status": "received",
        },
    )
    repair_id = 0
    for item_id in range(1, count + 1):
        made = _made(item_id)
        if item_id % 1000 < 45:
            repair_id += 1
            received = made + dt.timedelta(days=60)
            repairs.add(
                repair_id,
                ids(),
                item_id,
                _when(received),
                _when(received + dt.timedelta(days=2)),
                _when(received),
            )
            parts.add(repair_id, f"HE{repair_id:07d}")
        if item_id % 10 == 3:
            tracked = item_id + 1 if item_id % 100 == 3 and item_id < count else None
            components.add(item_id, tracked, f"P{item_id:08d}", _when(made))
        if item_id % 100 == 7:
            complaints.add(
                f"C{item_id:09d}",
                f"{rng.getrandbits(128):032x}",
                item_id,
                _when(made + dt.timedelta(days=90)),
            )
    for writer in (repairs, parts, components, complaints):
        writer.flush()
    return repairs.count


def _audit_trail(session, count: int) -> None:
    """`count` entries as capture posts write them, chained onto the head."""
    from trace.audit.models import AuditEntry, AuditHead
    from trace.audit.services import HEAD_ID, canonical_json, entry_hash

    head = session.get(AuditHead, HEAD_ID)
    seq, previous = head.seq, head.hash
    writer = Writer(
        session.connection(),
        AuditEntry.__table__,
        ["seq", "occurred_at", "entity_id", "data", "prev_hash", "hash"],
        {"actor": "key:bench", "action": "inspection.record", "entity_type": "inspection"},
    )
    for n in range(count):
        seq += 1
        moment = START + dt.timedelta(seconds=n)
        data = canonical_json({"ids": [n + 1]})
        digest = entry_hash(
            previous, seq, moment, "key:bench", "inspection.record", "inspection", str(n + 1), data
        )
        writer.add(seq, _when(moment), str(n + 1), data, previous, digest)
        previous = digest
    writer.flush()
    head.seq, head.hash = seq, previous


def build(path: Path, count: int, seed: int = 2026) -> dict:
    from sqlalchemy import event

    from trace import migrate
    from trace.db import make_engine, make_sessionmaker

    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    # A data set that is rebuilt when lost needs no durability while it is written.
    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA synchronous = OFF"))
    rng, ids = random.Random(seed), EventIds(random.Random(seed))
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        world = _catalog(session, -(-count // BATCH_SIZE))
        sizes = {"items": len(_items(session.connection(), world, count))}
        session.commit()
        sizes["inspections"] = _inspections(session.connection(), world, count, ids)
        session.commit()
        sizes["process_records"] = _process_records(session.connection(), world, count, ids)
        session.commit()
        sizes["shipments"], sizes["shipment_events"] = _shipments(session.connection(), count, ids)
        session.commit()
        sizes["repairs"] = _service(session.connection(), count, ids, rng)
        session.commit()
        _audit_trail(session, count)
        session.commit()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    sizes["trace_records"] = sum(
        sizes[k]
        for k in ("inspections", "process_records", "shipments", "shipment_events", "repairs")
    )
    sizes["build_seconds"] = round(time.perf_counter() - started, 1)
    return sizes


def measure(path: Path, samples: int, seed: int = 7) -> dict:
    from sqlalchemy import func, select

    from trace.db import make_engine, make_sessionmaker
    from trace.history import item_history
    from trace.production.models import Item
    from trace.production.services import find_item_by_code

    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        total = session.scalar(select(func.max(Item.id)))
        rng = random.Random(seed)
        picked = rng.sample(range(1, total + 1), samples + 20)
        codes = dict(session.execute(select(Item.id, Item.code).where(Item.id.in_(picked))).all())
    timings, sizes = [], []
    for n, item_id in enumerate(picked):
        with sessions() as session:
            started = time.perf_counter()
            item = find_item_by_code(session, codes[item_id])
            events = item_history(session, item)
            elapsed = time.perf_counter() - started
        if n >= 20:  # the first ones warm the connection pool and statement caches
            timings.append(elapsed * 1000)
            sizes.append(len(events))
    engine.dispose()
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p99_ms": timings[min(len(timings) - 1, int(len(timings) * 0.99))],
        "events_median": statistics.median(sizes),
        "events_max": max(sizes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true", help="build the data set anew")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"history-{args.items}.db"
    manifest = path.with_suffix(".json")
    if args.rebuild or not manifest.exists():
        manifest.unlink(missing_ok=True)
        sizes = build(path, args.items)
        manifest.write_text(json.dumps(sizes, indent=2))
    sizes = json.loads(manifest.read_text())
    from trace import migrate

    migrate.upgrade(f"sqlite:///{path}")  # a data set built before the newest migrations
    print(f"data set {path.name}: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    result = measure(path, args.samples)
    print(
        f"item history over {args.samples} random items: median {result['median_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms; events per item median {result['events_median']:.0f}, "
        f"max {result['events_max']}"
    )
    budget("history_median", result["median_ms"], "ms", "<10")


if __name__ == "__main__":
    main()
