"""SQLite on dedicated threads (storage/threaded.py), as `open_database` sets it up: writes
on one writer thread, reads on reader threads, commit and rollback, errors crossing back to
the caller, concurrent writers queued, a cancelled caller leaving nothing open, disposal."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from graphport.server.storage import database as database_module
from graphport.server.storage.database import Database, open_database
from graphport.server.storage.threaded import ThreadedEngine

BOUND = 10.0  # seconds any single wait may take before the test fails
scratch = Table(
    "scratch", MetaData(), Column("k", String, primary_key=True), Column("v", Integer)
)


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "threaded.db")


@pytest.fixture
async def db(path: str) -> AsyncIterator[Database]:
    async with open_database(sqlite_path=path) as database:
        engine = _threaded(database)
        await engine.run(scratch.metadata.create_all, engine.engine)
        yield database


def _threaded(db: Database) -> ThreadedEngine:
    assert isinstance(db.engine, ThreadedEngine)
    return db.engine


@pytest.fixture
def statement_threads(db: Database) -> Iterator[list[tuple[str, str]]]:
    """(thread name, SQL) of every statement our engine executes from now on."""
    seen: list[tuple[str, str]] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((threading.current_thread().name, statement))

    engine = _threaded(db).engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def _rows(db: Database) -> dict[str, int]:
    async with db.read() as conn:
        return {k: v for k, v in (await conn.execute(select(scratch.c.k, scratch.c.v))).all()}


async def test_writes_run_on_the_writer_thread_and_reads_on_the_readers(
    db: Database, statement_threads: list[tuple[str, str]]
) -> None:
    async with db.begin() as conn:
        await conn.execute(insert(scratch).values(k="a", v=1))

    async def body(conn: Any) -> str:
        await conn.execute(insert(scratch).values(k="b", v=2))
        return threading.current_thread().name

    body_thread = await db.transact(body)
    writes = {name for name, sql in statement_threads if sql.startswith("INSERT")}
    statement_threads.clear()
    for _ in range(4):
        assert await _rows(db) == {"a": 1, "b": 2}
    reads = {name for name, _ in statement_threads}

    assert writes == {body_thread} and body_thread.startswith("graphport-db-write")
    # Reads take turns over the reader threads, never the writer's or the event loop's.
    assert len(reads) == 2 and all(name.startswith("graphport-db-read") for name in reads)


async def test_a_reader_sees_committed_data_while_a_write_is_open(db: Database) -> None:
    async with asyncio.timeout(BOUND):
        async with db.begin() as conn:
            await conn.execute(insert(scratch).values(k="a", v=1))
            assert await _rows(db) == {}  # not blocked by the open write, and not its data
        assert await _rows(db) == {"a": 1}


async def test_an_error_rolls_back_and_reaches_the_caller(db: Database) -> None:
    with pytest.raises(IntegrityError):  # raised on the writer thread
        async with db.begin() as conn:
            await conn.execute(insert(scratch).values(k="a", v=1))
            await conn.execute(insert(scratch).values(k="a", v=2))

    async def failing(conn: Any) -> None:
        await conn.execute(insert(scratch).values(k="b", v=1))
        raise ValueError("the body's own error")

    with pytest.raises(ValueError, match="the body's own error"):
        await db.transact(failing)
    assert await _rows(db) == {}


async def test_transact_commits_and_returns_what_the_body_returns(db: Database) -> None:
    async def body(conn: Any) -> int:
        await conn.execute(insert(scratch).values(k="a", v=1))
        return int((await conn.execute(select(scratch.c.v))).scalar_one())

    assert await db.transact(body) == 1
    assert await _rows(db) == {"a": 1}


async def test_transact_refuses_a_body_that_awaits_anything_else(db: Database) -> None:
    async def body(conn: Any) -> None:
        await conn.execute(insert(scratch).values(k="a", v=1))
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="may await only its connection"):
        await db.transact(body)
    assert await _rows(db) == {}


async def test_a_savepoint_rolls_back_alone(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(insert(scratch).values(k="kept", v=1))
        with pytest.raises(IntegrityError):
            async with conn.begin_nested():
                await conn.execute(insert(scratch).values(k="dropped", v=1))
                await conn.execute(insert(scratch).values(k="kept", v=2))

    async def body(conn: Any) -> None:
        with pytest.raises(ValueError):
            async with conn.begin_nested():
                await conn.execute(insert(scratch).values(k="dropped", v=2))
                raise ValueError
        await conn.execute(insert(scratch).values(k="also kept", v=3))

    await db.transact(body)
    assert await _rows(db) == {"kept": 1, "also kept": 3}


async def test_concurrent_writers_are_queued_one_at_a_time(db: Database) -> None:
    """Read-modify-write from many tasks at once, through both write paths: queued, none
    is lost and none meets SQLite's lock."""
    async with db.begin() as conn:
        await conn.execute(insert(scratch).values(k="n", v=0))

    async def through_begin() -> None:
        async with db.begin() as conn:
            n = (await conn.execute(select(scratch.c.v))).scalar_one()
            await asyncio.sleep(0)  # let the other writers try to get in
            await conn.execute(update(scratch).values(v=n + 1))

    async def body(conn: Any) -> None:
        n = (await conn.execute(select(scratch.c.v))).scalar_one()
        await conn.execute(update(scratch).values(v=n + 1))

    async with asyncio.timeout(BOUND):
        await asyncio.gather(
            *(through_begin() for _ in range(10)), *(db.transact(body) for _ in range(10))
        )
    assert await _rows(db) == {"n": 20}


async def test_a_cancelled_writer_leaves_no_transaction_open(db: Database) -> None:
    inserted, never = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.begin() as conn:
            await conn.execute(insert(scratch).values(k="cancelled", v=1))
            inserted.set()
            await never.wait()

    task = asyncio.create_task(writer())
    async with asyncio.timeout(BOUND):
        await inserted.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with db.begin() as conn:  # SQLite's write lock was released
            await conn.execute(insert(scratch).values(k="next", v=2))
    assert await _rows(db) == {"next": 2}


async def _hold_reads(db: Database, n: int, release: asyncio.Event) -> list[asyncio.Task[None]]:
    """`n` read transactions, each past its first statement (so holding a connection)
    and waiting for `release`."""
    started = asyncio.Semaphore(0)

    async def reader() -> None:
        async with db.read() as conn:
            await conn.execute(select(scratch.c.k))
            started.release()
            await release.wait()

    tasks = [asyncio.create_task(reader()) for _ in range(n)]
    for _ in range(n):
        await started.acquire()
    return tasks


async def test_a_burst_of_open_reads_never_blocks_a_database_thread(db: Database) -> None:
    """As many open reads as there are slots (more than the pool keeps) do not exhaust
    the pool: a reader thread never waits in a checkout, so writes and further reads go
    on, and a read past the slots waits its turn on the event loop."""
    release = asyncio.Event()
    async with asyncio.timeout(BOUND):
        held = await _hold_reads(db, database_module.SQLITE_READ_SLOTS, release)
        async with db.begin() as conn:
            await conn.execute(insert(scratch).values(k="a", v=1))
        late = asyncio.create_task(_rows(db))
        await asyncio.sleep(0.05)
        assert not late.done()  # waiting for a slot, not holding a thread
        release.set()
        await asyncio.gather(*held)
        assert await late == {"a": 1}


async def test_a_read_that_gets_no_slot_in_time_fails_as_a_pool_timeout(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "SQLITE_READ_SLOTS", 2)
    monkeypatch.setattr(database_module, "SQLITE_SLOT_TIMEOUT", 0.05)
    async with open_database(sqlite_path=path) as db:
        engine = _threaded(db)
        await engine.run(scratch.metadata.create_all, engine.engine)
        release = asyncio.Event()
        async with asyncio.timeout(BOUND):
            held = await _hold_reads(db, 2, release)
            with pytest.raises(PoolTimeout):
                await _rows(db)
            release.set()
            await asyncio.gather(*held)
            assert await _rows(db) == {}


async def test_disposal_keeps_what_was_committed_and_refuses_new_work(path: str) -> None:
    async with open_database(sqlite_path=path) as db:
        engine = _threaded(db)
        await engine.run(scratch.metadata.create_all, engine.engine)
        async with db.begin() as conn:
            await conn.execute(insert(scratch).values(k="a", v=1))

    with pytest.raises(RuntimeError, match="after shutdown"):
        await engine.run(engine.engine.connect)
    with pytest.raises(RuntimeError, match="after shutdown"):
        async with engine.transaction(write=False) as conn:
            await conn.execute(select(scratch.c.k))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT k, v FROM scratch").fetchall() == [("a", 1)]
