"""Which failures are the infrastructure's rather than the graph's.

A run cut short by a dropped database or Redis connection did nothing wrong: it goes back
to the queue and resumes from its last checkpoint (docs/run-lifecycle.md), instead of being
reported `error` while the work it saved is kept. So does one that found no free database
connection in time (an overloaded server pushing back; a request gets a 503). A graph's
own exceptions, timeouts and cancels are not transient."""

from __future__ import annotations

import sqlalchemy.exc

from graphport.server.runtime.broker import BrokerUnavailable

_TRANSIENT: tuple[type[BaseException], ...] = (
    BrokerUnavailable,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection free in time
)
_BUSY: tuple[type[BaseException], ...] = (sqlalchemy.exc.TimeoutError,)
try:  # the PostgreSQL extra
    import psycopg
    from psycopg_pool import PoolTimeout

    _TRANSIENT += (psycopg.OperationalError, psycopg.InterfaceError)  # PoolTimeout too
    _BUSY += (PoolTimeout,)
except ImportError:  # pragma: no cover - SQLite-only installs
    pass
try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _TRANSIENT += (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - SQLite-only installs
    pass


def is_transient(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, is a lost connection to the
    database or the broker."""
    for current in _chain(exc):
        if isinstance(current, _TRANSIENT):
            return not _is_sqlite_logic_error(current)
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True
    return False


def is_broker_fault(exc: BaseException) -> bool:
    """Whether a transient failure is the broker's (Redis) rather than the database's."""
    return any(
        isinstance(e, BrokerUnavailable) or type(e).__module__.startswith("redis.")
        for e in _chain(exc)
    )


def is_overload(exc: BaseException) -> bool:
    """Whether a transient failure is a wait for a pooled connection that ran out."""
    return any(isinstance(e, _BUSY) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in out):
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _is_sqlite_logic_error(exc: BaseException) -> bool:
    """SQLite reports its own mistakes (no such table, a locked file that stayed locked)
    as OperationalError: those are not a connection that dropped."""
    orig = getattr(exc, "orig", None)
    return type(orig).__module__ == "sqlite3"
