"""SIGTERM with open streams and runs in flight, on real processes: the process exits
within the grace period plus a few seconds whatever its clients do; open streams end
cleanly so their clients resume elsewhere with Last-Event-ID, losing nothing; runs that fit
in the grace period finish, the others go back to the queue and resume from their
checkpoint on another worker (never `error`, never left `running`). See
docs/architecture.md#processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from conftest import CONFIG, REQUIRE_PG, database_for, free_port, unavailable
from processes import Graphport, graphport
from run_helpers import SSE, create_run, events_of, new_thread, seen_events, slow, until_status

GRACE = 4.0
# uvicorn re-raises the signal once it has shut down cleanly, as the default handler
# would end the process; a worker returns 0.
CLEAN_EXIT = (0, -signal.SIGTERM)
# What "a few seconds" past the grace period may take on a busy 2-core machine.
SLACK = 8.0


def terminate(proc: Graphport) -> float:
    """SIGTERM; seconds until the process exited (bounded)."""
    began = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    proc.proc.wait(GRACE + 3 * SLACK)
    return time.monotonic() - began


@contextlib.asynccontextmanager
async def open_stream(
    http: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[httpx.Response, list[SSE], asyncio.Task[None]]]:
    """A stream read in the background into a list, until the server ends it."""
    seen: list[SSE] = []
    async with http.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200

        async def read() -> None:
            async for ev in events_of(response):
                seen.append(ev)

        task = asyncio.create_task(read())
        try:
            yield response, seen, task
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task


async def test_dev_finishes_short_runs_hands_back_long_ones_and_ends_streams(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "graphport.db")
    port = free_port()
    args = ["--config", str(CONFIG), "--database", db, "--port", str(port)]
    env = {"GRAPHPORT_SHUTDOWN_GRACE_SECONDS": str(GRACE)}
    with graphport("dev", args, tmp_path, "first", env) as first:
        url = first.url()
        first.wait_ok(url)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            short_thread, long_thread = await new_thread(http), await new_thread(http)
            short = await create_run(http, short_thread, "slow", input=slow(4, 0.4))
            long = await create_run(http, long_thread, "slow", input=slow(20, 0.5))
            await seen_events(http, long_thread, long["run_id"], "values", count=2)
            async with (
                open_stream(http, f"/threads/{short_thread}/stream") as (_, thread_events, t1),
                open_stream(
                    http,
                    f"/threads/{long_thread}/runs/{long['run_id']}/stream",
                    {"Last-Event-ID": "-"},
                ) as (_, run_events, t2),
            ):
                deadline = time.monotonic() + 20  # the replay has reached the client
                while not any(e.id for e in run_events):
                    assert time.monotonic() < deadline, run_events
                    await asyncio.sleep(0.05)
                took = await asyncio.to_thread(terminate, first)
                # Both streams ended by themselves (no error event), not by the client.
                await asyncio.wait_for(asyncio.gather(t1, t2), 5)
        assert first.proc.returncode in CLEAN_EXIT, first.stderr
        assert took < GRACE + SLACK, f"exit took {took:.1f} s"
        assert all(e.event != "error" for e in thread_events + run_events)
        long_ids = [e.id for e in run_events if e.id]

    # The same database, a new process: the short run finished within the grace period;
    # the long one was handed back and resumes from its checkpoint.
    with graphport("dev", args, tmp_path, "second", env) as second:
        url = second.url()
        second.wait_ok(url)
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            short_run = f"/threads/{short_thread}/runs/{short['run_id']}"
            assert (await http.get(short_run)).json()["status"] == "success"
            status = await until_status(http, long_thread, long["run_id"], timeout=60)
            assert status == "success"
            values = (await http.get(f"/threads/{long_thread}/state")).json()["values"]
            # Resumed, not restarted with its input applied again: each tick once.
            assert values["log"] == [f"tick {i}" for i in range(1, 21)], values["log"]
            # The stream, resumed after the last event the first process sent, goes on.
            last = long_ids[-1]
            r = await http.get(
                f"/threads/{long_thread}/runs/{long['run_id']}/stream",
                headers={"Last-Event-ID": last},
            )
            resumed = [ev async for ev in events_of(r)] if r.status_code == 200 else []
            assert all(ev.id not in long_ids for ev in resumed if ev.id)


async def test_a_stopping_replica_hands_its_streams_to_another(tmp_path: Path) -> None:
    reason = unavailable("distributed")
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    with database_for("distributed") as db, contextlib.ExitStack() as stack:
        env = {
            "GRAPHPORT_REDIS_PREFIX": db["redis_prefix"],
            "GRAPHPORT_LEASE_SECONDS": "2",
            "GRAPHPORT_SHUTDOWN_GRACE_SECONDS": "1",
        }
        shared = ["--config", str(CONFIG), "--database-url", db["database_url"]]
        shared += ["--redis-url", db["redis_url"]]
        api_only = ["--max-concurrent-runs", "0"]
        replicas = []
        for name in ("a", "b"):
            port = ["--port", str(free_port())]
            proc = stack.enter_context(
                graphport("serve", [*shared, *port, *api_only], tmp_path, name, env)
            )
            replicas.append((proc, proc.url()))
        for proc, url in replicas:
            proc.wait_ok(url)
        (a, a_url), (_, b_url) = replicas
        workers = [
            stack.enter_context(
                graphport("worker", [*shared, "--max-concurrent-runs", "2"], tmp_path, f"w{i}", env)
            )
            for i in range(2)
        ]
        for w in workers:
            w.wait_for_output("ready")
        async with (
            httpx.AsyncClient(base_url=a_url, timeout=30) as via_a,
            httpx.AsyncClient(base_url=b_url, timeout=30) as via_b,
        ):
            thread_id = await new_thread(via_a)
            run = await create_run(
                via_a, thread_id, "slow", input=slow(16, 0.4), stream_mode=["custom"]
            )
            path = f"/threads/{thread_id}/runs/{run['run_id']}/stream"
            async with open_stream(via_a, path, {"Last-Event-ID": "-"}) as (_, first, task):
                deadline = time.monotonic() + 20
                while sum(e.event == "custom" for e in first) < 2:
                    assert time.monotonic() < deadline, first
                    await asyncio.sleep(0.05)
                # The workers stop too: a 1 s grace cannot fit 16 steps.
                took = await asyncio.gather(
                    *(asyncio.to_thread(terminate, p) for p in (a, *workers))
                )
                await asyncio.wait_for(task, 5)
            assert max(took) < 1 + SLACK, took
            assert all(p.proc.returncode in CLEAN_EXIT for p in (a, *workers))
            # Nothing was left running: the run went back to the queue, for a new worker.
            r = await via_b.get(f"/threads/{thread_id}/runs/{run['run_id']}")
            assert r.json()["status"] == "pending", r.json()
            fresh = stack.enter_context(
                graphport("worker", [*shared, "--max-concurrent-runs", "2"], tmp_path, "w9", env)
            )
            fresh.wait_for_output("ready")
            # The client resumes on the other replica from the last id it saw.
            last = [e.id for e in first if e.id][-1]
            async with via_b.stream("GET", path, headers={"Last-Event-ID": last}) as r:
                assert r.status_code == 200
                rest = [ev async for ev in events_of(r)]
            status = await until_status(via_b, thread_id, run["run_id"], timeout=60)
            assert status == "success"
    everything = first + rest
    ids = [e.id for e in everything if e.id]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    steps = [e.data["step"] for e in everything if e.event == "custom"]
    # Every step once, in order: the second attempt resumed after the checkpoint of the
    # last step the first one finished (a step cut mid-way runs again, with a new event).
    assert sorted(set(steps)) == list(range(1, 17)), steps
    assert steps == sorted(steps), steps
