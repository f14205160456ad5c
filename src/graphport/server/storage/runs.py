"""SQL for runs, including the claim that turns the table into a queue.

The claim picks the oldest runnable pending run whose thread has no running run and no
older pending run (FIFO per thread). The partial unique index on running runs makes two
concurrent claims on one thread impossible even across processes; PostgreSQL adds
`FOR UPDATE SKIP LOCKED` so workers don't queue behind each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, exists, func, insert, select, update

from graphport.server.storage.common import Conn, row_dict, rowcount, rows_dicts, update_by_key
from graphport.server.storage.schema import runs

INFLIGHT = ("pending", "running")


async def insert_new(conn: Conn, row: dict[str, Any]) -> dict[str, Any]:
    await conn.execute(insert(runs), row)
    return row


_GET = select(runs).where(runs.c.run_id == bindparam("run_id"))
_GET_OF_THREAD = _GET.where(runs.c.thread_id == bindparam("thread_id"))
_INFLIGHT = (
    select(runs)
    .where(runs.c.thread_id == bindparam("thread_id"), runs.c.status.in_(INFLIGHT))
    .order_by(runs.c.created_at)
)


async def get(conn: Conn, run_id: str, thread_id: str | None = None) -> dict[str, Any] | None:
    if thread_id is None:
        return row_dict((await conn.execute(_GET, {"run_id": run_id})).first())
    params = {"run_id": run_id, "thread_id": thread_id}
    return row_dict((await conn.execute(_GET_OF_THREAD, params)).first())


async def list_for_thread(
    conn: Conn, thread_id: str, *, limit: int, offset: int, status: str | None
) -> list[dict[str, Any]]:
    q = select(runs).where(runs.c.thread_id == thread_id)
    if status is not None:
        q = q.where(runs.c.status == status)
    q = q.order_by(runs.c.created_at.desc(), runs.c.run_id.desc()).limit(limit).offset(offset)
    return rows_dicts((await conn.execute(q)).all())


async def inflight(conn: Conn, thread_id: str) -> list[dict[str, Any]]:
    return rows_dicts((await conn.execute(_INFLIGHT, {"thread_id": thread_id})).all())


async def matching(
    conn: Conn,
    *,
    thread_id: str | None = None,
    run_ids: list[str] | None = None,
    statuses: tuple[str, ...] = INFLIGHT,
    assistant_id: str | None = None,
) -> list[dict[str, Any]]:
    q = select(runs).where(runs.c.status.in_(statuses))
    if thread_id is not None:
        q = q.where(runs.c.thread_id == thread_id)
    if run_ids is not None:
        q = q.where(runs.c.run_id.in_(run_ids))
    if assistant_id is not None:
        q = q.where(runs.c.assistant_id == assistant_id)
    return rows_dicts((await conn.execute(q)).all())


async def set_fields(conn: Conn, run_id: str, **fields: Any) -> None:
    await update_by_key(conn, runs, run_id, fields)


async def set_status_if(conn: Conn, run_id: str, expected: tuple[str, ...], **fields: Any) -> bool:
    """Compare-and-set on status; False when another actor changed the run first."""
    result = await conn.execute(
        update(runs).where(runs.c.run_id == run_id, runs.c.status.in_(expected)).values(**fields)
    )
    return bool(rowcount(result))


async def delete_if_status(conn: Conn, run_id: str, expected: tuple[str, ...]) -> bool:
    result = await conn.execute(
        delete(runs).where(runs.c.run_id == run_id, runs.c.status.in_(expected))
    )
    return bool(rowcount(result))


async def delete_one(conn: Conn, run_id: str) -> None:
    await conn.execute(delete(runs).where(runs.c.run_id == run_id))


def _claim_select() -> Select[Any]:
    older = runs.alias("older")
    running = runs.alias("running")
    runnable = and_(
        runs.c.status == "pending",
        runs.c.created_at <= bindparam("now", type_=runs.c.created_at.type),
        ~exists().where(running.c.thread_id == runs.c.thread_id, running.c.status == "running"),
        ~exists().where(
            older.c.thread_id == runs.c.thread_id,
            older.c.status == "pending",
            older.c.created_at < runs.c.created_at,
        ),
    )
    # Two candidates: the second only says whether to claim again (saves an empty claim).
    return select(runs.c.run_id).where(runnable).order_by(runs.c.created_at).limit(2)


# Built once: constructing these statements per claim cost more than executing them.
_CLAIM = _claim_select()
_CLAIM_PG = _CLAIM.with_for_update(skip_locked=True, of=runs)
# Delayed runs only (after_seconds): a run queued behind another on its thread is woken
# by that run's end, not polled for.
_NEXT_DUE = select(func.min(runs.c.created_at)).where(
    runs.c.status == "pending", runs.c.created_at > bindparam("now", type_=runs.c.created_at.type)
)
_TAKE = (
    update(runs)
    .where(runs.c.run_id == bindparam("_run_id"), runs.c.status == "pending")
    .values(
        status="running",
        started_at=bindparam("now"),
        updated_at=bindparam("now"),
        lease_owner=bindparam("owner"),
        lease_expires_at=bindparam("lease_until"),
        attempt=runs.c.attempt + 1,
    )
    .returning(*runs.c)
)


async def claim(
    conn: Conn, now: datetime, owner: str, lease_until: datetime
) -> tuple[dict[str, Any] | None, bool]:
    """Mark the next runnable run as running for `owner`: (the run or None, whether another
    may be runnable). Raises IntegrityError when another worker started a run on that
    thread first (the unique index on running runs); the caller's transaction is lost."""
    q = _CLAIM_PG if conn.dialect.name == "postgresql" else _CLAIM
    candidates = (await conn.execute(q, {"now": now})).scalars().all()
    if not candidates:
        return None, False
    params = {"_run_id": candidates[0], "now": now, "owner": owner, "lease_until": lease_until}
    run = row_dict((await conn.execute(_TAKE, params)).first())
    return run, len(candidates) > 1


async def next_due(conn: Conn, now: datetime) -> datetime | None:
    """When the next delayed run becomes runnable, if any."""
    return (await conn.execute(_NEXT_DUE, {"now": now})).scalar()


async def renew_leases(conn: Conn, owner: str, run_ids: list[str], lease_until: datetime) -> None:
    if run_ids:
        await conn.execute(
            update(runs)
            .where(runs.c.run_id.in_(run_ids), runs.c.lease_owner == owner)
            .values(lease_expires_at=lease_until)
        )


async def release_leases(conn: Conn, owner: str, now: datetime) -> None:
    """Expire every lease `owner` holds (it is stopping), so recovery takes its runs now."""
    await conn.execute(
        update(runs)
        .where(runs.c.lease_owner == owner, runs.c.status == "running")
        .values(lease_expires_at=now)
    )


async def expired_leases(conn: Conn, now: datetime) -> list[dict[str, Any]]:
    q = select(runs).where(runs.c.status == "running", runs.c.lease_expires_at < now)
    return rows_dicts((await conn.execute(q)).all())
