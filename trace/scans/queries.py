"""Read-only statements for the scan page, compiled once and run straight on the DBAPI.

The scan page runs a handful of small SELECTs on every request and must stay within
40% of a hello-world view's throughput (DESIGN.md §8). SQLAlchemy's per-execution work
(cache key, parameter and result processing, ORM loading) costs some 80-250 µs a
statement here: most of the page's budget. So the statements are ordinary SQLAlchemy
Core, written against the models, but each is compiled once per database dialect and
then executed on the session's own DBAPI connection (same transaction, so tests and
uncommitted writes are seen as usual).

What that gives up, and the rules that keep it safe:
* parameters are integers and text only (no type processing is applied to them);
* results are what the driver returns: times as text (SQLite) or naive datetimes
  (PostgreSQL), JSON as text or objects, booleans as 0/1 or bools. `utc`, `json_value`
  and `bool` turn them into what the rest of the code expects.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.functions import FunctionElement


class CompiledQuery:
    """A SELECT compiled once per dialect; `rows(session, **params)` runs it."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict]] = {}

    def sql(self, dialect) -> str:
        return self._for(dialect)[0]

    def rows(self, source: Session | Connection, **params) -> list[tuple]:
        """The rows for `params`, read in the session's (or connection's) transaction.

        Getting the connection from a session costs as much as a statement: callers that
        run several take it once and pass the connection.
        """
        connection = connection_of(source)
        sql, order, defaults = self._for(connection.dialect)
        values = {**defaults, **params}
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, [values[name] for name in order] if order else values)
            return cursor.fetchall()
        finally:
            cursor.close()

    def parameters(self, dialect, **params):
        """The DBAPI parameters `rows` would send, for EXPLAIN in tests."""
        _, order, defaults = self._for(dialect)
        values = {**defaults, **params}
        return [values[name] for name in order] if order else values

    def _for(self, dialect):
        entry = self._compiled.get(dialect.name)
        if entry is None:
            compiled = self.statement.compile(dialect=dialect)
            # Values written into the statement (LIMIT 1) are binds too.
            binds = compiled.binds.items()
            defaults = {name: bind.effective_value for name, bind in binds if not bind.required}
            order = tuple(compiled.positiontup) if compiled.positional else None
            entry = self._compiled[dialect.name] = (compiled.string, order, defaults)
        return entry


def connection_of(source: Session | Connection) -> Connection:
    """The connection to read on: a session's own (in its transaction), or the one given."""
    return source.connection() if isinstance(source, Session) else source


def utc(value) -> dt.datetime | None:
    """A time as the driver returns it (text or naive datetime, UTC) made aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


def json_value(value):
    """A JSON column as the driver returns it (text or already decoded)."""
    return json.loads(value) if isinstance(value, str) else value


class joined_texts(FunctionElement):
    """The texts of a group joined with commas, in one value: group_concat on SQLite,
    string_agg on PostgreSQL. (SQLAlchemy's aggregate_strings sends its separator as a
    value bound at execution, which a CompiledQuery does not do.)"""

    type = String()
    name = "joined_texts"
    inherit_cache = True


@compiles(joined_texts)
def _group_concat(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(joined_texts, "postgresql")
def _string_agg(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


class iso_text(FunctionElement):
    """A stored time as ISO 8601 text ("YYYY-MM-DD HH:MM:SS.ffffff", UTC, no offset),
    whatever the session's settings: SQLite stores it so; on PostgreSQL a cast would
    follow DateStyle, so to_char writes it."""

    type = String()
    name = "iso_text"
    inherit_cache = True


@compiles(iso_text)
def _stored_text(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(iso_text, "postgresql")
def _to_char(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD HH24:MI:SS.US')"
