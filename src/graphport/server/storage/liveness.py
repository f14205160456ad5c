"""Whether a pooled PostgreSQL connection is still usable, found without a round trip.

A connection the server closed while it sat in a pool (a restart, a failover,
`pg_terminate_backend`, an idle timeout) has something to read: the server's last error
and the end of the stream. An idle connection never has anything else to read here
(nothing LISTENs on these pools), so polling its socket when it is taken finds a dead one
for the price of a system call. A ping on every checkout (SQLAlchemy's `pool_pre_ping`,
psycopg_pool's `check_connection`) found the same at a round trip each, most of a run's
round trips (docs/architecture.md#storage-postgresql)."""

from __future__ import annotations

import select
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def stirred(conn: AsyncConnection[Any]) -> bool:
    """Whether an idle connection is closed or has something to read (then it is most
    likely dead, and only a round trip can tell)."""
    if conn.closed or conn.broken:
        return True
    poller = select.poll()
    poller.register(conn.pgconn.socket, select.POLLIN)
    return bool(poller.poll(0))


class PoolCheck:
    """psycopg_pool's `check` for `pool` (set once the pool exists): its own check (a
    round trip, raising when the connection is dead) only for a connection whose socket
    stirred. A dead one is rarely alone (a restart, a failover, terminated backends), and
    psycopg_pool waits between failed checks (1 s, 2 s, 4 s…: 31 s through five dead idle
    connections, past the 30 s a checkout may wait), so the other idle connections are
    all checked at once then."""

    def __init__(self) -> None:
        self.pool: AsyncConnectionPool[Any] | None = None

    async def __call__(self, conn: AsyncConnection[Any]) -> None:
        if not stirred(conn):
            return
        try:
            await AsyncConnectionPool.check_connection(conn)
        except Exception:
            if self.pool is not None:
                await self.pool.check()
            raise


def on_checkout(_dbapi: Any, entry: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
    """SQLAlchemy's pool `checkout` event: a stirred connection is replaced by a new one
    (SQLAlchemy reconnects on `DisconnectionError`)."""
    conn = entry.driver_connection
    if conn is not None and stirred(conn):
        raise DisconnectionError("the pooled connection was closed by the server")
