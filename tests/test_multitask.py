"""Double-texting (docs/api.md#multitask-strategies): two truly concurrent runs on one
thread of the slow graph, under each multitask strategy. Statuses are polled, never assumed
from timing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from run_helpers import (
    FINAL,
    SSE,
    create_run,
    history,
    new_thread,
    poll,
    seen_events,
    slow,
    state,
    stream_run,
    thread,
    until_status,
)


async def _running_with_progress(http: httpx.AsyncClient) -> tuple[str, str]:
    """A thread whose slow run has finished a tick (checkpointed) and is still going."""
    tid = await new_thread(http)
    run = await create_run(
        http,
        tid,
        "slow",
        input=slow(30, 0.1),
        stream_mode="custom",
        config={"recursion_limit": 100},
    )
    # Tick 2 has started, so tick 1's update is written.
    await seen_events(http, tid, run["run_id"], "custom", 2)
    return tid, run["run_id"]


async def test_reject(http: httpx.AsyncClient, client: Any) -> None:
    tid = await new_thread(http)
    first = await create_run(http, tid, "slow", input=slow(3, 0.1))
    r = await http.post(
        f"/threads/{tid}/runs",
        json={"assistant_id": "slow", "input": slow(1, 0), "multitask_strategy": "reject"},
    )
    assert r.status_code == 409
    assert "already running" in r.json()["detail"]
    for route in ("runs/wait", "runs/stream"):
        r = await http.post(
            f"/threads/{tid}/{route}",
            json={"assistant_id": "slow", "multitask_strategy": "reject"},
        )
        assert r.status_code == 409
    assert len((await http.get(f"/threads/{tid}/runs")).json()) == 1  # nothing inserted
    assert await until_status(http, tid, first["run_id"]) == "success"
    # Through the SDK once the thread is free again.
    result = await client.runs.wait(tid, "slow", input=slow(1, 0), multitask_strategy="reject")
    assert result["step"] == 1


async def test_enqueue_is_fifo_and_never_concurrent(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    a = await create_run(http, tid, "slow", input=slow(4, 0.05))
    b = await create_run(http, tid, "slow", input=slow(2, 0.05), multitask_strategy="enqueue")
    c = await create_run(http, tid, "slow", input=slow(1, 0.05))  # enqueue is the default
    ids = [a["run_id"], b["run_id"], c["run_id"]]
    order: list[str] = []
    async with asyncio.timeout(20):
        while True:
            # One list call is one query, a snapshot: separate gets could see a run still
            # running and, a moment later, its successor already started.
            listed = {
                r["run_id"]: r["status"] for r in (await http.get(f"/threads/{tid}/runs")).json()
            }
            statuses = [listed[rid] for rid in ids]
            running = [rid for rid, s in zip(ids, statuses, strict=True) if s == "running"]
            assert len(running) <= 1, statuses
            for rid in running:
                if rid not in order:
                    order.append(rid)
            if all(s in FINAL for s in statuses):
                break
            await asyncio.sleep(0.01)
    assert statuses == ["success"] * 3
    assert [rid for rid in order] == [rid for rid in ids if rid in order]  # FIFO
    log = (await thread(http, tid))["values"]["log"]
    assert log == [f"tick {i}" for i in (1, 2, 3, 4, 1, 2, 1)]


async def test_interrupt_strategy(http: httpx.AsyncClient) -> None:
    tid, first = await _running_with_progress(http)
    second = await create_run(http, tid, "slow", input=slow(1, 0), multitask_strategy="interrupt")
    assert await until_status(http, tid, second["run_id"]) == "success"
    interrupted = (await http.get(f"/threads/{tid}/runs/{first}")).json()
    assert interrupted["status"] == "interrupted"
    assert interrupted["cancel_reason"] == (
        f"superseded by run {second['run_id']} (multitask_strategy=interrupt)"
    )
    # The first run's completed steps are kept; the second continued from there.
    writers = {h["metadata"].get("run_id") for h in await history(http, tid)}
    assert first in writers and second["run_id"] in writers
    log = (await state(http, tid))["values"]["log"]
    kept = len(log) - 1
    assert kept >= 1 and log == [f"tick {i}" for i in range(1, kept + 1)] + ["tick 1"]
    assert (await thread(http, tid))["status"] == "idle"


async def test_rollback_strategy(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    # An earlier finished run whose state the rollback must return to.
    base = await create_run(http, tid, "slow", input=slow(1, 0))
    await until_status(http, tid, base["run_id"], ["success"])
    first = await create_run(
        http,
        tid,
        "slow",
        input=slow(30, 0.1),
        stream_mode="custom",
        config={"recursion_limit": 100},
    )
    await seen_events(http, tid, first["run_id"], "custom", 2)
    assert first["run_id"] in {h["metadata"].get("run_id") for h in await history(http, tid)}
    second = await create_run(http, tid, "slow", input=slow(1, 0), multitask_strategy="rollback")
    assert await until_status(http, tid, second["run_id"]) == "success"
    assert (await http.get(f"/threads/{tid}/runs/{first['run_id']}")).status_code == 404
    writers = {h["metadata"].get("run_id") for h in await history(http, tid)}
    assert first["run_id"] not in writers
    assert {base["run_id"], second["run_id"]} <= writers
    assert (await state(http, tid))["values"]["log"] == ["tick 1", "tick 1"]
    runs = [r["run_id"] for r in (await http.get(f"/threads/{tid}/runs")).json()]
    assert runs == [second["run_id"], base["run_id"]]


async def test_interrupt_strategy_cancels_pending_too(client: Any, http: httpx.AsyncClient) -> None:
    tid, first = await _running_with_progress(http)
    queued = await client.runs.create(tid, "slow", input=slow(1, 0))
    last = await client.runs.create(tid, "slow", input=slow(1, 0), multitask_strategy="interrupt")
    await client.runs.join(tid, last["run_id"])
    assert (await client.runs.get(tid, first))["status"] == "interrupted"
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "interrupted"
    assert (await client.runs.get(tid, last["run_id"]))["status"] == "success"


async def test_truly_concurrent_creates(http: httpx.AsyncClient) -> None:
    body = {"assistant_id": "slow", "input": slow(2, 0.02)}
    tid = await new_thread(http)
    answers = await asyncio.gather(
        *(
            http.post(f"/threads/{tid}/runs", json={**body, "multitask_strategy": "reject"})
            for _ in range(6)
        )
    )
    assert sorted(r.status_code for r in answers) == [200] + [409] * 5

    tid = await new_thread(http)
    answers = await asyncio.gather(
        *(http.post(f"/threads/{tid}/runs", json=body) for _ in range(6))
    )
    runs = [r.json() for r in answers]
    logs = [(await http.get(f"/threads/{tid}/runs/{r['run_id']}/join")).json()["log"] for r in runs]
    # One after another: each run saw every earlier run's ticks, none shared a start state.
    assert sorted(len(log) for log in logs) == [2, 4, 6, 8, 10, 12]
    by_created = sorted(runs, key=lambda r: r["created_at"])
    lengths = {r["run_id"]: len(log) for r, log in zip(runs, logs, strict=True)}
    assert [lengths[r["run_id"]] for r in by_created] == [2, 4, 6, 8, 10, 12]  # FIFO


async def test_rollback_removes_queued_runs_too(http: httpx.AsyncClient) -> None:
    tid, first = await _running_with_progress(http)
    queued = await create_run(http, tid, "slow", input=slow(1, 0))
    last = await create_run(http, tid, "slow", input=slow(1, 0), multitask_strategy="rollback")
    assert await until_status(http, tid, last["run_id"]) == "success"
    remaining = [r["run_id"] for r in (await http.get(f"/threads/{tid}/runs")).json()]
    assert remaining == [last["run_id"]]
    assert (await state(http, tid))["values"]["log"] == ["tick 1"]
    assert first not in {h["metadata"].get("run_id") for h in await history(http, tid)}
    assert queued["run_id"] not in remaining


async def test_superseded_stream_ends(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    seen: list[SSE] = []

    async def listen() -> None:
        _, events = await stream_run(
            http,
            tid,
            {
                "assistant_id": "slow",
                "input": slow(30, 0.1),
                "stream_mode": "custom",
                "config": {"recursion_limit": 100},
            },
        )
        seen.extend(events)

    listener = asyncio.create_task(listen())
    first = await poll(
        lambda: http.get(f"/threads/{tid}/runs"),
        lambda r: bool(r.json()) and r.json()[0]["status"] == "running",
        what="first run running",
    )
    first_id = first.json()[0]["run_id"]
    await seen_events(http, tid, first_id, "custom")
    await create_run(http, tid, "slow", input=slow(1, 0), multitask_strategy="interrupt")
    async with asyncio.timeout(5):
        await listener  # the superseded run's stream closes with it
    assert seen[0].event == "metadata" and seen[0].data["run_id"] == first_id
    assert 1 <= len([e for e in seen if e.event == "custom"]) < 30
    assert (await http.get(f"/threads/{tid}/runs/{first_id}")).json()["status"] == "interrupted"


async def test_concurrent_runs_creating_the_same_thread(http: httpx.AsyncClient) -> None:
    """Several `if_not_exists=create` runs racing to create one thread: one creates it,
    the others find it and enqueue, none fails."""
    thread_id = str(uuid.uuid4())
    body = {"assistant_id": "echo", "if_not_exists": "create", "input": {"messages": []}}
    responses = await asyncio.gather(
        *(http.post(f"/threads/{thread_id}/runs", json=body) for _ in range(4))
    )
    assert [r.status_code for r in responses] == [200] * 4
    assert {r.json()["thread_id"] for r in responses} == {thread_id}
    runs = (await http.get(f"/threads/{thread_id}/runs")).json()
    assert len(runs) == 4
