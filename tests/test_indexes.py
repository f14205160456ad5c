"""The claim, the hot searches and the statements around a run's creation and end use
indexes on both engines: their EXPLAIN plans never scan the whole `runs` or `threads`
table, nor sort all the rows a page is taken from (bench/scale_bench.py measures the
cost). On PostgreSQL sequential scans and sorts are switched off for the check, so a plan
that still has one has no index it could use (an empty table would otherwise always be
scanned)."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from conftest import opened_database
from graphport.server.lifecycle import sql
from graphport.server.serde import utcnow
from graphport.server.storage import run_inputs
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store
from graphport.server.storage.database import Database
from graphport.server.storage.threaded import ThreadedEngine


@contextlib.contextmanager
def explaining(db: Database) -> Iterator[list[str]]:
    """The plan of every statement our engine executes meanwhile, taken with the very SQL
    and parameters it sends, on its own connection, just before it runs."""
    plans: list[str] = []
    sync = db.engine.engine if isinstance(db.engine, ThreadedEngine) else db.engine.sync_engine
    prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "

    def explain(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH", "UPDATE", "DELETE", "INSERT")):
            cursor.execute(prefix + statement, parameters)
            # SQLite: (id, parent, notused, detail); PostgreSQL: one text line per row.
            plans.append("\n".join(str(r[-1]) for r in cursor.fetchall()))

    event.listen(sync, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(sync, "before_cursor_execute", explain)


def full_scans(plan: str) -> list[str]:
    """Lines of `plan` that read all of runs or threads (or an alias of them), or sort
    every matching row because no index gives their order (a page of 10 would cost as
    much as the whole set). Sorting the claim's two candidates (PostgreSQL) is not that."""
    sqlite = re.compile(r"^(SCAN (runs|threads|older|running)|USE TEMP B-TREE FOR ORDER BY)$")
    pg = re.compile(r"Seq Scan on (runs|threads)\b|^\s*(->\s*)?Sort\s+\(")
    lines = plan.splitlines()
    found = []
    for i, line in enumerate(lines):
        if not (sqlite.match(line.strip()) or pg.search(line)):
            continue
        child = next((c for c in lines[i + 1 :] if "->" in c), "")
        if "Sort" in line and "CTE Scan on candidates" in child:
            continue
        found.append(line)
    return found


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    async with opened_database(request.param) as database:
        yield database


async def plans_of(db: Database, body: Any) -> list[str]:
    """The plans of what `body(conn)` executes, in one write transaction."""
    async with db.begin() as conn:
        if db.dialect == "postgresql":
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            await conn.execute(text("SET LOCAL enable_sort = off"))
        with explaining(db) as plans:
            await body(conn)
    return plans


async def a_thread_with_a_pending_run(db: Database) -> str:
    now = utcnow()
    thread_id = str(uuid.uuid4())
    thread = {
        "thread_id": thread_id, "created_at": now, "updated_at": now, "state_updated_at": now,
        "metadata": {"user": "u1"}, "config": {}, "status": "busy", "values": None,
        "interrupts": {}, "error": None,
    }
    run = {
        "run_id": str(uuid.uuid4()), "thread_id": thread_id, "assistant_id": str(uuid.uuid4()),
        "created_at": now, "updated_at": now, "status": "pending", "metadata": {},
        "kwargs": {}, "multitask_strategy": "reject", "attempt": 0,
    }
    async with db.begin() as conn:
        assert await sql.insert_thread(conn, thread)  # type: ignore[arg-type]
        await sql.insert_run(conn, run)  # type: ignore[arg-type]
    return thread_id


async def test_the_claim_uses_indexes(db: Database) -> None:
    await a_thread_with_a_pending_run(db)
    now = utcnow()
    plans = await plans_of(db, lambda conn: sql.claim(conn, now, "w", now))
    # PostgreSQL: one statement; SQLite: the candidates, the take, when the next is due.
    assert len(plans) == (1 if db.dialect == "postgresql" else 3)
    for plan in plans:
        assert full_scans(plan) == [], plan


HOT_READS = {
    "threads by status": lambda conn: thread_store.search(
        conn, limit=10, offset=0, sort_by="created_at", sort_order="desc", status="error"
    ),
    "threads by metadata": lambda conn: thread_store.search(
        conn, limit=10, offset=0, sort_by="created_at", sort_order="desc",
        metadata={"user": "u7"},
    ),
    "threads count by status": lambda conn: thread_store.count(conn, status="error"),
    "runs of a thread": lambda conn: run_store.list_for_thread(
        conn, str(uuid.uuid4()), limit=10, offset=0, status=None
    ),
    "runs in flight on a thread": lambda conn: run_store.inflight(conn, str(uuid.uuid4())),
    "a new run's assistant and thread": lambda conn: run_inputs.assistant_and_thread(
        conn, str(uuid.uuid4()), str(uuid.uuid4())
    ),
    "a thread settled after a run's end": lambda conn: sql.settle_thread(
        conn, str(uuid.uuid4()), "idle", None, updated_at=utcnow()
    ),
    "next delayed run": lambda conn: run_store.next_due(conn, utcnow()),
    "lapsed leases": lambda conn: run_store.expired_leases(conn, utcnow()),
}


@pytest.mark.parametrize("name", HOT_READS)
async def test_hot_reads_use_indexes(db: Database, name: str) -> None:
    await a_thread_with_a_pending_run(db)
    (plan,) = await plans_of(db, HOT_READS[name])
    print(plan)
    assert full_scans(plan) == [], plan


# A filtered store search as langgraph's PostgreSQL store sends it
# (langgraph/store/postgres/base.py, non-vector branch): the namespace or anything under it,
# a value filter, newest first.
STORE_SEARCH = (
    "EXPLAIN SELECT store.prefix, store.key, store.value FROM store"
    " WHERE (store.prefix = 'users' OR store.prefix LIKE 'users.%' ESCAPE '\\')"
    " AND value->'kind' = '3'::jsonb ORDER BY store.updated_at DESC LIMIT 10 OFFSET 0"
)


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_a_filtered_store_search_walks_the_order_index(db: Database) -> None:
    """Without our index on the store's `updated_at` every item under the prefix is read
    and sorted to return the newest ten (docs/internals.md). PostgreSQL only: SQLite's
    planner takes the prefix index for that search whatever else exists."""
    async with db.begin() as conn:
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        await conn.execute(text("SET LOCAL enable_sort = off"))
        plan = "\n".join(str(r[-1]) for r in (await conn.execute(text(STORE_SEARCH))).all())
    assert "graphport_store_updated_at" in plan, plan
    assert not re.search(r"Seq Scan|\bSort\b", plan), plan
