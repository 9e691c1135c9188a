"""Requests of one kind taking turns within a process, where the database is SQLite.

Scan pages take turns (web.scan.PageTurns): with four gunicorn threads making pages at
once, their work interleaved, and taking turns gave a third more pages a second
(bench/scan.py). What it saves is the interleaving itself: each page runs its reads and
its rendering in one go, on warm caches. (The number of times SQLite lets go of the GIL
is not it: halving those changed nothing.) Other requests do not wait for them, and the
threads still keep slow clients from holding up the others.

API writes take turns of their own. Measured, that is no faster (bench/ingest.py: within
2%); what it gives is order: a write takes its turn only once its body has been read
whole (write_turn), so a slow upload never holds up the writes behind it, even one that
must take SQLite's write lock before it reads its body (a key not yet checked). A turn
waited for longer than a writer waits for SQLite's lock counts as a locked database.

On PostgreSQL a request waits for the server over a socket, and others should run
meanwhile: no turns there.
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import AbstractContextManager

from flask import Flask, current_app, request
from sqlalchemy import Engine

from trace.db import SQLITE_BUSY_TIMEOUT_MS, database_locked

WRITE_TURNS = "trace_write_turns"


class Turns:
    """Turns on a lock, each waited for at most `timeout` seconds (then the database
    counts as locked, as for a writer that waited out SQLite's busy timeout)."""

    def __init__(self, timeout: float = SQLITE_BUSY_TIMEOUT_MS / 1000):
        self.timeout = timeout
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=self.timeout):
            raise database_locked()

    def __exit__(self, *exc_info) -> None:
        self._lock.release()

    def taken(self) -> bool:
        return self._lock.locked()


def turns_for(engine: Engine) -> AbstractContextManager:
    """What a request of one kind is made within: turns of its own kind on SQLite,
    nothing elsewhere. Reusable: enter it once per request."""
    return Turns() if engine.dialect.name == "sqlite" else contextlib.nullcontext()


def init_turns(app: Flask, engine: Engine) -> None:
    # Writes take turns apart from the scan pages' (web.scan.PageTurns): a bulk post
    # holds its turn for a second, and a scan must not wait for that.
    app.extensions[WRITE_TURNS] = turns_for(engine)


def write_turn() -> AbstractContextManager:
    """The turn an API write of this app is made within (inside it, the write lock).
    The request's body is read first: a slow upload must not hold the turn."""
    request.get_data(cache=True)
    return current_app.extensions[WRITE_TURNS]
