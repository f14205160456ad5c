"""PostgreSQL's pipelined transactions (storage/pipelined.py): a write without RETURNING is
only queued, yet the transaction means what it says, and its failures are SQLAlchemy's
exceptions, the connection fit for the next transaction."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from conftest import opened_database
from graphport.server.lifecycle import sql
from graphport.server.runtime.faults import is_transient
from graphport.server.serde import utcnow
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store
from graphport.server.storage.common import Conn
from graphport.server.storage.database import Database
from graphport.server.storage.records import Run, Thread
from pg_backends import terminate


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with opened_database("postgres") as database:
        yield database


def thread_row(thread_id: str) -> Thread:
    now = utcnow()
    return {
        "thread_id": thread_id, "created_at": now, "updated_at": now, "state_updated_at": now,
        "metadata": {}, "config": {}, "status": "busy", "values": None, "interrupts": {},
        "error": None,
    }  # fmt: skip


def run_row(thread_id: str) -> Run:
    now = utcnow()
    return {
        "run_id": str(uuid.uuid4()), "thread_id": thread_id, "assistant_id": str(uuid.uuid4()),
        "created_at": now, "updated_at": now, "status": "pending", "metadata": {},
        "kwargs": {}, "multitask_strategy": "enqueue", "attempt": 0, "cancel_reason": None,
    }  # type: ignore[typeddict-item]  # fmt: skip


async def thread_exists(db: Database, thread_id: str) -> bool:
    async with db.read() as conn:
        return await thread_store.get(conn, thread_id) is not None


async def test_a_queued_write_is_seen_by_the_statements_after_it(db: Database) -> None:
    thread_id = str(uuid.uuid4())
    run = run_row(thread_id)

    async def body(conn: Conn) -> Run | None:
        assert await sql.insert_thread(conn, thread_row(thread_id))
        await sql.insert_run(conn, run)  # queued: no RETURNING
        return await run_store.get(conn, run["run_id"])

    found = await db.transact(body)
    assert found is not None and found["thread_id"] == thread_id


async def test_a_queued_writes_error_fails_the_transaction_as_sqlalchemys(db: Database) -> None:
    orphan = run_row(str(uuid.uuid4()))  # its thread does not exist: a foreign key error
    thread_id = str(uuid.uuid4())

    async def body(conn: Conn) -> None:
        assert await sql.insert_thread(conn, thread_row(thread_id))
        await sql.insert_run(conn, orphan)

    with pytest.raises(sqlalchemy.exc.IntegrityError):
        await db.transact(body)
    assert not await thread_exists(db, thread_id)  # rolled back as a whole

    async def again(conn: Conn) -> bool:
        return await sql.insert_thread(conn, thread_row(thread_id))

    assert await db.transact(again)


@pytest.mark.parametrize("failing", ["the body", "a statement"])
async def test_a_body_that_raises_commits_nothing(db: Database, failing: str) -> None:
    thread_id = str(uuid.uuid4())

    async def body(conn: Conn) -> None:
        await sql.set_thread(conn, thread_id, "idle")  # queued, then abandoned
        assert await sql.insert_thread(conn, thread_row(thread_id))
        if failing == "a statement":
            await conn.execute(text("SELECT 1 / 0"))
        raise RuntimeError("changed its mind")

    expected = RuntimeError if failing == "the body" else sqlalchemy.exc.DataError
    with pytest.raises(expected):
        await db.transact(body)
    assert not await thread_exists(db, thread_id)


async def test_a_connection_lost_before_the_commit_is_a_transient_fault(db: Database) -> None:
    thread_id = str(uuid.uuid4())

    async def body(conn: Conn) -> None:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await sql.insert_run(conn, run_row(thread_id))  # queued
        assert await terminate(db.url, pid) == 1

    with pytest.raises(sqlalchemy.exc.DBAPIError) as raised:
        await db.transact(body)
    assert is_transient(raised.value)

    async def again(conn: Conn) -> Any:
        return await sql.insert_thread(conn, thread_row(thread_id))

    assert await db.transact(again)


async def test_a_single_statement_transaction_refuses_a_second_statement(db: Database) -> None:
    """`transact_single` runs its one statement as its own transaction: a second one would
    not be atomic with it, so it is refused before it runs."""
    kept, refused = str(uuid.uuid4()), str(uuid.uuid4())

    async def body(conn: Conn) -> None:
        await sql.add_thread(conn, thread_row(kept))
        await sql.add_thread(conn, thread_row(refused))

    with pytest.raises(RuntimeError, match="second statement"):
        await db.transact_single(body)
    assert await thread_exists(db, kept)
    assert not await thread_exists(db, refused)

    # The connection is back in transaction mode: a failed transaction leaves nothing.
    rolled_back = str(uuid.uuid4())
    with pytest.raises(ZeroDivisionError):
        async with db.begin() as conn:
            await sql.add_thread(conn, thread_row(rolled_back))
            raise ZeroDivisionError
    assert not await thread_exists(db, rolled_back)
