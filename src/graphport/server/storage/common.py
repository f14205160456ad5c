"""Small helpers shared by the per-resource storage modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection


def row_dict(row: Row[Any] | None) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


def rows_dicts(rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


async def search_page(
    conn: AsyncConnection,
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
    col = table.c[sort_by]
    (tie,) = table.primary_key.columns
    order = (col.asc(), tie.asc()) if sort_order == "asc" else (col.desc(), tie.desc())
    q = select(table).where(where).order_by(*order).limit(limit + 1).offset(offset)
    rows = rows_dicts((await conn.execute(q)).all())
    return rows[:limit], len(rows) > limit


async def count_where(conn: AsyncConnection, table: Table, where: Any) -> int:
    q = select(func.count()).select_from(table).where(where)
    return int((await conn.execute(q)).scalar_one())


def insert_ignoring_conflict(
    conn: AsyncConnection, table: Table, row: dict[str, Any], key: str
) -> Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING key: a row comes back iff it inserted
    (rowcount is not reliable for this on every driver)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(table)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(table.c[key])
    )
