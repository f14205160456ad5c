"""Small helpers shared by the per-resource storage modules."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import ClauseElement, Insert, Table, Update, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect, Result, Row


class Conn(Protocol):
    """What storage functions get: an AsyncConnection on PostgreSQL, a ThreadedConnection
    on SQLite."""

    dialect: Dialect

    async def execute(self, statement: Any, params: Any = None) -> Result[Any]: ...

    def begin_nested(self) -> contextlib.AbstractAsyncContextManager[Any]: ...


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE without RETURNING matched. Its result is a CursorResult on
    every connection (only results with rows are buffered into a plain Result on SQLite).
    In a pipelined transaction such a write is only queued and its count unknown
    (storage/pipelined.py): ask with RETURNING there."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"rowcount of a {type(result).__name__}: the statement returned rows")
    if result.rowcount < 0:
        raise TypeError("rowcount of a queued write (pipelined transaction): use RETURNING")
    return result.rowcount


def row_dict(row: Row[Any] | None) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


def rows_dicts(rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


async def search_page(
    conn: Conn,
    table: Table,
    where: Any,
    *,
    sort_by: str,
    sort_order: str,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of rows ordered by `sort_by` (the primary key breaks ties), and whether
    another page follows (one extra row is fetched to know)."""
    q = select(table).where(where).order_by(*ordering(table, sort_by, sort_order))
    rows = rows_dicts((await conn.execute(q.limit(limit + 1).offset(offset))).all())
    return rows[:limit], len(rows) > limit


def ordering(table: Table, sort_by: str, sort_order: str) -> tuple[Any, Any]:
    """ORDER BY `sort_by`, the primary key breaking ties."""
    col = table.c[sort_by]
    (tie,) = table.primary_key.columns
    return (col.asc(), tie.asc()) if sort_order == "asc" else (col.desc(), tie.desc())


async def count_where(conn: Conn, table: Table, where: Any) -> int:
    q = select(func.count()).select_from(table).where(where)
    return int((await conn.execute(q)).scalar_one())


# Hot statements are built once and executed with parameters: building an INSERT or UPDATE
# with inline values cost four times more than executing it (measured, SQLite).


@functools.cache
def _update_by_key(table: Table, fields: frozenset[str]) -> Update:
    (key,) = table.primary_key.columns
    return update(table).where(key == bindparam("_key")).values({f: bindparam(f) for f in fields})


async def update_by_key(conn: Conn, table: Table, key: str, fields: dict[str, Any]) -> None:
    """UPDATE the row with primary key `key`; SQL-expression values are built per call."""
    if any(isinstance(v, ClauseElement) for v in fields.values()):
        (col,) = table.primary_key.columns
        await conn.execute(update(table).where(col == key).values(**fields))
        return
    stmt = _update_by_key(table, frozenset(fields))
    await conn.execute(stmt, {"_key": key, **fields})


@functools.cache
def _insert_ignoring_conflict(table: Table, dialect_name: str, key: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=[key])
    return stmt.returning(table.c[key])


async def insert_ignoring_conflict(conn: Conn, table: Table, row: dict[str, Any], key: str) -> bool:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING key: whether the row was inserted
    (rowcount is not reliable for this on every driver)."""
    stmt = _insert_ignoring_conflict(table, conn.dialect.name, key)
    return (await conn.execute(stmt, row)).first() is not None
