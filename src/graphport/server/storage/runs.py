"""SQL reading runs, and writing the fields that are not their status (the statements that
change a run's status, the claim among them, belong to `graphport.server.lifecycle`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, delete, exists, func, select, update

from graphport.server.storage.common import Conn, row_dict, rows_dicts, update_by_key
from graphport.server.storage.filters import auth_filter
from graphport.server.storage.records import INFLIGHT, Run
from graphport.server.storage.schema import runs, threads
from graphport.types import RunStatus

_GET = select(runs).where(runs.c.run_id == bindparam("run_id"))
_GET_OF_THREAD = _GET.where(runs.c.thread_id == bindparam("thread_id"))
_INFLIGHT = (
    select(runs)
    .where(runs.c.thread_id == bindparam("thread_id"), runs.c.status.in_(INFLIGHT))
    .order_by(runs.c.created_at)
)
_ANY_INFLIGHT = select(
    exists().where(runs.c.thread_id == bindparam("thread_id"), runs.c.status.in_(INFLIGHT))
)


async def get(conn: Conn, run_id: str, thread_id: str | None = None) -> Run | None:
    if thread_id is None:
        row = (await conn.execute(_GET, {"run_id": run_id})).first()
    else:
        params = {"run_id": run_id, "thread_id": thread_id}
        row = (await conn.execute(_GET_OF_THREAD, params)).first()
    return cast(Run | None, row_dict(row))


def _runs(rows: Any) -> list[Run]:
    return cast(list[Run], rows_dicts(rows))


async def list_for_thread(
    conn: Conn, thread_id: str, *, limit: int, offset: int, status: str | None
) -> list[Run]:
    q = select(runs).where(runs.c.thread_id == thread_id)
    if status is not None:
        q = q.where(runs.c.status == status)
    q = q.order_by(runs.c.created_at.desc(), runs.c.run_id.desc()).limit(limit).offset(offset)
    return _runs((await conn.execute(q)).all())


async def page_for_assistant(
    conn: Conn,
    assistant_id: str,
    *,
    thread_id: str | None,
    statuses: tuple[RunStatus, ...] | None,
    flt: dict[str, Any] | None,
    limit: int,
    offset: int,
) -> tuple[list[Run], int]:
    """A page of an assistant's runs on threads `flt` lets through, newest first, and
    how many there are in all."""
    where = [
        runs.c.assistant_id == assistant_id,
        auth_filter(threads.c.metadata, conn.dialect.name, flt),
    ]
    if thread_id is not None:
        where.append(runs.c.thread_id == thread_id)
    if statuses is not None:
        where.append(runs.c.status.in_(statuses))
    joined = runs.join(threads, threads.c.thread_id == runs.c.thread_id)
    total = (await conn.execute(select(func.count()).select_from(joined).where(*where)))
    q = (
        select(runs)
        .select_from(joined)
        .where(*where)
        .order_by(runs.c.created_at.desc(), runs.c.run_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return _runs((await conn.execute(q)).all()), int(total.scalar_one())


async def inflight(conn: Conn, thread_id: str) -> list[Run]:
    return _runs((await conn.execute(_INFLIGHT, {"thread_id": thread_id})).all())


async def any_inflight(conn: Conn, thread_id: str) -> bool:
    return bool((await conn.execute(_ANY_INFLIGHT, {"thread_id": thread_id})).scalar())


async def matching(
    conn: Conn,
    *,
    thread_id: str | None = None,
    run_ids: list[str] | None = None,
    statuses: tuple[RunStatus, ...] = INFLIGHT,
    assistant_id: str | None = None,
) -> list[Run]:
    q = select(runs).where(runs.c.status.in_(statuses))
    if thread_id is not None:
        q = q.where(runs.c.thread_id == thread_id)
    if run_ids is not None:
        q = q.where(runs.c.run_id.in_(run_ids))
    if assistant_id is not None:
        q = q.where(runs.c.assistant_id == assistant_id)
    return _runs((await conn.execute(q)).all())


async def set_fields(conn: Conn, run_id: str, **fields: Any) -> None:
    """Fields other than `status` (the lifecycle's alone)."""
    if "status" in fields:
        raise ValueError("a run's status changes only through graphport.server.lifecycle")
    await update_by_key(conn, runs, run_id, fields)


async def delete_one(conn: Conn, run_id: str) -> None:
    await conn.execute(delete(runs).where(runs.c.run_id == run_id))


# Delayed runs only (after_seconds): a run queued behind another on its thread is woken
# by that run's end, not polled for. Also a subquery of the claim on PostgreSQL.
NEXT_DUE = select(func.min(runs.c.created_at)).where(
    runs.c.status == "pending", runs.c.created_at > bindparam("now", type_=runs.c.created_at.type)
)


async def next_due(conn: Conn, now: datetime) -> datetime | None:
    """When the next delayed run becomes runnable, if any."""
    return (await conn.execute(NEXT_DUE, {"now": now})).scalar()


async def renew_leases(
    conn: Conn, owner: str, run_ids: list[str], lease_until: datetime
) -> dict[str, str]:
    """Extend the leases `owner` holds; returns the cancels asked for those runs (run id ->
    action) in the same round trip."""
    if not run_ids:
        return {}
    result = await conn.execute(
        update(runs)
        .where(runs.c.run_id.in_(run_ids), runs.c.lease_owner == owner)
        .values(lease_expires_at=lease_until)
        .returning(runs.c.run_id, runs.c.cancel_action)
    )
    rows = result.all()
    return {row.run_id: row.cancel_action for row in rows if row.cancel_action is not None}


async def expired_leases(conn: Conn, now: datetime) -> list[Run]:
    q = select(runs).where(runs.c.status == "running", runs.c.lease_expires_at < now)
    return _runs((await conn.execute(q)).all())


async def inflight_counts(conn: Conn, owner: str | None) -> tuple[dict[str, int], int]:
    """(runs per in-flight status across every process, running runs leased to `owner`);
    metrics read it at scrape time, so any replica reports the whole queue."""
    owned = func.count().filter(runs.c.lease_owner == owner)
    q = select(runs.c.status, func.count(), owned).where(runs.c.status.in_(INFLIGHT))
    by_status: dict[str, int] = dict.fromkeys(INFLIGHT, 0)
    mine = 0
    rows = (await conn.execute(q.group_by(runs.c.status))).all()
    for status, count, of_owner in cast(list[tuple[str, int, int]], rows):
        by_status[status] = count
        mine += of_owner if status == "running" else 0
    return by_status, mine
