"""Both PostgreSQL pools (ours and the checkpointer's) replace connections the server
closed while they sat idle, so the next transaction works; found without pinging each
checkout (storage/liveness.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text

from conftest import opened_database
from graphport.server.storage.database import Database
from pg_backends import terminate


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with opened_database("postgres") as database:
        yield database


async def test_pools_replace_connections_the_server_closed(db: Database) -> None:
    pool: AsyncConnectionPool[Any] = db.checkpointer.conn  # type: ignore[attr-defined]
    async with db.read() as ours, pool.connection() as theirs:
        await ours.execute(text("SELECT 1"))
        await theirs.execute("SELECT 1")
    assert await terminate(db.url) >= 2
    async with db.read() as ours:
        assert (await ours.execute(text("SELECT 1"))).scalar_one() == 1
    async with pool.connection() as theirs:
        assert await (await theirs.execute("SELECT 1 AS one")).fetchone() == {"one": 1}


async def test_the_checkpointers_pool_drops_all_its_dead_connections_at_once(
    db: Database,
) -> None:
    """psycopg_pool waits longer after each connection that fails its check (1 s, 2 s,
    4 s…): found one by one, six dead idle connections outlast a 10 s checkout."""
    pool: AsyncConnectionPool[Any] = db.checkpointer.conn  # type: ignore[attr-defined]
    async with contextlib.AsyncExitStack() as held:
        for _ in range(6):
            conn = await held.enter_async_context(pool.connection())
            await conn.execute("SELECT 1")
    await terminate(db.url)
    async with pool.connection(timeout=10) as conn:
        assert await (await conn.execute("SELECT 1 AS one")).fetchone() == {"one": 1}
