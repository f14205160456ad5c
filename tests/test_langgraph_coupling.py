"""Guards on the langgraph internals Graphport depends on (docs/internals.md): the columns of
the checkpoint savers' tables that storage/checkpoints.py writes with raw SQL, what that SQL
reads from checkpoints langgraph writes, and the private attributes and methods we override
or call. A langgraph release that changes any of them fails here, by name, instead of
breaking thread copy, rollback or pruning at run time. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib
import operator
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.graph import StateGraph
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from conftest import REQUIRE_PG, database_for, unavailable
from graphport.server.storage import checkpoints
from graphport.server.storage.checkpoints import SAVER_COLUMNS
from graphport.server.storage.database import Database, open_database
from graphport.server.storage.schema import metadata
from graphport.server.storage.threaded import ThreadedEngine

# Tables in the database that are neither ours nor the savers' (whose columns we pin).
_OTHERS = {"alembic_version", "checkpoint_migrations", "store", "store_migrations"}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """`open_database` arguments for a fresh database of each kind."""
    reason = unavailable(request.param)
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    with database_for(request.param) as db:
        yield {"sqlite_path": db.get("database"), "postgres_url": db.get("database_url")}


@pytest.fixture
async def db(database: dict[str, Any]) -> AsyncIterator[Database]:
    async with open_database(**database) as opened:
        yield opened


async def _inspect(db: Database, what: Any) -> Any:
    """`what(inspector)` on our engine, whichever kind it is."""

    def run(bind: Engine | Connection) -> Any:
        return what(inspect(bind))

    if isinstance(db.engine, ThreadedEngine):
        return await db.engine.run(run, db.engine.engine)
    async with db.engine.connect() as conn:
        return await conn.run_sync(run)


async def test_saver_tables_have_exactly_the_columns_our_sql_copies(db: Database) -> None:
    for table, columns in SAVER_COLUMNS[db.dialect].items():
        found = await _inspect(db, lambda i, t=table: {c["name"] for c in i.get_columns(t)})
        expected = {"thread_id", *columns}
        assert found == expected, (
            f"langgraph's {db.dialect} checkpoint table {table!r} changed: missing "
            f"{sorted(expected - found)}, new {sorted(found - expected)}. Update SAVER_COLUMNS "
            "and the SQL in storage/checkpoints.py (see docs/internals.md)."
        )


async def test_savers_create_no_table_our_sql_ignores(db: Database) -> None:
    tables = set(await _inspect(db, lambda i: i.get_table_names()))
    unknown = tables - set(metadata.tables) - set(SAVER_COLUMNS[db.dialect]) - _OTHERS
    assert not unknown, (
        f"langgraph's {db.dialect} savers now create {sorted(unknown)}: copy_thread, "
        "delete_for_runs and keep_latest in storage/checkpoints.py do not touch them "
        "(see docs/internals.md)."
    )


class _State(TypedDict):
    log: Annotated[list[str], operator.add]


def _graph(db: Database) -> Any:
    builder = StateGraph(_State)
    builder.add_node("step", lambda state: {"log": ["step"]})
    builder.set_entry_point("step")
    return builder.compile(checkpointer=db.checkpointer)


async def _history(db: Database, thread_id: str) -> list[Any]:
    config = {"configurable": {"thread_id": thread_id}}
    return [c async for c in db.checkpointer.alist(config)]


async def test_raw_sql_works_on_checkpoints_langgraph_writes(db: Database) -> None:
    """Rollback finds a run's checkpoints by the run_id langgraph copies from `configurable`
    (where services/runs.py puts it) into checkpoint metadata; copy and prune rely on the
    tables' keys and on checkpoint ids sorting by time."""
    graph, thread, copy = _graph(db), str(uuid.uuid4()), str(uuid.uuid4())
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for run_id in (first, second):
        config = {"configurable": {"thread_id": thread, "run_id": run_id}}
        await graph.ainvoke({"log": [run_id]}, config)
    history = await _history(db, thread)
    assert {c.metadata.get("run_id") for c in history} == {first, second}

    await checkpoints.copy_thread(db, thread, copy)
    copied = await _history(db, copy)
    assert [c.checkpoint["id"] for c in copied] == [c.checkpoint["id"] for c in history]
    assert copied[0].checkpoint["channel_values"] == history[0].checkpoint["channel_values"]

    await checkpoints.keep_latest(db, copy)
    assert [c.checkpoint["id"] for c in await _history(db, copy)] == [history[0].checkpoint["id"]]

    await checkpoints.delete_for_runs(db, thread, [second])
    remaining = await _history(db, thread)
    assert remaining and {c.metadata.get("run_id") for c in remaining} == {first}
    state = await graph.aget_state({"configurable": {"thread_id": thread}})
    assert state.values["log"] == [first, "step"]


@pytest.mark.parametrize(
    ("module", "cls", "member", "user"),
    [
        ("langgraph.checkpoint.postgres.aio", "AsyncPostgresSaver", "_dump_blobs",
         "storage/postgres_saver.py overrides it to keep primitives out of the inline JSONB"),
        ("langgraph.store.sqlite.aio", "AsyncSqliteStore", "sweep_ttl", "jobs/ttl.py calls it"),
        ("langgraph.store.postgres.aio", "AsyncPostgresStore", "sweep_ttl", "jobs/ttl.py calls it"),
    ],
)
def test_methods_we_override_or_call_exist(module: str, cls: str, member: str, user: str) -> None:
    owner = getattr(importlib.import_module(module), cls)
    assert callable(getattr(owner, member, None)), (
        f"{cls}.{member} is gone from {module}; {user} (see docs/internals.md)"
    )


def _count_acquisitions(lock: asyncio.Lock) -> list[int]:
    """Counts every `async with lock` from now on (asyncio.Lock enters through acquire)."""
    count = [0]
    acquire = lock.acquire

    async def counting() -> bool:
        count[0] += 1
        return await acquire()

    lock.acquire = counting  # type: ignore[method-assign]  # instrumenting one instance
    return count


async def test_sqlite_saver_and_store_take_our_write_lock(tmp_path: Path) -> None:
    """database.py replaces the SQLite saver's and store's `lock` with the one our writers
    queue on; that works only while their methods take `self.lock`."""
    async with open_database(sqlite_path=str(tmp_path / "graphport.db")) as db:
        assert db.write_lock is not None
        count = _count_acquisitions(db.write_lock)
        await _graph(db).ainvoke({"log": []}, {"configurable": {"thread_id": str(uuid.uuid4())}})
        assert count[0] > 0, "AsyncSqliteSaver no longer writes under `self.lock`"
        count[0] = 0
        await db.store.aput(("coupling",), "key", {"value": 1})
        assert count[0] > 0, "AsyncSqliteStore no longer writes under `self.lock`"


async def test_postgres_saver_operations_do_not_queue_behind_each_other(db: Database) -> None:
    """database.py takes the PostgreSQL saver's `lock` away (each operation has a pooled
    connection of its own): a checkpoint write blocked in the database must not hold up
    another thread's read."""
    if db.dialect != "postgresql":
        pytest.skip("the SQLite saver's lock is our write lock (test above)")
    saver = db.checkpointer
    written = await saver.aput(
        {"configurable": {"thread_id": "a", "checkpoint_ns": ""}}, empty_checkpoint(), {}, {}
    )
    again = {**written["configurable"], "checkpoint_id": None}
    again_config: Any = {"configurable": again}
    with psycopg.connect(db.url) as other:  # holds the checkpoint's row lock until rollback
        other.execute("SELECT 1 FROM checkpoints WHERE thread_id = 'a' FOR UPDATE")
        checkpoint = {**empty_checkpoint(), "id": written["configurable"]["checkpoint_id"]}
        blocked = asyncio.create_task(saver.aput(again_config, checkpoint, {}, {}))
        await poll_until_waiting_on_a_lock(other)
        read = saver.aget_tuple({"configurable": {"thread_id": "b", "checkpoint_ns": ""}})
        assert await asyncio.wait_for(read, timeout=30) is None, "blocked behind the write"
        other.rollback()
    await asyncio.wait_for(blocked, timeout=30)


async def poll_until_waiting_on_a_lock(conn: psycopg.Connection[Any]) -> None:
    """Until another backend of this database waits for a row lock (bounded)."""
    waiting = (
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    deadline = asyncio.get_running_loop().time() + 30
    with psycopg.connect(conn.info.dsn, autocommit=True) as watcher:
        while not watcher.execute(waiting).fetchone():
            assert asyncio.get_running_loop().time() < deadline, "the write never blocked"
            await asyncio.sleep(0.02)


async def test_store_batch_task_and_ttl_sweep(database: dict[str, Any]) -> None:
    """database.py cancels the batched store's `_task` on close (left running, closing the
    database hangs); the TTL job calls `sweep_ttl`, which BaseStore does not declare."""
    async with open_database(**database) as db:
        store = db.store
        task = getattr(store, "_task", None)
        assert isinstance(task, asyncio.Task), (
            f"{type(store).__name__} has no `_task` batch task for database.py to cancel"
        )
        assert isinstance(await store.sweep_ttl(), int)  # type: ignore[attr-defined]
    assert task.done(), "closing the database left the store's batch task running"


def test_content_block_messages_key_and_converter() -> None:
    """docs/internals.md#content-block-message-events-runtimeprotocolpy"""
    from langchain_core.language_models import _compat_bridge
    from langgraph._internal import _constants

    from graphport.server.runtime.protocol import MESSAGES_V2_KEY

    assert MESSAGES_V2_KEY == _constants.CONFIG_KEY_STREAM_MESSAGES_V2
    assert callable(_compat_bridge.message_to_events)
