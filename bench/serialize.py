"""Serializing a batch at factory scale, against a bare Core executemany of the same rows.

Each measurement runs in a fresh child process on a freshly migrated database, so peak
memory is that of serialization alone. Budgets (DESIGN.md §8, issue 3): at least
100,000 items/s on SQLite and at least 0.5x the bare insert; memory bounded.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from budget import ROOT, budget, peak_rss_mb

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1/postgres"


def _prepare(url: str):
    from trace import migrate
    from trace.catalog import services as catalog
    from trace.db import make_engine, make_sessionmaker
    from trace.production import services as production

    migrate.upgrade(url)
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    product = catalog.create_product(session, "bench", sku="BENCH-1", name="Bench unit")
    line = catalog.create_line(session, "bench", code="BL1", name="Bench line")
    batch = production.open_batch(
        session, "bench", product_id=product.id, lot_number="B2026", line_id=line.id
    )
    session.commit()
    return engine, session, batch


def phase_serialize(url: str, count: int) -> dict:
    from trace.production.serialization import serialize

    engine, session, batch = _prepare(url)
    started = time.perf_counter()
    serialize(session, "bench", batch, count=count)
    session.commit()
    elapsed = time.perf_counter() - started
    session.close()
    engine.dispose()
    return {"rate": count / elapsed, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


def phase_bare(url: str, count: int) -> dict:
    """The baseline: the same rows (serials, codes, values) through Core executemany only."""
    from sqlalchemy import insert

    from trace import codes
    from trace.db import utcnow
    from trace.production.models import Item, ItemStatus
    from trace.production.serialization import CHUNK

    engine, session, batch = _prepare(url)
    statement, now, elapsed = insert(Item.__table__), utcnow(), 0.0
    with engine.begin() as connection:
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            rows = [
                {
                    "product_id": batch.product_id,
                    "batch_id": batch.id,
                    "serial": f"B2026-{start + i + 1:06d}",
                    "code": code,
                    "status": ItemStatus.produced,
                    "produced_at": now,
                }
                for i, code in enumerate(codes.new_codes(n))
            ]
            started = time.perf_counter()
            connection.execute(statement, rows)
            elapsed += time.perf_counter() - started
    session.close()
    engine.dispose()
    return {"rate": count / elapsed, "seconds": elapsed, "peak_rss_mb": peak_rss_mb()}


def _child(phase: str, url: str, count: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", phase, "--url", url, "--count", str(count)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _sqlite(phase: str, count: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return _child(phase, f"sqlite:///{Path(tmp) / 'bench.db'}", count)


def _postgres(phase: str, count: int) -> dict | None:
    from sqlalchemy import create_engine, text

    name = f"trace_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: report it, do not fail the SQLite figures
        print(f"PostgreSQL not reachable ({error.__class__.__name__}); skipping its figure")
        return None
    try:
        return _child(phase, f"postgresql+psycopg://postgres@127.0.0.1/{name}", count)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--child", choices=["serialize", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        phase = phase_serialize if args.child == "serialize" else phase_bare
        print(json.dumps(phase(args.url, args.count)))
        return
    bare = _sqlite("bare", args.count)
    ours = _sqlite("serialize", args.count)
    print(
        f"sqlite: serialize {ours['seconds']:.2f}s, bare insert {bare['seconds']:.2f}s "
        f"for {args.count:,} items; ratio {ours['rate'] / bare['rate']:.2f}"
    )
    budget(
        "serialize_sqlite", ours["rate"], "items/s", ">=100000 and >=0.5x baseline", bare["rate"]
    )
    if not args.no_postgres and (pg := _postgres("serialize", args.count)):
        pg_bare = _postgres("bare", args.count)
        budget(
            "serialize_postgres",
            pg["rate"],
            "items/s",
            "report",
            pg_bare["rate"] if pg_bare else None,
        )
    budget(
        "serialize_peak_rss",
        ours["peak_rss_mb"],
        "MB",
        "bounded (independent of count)",
        bare["peak_rss_mb"],
    )


if __name__ == "__main__":
    main()
