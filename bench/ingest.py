"""Capture API throughput against a real gunicorn server on loopback.

Budgets (issue 4): bulk inspection posting at least 20,000 records/s on SQLite; single
record POSTs at least 40% of the requests/s of a hello-world Flask view served with the
same gunicorn settings in the same run. The history budget is measured by
bench/history.py, whose BUDGET line this script passes on when it exists.

Both apps run with the production settings of gunicorn.conf.py (bench/loadgen.py), single
posts and hello world in alternate rounds (loadgen.paired), the median round reported. Every
post is real work: validation, idempotency lookups, references, the audit entry, the
commit. Bulk records each carry their own event id, time and a measurement; one bulk post
is sent first and not counted, as wrk warms up before it counts (loadgen.wrk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from budget import ROOT, budget
from loadgen import GUNICORN, gunicorn, paired, wrk

BULK_SIZE = 10_000
SHIFT_START = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)


def prepare(folder: Path, items: int) -> dict:
    """A migrated SQLite database with a batch of `items` serialized items and a line key."""
    from sqlalchemy import select

    from trace import migrate
    from trace.auth.models import Role
    from trace.auth.services import create_api_key
    from trace.catalog import services as catalog
    from trace.catalog.models import StationKind
    from trace.db import make_engine, make_sessionmaker
    from trace.production import services as production
    from trace.production.models import Item
    from trace.production.serialization import serialize

    url = f"sqlite:///{folder / 'ingest.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        product = catalog.create_product(session, "bench", sku="ING-1", name="Bench unit")
        line = catalog.create_line(session, "bench", code="IL1", name="Bench line")
        station = catalog.create_station(
            session, "bench", code="IL1-QC", name="QC", line_id=line.id, kind=StationKind.inspection
        )
        inspector = catalog.create_inspector(session, "bench", badge="QC-1", name="Bench QC")
        batch = production.open_batch(
            session, "bench", product_id=product.id, lot_number="ING2026", line_id=line.id
        )
        serialize(session, "bench", batch, count=items)
        _, key = create_api_key(session, "bench", role=Role.line, name="bench")
        codes = session.scalars(select(Item.code).where(Item.batch_id == batch.id)).all()
        session.commit()
    engine.dispose()
    return {
        "url": url,
        "key": key,
        "codes": codes,
        "station": station.code,
        "inspector": inspector.badge,
    }


def _record(world: dict, code: str, second: int = 0) -> dict:
    occurred_at = (SHIFT_START + dt.timedelta(seconds=second)).isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "item_code": code,
        "station": world["station"],
        "inspector": world["inspector"],
        "occurred_at": occurred_at,
        "result": "pass",
        "measurements": [{"name": "leak", "value": 0.21, "unit": "mA", "upper_limit": 0.5}],
    }


def bulk_rate(base_url: str, world: dict, posts: int) -> float:
    """Records per second over `posts` bulk posts of BULK_SIZE records each, sent one by one."""
    codes = world["codes"]
    bodies = [
        json.dumps(
            {
                "records": [
                    _record(world, codes[(p * BULK_SIZE + i) % len(codes)], i)
                    for i in range(BULK_SIZE)
                ]
            }
        )
        for p in range(posts + 1)
    ]
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    headers = {"Authorization": f"Bearer {world['key']}", "Content-Type": "application/json"}
    _post(connection, bodies[0], headers)  # the warm-up: not counted
    started = time.perf_counter()
    for body in bodies[1:]:
        _post(connection, body, headers)
    elapsed = time.perf_counter() - started
    connection.close()
    return posts * BULK_SIZE / elapsed


def _post(connection: http.client.HTTPConnection, body: str, headers: dict) -> None:
    connection.request("POST", "/api/v1/inspections/bulk", body, headers)
    response = connection.getresponse()
    response.read()
    if response.status != 201:
        raise SystemExit(f"bulk post answered {response.status}")


SINGLE_POST_LUA = """
local codes = {%(codes)s}
local counter = 0
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
local function hex(n) return string.format("%%0" .. n .. "x", math.random(0, 16 ^ n - 1)) end
request = function()
  counter = counter + 1
  local id = hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-a" .. hex(3) .. "-" .. hex(6) .. hex(6)
  local body = string.format('{"event_id":"%%s","item_code":"%%s","station":"%(station)s",'
    .. '"inspector":"%(inspector)s","occurred_at":"2026-11-01T08:00:00Z","result":"pass"}',
    id, codes[(counter %% #codes) + 1])
  return wrk.format("POST", "/api/v1/inspections", nil, body)
end
"""


# The budget's baseline is the hello-world GET; a hello-world POST of a small JSON body is
# shown beside it, for what the request shape alone costs.
HELLO_POST_LUA = """
wrk.method = "POST"
wrk.body = '{"event_id":"9f1c2e4a-0b6d-4c1e-8f3a-2d5b7c9e1a40","result":"pass"}'
wrk.headers["Content-Type"] = "application/json"
"""


def single_post(base_url: str, world: dict, seconds: int):
    script = SINGLE_POST_LUA % {
        "codes": ",".join(f'"{c}"' for c in world["codes"][:500]),
        "station": world["station"],
        "inspector": world["inspector"],
    }
    headers = {"Authorization": f"Bearer {world['key']}", "Content-Type": "application/json"}
    return wrk(base_url, seconds=seconds, script=script, headers=headers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--bulk-posts", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=8, help="seconds of each load")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of single posts, hello world")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world = prepare(Path(tmp), args.items)
        env = {
            "TRACE_DATABASE_URL": world["url"],
            "TRACE_INSTANCE_PATH": tmp,
            "TRACE_SECRET_KEY": "bench",
        }
        with (
            gunicorn("web.app:create_app()", env) as base,
            gunicorn("hello_world:app", chdir=ROOT / "bench") as hello_url,
        ):
            bulk = bulk_rate(base, world, args.bulk_posts)
            rounds = paired(
                lambda: single_post(base, world, args.seconds),
                lambda: wrk(hello_url + "/", seconds=args.seconds),
                args.rounds,
            )
            print("single POST against a hello-world POST, for comparison (not the budget):")
            against_post = paired(
                lambda: single_post(base, world, args.seconds),
                lambda: wrk(hello_url + "/", seconds=args.seconds, script=HELLO_POST_LUA),
                args.rounds,
            )
    single, hello = rounds.median
    print(f"gunicorn {' '.join(GUNICORN[3:])}")
    print(
        "single POST / hello world by round "
        + ", ".join(f"{ratio:.2f}" for ratio in rounds.ratios)
        + f"; the median round's: p50 {single.p50_ms:.1f} ms, p99 {single.p99_ms:.1f} ms,"
        f" non-2xx {single.errors}; hello world p99 {hello.p99_ms:.1f} ms"
    )
    print(
        "single POST / hello-world POST by round "
        + ", ".join(f"{ratio:.2f}" for ratio in against_post.ratios)
    )
    budget("ingest_bulk", bulk, "records/s", ">=20000")
    budget(
        "ingest_single",
        single.requests_per_s,
        "requests/s",
        ">=0.4x baseline",
        hello.requests_per_s,
    )
    history = ROOT / "bench" / "history.py"
    if history.exists():
        subprocess.run([sys.executable, str(history)], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
