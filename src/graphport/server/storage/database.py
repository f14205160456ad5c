"""The database: our SQLAlchemy engine plus the langgraph checkpointer and store on the same
SQLite file or PostgreSQL database, opened and migrated once at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from alembic import command
from alembic.config import Config
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.store.base import BaseStore
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from graphport.server.storage import revisions
from graphport.server.storage.columns import json_dumps, seal_with
from graphport.server.storage.common import Conn
from graphport.server.storage.encrypted_store import EncryptedStore, opening_index
from graphport.server.storage.threaded import Body, ThreadedEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_OPTION = "graphport_read"
T = TypeVar("T")
SQLITE_READER_THREADS = 2
# Read transactions open at once on SQLite (see storage/threaded.py); connections are
# cheap there, each is three file descriptors.
SQLITE_READ_SLOTS = 64
# How long a read waits for one of them before the request gets a 503.
SQLITE_SLOT_TIMEOUT = 30.0
# langgraph's store searches `ORDER BY updated_at DESC LIMIT n` and indexes only the
# namespace: without this a filtered search on PostgreSQL sorted every item under the prefix
# (10x slower at 100k items, bench/scale_bench.py); the planner picks it or the prefix's.
# SQLite's planner always takes the prefix index for the search's `prefix = ? OR prefix
# GLOB ?`, so there it would only cost writes.
STORE_ORDER_INDEX = "graphport_store_updated_at"
_STORE_ORDER = "ON store (updated_at)"


@dataclass
class Database:
    # PostgreSQL: an async engine. SQLite: a sync engine on dedicated threads.
    engine: AsyncEngine | ThreadedEngine
    dialect: str  # "sqlite" | "postgresql"
    checkpointer: BaseCheckpointSaver
    store: BaseStore
    url: str
    # SQLite has one writer at a time. Queueing every writer (ours, the checkpointer's and
    # the store's) on one asyncio lock avoids SQLite's busy-handler sleeps, which cost
    # milliseconds per collision. Never call the checkpointer or store while holding it.
    write_lock: asyncio.Lock | None = None

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[Conn]:
        """A write transaction (BEGIN IMMEDIATE on SQLite, so writers queue instead of failing)."""
        if isinstance(self.engine, AsyncEngine):
            async with self.engine.begin() as conn:
                yield conn
            return
        assert self.write_lock is not None
        async with self.write_lock, self.engine.transaction(write=True) as tconn:
            yield tconn

    async def transact(self, body: Body[T]) -> T:
        """`body(conn)` as one write transaction. On SQLite the whole body runs on the
        writer thread in one hop, so it may await nothing but its connection."""
        if isinstance(self.engine, AsyncEngine):
            from graphport.server.storage import pipelined

            return await pipelined.transact(self.engine, body)
        assert self.write_lock is not None
        async with self.write_lock:
            return await self.engine.transact(body)

    async def transact_single(self, body: Body[T]) -> T:
        """`transact` for a body that is one statement on PostgreSQL, run there as its own
        transaction (storage/pipelined.py: one round trip instead of two)."""
        if isinstance(self.engine, AsyncEngine):
            from graphport.server.storage import pipelined

            return await pipelined.single(self.engine, body)
        return await self.transact(body)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """A read-only unit of work; never takes SQLite's write lock."""
        if isinstance(self.engine, AsyncEngine):
            async with self.engine.connect() as conn:
                yield await conn.execution_options(**{_READ_OPTION: True})
            return
        async with self.engine.transaction(write=False, options={_READ_OPTION: True}) as tconn:
            yield tconn


def _run_migrations(sync_conn: Connection) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


async def _migrate(engine: AsyncEngine | ThreadedEngine) -> None:
    if isinstance(engine, ThreadedEngine):

        def migrate(sync: Engine) -> None:
            with sync.begin() as conn:
                _run_migrations(conn)

        await engine.run(migrate, engine.engine)
        return
    async with engine.begin() as conn:
        # Several replicas may start at once: one migrates, the others wait.
        await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7274061502)")
        await conn.run_sync(_run_migrations)


def _sqlite_engine(path: str) -> ThreadedEngine:
    engine = create_engine(
        f"sqlite:///{path}",
        json_serializer=json_dumps,
        json_deserializer=orjson.loads,
        # Each connection is used by one thread at a time, but not always the same one.
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        # Kept open: one per thread. Beyond them, one per open read transaction, closed
        # when returned; never exhausted (ThreadedEngine bounds the reads).
        pool_size=SQLITE_READER_THREADS + 1,
        max_overflow=SQLITE_READ_SLOTS,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN can be IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read = conn.get_execution_options().get(_READ_OPTION)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return ThreadedEngine(
        engine,
        readers=SQLITE_READER_THREADS,
        read_slots=SQLITE_READ_SLOTS,
        slot_timeout=SQLITE_SLOT_TIMEOUT,
    )


@contextlib.asynccontextmanager
async def _sqlite_backends(
    path: str,
    store_kwargs: dict[str, Any],
    serde: SerializerProtocol | None,
    write_lock: asyncio.Lock,
) -> AsyncIterator[tuple[BaseCheckpointSaver, BaseStore]]:
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.store.sqlite.aio import AsyncSqliteStore

    async def _connect(**kwargs: Any) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, **kwargs)
        await conn.execute("PRAGMA journal_mode=WAL")
        # As our engine's: with WAL, a commit is not an fsync (the default FULL syncs every
        # checkpoint write, which made a 500-run burst disk-bound).
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # The store's vector rows cascade from its items.
        await conn.execute("PRAGMA foreign_keys=ON")
        return conn

    cp_conn = await _connect()
    # The store manages its own transactions and expects an autocommit connection.
    store_conn = await _connect(isolation_level=None)
    try:
        saver = AsyncSqliteSaver(cp_conn, serde=serde)
        # `lock` is not langgraph's public API; guarded as docs/internals.md says.
        saver.lock = write_lock
        await saver.setup()
        store = AsyncSqliteStore(store_conn, **store_kwargs)
        store.lock = write_lock
        await store.setup()
        try:
            yield saver, store
        finally:
            await _close_store(store)
    finally:
        await cp_conn.close()
        await store_conn.close()


@contextlib.asynccontextmanager
async def _postgres_backends(
    url: str, store_kwargs: dict[str, Any], serde: SerializerProtocol | None
) -> AsyncIterator[tuple[BaseCheckpointSaver, BaseStore]]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from langgraph.store.postgres.aio import AsyncPostgresStore
    from psycopg import AsyncConnection
    from psycopg.rows import DictRow, dict_row
    from psycopg_pool import AsyncConnectionPool

    from graphport.server.storage import liveness

    check = liveness.PoolCheck()
    pool = AsyncConnectionPool(
        url,
        # Typed as dict rows, as the savers require; `row_factory` makes them so.
        connection_class=AsyncConnection[DictRow],
        min_size=1,
        max_size=20,
        open=False,
        # Every statement prepared on first use, as langgraph's saver expects.
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        # A connection the server closed (a restart, a failover, pg_terminate_backend) is
        # found and replaced when it is taken, not by the query that would have used it.
        check=check,
        reconnect_timeout=60,
    )
    check.pool = pool
    await pool.open(wait=True, timeout=30)
    try:
        # Encrypted, no channel value may stay inline (in clear) in the checkpoint's JSONB.
        if isinstance(serde, EncryptedSerializer):
            from graphport.server.storage.postgres_saver import BlobOnlyPostgresSaver

            saver: AsyncPostgresSaver = BlobOnlyPostgresSaver(pool, serde=serde)
        else:
            saver = AsyncPostgresSaver(pool, serde=serde)
        # The saver holds one asyncio.Lock around every operation, needed on a single shared
        # connection; from a pool each operation has a connection of its own, so runs'
        # checkpoint writes need not queue behind each other (langgraph's PostgreSQL store
        # does the same for pools). `lock` is not langgraph's public API: docs/internals.md.
        saver.lock = _NoLock()  # type: ignore[assignment]
        await saver.setup()
        store = AsyncPostgresStore(pool, **store_kwargs)
        await store.setup()
        await _index_store_order(pool)
        try:
            yield saver, store
        finally:
            await _close_store(store)
    finally:
        await pool.close()


async def _index_store_order(pool: Any) -> None:
    """Our index on the store's table (created by langgraph's `setup`, so after it). Replicas
    starting together take turns; the build blocks the store's writes once, at upgrade."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7274061503)")
        await conn.execute(f"CREATE INDEX IF NOT EXISTS {STORE_ORDER_INDEX} {_STORE_ORDER}")


class _NoLock(contextlib.AbstractAsyncContextManager[None]):
    async def __aexit__(self, *_: object) -> None:
        return None


async def _close_store(store: BaseStore) -> None:
    """Stop the batched store's background task before its loop goes away (`_task` is
    private to langgraph: docs/internals.md)."""
    task = getattr(store, "_task", None)
    if isinstance(task, asyncio.Task) and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def normalize_postgres_url(url: str) -> tuple[str, str]:
    """(SQLAlchemy URL, libpq URL) for a postgres:// or postgresql://… URL."""
    rest = url.split("://", 1)[1]
    return f"postgresql+psycopg://{rest}", f"postgresql://{rest}"


@contextlib.asynccontextmanager
async def open_database(
    *,
    sqlite_path: str | None = None,
    postgres_url: str | None = None,
    store_kwargs: dict[str, Any] | None = None,
    serde: SerializerProtocol | None = None,
    migrate: bool = True,
) -> AsyncIterator[Database]:
    """Open, migrate (or, without `migrate`, insist it was) and yield the database;
    `:memory:` uses a throw-away file. `serde` is the checkpointer's serializer; an
    encrypted one encrypts store values and our `SealedJSON` columns too."""
    store_kwargs = store_kwargs or {}
    encrypted = serde if isinstance(serde, EncryptedSerializer) else None
    if encrypted and "index" in store_kwargs:
        store_kwargs = {**store_kwargs, "index": opening_index(store_kwargs["index"], encrypted)}
    tmpdir: str | None = None
    write_lock: asyncio.Lock | None = None
    engine: AsyncEngine | ThreadedEngine
    if postgres_url:
        sa_url, pg_url = normalize_postgres_url(postgres_url)
        from graphport.server.storage import liveness
        from graphport.server.storage.pipelined import PipelinedCursor

        engine = create_async_engine(
            sa_url,
            json_serializer=json_dumps,
            json_deserializer=orjson.loads,
            pool_size=10,
            max_overflow=20,
            connect_args={"cursor_factory": PipelinedCursor},
        )
        # As `pool_pre_ping`, without its round trip on every checkout.
        event.listen(engine.sync_engine, "checkout", liveness.on_checkout)
        dialect = "postgresql"
        backends = _postgres_backends(pg_url, store_kwargs, serde)
        url = pg_url
    else:
        assert sqlite_path is not None
        if sqlite_path == ":memory:":
            # Several connections must see one database; a temp file gives that.
            tmpdir = tempfile.mkdtemp(prefix="graphport-")
            sqlite_path = str(Path(tmpdir) / "graphport.db")
        Path(sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(sqlite_path)
        dialect = "sqlite"
        write_lock = asyncio.Lock()
        backends = _sqlite_backends(sqlite_path, store_kwargs, serde, write_lock)
        url = sqlite_path
    if encrypted:
        # Our own columns of user content, with the same cipher (and previous key).
        seal_with(engine.dialect, encrypted.cipher)
    try:
        await (_migrate(engine) if migrate else revisions.require_head(engine))
        async with backends as (checkpointer, store):
            if encrypted:
                fields = store_kwargs.get("index", {}).get("fields")
                store = EncryptedStore(store, encrypted, fields)
            yield Database(
                engine=engine,
                dialect=dialect,
                checkpointer=checkpointer,
                store=store,
                url=url,
                write_lock=write_lock,
            )
    finally:
        await engine.dispose()
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
