"""SQLite through sync SQLAlchemy on dedicated threads, behind the async connection API the
storage modules use.

Why: SQLAlchemy's aiosqlite dialect costs four thread hops and several greenlet switches per
statement; here a statement is one hop. Measured on a three-statement transaction: 1.9 ms
with aiosqlite, 0.7 ms here. A connection lives on one thread for its whole transaction, so
its statements, commit and rollback run in order even when the awaiting task is cancelled.

Hot transactions go further (`run`): the whole body runs on the thread in one hop. Work
arriving on a thread that was idle ran 4-8x slower than the same work again right after
(cold caches: 880 us against 115 us for one SELECT, measured in the server), so every hop
saved is worth far more than the hop itself.

A read transaction holds its connection across awaits, and its reader thread serves other
transactions meanwhile. Were connections taken from a bounded pool on that thread, a burst
of open reads would block the thread in the pool's checkout while the very transactions
that would give a connection back queue behind it on the same thread (a 30 s stall, then
errors everywhere). So open read transactions are counted on the event loop instead
(`read_slots`), and the pool is sized to hold them all plus the writer: a checkout never
waits, and a reader past the limit waits without blocking anything, up to
`slot_timeout` seconds, then fails with SQLAlchemy's pool `TimeoutError` (a 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Dialect, Engine, Result
from sqlalchemy.exc import TimeoutError as PoolTimeout

T = TypeVar("T")
Body = Callable[[Any], Coroutine[Any, Any, T]]


class InlineConnection:
    """A sync connection wearing the async API, for a transaction body driven to its end on
    the database thread: every `await` on it completes at once."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect: Dialect = conn.dialect

    async def execute(self, statement: Any, params: Any = None) -> Result[Any]:
        return self._conn.execute(statement, params)

    @contextlib.asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        with self._conn.begin_nested():
            yield


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (it only awaits an InlineConnection)."""
    try:
        awaited = coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError(
        f"a one-hop transaction awaited {awaited!r}: it may await only its connection"
    )


class ThreadedConnection:
    """One transaction on a sync connection owned by one thread. It begins with the first
    statement (checkout, BEGIN and the statement in one hop) and ends with `close`."""

    def __init__(self, engine: Engine, thread: ThreadPoolExecutor, options: dict[str, Any]):
        self._engine = engine
        self._thread = thread
        self._options = options
        self._conn: Connection | None = None
        self.dialect: Dialect = engine.dialect

    def _call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        return asyncio.wrap_future(self._thread.submit(fn, *args))

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self._engine.connect()
            if self._options:
                conn = conn.execution_options(**self._options)
            conn.begin()
            self._conn = conn
        return self._conn

    def _execute(self, statement: Any, params: Any) -> Result[Any]:
        result = self._connection().execute(statement, params)
        if result.returns_rows:
            return result.freeze()()  # rows fetched here, not on the event loop
        _ = result.rowcount  # memoized while the cursor is at hand
        return result

    async def execute(self, statement: Any, params: Any = None) -> Result[Any]:
        return await self._call(self._execute, statement, params)

    @contextlib.asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        """A savepoint: rolled back alone when its block raises."""
        nested = await self._call(lambda: self._connection().begin_nested())
        try:
            yield
        except BaseException:
            await asyncio.shield(self._call(nested.rollback))
            raise
        await self._call(nested.commit)

    def _finish(self, commit: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if commit:
                conn.commit()
            else:
                conn.rollback()
        finally:
            conn.close()

    async def close(self, *, commit: bool) -> None:
        """Commit or roll back and return the connection to the pool. Shielded: a
        cancelled caller must never leave a transaction (and SQLite's lock) open."""
        await asyncio.shield(self._call(self._finish, commit))


class ThreadedEngine:
    """A sync engine with one writer thread (SQLite has one writer: queueing writes on one
    thread keeps them in order) and a few reader threads. The engine's pool must hold
    `read_slots` + 1 connections (the writer's: callers run one write at a time)."""

    def __init__(
        self, engine: Engine, readers: int, *, read_slots: int, slot_timeout: float = 30.0
    ) -> None:
        self.engine = engine
        self.dialect: Dialect = engine.dialect
        self._read_slots = asyncio.Semaphore(read_slots)
        self._slot_timeout = slot_timeout
        self.writer = ThreadPoolExecutor(1, thread_name_prefix="graphport-db-write")
        self._readers = [
            ThreadPoolExecutor(1, thread_name_prefix=f"graphport-db-read{i}")
            for i in range(readers)
        ]
        self._next_reader = itertools.cycle(self._readers)

    @contextlib.asynccontextmanager
    async def transaction(
        self, *, write: bool, options: dict[str, Any] | None = None
    ) -> AsyncIterator[ThreadedConnection]:
        if write:
            async with self._connection(self.writer, options) as conn:
                yield conn
            return
        try:
            async with asyncio.timeout(self._slot_timeout):
                await self._read_slots.acquire()
        except TimeoutError:
            raise PoolTimeout(
                f"no read connection free within {self._slot_timeout:.0f} s"
            ) from None
        try:
            async with self._connection(next(self._next_reader), options) as conn:
                yield conn
        finally:
            self._read_slots.release()

    @contextlib.asynccontextmanager
    async def _connection(
        self, thread: ThreadPoolExecutor, options: dict[str, Any] | None
    ) -> AsyncIterator[ThreadedConnection]:
        conn = ThreadedConnection(self.engine, thread, options or {})
        try:
            yield conn
        except BaseException:
            await conn.close(commit=False)
            raise
        await conn.close(commit=thread is self.writer)

    async def transact(self, body: Body[T]) -> T:
        """Run `body(conn)` as one write transaction in one hop on the writer thread:
        committed when it returns, rolled back when it raises."""

        def in_thread() -> T:
            with self.engine.connect() as conn, conn.begin():
                return drive(body(InlineConnection(conn)))

        return await asyncio.wrap_future(self.writer.submit(in_thread))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a sync function on the writer thread (migrations, disposal)."""
        return await asyncio.wrap_future(self.writer.submit(fn, *args))

    async def dispose(self) -> None:
        await self.run(self.engine.dispose)
        for pool in (self.writer, *self._readers):
            pool.shutdown(wait=False)
