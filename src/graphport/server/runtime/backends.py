"""How run events, wake-ups and cancels travel, chosen once at start-up: in-process (one
server) or Redis (API replicas and `graphport worker` processes sharing a database)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from graphport.server.redact import redact_url
from graphport.server.runtime.broker import Broker
from graphport.server.runtime.control import Control, LocalControl
from graphport.server.runtime.memory_broker import MemoryBroker
from graphport.server.runtime.wakeup import LocalWakeup, Wakeup
from graphport.server.settings import Settings


class BackendUnavailable(RuntimeError):
    """A configured service cannot be reached at start-up."""


@dataclass(frozen=True)
class Backends:
    broker: Broker
    wakeup: Wakeup
    control: Control


@contextlib.asynccontextmanager
async def open_backends(settings: Settings) -> AsyncIterator[Backends]:
    if settings.redis_url is None:
        memory = MemoryBroker(
            settings.stream_retention_seconds,
            settings.stream_retention_events,
            settings.stream_retention_runs,
        )
        yield Backends(memory, LocalWakeup(), LocalControl())
        return

    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from graphport.server.runtime.redis_broker import BLOCK_SECONDS, RedisBroker
    from graphport.server.runtime.redis_signals import RedisSignals

    # No pool limit: every live stream subscriber holds a connection in a blocking XREAD,
    # which must not outlast the socket timeout (redis-py's default is 5 s, as long as it).
    # After a Redis restart the pool holds dead connections: one idle for a while is pinged
    # before use, and a command that meets a dropped connection is retried on a new one.
    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=5,
        socket_timeout=max(30.0, 6 * BLOCK_SECONDS),
        health_check_interval=5,
        retry=Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    try:
        try:
            await redis.ping()
        except RedisError as e:
            where = redact_url(settings.redis_url)
            raise BackendUnavailable(f"Redis unreachable at {where}: {e}") from e
        signals = RedisSignals(redis, settings.redis_prefix)
        await signals.start()
        try:
            broker = RedisBroker(
                redis,
                settings.redis_prefix,
                settings.stream_retention_seconds,
                settings.stream_retention_events,
                settings.stream_retention_runs,
            )
            yield Backends(broker, signals, signals)
        finally:
            await signals.stop()
    finally:
        await redis.aclose()
