"""SQL for assistants and their versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from graphport.server.storage.common import (
    Conn,
    count_where,
    insert_ignoring_conflict,
    row_dict,
    rows_dicts,
    search_page,
)
from graphport.server.storage.filters import auth_filter, contains
from graphport.server.storage.schema import assistant_versions, assistants

_VERSION_FIELDS = ("graph_id", "config", "context", "metadata", "name", "description")


def _where(
    conn: Conn,
    *,
    metadata: dict[str, Any] | None = None,
    graph_id: str | None = None,
    name: str | None = None,
    graph_ids: list[str] | None = None,
    flt: dict[str, Any] | None = None,
) -> Any:
    d = conn.dialect.name
    clauses = [
        contains(assistants.c.metadata, d, metadata),
        auth_filter(assistants.c.metadata, d, flt),
    ]
    if graph_id is not None:
        clauses.append(assistants.c.graph_id == graph_id)
    if graph_ids is not None:
        clauses.append(assistants.c.graph_id.in_(graph_ids))
    if name:
        clauses.append(func.lower(assistants.c.name).contains(name.lower(), autoescape=True))
    return and_(*clauses)


_GET = select(assistants).where(assistants.c.assistant_id == bindparam("assistant_id"))


async def get(
    conn: Conn, assistant_id: str, flt: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    if not flt:
        return row_dict((await conn.execute(_GET, {"assistant_id": assistant_id})).first())
    q = select(assistants).where(
        assistants.c.assistant_id == assistant_id,
        auth_filter(assistants.c.metadata, conn.dialect.name, flt),
    )
    return row_dict((await conn.execute(q)).first())


async def insert_new(conn: Conn, row: dict[str, Any]) -> dict[str, Any] | None:
    """Insert an assistant at version 1 and its first version row; None (and nothing
    written) when an assistant with this id already exists."""
    if not await insert_ignoring_conflict(conn, assistants, row, "assistant_id"):
        return None
    await conn.execute(
        insert(assistant_versions).values(
            assistant_id=row["assistant_id"],
            version=row["version"],
            created_at=row["created_at"],
            **{k: row[k] for k in _VERSION_FIELDS},
        )
    )
    return row


async def add_version(
    conn: Conn, assistant_id: str, fields: dict[str, Any], now: Any
) -> dict[str, Any]:
    """Append version max+1 with `fields` and make it current."""
    max_version = (
        await conn.execute(
            select(func.max(assistant_versions.c.version)).where(
                assistant_versions.c.assistant_id == assistant_id
            )
        )
    ).scalar_one()
    version = (max_version or 0) + 1
    await conn.execute(
        insert(assistant_versions).values(
            assistant_id=assistant_id, version=version, created_at=now, **fields
        )
    )
    await conn.execute(
        update(assistants)
        .where(assistants.c.assistant_id == assistant_id)
        .values(version=version, updated_at=now, **fields)
    )
    row = await get(conn, assistant_id)
    assert row is not None
    return row


async def set_version(
    conn: Conn, assistant_id: str, version: int, now: Any
) -> dict[str, Any] | None:
    v = row_dict(
        (
            await conn.execute(
                select(assistant_versions).where(
                    assistant_versions.c.assistant_id == assistant_id,
                    assistant_versions.c.version == version,
                )
            )
        ).first()
    )
    if v is None:
        return None
    await conn.execute(
        update(assistants)
        .where(assistants.c.assistant_id == assistant_id)
        .values(version=version, updated_at=now, **{k: v[k] for k in _VERSION_FIELDS})
    )
    return await get(conn, assistant_id)


async def delete_one(conn: Conn, assistant_id: str) -> None:
    await conn.execute(
        delete(assistant_versions).where(assistant_versions.c.assistant_id == assistant_id)
    )
    await conn.execute(delete(assistants).where(assistants.c.assistant_id == assistant_id))


async def search(
    conn: Conn,
    *,
    limit: int,
    offset: int,
    sort_by: str,
    sort_order: str,
    **where: Any,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of assistants and whether another page follows."""
    return await search_page(
        conn,
        assistants,
        _where(conn, **where),
        sort_by=sort_by,
        sort_order=sort_order,
        limit=limit,
        offset=offset,
    )


async def count(conn: Conn, **where: Any) -> int:
    return await count_where(conn, assistants, _where(conn, **where))


async def versions(
    conn: Conn,
    assistant_id: str,
    *,
    metadata: dict[str, Any] | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    q = (
        select(assistant_versions)
        .where(
            assistant_versions.c.assistant_id == assistant_id,
            contains(assistant_versions.c.metadata, conn.dialect.name, metadata),
        )
        .order_by(assistant_versions.c.version.desc())
        .limit(limit)
        .offset(offset)
    )
    return rows_dicts((await conn.execute(q)).all())
