"""Scans written in batches, off the request path.

Every view of a scan page is a scan to record, and a write transaction of its own costs a
scan page about a third of its time (BEGIN IMMEDIATE, the INSERT, the commit; on SQLite
each writer also waits its turn at the one write lock). The page only needs the scan to be
counted, not written before it answers. So the page hands its row to the recorder, and
a background thread writes what has gathered every `interval` seconds, in one transaction
with one executemany.

What that gives up, and what keeps it honest:
* A scan reaches the table up to `interval` seconds after its page was served. The
  verdict of the next scan of the same unit in this process still counts it: `pending`
  answers with the scans not yet written (another worker process sees it once written).
* A process that is killed outright loses the scans of its last interval; a process that
  exits normally (gunicorn's graceful stop, the end of a CLI run) writes them first.
* A failed write (database locked for longer than the busy timeout, a lost PostgreSQL
  connection) keeps the rows for the next attempt; past `max_pending` rows the oldest
  are dropped with a warning (one a minute at most), so a database that stays down
  cannot exhaust memory. A row the database refuses (integrity, data) is written on its
  own and dropped with a warning, so it cannot hold up the others.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
import weakref
from collections import defaultdict

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError

from trace.scans.models import Verdict
from trace.scans.services import write_scans

log = logging.getLogger(__name__)

# A scan as the recorder holds it: services.scan_row.
ScanRow = dict
# At most one warning this often about scans dropped for want of room.
DROP_WARNING_SECONDS = 60.0


class ScanRecorder:
    """Gathers scan rows and writes them in batches from a thread of its own."""

    def __init__(self, engine: Engine, interval: float = 0.5, max_pending: int = 100_000):
        self.engine = engine
        # trace_write: on SQLite each batch queues for the write lock (trace.db).
        self._writer = engine.execution_options(trace_write=True)
        self.interval = interval
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self._rows: list[ScanRow] = []
        # The scans of each item not yet committed: waiting, and in the write under way.
        self._waiting: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
        self._writing: dict[int, list[tuple[str, dt.datetime]]] = {}
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._write_lock = threading.Lock()  # one batch at a time: thread, flush or close
        self._dropped, self._drop_warned_at = 0, -DROP_WARNING_SECONDS

    def add(self, row: ScanRow) -> None:
        """Take one scan to write; returns at once."""
        with self._lock:
            self._rows.append(row)
            if _counted(row):
                self._waiting[row["item_id"]].append((row["client_hash"], row["scanned_at"]))
            if len(self._rows) > self.max_pending:
                self._drop_oldest(len(self._rows) - self.max_pending)
        if self._pid != os.getpid():
            self._start()

    def pending(self, item_id: int) -> list[tuple[str, dt.datetime]]:
        """The scans of `item_id` taken but not yet committed: (client hash, time) each."""
        with self._lock:
            return [*self._writing.get(item_id, ()), *self._waiting.get(item_id, ())]

    def flush(self, timeout: float | None = None) -> int:
        """Write every scan taken so far, now; the number written. With `timeout`, give
        up (0) when a write already under way holds on for longer than that."""
        if not self._write_lock.acquire(timeout=-1 if timeout is None else timeout):
            log.warning("scans not written: a write under way did not end in %ss", timeout)
            return 0
        try:
            with self._lock:
                rows, self._rows = self._rows, []
                self._writing, self._waiting = self._waiting, defaultdict(list)
            if not rows:
                return 0
            try:
                return self._write_refusing_bad_rows(rows)
            except Exception as error:  # kept for the next attempt; the pages go on
                log.warning("%d scans not written yet: %s", len(rows), error)
                self._put_back(rows)
                return 0
            finally:
                with self._lock:
                    self._writing = {}
        finally:
            self._write_lock.release()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread and write what is left (at exit, and when an app is dropped);
        a database that hangs delays an exit by `timeout` seconds at most, twice."""
        self._stopped = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=timeout)
        self.flush(timeout=timeout)

    # --- inside ---------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked worker inherits no running thread: each process starts its own.
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="scan-recorder", daemon=True)
            self._thread.start()
        # Weakly held, so an app (a test's) that is dropped takes its recorder with it.
        atexit.register(_close_at_exit, weakref.ref(self))

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            if self._stopped:
                return
            self.flush()

    def _write(self, rows: list[ScanRow]) -> None:
        with self._writer.begin() as connection:
            write_scans(connection, rows)

    def _write_refusing_bad_rows(self, rows: list[ScanRow]) -> int:
        """Write `rows`; if the database refuses the batch for what is in it, write them
        one by one and drop those it refuses. Returns how many were written."""
        try:
            self._write(rows)
            return len(rows)
        except (IntegrityError, DataError):
            if len(rows) == 1:
                raise
        written = 0
        for row in rows:
            try:
                self._write([row])
                written += 1
            except (IntegrityError, DataError) as error:
                log.warning("a scan was refused by the database and dropped: %s", error)
        return written

    def _put_back(self, rows: list[ScanRow]) -> None:
        with self._lock:
            self._rows[:0] = rows
            for item_id, scans in self._writing.items():
                self._waiting[item_id][:0] = scans
            if len(self._rows) > self.max_pending:
                self._drop_oldest(len(self._rows) - self.max_pending)

    def _drop_oldest(self, count: int) -> None:
        """Called with the lock held."""
        dropped, self._rows = self._rows[:count], self._rows[count:]
        for row in dropped:
            if not _counted(row):
                continue
            scans = self._waiting.get(row["item_id"])
            if scans:
                scans.pop(0)
                if not scans:
                    del self._waiting[row["item_id"]]
        self._dropped += count
        now = time.monotonic()
        if now - self._drop_warned_at >= DROP_WARNING_SECONDS:  # not one line per scan
            log.warning("%d scans dropped: the database has not taken them in time", self._dropped)
            self._dropped, self._drop_warned_at = 0, now


def _counted(row: ScanRow) -> bool:
    """Whether a scan counts for its unit's code (services.find_and_check_scan): one of a
    unit, and not of its Digital Link."""
    return row["item_id"] is not None and row["verdict"] is not Verdict.unverified


def _close_at_exit(reference: weakref.ref) -> None:
    recorder = reference()
    if recorder is not None:
        recorder.close()
