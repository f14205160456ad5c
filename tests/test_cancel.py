"""Cancelling runs (docs/api.md#cancel): single cancel with wait/action, pending runs, bulk
cancel, and disconnect-driven cancels (on_disconnect, cancel_on_disconnect)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from run_helpers import (
    create_run,
    get_run,
    history,
    new_thread,
    poll,
    seen_events,
    slow,
    state,
    take,
    thread,
    until_status,
    wait_run,
)

LONG = {"input": slow(40, 0.1), "config": {"recursion_limit": 100}}


async def _long_run(http: httpx.AsyncClient, tid: str | None = None) -> tuple[str, str]:
    """A slow run that has ticked at least once and has seconds left to go."""
    tid = tid or await new_thread(http)
    run = await create_run(http, tid, "slow", stream_mode=["custom", "values"], **LONG)
    await seen_events(http, tid, run["run_id"], "custom")
    return tid, run["run_id"]


async def test_cancel_wait_stops_the_graph(client: Any, http: httpx.AsyncClient) -> None:
    tid, rid = await _long_run(http)
    t0 = time.monotonic()
    await client.runs.cancel(tid, rid, wait=True)
    assert time.monotonic() - t0 < 1.0
    run = await client.runs.get(tid, rid)
    assert run["status"] == "interrupted"
    assert run["cancel_reason"] == "cancelled by user"
    # Stopped mid-run with nodes left: the thread is interrupted, nothing more is written.
    assert (await thread(http, tid))["status"] == "interrupted"
    assert (await state(http, tid))["next"] == ["tick"]
    _, replay = await take(
        http,
        "GET",
        f"/threads/{tid}/runs/{rid}/stream",
        lambda evs: False,
        headers={"Last-Event-ID": "-"},
        timeout=5,
    )
    ticks = [e.data["step"] for e in replay if e.event == "custom"]
    assert 1 <= len(ticks) < 10
    checkpoints = len(await history(http, tid))
    # The thread is free again at once.
    assert (await wait_run(http, tid, "counter", input={"count": 1}))["count"] == 4
    assert len(await history(http, tid)) > checkpoints


async def test_cancel_over_http(http: httpx.AsyncClient) -> None:
    tid, rid = await _long_run(http)
    r = await http.post(f"/threads/{tid}/runs/{rid}/cancel")
    assert r.status_code == 202 and r.content == b""
    assert await until_status(http, tid, rid, timeout=3) == "interrupted"

    tid, rid = await _long_run(http)
    r = await http.post(f"/threads/{tid}/runs/{rid}/cancel", params={"wait": "1"})
    assert r.status_code == 200
    assert r.headers["location"] == f"/threads/{tid}/runs/{rid}/join"
    body = r.json()
    assert body["steps"] == 40 and "step" in body  # the last values the run produced
    assert (await get_run(http, tid, rid))["status"] == "interrupted"

    # Finished or unknown runs cannot be cancelled.
    r = await http.post(f"/threads/{tid}/runs/{rid}/cancel")
    assert r.status_code == 404 and "No matching runs" in r.json()["detail"]
    assert (await http.post(f"/threads/{tid}/runs/{uuid.uuid4()}/cancel")).status_code == 404
    assert (await http.post(f"/threads/{tid}/runs/bad/cancel")).status_code == 422


async def test_cancel_rollback(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    await wait_run(http, tid, "slow", input=slow(1, 0))
    before = await state(http, tid)
    _, rid = await _long_run(http, tid)
    r = await http.post(
        f"/threads/{tid}/runs/{rid}/cancel", params={"wait": "true", "action": "rollback"}
    )
    assert r.status_code == 200
    assert (await http.get(f"/threads/{tid}/runs/{rid}")).status_code == 404
    assert rid not in {h["metadata"].get("run_id") for h in await history(http, tid)}
    after = await state(http, tid)
    assert after["checkpoint_id"] == before["checkpoint_id"] and after["values"] == before["values"]
    assert (await thread(http, tid))["status"] == "idle"


async def test_cancel_pending_run(http: httpx.AsyncClient, client: Any) -> None:
    tid, running = await _long_run(http)
    queued = await create_run(http, tid, "counter", input={"count": 1})
    r = await http.post(f"/threads/{tid}/runs/{queued['run_id']}/cancel")
    assert r.status_code == 202
    assert (await get_run(http, tid, queued["run_id"]))["status"] == "interrupted"
    assert (await get_run(http, tid, running))["status"] == "running"
    assert (await thread(http, tid))["status"] == "busy"
    # Rollback of a pending run deletes it.
    doomed = await create_run(http, tid, "counter", input={"count": 1})
    await client.runs.cancel(tid, doomed["run_id"], action="rollback")
    assert (await http.get(f"/threads/{tid}/runs/{doomed['run_id']}")).status_code == 404
    await client.runs.cancel(tid, running, wait=True)

    # A delayed run alone on its thread: cancelling frees the thread.
    tid = await new_thread(http)
    delayed = await create_run(http, tid, "counter", input={"count": 1}, after_seconds=30)
    assert (await thread(http, tid))["status"] == "busy"
    await client.runs.cancel(tid, delayed["run_id"], wait=True)
    assert (await get_run(http, tid, delayed["run_id"]))["status"] == "interrupted"
    assert (await thread(http, tid))["status"] == "idle"


async def test_bulk_cancel(http: httpx.AsyncClient, client: Any) -> None:
    tid, running = await _long_run(http)
    queued = await create_run(http, tid, "counter", input={"count": 1})
    r = await http.post(
        "/runs/cancel", json={"thread_id": tid, "run_ids": [running, queued["run_id"]]}
    )
    assert r.status_code == 204
    assert await until_status(http, tid, running, timeout=3) == "interrupted"
    assert (await get_run(http, tid, queued["run_id"]))["status"] == "interrupted"

    # By status: every pending run, then every running run, server-wide.
    other = await new_thread(http)
    delayed = await create_run(http, other, "counter", input={"count": 1}, after_seconds=30)
    await client.runs.cancel_many(status="pending")
    assert (await get_run(http, other, delayed["run_id"]))["status"] == "interrupted"
    tid, running = await _long_run(http)
    await client.runs.cancel_many(status="running", action="interrupt")
    assert await until_status(http, tid, running, timeout=3) == "interrupted"
    tid, running = await _long_run(http)
    r = await http.post("/runs/cancel", json={"status": "all"})
    assert r.status_code == 204
    assert await until_status(http, tid, running, timeout=3) == "interrupted"

    # Nothing left to cancel, and malformed bodies.
    assert (await http.post("/runs/cancel", json={"status": "running"})).status_code == 404
    r = await http.post("/runs/cancel", json={"thread_id": tid, "run_ids": [running]})
    assert r.status_code == 404
    both = {"status": "all", "thread_id": tid, "run_ids": [running]}
    assert (await http.post("/runs/cancel", json=both)).status_code == 422
    assert (await http.post("/runs/cancel", json={})).status_code == 422
    assert (await http.post("/runs/cancel", json={"status": "bogus"})).status_code == 422


@pytest.mark.parametrize("policy", ["cancel", "continue"])
async def test_stream_on_disconnect(http: httpx.AsyncClient, policy: str) -> None:
    tid = await new_thread(http)
    response, _seen = await take(
        http,
        "POST",
        f"/threads/{tid}/runs/stream",
        lambda evs: sum(e.event == "custom" for e in evs) >= 2,
        json_body={
            "assistant_id": "slow",
            "input": slow(6, 0.1),
            "stream_mode": "custom",
            "on_disconnect": policy,
        },
    )
    rid = response.headers["content-location"].rsplit("/", 1)[1]
    final = await until_status(http, tid, rid, timeout=5)
    assert final == ("interrupted" if policy == "cancel" else "success")


async def test_disconnect_cancels_a_queued_run(http: httpx.AsyncClient) -> None:
    tid, running = await _long_run(http)
    async with http.stream(
        "POST",
        f"/threads/{tid}/runs/stream",
        json={"assistant_id": "counter", "input": {"count": 1}, "on_disconnect": "cancel"},
    ) as response:
        rid = response.headers["content-location"].rsplit("/", 1)[1]
        assert (await get_run(http, tid, rid))["status"] == "pending"
    # Cancelled where it waits, not when its turn comes.
    assert await until_status(http, tid, rid, timeout=3) == "interrupted"
    assert (await get_run(http, tid, running))["status"] == "running"
    await http.post(f"/threads/{tid}/runs/{running}/cancel", params={"wait": "1"})


async def test_wait_on_disconnect_cancel(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    async with http.stream(
        "POST",
        f"/threads/{tid}/runs/wait",
        json={"assistant_id": "slow", "on_disconnect": "cancel", **LONG},
    ) as response:
        rid = response.headers["content-location"].rsplit("/", 1)[1]
        await until_status(http, tid, rid, ["running"], timeout=5)
    assert await until_status(http, tid, rid, timeout=5) == "interrupted"


async def test_join_cancel_on_disconnect(http: httpx.AsyncClient) -> None:
    tid, rid = await _long_run(http)
    async with http.stream(
        "GET", f"/threads/{tid}/runs/{rid}/join", params={"cancel_on_disconnect": "true"}
    ) as response:
        assert response.status_code == 200
    assert await until_status(http, tid, rid, timeout=5) == "interrupted"

    tid, rid = await _long_run(http)
    await take(
        http,
        "GET",
        f"/threads/{tid}/runs/{rid}/stream",
        lambda evs: any(e.event == "custom" for e in evs),
        params={"cancel_on_disconnect": "1"},
    )
    assert await until_status(http, tid, rid, timeout=5) == "interrupted"
    # Without the flag a dropped join leaves the run alone.
    tid, rid = await _long_run(http)
    async with http.stream("GET", f"/threads/{tid}/runs/{rid}/join") as response:
        assert response.status_code == 200
    assert (await get_run(http, tid, rid))["status"] == "running"
    await http.post(f"/threads/{tid}/runs/{rid}/cancel", params={"wait": "1"})


async def test_delete_running_run(http: httpx.AsyncClient) -> None:
    tid, rid = await _long_run(http)
    r = await http.delete(f"/threads/{tid}/runs/{rid}")
    assert r.status_code == 204
    assert (await http.get(f"/threads/{tid}/runs/{rid}")).status_code == 404
    gone = await thread(http, tid)
    assert gone["status"] == "idle" and (await state(http, tid))["values"] == {}


async def test_run_timeout(start_server: Any) -> None:
    with start_server(run_timeout_seconds=0.3) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            tid = await new_thread(http)
            r = await http.post(
                f"/threads/{tid}/runs/wait",
                json={"assistant_id": "slow", "input": slow(20, 0.1)},
            )
            assert r.json() == {"__error__": {"error": "TimeoutError", "message": ""}}
            [run] = (await http.get(f"/threads/{tid}/runs")).json()
            assert run["status"] == "timeout"
            assert (await thread(http, tid))["status"] != "busy"
            # The worker carries on with the next run.
            after = await wait_run(http, tid, "counter", input={"count": 1})
            assert after.get("count") == 4, after


async def test_cancel_while_finalizing(start_server: Any) -> None:
    """A cancel that lands while a run is being finalized must not abort the finalization
    (the run would stay `running` and its stream open forever)."""
    with start_server() as srv:
        worker = srv.core.worker
        entered, gate = threading.Event(), threading.Event()
        original = worker.finalize

        async def held_finalize(*args: Any, **kwargs: Any) -> Any:
            entered.set()
            await asyncio.to_thread(gate.wait, 10)
            return await original(*args, **kwargs)

        worker.finalize = held_finalize
        try:
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
                tid = await new_thread(http)
                run = await create_run(http, tid, "counter", input={"count": 1})
                await poll(lambda: asyncio.sleep(0, entered.is_set()), bool, what="finalize")
                r = await http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel")
                assert r.status_code == 202  # still running as far as the table knows
                gate.set()
                async with asyncio.timeout(10):  # keep-alives defeat httpx's read timeout
                    joined = await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
                assert joined.json()["count"] == 4
                assert await until_status(http, tid, run["run_id"], timeout=5) == "success"
                assert (await thread(http, tid))["status"] == "idle"
        finally:
            gate.set()
            worker.finalize = original
