"""SQL for crons."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, delete, insert, select, update

from graphport.server.storage.common import (
    Conn,
    count_where,
    row_dict,
    rowcount,
    rows_dicts,
    search_page,
    update_by_key,
)
from graphport.server.storage.filters import auth_filter, contains
from graphport.server.storage.records import Cron
from graphport.server.storage.schema import crons


def _where(
    conn: Conn,
    *,
    assistant_id: str | None = None,
    thread_id: str | None = None,
    enabled: bool | None = None,
    metadata: dict[str, Any] | None = None,
    flt: dict[str, Any] | None = None,
) -> Any:
    d = conn.dialect.name
    clauses = [contains(crons.c.metadata, d, metadata), auth_filter(crons.c.metadata, d, flt)]
    if assistant_id is not None:
        clauses.append(crons.c.assistant_id == assistant_id)
    if thread_id is not None:
        clauses.append(crons.c.thread_id == thread_id)
    if enabled is not None:
        clauses.append(crons.c.enabled == enabled)
    return and_(*clauses)


async def insert_new(conn: Conn, row: dict[str, Any]) -> dict[str, Any]:
    await conn.execute(insert(crons).values(**row))
    return row


async def get(conn: Conn, cron_id: str, flt: dict[str, Any] | None = None) -> dict[str, Any] | None:
    q = select(crons).where(
        crons.c.cron_id == cron_id, auth_filter(crons.c.metadata, conn.dialect.name, flt)
    )
    return row_dict((await conn.execute(q)).first())


async def set_fields(conn: Conn, cron_id: str, **fields: Any) -> None:
    await update_by_key(conn, crons, cron_id, fields)


async def delete_one(conn: Conn, cron_id: str) -> None:
    await conn.execute(delete(crons).where(crons.c.cron_id == cron_id))


async def delete_for_assistant(conn: Conn, assistant_id: str) -> None:
    await conn.execute(delete(crons).where(crons.c.assistant_id == assistant_id))


async def search(
    conn: Conn,
    *,
    limit: int,
    offset: int,
    sort_by: str,
    sort_order: str,
    **where: Any,
) -> tuple[list[dict[str, Any]], bool]:
    return await search_page(
        conn,
        crons,
        _where(conn, **where),
        sort_by=sort_by,
        sort_order=sort_order,
        limit=limit,
        offset=offset,
    )


async def count(conn: Conn, **where: Any) -> int:
    return await count_where(conn, crons, _where(conn, **where))


async def due(conn: Conn, now: datetime, limit: int) -> list[Cron]:
    """Enabled crons whose next tick is at or before `now`, oldest first."""
    q = (
        select(crons)
        .where(crons.c.enabled.is_(True), crons.c.next_run_date <= now)
        .order_by(crons.c.next_run_date, crons.c.cron_id)
        .limit(limit)
    )
    return cast(list[Cron], rows_dicts((await conn.execute(q)).all()))


async def claim_tick(
    conn: Conn, cron_id: str, expected: datetime | None, **fields: Any
) -> bool:
    """Compare-and-set on `next_run_date`: only the one writer that still sees the tick it
    read wins it, so a tick fires at most once across schedulers and restarts."""
    result = await conn.execute(
        update(crons)
        .where(
            crons.c.cron_id == cron_id,
            crons.c.enabled.is_(True),
            crons.c.next_run_date == expected,
        )
        .values(**fields)
    )
    return rowcount(result) == 1
