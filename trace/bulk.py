"""Inserting many rows fast: the database's own bulk path, with values processed once.

SQLAlchemy's executemany runs every value through its type's bind processor; for a
million rows whose varying columns are plain strings, that is most of the cost. Here the
constant columns are processed once, the varying ones go to the driver as they are, and
PostgreSQL gets COPY, its fastest way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Table, insert


def bulk_insert(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[tuple],
    constants: dict | None = None,
) -> None:
    """Insert `rows` (tuples of the raw `columns` values) plus `constants` in every row.

    The varying values must be what the driver takes as they are (ints, floats, strings);
    the constants may be any values of their column types.
    """
    constants = constants or {}
    fixed = tuple(_processed(connection, table, name, value) for name, value in constants.items())
    names = [*columns, *constants]
    full_rows = (row + fixed for row in rows)
    if connection.dialect.name == "postgresql":
        _copy(connection, table, names, full_rows)
    else:
        _executemany(connection, table, names, full_rows)


def _processed(connection: Connection, table: Table, name: str, value):
    # dialect_impl: the dialect's own variant of the type (SQLite's DATETIME formats to
    # text), so the driver does no per-row adaptation of the constants either.
    column_type = table.c[name].type.dialect_impl(connection.dialect)
    processor = column_type.bind_processor(connection.dialect)
    return processor(value) if processor else value


def _copy(connection: Connection, table: Table, names: list[str], rows) -> None:
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


PLACEHOLDERS = {"qmark": "?", "format": "%s", "numeric": ":{i}"}


def _executemany(connection: Connection, table: Table, names: list[str], rows) -> None:
    # Written out rather than compiled, so the columns are in the rows' own order and no
    # row needs rebuilding.
    style = connection.dialect.paramstyle
    if style not in PLACEHOLDERS:  # named styles: hand the driver dicts
        rows = [dict(zip(names, row, strict=True)) for row in rows]
        connection.execute(insert(table), rows)
        return
    marks = ", ".join(PLACEHOLDERS[style].format(i=i + 1) for i in range(len(names)))
    columns = ", ".join(connection.dialect.identifier_preparer.quote(n) for n in names)
    statement = f"INSERT INTO {table.name} ({columns}) VALUES ({marks})"
    connection.exec_driver_sql(statement, list(rows))
