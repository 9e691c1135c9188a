"""Engine, session and the declarative base shared by every domain area."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from trace.errors import NotFound

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON(), list: JSON(), str: String()}


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and real BEGINs."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
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
            # Reads of index pages straight from the OS page cache, without copying.
            cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        cursor.close()

    # A write transaction must take SQLite's write lock when it starts: a deferred one
    # that read first and then writes fails at once (SQLITE_BUSY_SNAPSHOT) instead of
    # waiting, because another writer committed in between.
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("trace_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sessionmaker(engine_or_connection) -> sessionmaker[Session]:
    """Sessions that keep objects usable after commit (handlers dump them afterwards)."""
    return sessionmaker(bind=engine_or_connection, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Mark the session's transaction as a write before it starts (see _on_begin)."""
    session.connection(execution_options={"trace_write": True})


def get_existing(session: Session, model, ident, *, field: str):
    """The row of `model` with primary key `ident`, or NotFound naming the field it came from."""
    row = session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(f"no {model.__tablename__} with id {ident}", {field: ["unknown id"]})
    return row
