"""The hot transactions on PostgreSQL (`Database.transact`: run creation, claim, finish) in
psycopg's pipeline mode, so a transaction costs a round trip per result it waits for plus
one for the commit, instead of one per statement plus BEGIN and COMMIT.

A transaction body is written as everywhere else: SQLAlchemy Core statements awaited one
after another. SQLAlchemy reads a statement's rows as soon as it is executed, so a
statement that returns rows (a SELECT, or RETURNING) waits for them; an INSERT, UPDATE or
DELETE without RETURNING is only queued, and goes with the next statement that waits, or
with the COMMIT. The server runs them in the order sent, each with its own snapshot, so a
transaction means exactly what it did; what changes is when an error is seen: a queued
statement's error surfaces at the next wait or at the commit, as SQLAlchemy's exception
class for it. Its row count is unknown (`common.rowcount` refuses it): a body that needs
to know whether a write matched asks with RETURNING.

BEGIN goes with the first statement and COMMIT with the last: psycopg is in autocommit
mode meanwhile (so it sends no BEGIN of its own and waits for it; SQLAlchemy sends none
on psycopg) and the transaction's BEGIN and COMMIT are queued like the statements.

A write that is a single statement (the claim) needs neither: `single` runs it in
autocommit mode, outside any pipeline, where it is its own transaction in one round trip
(a pipeline's closing sync would cost a second)."""

from __future__ import annotations

import functools
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Self, TypeVar, cast

from psycopg import AsyncConnection, AsyncCursor, AsyncPipeline
from psycopg import Error as PsycopgError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from graphport.server.storage.threaded import Body

T = TypeVar("T")


@functools.lru_cache(maxsize=1024)
def _returns_rows(query: str) -> bool:
    """A SELECT (WITH … SELECT included), or a write with RETURNING; not a write without
    it, nor a command (SAVEPOINT…)."""
    head = query.lstrip()[:6].upper()
    return head in ("SELECT", "WITH") or "RETURNING" in query.upper()


# The connection and pipeline of the transaction this task is running (`transact`), if any.
_PIPELINE: ContextVar[tuple[AsyncConnection[Any], AsyncPipeline] | None] = ContextVar(
    "graphport_pipeline", default=None
)


@dataclass
class _Single:
    """The connection running a `single` body, and whether it executed its statement."""

    driver: AsyncConnection[Any]
    executed: bool = False


_SINGLE: ContextVar[_Single | None] = ContextVar("graphport_single", default=None)


class PipelinedCursor(AsyncCursor[Any]):
    """psycopg's cursor for SQLAlchemy's connections; in a pipelined transaction a
    statement whose rows SQLAlchemy will read waits for them, any other is only queued."""

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Self:
        single = _SINGLE.get()
        if single is not None and single.driver is self.connection:
            if single.executed:
                raise RuntimeError("a second statement in a single-statement transaction")
            single.executed = True
        await super().execute(query, params, **kwargs)
        current = _PIPELINE.get()
        if current is None or current[0] is not self.connection:
            return self
        if isinstance(query, str) and _returns_rows(query):
            # Sends what is queued with this statement and waits for all of it (inside
            # BEGIN … COMMIT a sync ends nothing). Measured: half the CPU of waiting with
            # a flush request, as psycopg's fetch methods do.
            await current[1].sync()
        return self


async def transact(engine: AsyncEngine, body: Body[T]) -> T:
    """`body(conn)` as one pipelined transaction: committed when it returns, rolled back
    when it raises."""
    async with engine.connect() as conn:
        driver = cast(AsyncConnection[Any], (await conn.get_raw_connection()).driver_connection)
        # Autocommit, so psycopg sends no BEGIN of its own (and waits for it) at the first
        # statement; SQLAlchemy sends none anyway. Switched here rather than through
        # SQLAlchemy's isolation level, which costs twice as much (measured).
        await driver.set_autocommit(True)
        try:
            # BEGIN and COMMIT are queued like the writes (psycopg's own transaction()
            # would sync on entering and leaving); leaving the pipeline sends what is
            # queued and waits for all of it.
            async with driver.pipeline() as pipeline:
                await driver.execute("BEGIN")
                token = _PIPELINE.set((driver, pipeline))
                try:
                    result = await body(conn)
                finally:
                    _PIPELINE.reset(token)
                await driver.execute("COMMIT")
        except BaseException as e:
            if not (driver.closed or driver.broken):
                # An error left the transaction open (aborted): end it.
                await driver.rollback()
            if not isinstance(e, PsycopgError):
                raise
            # Raised by the commit or a queued write rather than by a statement SQLAlchemy
            # executed: what SQLAlchemy would have raised (IntegrityError, OperationalError…).
            if driver.closed or driver.broken:
                await conn.invalidate(e)
            raise DBAPIError.instance(
                None, None, e, PsycopgError, connection_invalidated=driver.broken
            ) from e
        finally:
            if not (driver.closed or driver.broken):
                await driver.set_autocommit(False)
        return result


async def single(engine: AsyncEngine, body: Body[T]) -> T:
    """`body(conn)`, which executes exactly one statement, as its own transaction
    (autocommit): one round trip, no BEGIN or COMMIT. A second statement raises
    RuntimeError, before it runs: it would not be atomic with the first."""
    async with engine.connect() as conn:
        driver = cast(AsyncConnection[Any], (await conn.get_raw_connection()).driver_connection)
        await driver.set_autocommit(True)
        token = _SINGLE.set(_Single(driver))
        try:
            return await body(conn)
        finally:
            _SINGLE.reset(token)
            if not (driver.closed or driver.broken):
                await driver.set_autocommit(False)
