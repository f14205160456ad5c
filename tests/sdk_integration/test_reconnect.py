"""Streams survive cut TCP connections: each event arrives once, in order, none lost.

The client talks to the server through `CutProxy`; after some events every connection is
aborted (twice per run). The client must reconnect to the stream's `Location` with
`Last-Event-ID` and carry on, so what it yielded equals the run's full event log: a
`join_stream(..., last_event_id="-")` replay, or for a stateless run (whose thread is deleted
when it ends) the server broker's log.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from graphport.sdk import get_client
from graphport.server.runtime.broker import event_key, parse_event_id

from .helpers import collect, poll
from .proxy import CutProxy

pytestmark = pytest.mark.timeout(90)

STEPS = 12
MODES = ["values", "custom", "updates"]
CUT_AFTER = (6, 22)  # events seen before each cut


@pytest.fixture
async def direct(server: Any) -> AsyncIterator[Any]:
    async with get_client(url=server.url, api_key=None, timeout=10.0) as c:
        yield c


async def _stream_with_cuts(stream: Any, proxy: CutProxy) -> list[Any]:
    parts: list[Any] = []
    async with asyncio.timeout(60):
        async for part in stream:
            parts.append(part)
            if len(parts) in CUT_AFTER:
                proxy.cut()
    return parts


def _check_run_went_on(parts: list[Any], proxy: CutProxy) -> None:
    assert proxy.cuts == len(CUT_AFTER) and proxy.accepted > len(CUT_AFTER), (
        f"expected a reconnection per cut; {proxy.accepted} connections"
    )
    steps = [p.data["step"] for p in parts if p.event == "custom"]
    assert steps == list(range(1, STEPS + 1))
    first_cut_steps = [p.data["step"] for p in parts[: CUT_AFTER[0]] if p.event == "custom"]
    assert max(first_cut_steps, default=0) < STEPS, "the first cut came after the run ended"
    ids = [p.id for p in parts]
    assert all(ids) and len(set(ids)) == len(ids)
    assert ids == sorted(ids, key=event_key)


async def test_stream_resumes_after_cuts(proxied: tuple[Any, CutProxy], direct: Any) -> None:
    client, proxy = proxied
    thread_id = (await direct.threads.create())["thread_id"]
    parts = await _stream_with_cuts(
        client.runs.stream(
            thread_id,
            "slow",
            input={"steps": STEPS, "delay": 0.1},
            stream_mode=MODES,
            config={"recursion_limit": 100},
        ),
        proxy,
    )
    _check_run_went_on(parts, proxy)
    run_id = parts[0].data["run_id"]
    replay = await collect(direct.runs.join_stream(thread_id, run_id, last_event_id="-"))
    assert [(p.event, p.data, p.id) for p in parts] == [(p.event, p.data, p.id) for p in replay]
    assert (await direct.runs.get(thread_id, run_id))["status"] == "success"


async def test_stateless_stream_resumes_after_cuts(
    proxied: tuple[Any, CutProxy], server: Any
) -> None:
    client, proxy = proxied
    parts = await _stream_with_cuts(
        client.runs.stream(
            None,
            "slow",
            input={"steps": STEPS, "delay": 0.1},
            stream_mode=MODES,
            config={"recursion_limit": 100},
        ),
        proxy,
    )
    _check_run_went_on(parts, proxy)
    logged = server.call(_broker_log, server.core, parts[0].data["run_id"])
    assert [(p.event, p.data, p.id) for p in parts] == logged


async def _broker_log(core: Any, run_id: str) -> list[tuple[str, Any, str]]:
    """Every event the server published for the run, with its id (runs on the server loop)."""
    return [
        (ev.event, orjson.loads(ev.data), ev.id)
        async for ev in core.broker.subscribe_run(run_id, parse_event_id("-"))
    ]


async def test_join_stream_keeps_its_filter_across_cuts(
    proxied: tuple[Any, CutProxy], direct: Any
) -> None:
    """The resumed join stream is the same request: same `stream_mode`, from the last id."""
    client, proxy = proxied
    thread_id = (await direct.threads.create())["thread_id"]
    run = await direct.runs.create(
        thread_id,
        "slow",
        input={"steps": STEPS, "delay": 0.1},
        stream_mode=MODES,
        config={"recursion_limit": 100},
    )
    parts: list[Any] = []
    async with asyncio.timeout(60):
        async for part in client.runs.join_stream(
            thread_id, run["run_id"], stream_mode="custom", last_event_id="-"
        ):
            parts.append(part)
            if sum(p.event == "custom" for p in parts) in (2, 7) and parts[-1].event == "custom":
                proxy.cut()
    assert proxy.accepted > 2
    assert {p.event for p in parts} <= {"custom", "metadata"}, [p.event for p in parts]
    assert [p.data["step"] for p in parts if p.event == "custom"] == list(range(1, STEPS + 1))


async def test_wait_and_join_survive_a_cut(proxied: tuple[Any, CutProxy], direct: Any) -> None:
    """A wait (POST) or join (GET) cut off while the run goes on rejoins it and gets its result."""
    client, proxy = proxied
    thread_id = (await direct.threads.create())["thread_id"]
    slow = {"steps": 8, "delay": 0.1}
    expected = {**slow, "step": 8, "log": [f"tick {i}" for i in range(1, 9)]}

    async def cut_once_running() -> None:
        """Cut once the run is running and the server has answered through the proxy."""
        answered = proxy.bytes_down

        async def ready() -> bool:
            running = await direct.runs.list(thread_id, status="running")
            return bool(running) and proxy.bytes_down > answered

        await poll(ready, bool, what="a running run and a response through the proxy")
        proxy.cut()

    cutter = asyncio.create_task(cut_once_running())
    result = await asyncio.wait_for(client.runs.wait(thread_id, "slow", input=slow), 30)
    await cutter
    assert result == expected
    assert proxy.accepted >= 2

    thread_id = (await direct.threads.create())["thread_id"]  # `log` accumulates per thread
    run = await direct.runs.create(thread_id, "slow", input=slow)
    cutter = asyncio.create_task(cut_once_running())
    joined = await asyncio.wait_for(client.runs.join(thread_id, run["run_id"]), 30)
    await cutter
    assert joined == expected


async def test_stateless_stream_cut_as_the_run_ends(
    proxied: tuple[Any, CutProxy], direct: Any, server: Any
) -> None:
    client, proxy = proxied
    stream = client.runs.stream(
        None, "slow", input={"steps": 3, "delay": 0.05}, stream_mode=["custom", "values"]
    )
    parts: list[Any] = []
    async with asyncio.timeout(30):
        async for part in stream:
            parts.append(part)
            if part.event == "custom" and part.data["step"] == 3:
                proxy.cut()
                # The client resumes on its next step; by then the run is over and its
                # thread deleted, yet its events are still retained and replayable.
                await poll(
                    functools.partial(_status, direct, f"/runs/{parts[0].data['run_id']}"),
                    lambda status: status == "success",
                    what="the run to end",
                )
    logged = server.call(_broker_log, server.core, parts[0].data["run_id"])
    assert [(p.event, p.data, p.id) for p in parts] == logged


async def _status(client: Any, path: str) -> str:
    return str((await client.http.get(path))["status"])
