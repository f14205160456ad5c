"""The statements that write `runs.status` and `threads.status`: the lifecycle's alone.

The claim picks the oldest runnable pending run whose thread has no running run and no
older pending run (FIFO per thread). The partial unique index on running runs makes two
concurrent claims on one thread impossible even across processes; PostgreSQL adds
`FOR UPDATE SKIP LOCKED` so workers don't queue behind each other."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Select,
    Update,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)

from graphport.server.lifecycle import machine
from graphport.server.storage import runs as run_store
from graphport.server.storage.common import (
    Conn,
    insert_ignoring_conflict,
    row_dict,
    update_by_key,
)
from graphport.server.storage.records import INFLIGHT, Run, Thread
from graphport.server.storage.schema import runs, threads
from graphport.types import RunStatus, ThreadStatus


async def insert_run(conn: Conn, run: Run) -> None:
    await conn.execute(insert(runs), run)


async def insert_thread(conn: Conn, row: Thread) -> bool:
    """Insert unless a thread with this id exists (atomically); whether it was inserted."""
    return await insert_ignoring_conflict(conn, threads, dict(row), "thread_id")


async def add_thread(conn: Conn, row: Thread) -> None:
    """Insert a thread; one with this id already makes the transaction fail with
    IntegrityError (a write queued with the next, where `insert_thread` waits for its
    answer)."""
    await conn.execute(insert(threads), dict(row))


async def set_thread(conn: Conn, thread_id: str, status: ThreadStatus, **fields: Any) -> None:
    await update_by_key(conn, threads, thread_id, {"status": status, **fields})


@functools.cache
def _settle_thread(fields: frozenset[str]) -> Update:
    inflight = exists().where(runs.c.thread_id == threads.c.thread_id, runs.c.status.in_(INFLIGHT))
    error = bindparam("_error", type_=threads.c.error.type)
    return (
        update(threads)
        .where(threads.c.thread_id == bindparam("_thread_id"))
        .values(
            status=case((inflight, literal("busy")), else_=bindparam("_status")),
            error=case((inflight, threads.c.error), else_=error),
            **{f: bindparam(f) for f in fields},
        )
        # The status written says it (SQLite cannot correlate a subquery in RETURNING).
        .returning(threads.c.status)
    )


async def settle_thread(
    conn: Conn,
    thread_id: str,
    status: ThreadStatus,
    error: dict[str, Any] | None,
    **fields: Any,
) -> bool:
    """The thread's status in one statement: `busy` while runs are in flight on it, else
    `status` with `error`; whether runs are in flight. On PostgreSQL the caller holds the
    thread's lock, so the in-flight check sees every run created before it."""
    stmt = _settle_thread(frozenset(fields))
    params = {"_thread_id": thread_id, "_status": status, "_error": error, **fields}
    return (await conn.execute(stmt, params)).scalar() == "busy"


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
    q = select(runs.c.run_id, runs.c.created_at).where(runnable)
    return q.order_by(runs.c.created_at).limit(2)


def _take(run_id: Any) -> Update:
    return (
        update(runs)
        .where(runs.c.run_id == run_id, runs.c.status.in_(machine.sources("claim")))
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


def _claim_pg() -> Select[Any]:
    """The claim as one statement: lock two candidates (skipping rows other workers are
    claiming), take the oldest, and say how many there were and when the next delayed
    run is due. One row, whose run columns are null when nothing was taken."""
    candidates = _claim_select().with_for_update(skip_locked=True, of=runs).cte("candidates")
    first = select(candidates.c.run_id).order_by(candidates.c.created_at).limit(1)
    taken = _take(first.scalar_subquery()).cte("taken")
    found = select(func.count()).select_from(candidates).scalar_subquery()
    one = select(literal(1).label("one")).subquery("one")
    return select(
        taken, found.label("_candidates"), run_store.NEXT_DUE.scalar_subquery().label("_due")
    ).select_from(one.outerjoin(taken, true()))


# Built once: constructing these statements per claim cost more than executing them.
_CLAIM = _claim_select()
_TAKE = _take(bindparam("_run_id"))
_CLAIM_PG = _claim_pg()
_RUN_COLUMNS = tuple(runs.c.keys())


async def claim(
    conn: Conn, now: datetime, owner: str, lease_until: datetime
) -> tuple[Run | None, bool, datetime | None]:
    """Mark the next runnable run as running for `owner`: (the run or None, whether another
    may be runnable, and if not when the next delayed run is due). Raises IntegrityError
    when another worker started a run on that thread first (the unique index on running
    runs); the caller's transaction is lost. One statement on PostgreSQL."""
    params: dict[str, Any] = {"now": now, "owner": owner, "lease_until": lease_until}
    if conn.dialect.name == "postgresql":
        row = (await conn.execute(_CLAIM_PG, params)).one()._mapping
        run = {k: row[k] for k in _RUN_COLUMNS} if row["run_id"] is not None else None
        more = row["_candidates"] > 1
        return cast(Run | None, run), more, None if more else row["_due"]
    candidates = (await conn.execute(_CLAIM, {"now": now})).all()
    taken = None
    if candidates:
        params["_run_id"] = candidates[0][0]
        taken = row_dict((await conn.execute(_TAKE, params)).first())
    more = len(candidates) > 1
    due = None if more else await run_store.next_due(conn, now)
    return cast(Run | None, taken), more, due


async def release(conn: Conn, owner: str, now: datetime) -> list[Run]:
    """Every run `owner` holds goes back to the queue (the owner is stopping)."""
    stmt = (
        update(runs)
        .where(runs.c.lease_owner == owner, runs.c.status.in_(machine.sources("release")))
        .values(status="pending", lease_owner=None, lease_expires_at=None, updated_at=now)
        .returning(*runs.c)
    )
    return [cast(Run, dict(r._mapping)) for r in (await conn.execute(stmt)).all()]
