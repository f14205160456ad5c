"""Small helpers shared by the per-resource storage modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection


def row_dict(row: Row[Any] | None) -> dict[str, Any] | None:
    return dict(row._mapping) if row is not None else None


def rows_dicts(rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


def sorted_page(
    query: Select[Any],
    table: Table,
    *,
    sort_by: str,
    sort_order: str,
    limit: int,
    offset: int,
    tiebreak: str,
) -> Select[Any]:
    """Order by a column (with a unique tie-break) and fetch one extra row to detect a next page."""
    col = table.c[sort_by]
    tie = table.c[tiebreak]
    order = (col.asc(), tie.asc()) if sort_order == "asc" else (col.desc(), tie.desc())
    return query.order_by(*order).limit(limit + 1).offset(offset)


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
