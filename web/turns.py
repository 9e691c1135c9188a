"""Requests of one kind taking turns within a process, where the database is SQLite.

An SQLite statement runs in this process, in SQLite's C code, which lets go of Python's
GIL at each step (a scan page takes some twenty, a capture post a dozen). With several
such requests in flight in one process's threads (gunicorn's gthread worker has four),
each step handed the GIL to another request's thread, and each request waited to get it
back: a third of the throughput went on switching (bench/scan.py, bench/ingest.py).
Python runs one thread at a time anyway, so requests of a kind that take turns lose
nothing but that, while the threads still keep slow clients from holding up the others:
a request takes its turn only once gunicorn has read it.

On PostgreSQL a request waits for the server over a socket, and others should run
meanwhile: no turns there.
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import AbstractContextManager

from flask import Flask, current_app
from sqlalchemy import Engine

WRITE_TURNS = "trace_write_turns"


def turns_for(engine: Engine) -> AbstractContextManager:
    """What a request of one kind is made within: a lock of its own kind on SQLite (so
    they take turns), nothing elsewhere. Reusable: enter it once per request."""
    return threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()


def init_turns(app: Flask, engine: Engine) -> None:
    # Writes take turns apart from the scan pages' (web.scan.PageTurns): a bulk post
    # holds its turn for a second, and a scan must not wait for that.
    app.extensions[WRITE_TURNS] = turns_for(engine)


def write_turn() -> AbstractContextManager:
    """The turn an API write of this app is made within (inside it, the write lock)."""
    return current_app.extensions[WRITE_TURNS]
