"""What every broker does (runtime/broker.py), as tests both implementations inherit: a
test module subclasses `BrokerContract` and provides a `broker` fixture, and a `bounded`
one: a broker that keeps ENDED_KEPT ended runs. Waits are bounded by BOUND; nothing
asserts on timing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import orjson

from graphport.server.runtime.broker import Broker, Event, event_key, parse_event_id

BOUND = 10.0  # seconds any single wait may take before the test fails
ENDED_KEPT = 2  # ended runs the `bounded` broker keeps


def ids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


async def take(stream: AsyncIterator[Event], n: int) -> list[Event]:
    """The next `n` events of a stream that may not end by itself."""
    out: list[Event] = []
    async with contextlib.aclosing(stream) as events, asyncio.timeout(BOUND):
        async for ev in events:
            out.append(ev)
            if len(out) == n:
                break
    return out


async def drain(stream: AsyncIterator[Event]) -> list[Event]:
    """Every event of a stream that must end (a run's)."""
    async with asyncio.timeout(BOUND):
        return [ev async for ev in stream]


async def publish_n(broker: Broker, run_id: str, thread_id: str, n: int) -> list[str]:
    return [
        await broker.publish(run_id, thread_id, "values", orjson.dumps({"i": i}))
        for i in range(n)
    ]


class BrokerContract:
    async def test_ids_increase_across_runs_and_threads(self, broker: Broker) -> None:
        (run_a, thread), (run_b, _) = ids(), ids()
        published = []
        for i in range(60):
            if i % 3 == 2:
                published.append(await broker.publish_thread(thread, "state_update", b"{}"))
            else:
                run = run_a if i % 3 == 0 else run_b
                published.append(await broker.publish(run, thread, "values", b"{}"))
        keys = [event_key(i) for i in published]
        assert keys == sorted(set(keys)), published  # strictly increasing
        # A client resumes from any of them: the id parses back to the same position.
        assert [parse_event_id(i) for i in published] == keys

    async def test_replay_from_the_start_and_from_an_id(self, broker: Broker) -> None:
        run, thread = ids()
        published = await publish_n(broker, run, thread, 5)
        await broker.end_run(run, thread)

        full = await drain(broker.subscribe_run(run, (0, 0)))
        assert [e.id for e in full] == published
        assert [orjson.loads(e.data) for e in full] == [{"i": i} for i in range(5)]
        assert {e.event for e in full} == {"values"}  # the end marker is not an event
        after_second = await drain(broker.subscribe_run(run, event_key(published[1])))
        assert [e.id for e in after_second] == published[2:]
        assert await drain(broker.subscribe_run(run, event_key(published[-1]))) == []

    async def test_live_only_on_an_ended_run_ends_at_once(self, broker: Broker) -> None:
        run, thread = ids()
        await publish_n(broker, run, thread, 2)
        await broker.end_run(run, thread)
        assert await drain(broker.subscribe_run(run, None)) == []

    async def test_follows_live_events_until_the_run_ends(self, broker: Broker) -> None:
        run, thread = ids()
        (first,) = await publish_n(broker, run, thread, 1)
        follower = asyncio.create_task(drain(broker.subscribe_run(run, event_key(first))))
        later = await publish_n(broker, run, thread, 3)
        await broker.end_run(run, thread)
        assert [e.id for e in await follower] == later

    async def test_thread_channel_carries_every_run_and_state_updates(
        self, broker: Broker
    ) -> None:
        (run_a, thread), (run_b, _) = ids(), ids()
        a1 = await broker.publish(run_a, thread, "values", b'{"run":"a"}')
        b1 = await broker.publish(run_b, thread, "values", b'{"run":"b"}')
        update = await broker.publish_thread(thread, "state_update", b'{"s":1}')
        await broker.end_run(run_a, thread)

        events = await take(broker.subscribe_thread(thread, (0, 0)), 4)
        assert [e.id for e in events[:3]] == [a1, b1, update]
        assert [e.event for e in events] == ["values", "values", "state_update", "metadata"]
        assert orjson.loads(events[3].data) == {"status": "run_done", "run_id": run_a}
        # A run's own channel has only its events; state updates are for threads only.
        assert [e.id for e in await drain(broker.subscribe_run(run_a, (0, 0)))] == [a1]

    async def test_thread_stream_outlives_its_runs(self, broker: Broker) -> None:
        run, thread = ids()
        await publish_n(broker, run, thread, 1)
        await broker.end_run(run, thread)
        follower = asyncio.create_task(take(broker.subscribe_thread(thread, (0, 0)), 3))
        next_run, _ = ids()
        (later,) = await publish_n(broker, next_run, thread, 1)
        events = await follower
        assert [e.event for e in events] == ["values", "metadata", "values"]
        assert events[-1].id == later

    async def test_a_run_ends_once(self, broker: Broker) -> None:
        run, thread = ids()
        await publish_n(broker, run, thread, 2)
        await broker.end_run(run, thread)
        await broker.end_run(run, thread)
        (other, _) = ids()
        (marker,) = await publish_n(broker, other, thread, 1)  # bounds the thread's history
        events = await take(broker.subscribe_thread(thread, (0, 0)), 4)
        assert [e.event for e in events] == ["values", "values", "metadata", "values"]
        assert events[-1].id == marker
        assert len(await drain(broker.subscribe_run(run, (0, 0)))) == 2

    async def test_epitaph_is_kept_with_the_run(self, broker: Broker) -> None:
        (run, thread), (plain, _) = ids(), ids()
        epitaph = {"run": {"run_id": run, "status": "success"}, "thread_metadata": {"k": 1}}
        await broker.end_run(run, thread, epitaph=epitaph)
        await broker.end_run(plain, thread)
        assert await broker.epitaph(run) == epitaph
        assert await broker.epitaph(plain) is None
        assert await broker.epitaph(str(uuid.uuid4())) is None

    async def test_run_known_once_it_has_events(self, broker: Broker) -> None:
        run, thread = ids()
        assert not await broker.run_known(run)
        await publish_n(broker, run, thread, 1)
        assert await broker.run_known(run)

    async def test_past_the_bound_the_runs_that_ended_first_are_forgotten(
        self, bounded: Broker
    ) -> None:
        (running, thread), (first, _), (second, other), (third, _) = ids(), ids(), ids(), ids()
        (live,) = await publish_n(bounded, running, thread, 1)
        await publish_n(bounded, first, thread, 2)
        await bounded.end_run(first, thread, epitaph={"run": {"run_id": first}})
        await publish_n(bounded, second, other, 1)
        await bounded.end_run(second, other)
        assert await bounded.run_known(first)  # ENDED_KEPT ended runs: all kept
        kept = await publish_n(bounded, third, thread, 1)
        await bounded.end_run(third, thread)

        # As if its retention had lapsed: nothing left to replay or authorize against.
        assert not await bounded.run_known(first)
        assert await bounded.epitaph(first) is None
        assert await bounded.run_known(second) and await bounded.run_known(third)
        # Its events and its end are gone from its thread; the other runs' events stay.
        events = await take(bounded.subscribe_thread(thread, (0, 0)), 3)
        assert [e.id for e in events[:2]] == [live, *kept]
        assert orjson.loads(events[2].data) == {"status": "run_done", "run_id": third}

    async def test_a_thread_follower_loses_nothing_when_a_run_is_forgotten(
        self, bounded: Broker
    ) -> None:
        (first, thread), (current, _) = ids(), ids()
        await publish_n(bounded, first, thread, 2)
        await bounded.end_run(first, thread)
        await publish_n(bounded, current, thread, 2)
        stream = bounded.subscribe_thread(thread, (0, 0))
        async with contextlib.aclosing(stream), asyncio.timeout(BOUND):
            seen = [await anext(stream) for _ in range(4)]  # first's two, its end, one more
            for _ in range(ENDED_KEPT):  # pushes `first` out
                other, other_thread = ids()
                await bounded.end_run(other, other_thread)
            following = await anext(stream)
        assert [e.event for e in seen] == ["values", "values", "metadata", "values"]
        assert orjson.loads(following.data) == {"i": 1}  # current's second event
