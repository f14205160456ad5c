"""The Redis Streams broker (runtime/redis_broker.py) on the local Redis, under a key prefix
of its own per test: the broker contract, retention, and prefixes keeping deployments apart.
Skipped with a reason when Redis is unreachable; a failure when GRAPHPORT_REQUIRE_POSTGRES=1
(CI), as in tests/conftest.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from broker_contract import ENDED_KEPT, BrokerContract, drain, ids, publish_n
from redis.asyncio import Redis
from redis.exceptions import RedisError

from conftest import REDIS_URL, REQUIRE_PG
from graphport.server.runtime.broker import Broker
from graphport.server.runtime.redis_broker import BLOCK_SECONDS, RedisBroker
from run_helpers import poll

RETENTION = 60.0


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=6 * BLOCK_SECONDS)
    try:
        await client.ping()
    except RedisError as e:
        await client.aclose()
        reason = f"Redis unreachable at {REDIS_URL}: {e}"
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    name = f"graphport-unit-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{name}:*")]
        if keys:
            await redis.delete(*keys)


@pytest.fixture
def broker(redis: Redis, prefix: str) -> Broker:
    return RedisBroker(redis, prefix, RETENTION)


@pytest.fixture
def bounded(redis: Redis, prefix: str) -> Broker:
    return RedisBroker(redis, prefix, RETENTION, max_ended_runs=ENDED_KEPT)


class TestRedisBroker(BrokerContract):
    pass


async def test_a_run_is_kept_for_the_retention_once_it_ends(redis: Redis, prefix: str) -> None:
    broker = RedisBroker(redis, prefix, RETENTION)
    run, thread = ids()
    await publish_n(broker, run, thread, 1)
    assert await redis.pttl(f"{prefix}:run:{run}") == -1  # no expiry while the run lives
    await broker.end_run(run, thread, epitaph={"run": {"run_id": run}})
    retention_ms = int(RETENTION * 1000)
    for key in (f"{prefix}:run:{run}", f"{prefix}:epitaph:{run}", f"{prefix}:thread:{thread}"):
        assert 0 < await redis.pttl(key) <= retention_ms, key


async def test_an_ended_run_expires_after_the_retention(redis: Redis, prefix: str) -> None:
    broker = RedisBroker(redis, prefix, retention_seconds=0.2)
    run, thread = ids()
    await publish_n(broker, run, thread, 1)
    await broker.end_run(run, thread, epitaph={"run": {"run_id": run}})
    await poll(lambda: broker.run_known(run), lambda known: not known, what="the run to expire")
    assert await broker.epitaph(run) is None


async def test_prefixes_keep_deployments_apart(redis: Redis, prefix: str) -> None:
    broker = RedisBroker(redis, prefix, RETENTION)
    neighbour = RedisBroker(redis, f"{prefix}:other", RETENTION)
    run, thread = ids()
    await publish_n(broker, run, thread, 1)
    await broker.end_run(run, thread, epitaph={"run": {"run_id": run}})
    assert await broker.run_known(run)
    assert not await neighbour.run_known(run)
    assert await neighbour.epitaph(run) is None


async def test_streams_are_trimmed_to_about_max_events(redis: Redis, prefix: str) -> None:
    broker = RedisBroker(redis, prefix, RETENTION, max_events=5)
    run, thread = ids()
    published = await publish_n(broker, run, thread, 300)
    # Trimming is approximate (whole radix-tree nodes) so that it stays cheap.
    node = int((await redis.config_get("stream-node-max-entries"))["stream-node-max-entries"])
    for key in (f"{prefix}:run:{run}", f"{prefix}:thread:{thread}"):
        assert 5 <= await redis.xlen(key) <= 5 + node, key
    await broker.end_run(run, thread)
    replay = await drain(broker.subscribe_run(run, (0, 0)))
    assert replay[-1].id == published[-1]  # the newest are kept
