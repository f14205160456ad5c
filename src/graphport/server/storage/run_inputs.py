"""The read of run creation: the run's assistant and its thread (locked on PostgreSQL) in
one statement, so creating a run on an existing or new thread waits for one round trip
before it writes instead of two (bench/run_bench.py counts them)."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Select, bindparam, literal, select, true

from graphport.server.storage.common import Conn
from graphport.server.storage.filters import auth_filter
from graphport.server.storage.records import Thread
from graphport.server.storage.schema import assistants, threads


def _statement(
    dialect: str, a_flt: dict[str, Any] | None, flt: dict[str, Any] | None, lock: bool
) -> Select[Any]:
    assistant = select(assistants).where(
        assistants.c.assistant_id == bindparam("assistant_id"),
        auth_filter(assistants.c.metadata, dialect, a_flt),
    )
    thread = select(threads).where(
        threads.c.thread_id == bindparam("thread_id"),
        auth_filter(threads.c.metadata, dialect, flt),
    )
    if lock:
        # Inside its subquery, so the outer join may leave it empty (PostgreSQL refuses
        # FOR UPDATE on the nullable side of an outer join, not within it).
        thread = thread.with_for_update()
    a, t = assistant.subquery("a"), thread.subquery("t")
    one = select(literal(1).label("one")).subquery("one")
    return select(
        *(c.label(f"a_{c.key}") for c in a.c), *(c.label(f"t_{c.key}") for c in t.c)
    ).select_from(one.outerjoin(a, true()).outerjoin(t, true()))


# Without auth filters the statement depends only on the dialect: built once.
_unfiltered = functools.cache(functools.partial(_statement, a_flt=None, flt=None))


async def assistant_and_thread(
    conn: Conn,
    assistant_id: str,
    thread_id: str,
    *,
    assistant_filter: dict[str, Any] | None = None,
    thread_filter: dict[str, Any] | None = None,
) -> tuple[dict[str, Any] | None, Thread | None]:
    """The assistant and the thread, each None when missing or not let through by its
    auth filter; the thread's row is locked until the transaction ends (PostgreSQL)."""
    dialect = conn.dialect.name
    lock = dialect == "postgresql"
    if assistant_filter or thread_filter:
        stmt = _statement(dialect, assistant_filter, thread_filter, lock)
    else:
        stmt = _unfiltered(dialect, lock=lock)
    row = (await conn.execute(stmt, {"assistant_id": assistant_id, "thread_id": thread_id})).one()
    found = row._mapping
    assistant = thread = None
    if found["a_assistant_id"] is not None:
        assistant = {c.key: found[f"a_{c.key}"] for c in assistants.c}
    if found["t_thread_id"] is not None:
        thread = {c.key: found[f"t_{c.key}"] for c in threads.c}
    return assistant, cast(Thread | None, thread)
