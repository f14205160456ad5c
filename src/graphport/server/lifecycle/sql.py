"""The statements that write `runs.status` and `threads.status`: the lifecycle's alone.

The claim picks the oldest runnable pending run whose thread has no running run and no
older pending run (FIFO per thread). The partial unique index on running runs makes two
concurrent claims on one thread impossible even across processes; PostgreSQL adds
`FOR UPDATE SKIP LOCKED` so workers don't queue behind each other."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Update, and_, bindparam, delete, exists, insert, select, update

from graphport.server.lifecycle import machine
from graphport.server.storage.common import (
    Conn,
    insert_ignoring_conflict,
    row_dict,
    update_by_key,
)
from graphport.server.storage.records import Run, Thread
from graphport.server.storage.schema import runs, threads
from graphport.types import RunStatus, ThreadStatus


async def insert_run(conn: Conn, run: Run) -> None:
    await conn.execute(insert(runs), run)


async def insert_thread(conn: Conn, row: Thread) -> bool:
    """Insert unless a thread with this id exists (atomically); whether it was inserted."""
    return await insert_ignoring_conflict(conn, threads, dict(row), "thread_id")


async def set_thread(conn: Conn, thread_id: str, status: ThreadStatus, **fields: Any) -> None:
    await update_by_key(conn, threads, thread_id, {"status": status, **fields})


# Every run's end goes through `set_run_if`, so it is built once per shape and executed
# with parameters: built per call, with the updated row returned, it cost about a sixth
# of a stateless run's CPU (bench/run_bench.py). It returns the run's id only: whether it
# matched (a row count is unknown in a pipelined transaction, storage/pipelined.py).
@functools.cache
def _set_run_if(
    expected: tuple[RunStatus, ...], owned: bool, fields: frozenset[str], lock_thread: bool
) -> Update | Select[Any]:
    where = [runs.c.run_id == bindparam("_run_id"), runs.c.status.in_(expected)]
    if owned:
        where.append(runs.c.lease_owner == bindparam("_owner"))
    values: dict[str, Any] = {f: bindparam(f) for f in fields}
    stmt = update(runs).where(*where).values(status=bindparam("_status"), **values)
    if not lock_thread:
        return stmt.returning(runs.c.run_id)
    # The run's row first, then its thread's, as every transition takes them.
    done = stmt.returning(runs.c.thread_id).cte("done")
    joined = done.join(threads, threads.c.thread_id == done.c.thread_id)
    return select(done.c.thread_id).select_from(joined).with_for_update(of=threads)


async def set_run_if(
    conn: Conn,
    run_id: str,
    expected: tuple[RunStatus, ...],
    status: RunStatus,
    *,
    owner: str | None = None,
    lock_thread: bool = False,
    **fields: Any,
) -> bool:
    """Compare-and-set on status (and on the lease holder when `owner` is given): whether
    the run was updated (False when another actor moved it first). `lock_thread` also locks
    the run's thread row in the same statement (PostgreSQL; see `threads.lock`)."""
    lock_thread = lock_thread and conn.dialect.name == "postgresql"
    stmt = _set_run_if(expected, owner is not None, frozenset(fields), lock_thread)
    params = {"_run_id": run_id, "_status": status, **fields}
    if owner is not None:
        params["_owner"] = owner
    return (await conn.execute(stmt, params)).first() is not None


async def delete_run_if(conn: Conn, run_id: str, expected: tuple[RunStatus, ...]) -> bool:
    stmt = delete(runs).where(runs.c.run_id == run_id, runs.c.status.in_(expected))
    return (await conn.execute(stmt.returning(runs.c.run_id))).first() is not None


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
_TAKE = (
    update(runs)
    .where(runs.c.run_id == bindparam("_run_id"), runs.c.status.in_(machine.sources("claim")))
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
) -> tuple[Run | None, bool]:
    """Mark the next runnable run as running for `owner`: (the run or None, whether another
    may be runnable). Raises IntegrityError when another worker started a run on that
    thread first (the unique index on running runs); the caller's transaction is lost."""
    q = _CLAIM_PG if conn.dialect.name == "postgresql" else _CLAIM
    candidates = (await conn.execute(q, {"now": now})).scalars().all()
    if not candidates:
        return None, False
    params = {"_run_id": candidates[0], "now": now, "owner": owner, "lease_until": lease_until}
    run = row_dict((await conn.execute(_TAKE, params)).first())
    return cast(Run | None, run), len(candidates) > 1


async def release(conn: Conn, owner: str, now: datetime) -> list[Run]:
    """Every run `owner` holds goes back to the queue (the owner is stopping)."""
    stmt = (
        update(runs)
        .where(runs.c.lease_owner == owner, runs.c.status.in_(machine.sources("release")))
        .values(status="pending", lease_owner=None, lease_expires_at=None, updated_at=now)
        .returning(*runs.c)
    )
    return [cast(Run, dict(r._mapping)) for r in (await conn.execute(stmt)).all()]
