"""Engine, session and the declarative base shared by every domain area."""

from __future__ import annotations

import datetime as dt
import enum
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    Index,
    MetaData,
    String,
    create_engine,
    event,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from trace.errors import NotFound

try:
    import fcntl
except ImportError:  # not on Windows: writers of other processes wait in SQLite's handler
    fcntl = None

# Stable constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_MMAP_BYTES = 1 << 30
# Pages the WAL may gather before a commit copies them into the database (SQLite's
# default: 1,000). Each capture rewrites the same few pages (the audit head, the ends of
# tables and indexes); a checkpoint copies each page once however often it changed, so
# a longer WAL (up to some 40 MB) copies far less per record.
SQLITE_WAL_CHECKPOINT_PAGES = 10_000


def utcnow() -> dt.datetime:
    """The current time, timezone-aware in UTC: the only clock the domain reads."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC, and refuses naive input.

    SQLite has no time zones and PostgreSQL's `timestamptz` converts to the session zone;
    storing naive UTC on both keeps values and comparisons identical across them.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the domain works in aware UTC")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=dt.UTC)


def str_enum(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """A portable enum column: VARCHAR with a CHECK constraint, storing the enum's values."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows matching `where` (SQL), alike on SQLite and PostgreSQL."""
    condition = text(where)
    return Index(name, *columns, unique=unique, sqlite_where=condition, postgresql_where=condition)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON(), list: JSON(), str: String()}


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys, real BEGINs and
    a queue for its writers (WriteLock)."""
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "factory": _SQLiteConnection,
            **kwargs.get("connect_args", {}),
        }
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite opens transactions lazily and never around SAVEPOINTs; taking BEGIN over
    # from it makes savepoints (used by tests and bulk posts) behave as on PostgreSQL.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # 64 MiB of page cache: random item codes land all over their unique index, and
        # the default 2 MiB makes a large serialization re-read it from disk.
        cursor.execute("PRAGMA cache_size = -65536")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_WAL_CHECKPOINT_PAGES}")
            # Reads of index pages straight from the OS page cache, without copying.
            cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        cursor.close()

    # A write transaction must take SQLite's write lock when it starts: a deferred one
    # that read first and then writes fails at once (SQLITE_BUSY_SNAPSHOT) instead of
    # waiting, because another writer committed in between.
    write_lock = WriteLock.of(engine.url.database)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        dbapi_connection = conn.connection.dbapi_connection
        if not conn.get_execution_options().get("trace_write", False):
            _begin(dbapi_connection, "BEGIN")
            return
        write_lock.acquire(SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            _begin(dbapi_connection, "BEGIN IMMEDIATE")
        except BaseException:
            write_lock.release()
            raise
        # Given back when the transaction ends (_SQLiteConnection), not before.
        dbapi_connection.write_lock = write_lock


def _begin(dbapi_connection, statement: str) -> None:
    # Straight to the driver (a BEGIN is no statement worth SQLAlchemy's round trip),
    # its errors wrapped as SQLAlchemy would.
    try:
        dbapi_connection.execute(statement)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


class WriteLock:
    """The queue of write transactions on one SQLite database.

    SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
    in growing steps (1, 2, 5, 10 ... 100 ms). Under load a writer that just missed the
    lock sleeps long after it is free, while one that never slept takes it again and
    again: p99 latencies of seconds. Writers queue here instead, the threads of a process
    on a lock and the processes on an advisory lock of a file beside the database, and
    each is let in as soon as the one before commits. SQLite's own lock and busy timeout
    still guard every write (a CLI run, a process without this queue).
    """

    _known: dict[str, WriteLock] = {}
    _known_lock = threading.Lock()

    def __init__(self, path: str | None):
        self.path = path
        self.threads = threading.Lock()
        self._file, self._pid = None, None

    @classmethod
    def of(cls, database: str | None) -> WriteLock:
        """The lock of a database file, shared by every engine of this process that uses it."""
        if database in (None, "", ":memory:") or fcntl is None:
            return cls(None)  # a database of its own, or no file locks: threads only
        path = os.path.abspath(database) + "-writer"
        with cls._known_lock:
            return cls._known.setdefault(path, cls(path))

    def acquire(self, timeout: float) -> None:
        """Wait until this caller is the database's only writer, at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            raise database_locked()
        try:
            if self.path is not None:
                self._lock_file(deadline)
        except BaseException:
            self.threads.release()
            raise

    def release(self) -> None:
        if self.path is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self.threads.release()

    def _lock_file(self, deadline: float) -> None:
        if self._pid != os.getpid():  # a forked child must not share its parent's lock
            # Kept open for the life of the process: the lock belongs to this open file.
            self._file, self._pid = open(self.path, "a"), os.getpid()  # noqa: SIM115
        pause = 0.0001
        while True:
            try:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise database_locked() from None
            # Only one thread a process waits here, so short pauses cost little.
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


def database_locked() -> OperationalError:
    """The error of a writer that waited its whole busy timeout, as SQLite raises it."""
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


class _SQLiteConnection(sqlite3.Connection):
    """pysqlite's connection, giving the write lock back once its transaction has ended."""

    write_lock: WriteLock | None = None

    def commit(self):
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._release()

    def close(self):
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self.write_lock is not None:
            self.write_lock, lock = None, self.write_lock
            lock.release()


def make_sessionmaker(engine_or_connection) -> sessionmaker[Session]:
    """Sessions that keep objects usable after commit (handlers dump them afterwards)."""
    return sessionmaker(bind=engine_or_connection, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Mark the session's transaction as a write before it starts (see _on_begin)."""
    session.connection(execution_options={"trace_write": True})


class Prepared:
    """A Core statement compiled once for each dialect and run on the driver's cursor.

    SQLAlchemy spends some 20 µs on running a statement (its execution context, events,
    result set-up): more than SQLite takes for the small reads and writes a posted record
    makes. The hot path of a single post runs its few statements this way. Values still
    pass through their types' bind and result processors, and driver errors come back as
    SQLAlchemy's (DBAPIError.instance), so callers see no difference. Cursor event
    listeners see these statements (without an execution context); the engine's echo
    does not. No expanding (IN) parameters.
    """

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, params: dict | None = None) -> Ran:
        """Run with `params` (by bind name) in `connection`'s transaction."""
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection.dialect)
        rows, rowcount = _run(connection, compiled.sql, compiled.values(params or {}), many=False)
        if compiled.results:
            rows = [compiled.processed(row) for row in rows]
        return Ran(rows, rowcount)

    def execute_many(self, connection: Connection, params: list[dict]) -> int:
        """Run once for each of `params` in one executemany (no rows back); rows changed."""
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection.dialect)
        values = [compiled.values(one) for one in params]
        return _run(connection, compiled.sql, values, many=True)[1]

    def _compile(self, dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.escaped_bind_names:
            raise ValueError("bind names the driver cannot take as they are")
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = compiled.positiontup if compiled.positional else list(by_name)
        binds = [(name, by_name[name], _bind_processor(by_name[name], dialect)) for name in names]
        columns = getattr(self.statement, "exported_columns", ())
        results = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        prepared = _Compiled(compiled.string, compiled.positional, binds, results)
        self._compiled[dialect.name] = prepared
        return prepared


def _run(connection: Connection, sql: str, values, *, many: bool) -> tuple[list, int]:
    """`sql` on the connection's driver cursor: its rows (none for many) and row count,
    cursor listeners called, driver errors raised as SQLAlchemy's."""
    dbapi, events = connection.dialect.loaded_dbapi, connection.dispatch
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        for listener in events.before_cursor_execute:
            listener(connection, cursor, sql, values, None, many)
        if many:
            cursor.executemany(sql, values)
            rows = []
        else:
            cursor.execute(sql, values)
            rows = cursor.fetchall() if cursor.description else []
        rowcount = cursor.rowcount
        for listener in events.after_cursor_execute:
            listener(connection, cursor, sql, values, None, many)
    except dbapi.Error as error:
        raise DBAPIError.instance(sql, values, error, dbapi.Error) from error
    finally:
        cursor.close()
    return rows, rowcount


@dataclass(frozen=True)
class Ran:
    """What a Prepared statement gave back: its rows (processed) and the rows it changed."""

    rows: list[tuple]
    rowcount: int


def _bind_processor(bind, dialect):
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    binds: list[tuple]  # (name, BindParameter, processor or None)
    results: list  # a processor (or None) for each column of a row

    def values(self, params: dict):
        values = []
        for _name, bind, process in self.binds:
            value = (
                params[bind.key] if bind.required else params.get(bind.key, bind.effective_value)
            )
            values.append(value if process is None else process(value))
        if self.positional:
            return tuple(values)
        return {name: value for (name, _, _), value in zip(self.binds, values, strict=True)}

    def processed(self, row) -> tuple:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.results, strict=True)
        )


def get_existing(session: Session, model, ident, *, field: str, options: Sequence = ()):
    """The row of `model` with primary key `ident`, or NotFound naming the field it came from."""
    row = session.get(model, ident, options=options) if ident is not None else None
    if row is None:
        raise NotFound(f"no {model.__tablename__} with id {ident}", {field: ["unknown id"]})
    return row
