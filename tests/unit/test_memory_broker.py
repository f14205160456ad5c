"""The in-process broker (runtime/memory_broker.py): the broker contract, live-only
subscriptions, and retention on a fake clock."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from broker_contract import (
    BOUND,
    ENDED_KEPT,
    BrokerContract,
    drain,
    ids,
    publish_n,
    take,
)

from graphport.server.runtime import memory_broker
from graphport.server.runtime.broker import Broker
from graphport.server.runtime.memory_broker import MemoryBroker

RETENTION = 60.0


class Clock:
    """Stands in for the `time` module the broker reads: wall and monotonic time move
    together, only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def broker() -> Broker:
    return MemoryBroker(RETENTION)


@pytest.fixture
def bounded() -> Broker:
    return MemoryBroker(RETENTION, max_ended_runs=ENDED_KEPT)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(memory_broker, "time", fake)
    return fake


class TestMemoryBroker(BrokerContract):
    pass


async def test_live_only_subscriber_sees_only_later_events(broker: Broker) -> None:
    run, thread = ids()
    await publish_n(broker, run, thread, 1)
    follower = asyncio.create_task(drain(broker.subscribe_run(run, None)))
    await asyncio.sleep(0)  # the follower runs up to its wait for new events
    later = await publish_n(broker, run, thread, 2)
    await broker.end_run(run, thread)
    assert [e.id for e in await follower] == later


async def test_ended_runs_are_forgotten_once_retention_lapses(clock: Clock) -> None:
    broker = MemoryBroker(RETENTION)
    (ended, thread), (live, _) = ids(), ids()
    published = await publish_n(broker, ended, thread, 2)
    await publish_n(broker, live, thread, 1)
    await broker.end_run(ended, thread, epitaph={"run": {"run_id": ended}})

    clock.now += RETENTION - 1
    broker.collect()
    assert await broker.run_known(ended)
    assert await broker.epitaph(ended) == {"run": {"run_id": ended}}
    assert [e.id for e in await drain(broker.subscribe_run(ended, (0, 0)))] == published

    clock.now += 2
    broker.collect()
    assert not await broker.run_known(ended)
    assert await broker.epitaph(ended) is None
    assert await broker.run_known(live)  # a run that has not ended is never collected


async def test_thread_history_is_trimmed_to_the_retention_window(clock: Clock) -> None:
    broker = MemoryBroker(RETENTION)
    run, thread = ids()
    await publish_n(broker, run, thread, 1)
    clock.now += 30
    (recent,) = await publish_n(broker, run, thread, 1)
    clock.now += RETENTION - 20  # the first event is now 70 s old, the second 40 s
    broker.collect()
    (first,) = await take(broker.subscribe_thread(thread, (0, 0)), 1)
    assert first.id == recent


async def test_a_follower_keeps_its_place_when_history_is_trimmed(clock: Clock) -> None:
    broker = MemoryBroker(RETENTION)
    run, thread = ids()
    await publish_n(broker, run, thread, 2)
    stream = broker.subscribe_thread(thread, (0, 0))
    async with asyncio.timeout(BOUND):
        seen = [await anext(stream), await anext(stream)]
        clock.now += RETENTION + 1
        broker.collect()  # drops both events the follower has already seen
        (later,) = await publish_n(broker, run, thread, 1)
        following = await anext(stream)
    await stream.aclose()
    assert [orjson.loads(e.data)["i"] for e in seen] == [0, 1]
    assert following.id == later


async def test_a_stream_keeps_at_most_max_events() -> None:
    broker = MemoryBroker(RETENTION, max_events=5)
    run, thread = ids()
    published = await publish_n(broker, run, thread, 12)
    await broker.end_run(run, thread)
    assert [e.id for e in await drain(broker.subscribe_run(run, (0, 0)))] == published[-5:]
    kept = await take(broker.subscribe_thread(thread, (0, 0)), 5)
    assert kept[0].id == published[-4]  # the run's end put one more event on its thread


async def test_threads_with_nothing_kept_and_no_follower_are_forgotten(clock: Clock) -> None:
    broker = MemoryBroker(RETENTION)
    (run, idle), (_, followed) = ids(), ids()
    await publish_n(broker, run, idle, 1)
    await publish_n(broker, run, followed, 1)
    stream = broker.subscribe_thread(followed, None)
    follower = asyncio.create_task(anext(stream))
    await asyncio.sleep(0)  # the follower waits for a new event
    clock.now += RETENTION + 1
    broker.collect()
    assert idle not in broker._threads  # nothing left to replay, nobody listening
    (later,) = await publish_n(broker, run, followed, 1)
    async with asyncio.timeout(BOUND):
        assert (await follower).id == later  # a followed thread is kept
    await stream.aclose()
