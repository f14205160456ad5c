"""Which failures send a run back to the queue rather than to `error`, and the outbox that
keeps a run's events in order while the broker is down (docs/run-lifecycle.md)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import psycopg
import psycopg_pool
import pytest
import redis.exceptions
import sqlalchemy.exc

from graphport.server.runtime import outbox
from graphport.server.runtime.broker import BrokerUnavailable
from graphport.server.runtime.faults import is_broker_fault, is_overload, is_transient
from graphport.server.runtime.memory_broker import MemoryBroker


def raised_from(outer: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as e:
            raise outer from e
    except BaseException as e:
        return e


@pytest.mark.parametrize(
    "exc",
    [
        BrokerUnavailable("down"),
        redis.exceptions.ConnectionError("reset"),
        redis.exceptions.TimeoutError("slow"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("gone")),
        raised_from(RuntimeError("wrapped"), psycopg.OperationalError("terminated")),
        sqlalchemy.exc.TimeoutError("QueuePool limit reached"),
        psycopg_pool.PoolTimeout("couldn't get a connection"),
    ],
)
def test_lost_connections_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("the graph's own bug"),
        ConnectionError("an API the graph called"),
        TimeoutError(),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("no table")),
        psycopg.errors.UniqueViolation("duplicate"),
    ],
)
def test_other_failures_are_not(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_broker_faults_are_told_apart() -> None:
    assert is_broker_fault(redis.exceptions.ConnectionError("x"))
    assert is_broker_fault(BrokerUnavailable("x"))
    assert not is_broker_fault(psycopg.OperationalError("x"))


def test_running_out_of_pooled_connections_is_told_apart() -> None:
    assert is_overload(raised_from(RuntimeError("x"), sqlalchemy.exc.TimeoutError("pool")))
    assert is_overload(psycopg_pool.PoolTimeout("pool"))
    assert not is_overload(psycopg.OperationalError("server closed the connection"))


class FlakyBroker(MemoryBroker):
    """A memory broker whose publishes fail while `down` is set."""

    def __init__(self) -> None:
        super().__init__(60)
        self.down = False
        self.attempts = 0

    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> str:
        self.attempts += 1
        if self.down:
            raise BrokerUnavailable("down")
        return await super().publish(run_id, thread_id, event, data)

    async def finish(self, *args: Any, **kwargs: Any) -> None:
        if self.down:
            raise BrokerUnavailable("down")
        await super().finish(*args, **kwargs)


async def events_of(broker: MemoryBroker, run_id: str) -> list[str]:
    async with asyncio.timeout(5):
        return [ev.event async for ev in broker.subscribe_run(run_id, (0, 0))]


async def test_outbox_keeps_order_through_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "RETRY_SECONDS", 0.01)
    broker = FlakyBroker()
    events = outbox.RunEvents(broker, "r1", "t1")
    await events.publish("a", b"1")
    broker.down = True
    await events.publish("b", b"2")  # returns at once: the run goes on
    await events.publish("c", b"3")
    await asyncio.sleep(0.05)
    broker.down = False
    await asyncio.wait_for(events.end(), 5)
    assert await events_of(broker, "r1") == ["a", "b", "c"]


async def test_outbox_drops_the_oldest_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "MAX_PENDING", 2)
    monkeypatch.setattr(outbox, "RETRY_SECONDS", 0.01)
    broker = FlakyBroker()
    broker.down = True
    events = outbox.RunEvents(broker, "r2", "t2")
    for name in ("a", "b", "c"):
        await events.publish(name, b"{}")
    broker.down = False
    await asyncio.wait_for(events.end(), 5)
    assert events.dropped == 1
    assert await events_of(broker, "r2") == ["b", "c"]
