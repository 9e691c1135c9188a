"""gunicorn's settings for the service; gunicorn reads this file when started from here.

With the embedded SQLite database: one worker process, with threads. SQLite lets one
writer in at a time; inside one process writers queue on a lock and each goes in the
moment the one before commits, while writers of several processes would wait in SQLite's
busy handler, which sleeps in growing steps (see trace.db.WriteLock). Python runs one
thread at a time, so more threads do not add speed: they keep slow clients (a phone on a
weak network, a big bulk post arriving) from holding up everyone else.

With PostgreSQL, run a worker per core: WEB_CONCURRENCY=4 (or --workers 4).

TRACE_PIN_WORKERS=1 keeps each worker on one CPU: a new worker (a replacement too) takes
the allowed CPU with the fewest live workers. A worker's threads hand Python's GIL to each
other a dozen times a request; on different CPUs each handover wakes the other CPU and
finds cold caches. On a 2-CPU VM a pinned worker served 46% more scan pages and 41% more
single posts a second (bench/scan.py, bench/ingest.py; the README has the figures). It is
not the default: a pinned worker cannot use an idle CPU when its own is busy with
something else on the machine.
"""

import gc
import os
from collections import Counter

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = 4
keepalive = 30


def pre_fork(server, worker):
    if os.environ.get("TRACE_PIN_WORKERS") == "1":
        worker.trace_cpu = _least_used_cpu(server.WORKERS.values())


def post_worker_init(worker):
    # What the app built at start lives as long as the worker: taking it out of the
    # collector's sight leaves each collection only a request's own objects to walk.
    gc.freeze()
    cpu = getattr(worker, "trace_cpu", None)
    if cpu is not None:
        # Before the request threads start: they inherit it.
        os.sched_setaffinity(0, {cpu})


def _least_used_cpu(live_workers) -> int:
    used = Counter(getattr(worker, "trace_cpu", None) for worker in live_workers)
    return min(sorted(os.sched_getaffinity(0)), key=lambda cpu: used[cpu])
