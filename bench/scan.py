"""The public scan page under load, against a hello-world Flask view (DESIGN.md §8, issue 5).

Both are served by gunicorn on loopback with the same settings in the same run and
loaded by wrk the same way (bench/loadgen.py), in alternate rounds (loadgen.paired); the
BUDGET lines give the round with the median ratio. The scan page's requests go round
robin over the codes of 2,000 units spread over the table. The scan page runs on an
SQLite database of 1,000,000 items (by default), with trace records behind the units it
asks for: each request judges the scan, tells the unit's story, renders the Chinese page
and hands the scan to the recorder (written in batches).

Budgets: scan_throughput at least 0.4x the hello-world requests/s, scan_p99 at most 50 ms.

The database is built once into bench/out/ (about a minute) and copied for each run, so
reruns start at once and from the same state. Rate limits are set far above the load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sys
import time
import uuid
from pathlib import Path

from budget import ROOT, budget
from loadgen import GUNICORN, LoadResult, gunicorn, paired, wrk

OUT = ROOT / "bench" / "out"
SAMPLED = 2000  # distinct units the load asks for, spread over the whole table
BATCHES = 4  # the items are serialized in this many batches
HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    "User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126 Mobile",
}


# --- the database -------------------------------------------------------------------------


def build_database(path: Path, items: int) -> None:
    """Migrate, serialize `items` in a few batches, and give the sampled units a story."""
    from trace import migrate
    from trace.db import make_engine, make_sessionmaker

    temporary = path.with_suffix(".building")
    for leftover in OUT.glob(temporary.name + "*"):
        leftover.unlink()
    url = f"sqlite:///{temporary}"
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    started = time.perf_counter()
    with sessions() as session:
        batches = _serialize(session, items)
        _stories(session, batches)
        session.commit()
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    temporary.rename(path)
    print(f"built {items:,} items in {time.perf_counter() - started:.1f}s: {path}")


def _serialize(session, items: int) -> list:
    from trace.catalog import services as catalog
    from trace.catalog.models import StationKind
    from trace.production import services as production
    from trace.production.serialization import serialize

    product = catalog.create_product(
        session,
        "bench",
        sku="BENCH-KT",
        name="Electric kettle 1.7 L",
        warranty_months=24,
        public_attributes={"capacity": "1.7 L", "power": "2200 W"},
    )
    line = catalog.create_line(session, "bench", code="BL1", name="Bench line", public_name="A")
    catalog.create_station(
        session, "bench", code="BL1-T", name="Test", line_id=line.id, kind=StationKind.inspection
    )
    catalog.create_inspector(session, "bench", badge="QC-0001", name="Bench Inspector")
    batches = []
    for number in range(BATCHES):
        count = items // BATCHES + (1 if number < items % BATCHES else 0)
        batch = production.open_batch(
            session,
            "bench",
            product_id=product.id,
            lot_number=f"B2026{number:02d}",
            line_id=line.id,
            started_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC) + dt.timedelta(days=number),
        )
        serialize(session, "bench", batch, count=count)
        session.commit()
        batches.append(batch)
    return batches


def _columns() -> dict:
    event_id = uuid.uuid4()
    return {"event_id": event_id, "payload_hash": event_id.hex * 2, "recorded_by": "bench"}


def _stories(session, batches: list) -> None:
    """Batch-level parameters and shipments for every unit; item-level inspections with
    measurements, and repairs for some, for the sampled ones."""
    from sqlalchemy import func, select

    from trace.catalog.models import Inspector, Station
    from trace.logistics.models import Shipment, ShipmentEvent, ShipmentStatus, shipment_batch
    from trace.production.models import Item
    from trace.quality.models import Inspection, InspectionResult, Measurement, ProcessRecord
    from trace.service.models import PartDirection, Repair, RepairOutcome, RepairPart

    station = session.scalar(select(Station))
    inspector = session.scalar(select(Inspector))
    day = dt.timedelta(days=1)
    for batch in batches:
        for name, value, lower, upper in [
            ("Brazing temperature", 836, 820, 850),
            ("Torque", 1.9, 1.5, 2.5),
        ]:
            session.add(
                ProcessRecord(
                    batch_id=batch.id,
                    station_id=station.id,
                    parameter=name,
                    value=value,
                    unit="°C",
                    lower_limit=lower,
                    upper_limit=upper,
                    occurred_at=batch.started_at,
                    is_public=True,
                    **_columns(),
                )
            )
        shipment = Shipment(
            number=f"SH-{batch.lot_number}",
            carrier="SF Express",
            origin="Ningbo plant",
            destination="Shanghai DC",
            consignee="Distributor",
            status=ShipmentStatus.delivered,
            shipped_at=batch.started_at + day,
            delivered_at=batch.started_at + 3 * day,
            **_columns(),
        )
        session.add(shipment)
        session.flush()
        session.execute(shipment_batch.insert().values(shipment_id=shipment.id, batch_id=batch.id))
        session.add(
            ShipmentEvent(
                shipment_id=shipment.id,
                occurred_at=batch.started_at + 2 * day,
                location="Hangzhou hub",
                status=ShipmentStatus.in_transit,
                **_columns(),
            )
        )
    for number, item in enumerate(_sampled_items(session, Item, func)):
        inspection = Inspection(
            item_id=item.id,
            station_id=station.id,
            inspector_id=inspector.id,
            occurred_at=item.produced_at,
            result=InspectionResult.passed,
            is_final=True,
            **_columns(),
        )
        inspection.measurements = [
            Measurement(name="Leakage current", value=0.12, unit="mA", upper_limit=0.75),
            Measurement(name="Earth resistance", value=0.05, unit="Ω", upper_limit=0.1),
        ]
        session.add(inspection)
        if number % 10 == 0:
            repair = Repair(
                item_id=item.id,
                technician="bench",
                received_at=item.produced_at + 30 * day,
                completed_at=item.produced_at + 32 * day,
                symptom="no heat",
                action="Replaced the thermostat",
                outcome=RepairOutcome.repaired,
                under_warranty=True,
                **_columns(),
            )
            repair.parts = [
                RepairPart(direction=PartDirection.removed, part_number="THERM"),
                RepairPart(direction=PartDirection.installed, part_number="THERM"),
            ]
            session.add(repair)
    session.flush()


def _sampled_items(session, Item, func) -> list:
    from sqlalchemy import select

    highest = session.scalar(select(func.max(Item.id)))
    ids = random.Random(5).sample(range(1, highest + 1), min(SAMPLED, highest))
    return list(session.scalars(select(Item).where(Item.id.in_(ids)).order_by(Item.id)))


def sampled_codes(path: Path) -> list[str]:
    """The codes of the units with an item-level story, in a fixed shuffled order."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT code FROM item WHERE id IN (SELECT item_id FROM inspection) ORDER BY id"
        ).fetchall()
    codes = [code for (code,) in rows]
    random.Random(7).shuffle(codes)
    return codes


# --- load ---------------------------------------------------------------------------------


def rotating_paths_script(paths: list[str]) -> str:
    """A wrk script that asks for `paths` round robin, each thread from its own start."""
    listed = ",\n".join(f'  "{path}"' for path in paths)
    return f"""
local paths = {{
{listed}
}}
local next_index = 1
function init(args)
  next_index = math.random(#paths)
end
function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end
"""


def load(base_url: str, paths: list[str], args, label: str):
    """A callable that loads `paths` under `base_url` once (wrk, round robin)."""
    script = rotating_paths_script(paths) if len(paths) > 1 else None

    def run() -> LoadResult:
        result = wrk(
            base_url + paths[0],
            seconds=args.seconds,
            connections=args.connections,
            script=script,
            headers=HEADERS,
        )
        if result.errors:
            raise SystemExit(f"{label}: {result.errors} requests failed")
        return result

    return run


def main() -> None:
    from trace import migrate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--seconds", type=int, default=8, help="seconds of each load")
    # Every scan is recorded: more rounds would leave the units scanned far more often
    # than a customer does (and past the suspicion threshold) by the last of them.
    parser.add_argument("--rounds", type=int, default=3, help="rounds of scan page, hello world")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    cached = OUT / f"scan-{args.items}.db"
    if args.rebuild or not cached.exists():
        build_database(cached, args.items)
    run_db = OUT / "scan-run.db"
    for stale in OUT.glob("scan-run.db*"):
        stale.unlink()
    shutil.copyfile(cached, run_db)  # each run starts with no scans recorded
    migrate.upgrade(f"sqlite:///{run_db}")  # a copy built before the newest migrations
    paths = [f"/s/{code}" for code in sampled_codes(run_db)]

    env = {
        "TRACE_DATABASE_URL": f"sqlite:///{run_db}",
        "TRACE_INSTANCE_PATH": str(OUT / "instance"),
        "TRACE_SECRET_KEY": "bench-secret",
        "TRACE_RATELIMIT_SCANS": "100000000 per minute",
    }
    with (
        gunicorn("hello_world:app", {}, chdir=ROOT / "bench") as hello_url,
        gunicorn("web.app:create_app()", env, chdir=ROOT) as scan_url,
    ):
        rounds = paired(
            load(scan_url, paths, args, "scan"), load(hello_url, ["/"], args, "hello"), args.rounds
        )
    scan, hello = rounds.median
    print(
        f"{' '.join(GUNICORN[3:])}; wrk with {args.connections} connections; "
        f"{args.items:,} items; scan/hello by round "
        + ", ".join(f"{ratio:.2f}" for ratio in rounds.ratios)
        + f"; the median round's: {scan.requests_per_s / hello.requests_per_s:.2f}"
    )
    budget(
        "scan_throughput",
        scan.requests_per_s,
        "requests/s",
        ">=0.4x baseline",
        hello.requests_per_s,
    )
    budget("scan_p99", scan.p99_ms, "ms", "<=50")


if __name__ == "__main__":
    sys.exit(main())
