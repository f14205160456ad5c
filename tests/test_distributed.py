"""`graphport serve` + `graphport worker` as separate processes on PostgreSQL and Redis:
the API replica executes nothing (`--max-concurrent-runs 0`), workers share its queue,
events cross processes (live and replayed), cancels reach the worker that runs the run, and
a worker that dies has its run retried by another."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import CONFIG, REQUIRE_PG, database_for, free_port, unavailable
from processes import Graphport, graphport
from run_helpers import create_run, events_of, new_thread, seen_events, slow, until_status

LEASE_SECONDS = "2"
_RAN = re.compile(r"run ([0-9a-f-]{36}) (\w+) in")


@dataclass
class Cluster:
    url: str
    api: Graphport
    workers: list[Graphport]
    worker_args: list[str]
    env: dict[str, str]

    def ran(self, worker: Graphport) -> dict[str, str]:
        """Run id -> final status, for each run this worker executed (its log lines)."""
        return dict(_RAN.findall(worker.stderr))


@contextlib.contextmanager
def cluster(
    tmp: Path, workers: int, concurrency: int = 2, lease: str = LEASE_SECONDS
) -> Iterator[Cluster]:
    reason = unavailable("distributed")
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    with database_for("distributed") as db, contextlib.ExitStack() as stack:
        env = {
            "GRAPHPORT_REDIS_PREFIX": db["redis_prefix"],
            "GRAPHPORT_LEASE_SECONDS": lease,
        }
        shared = ["--config", str(CONFIG), "--database-url", db["database_url"]]
        shared += ["--redis-url", db["redis_url"]]
        port = free_port()
        api = stack.enter_context(
            graphport(
                "serve",
                [*shared, "--port", str(port), "--max-concurrent-runs", "0"],
                tmp,
                "api",
                env,
            )
        )
        url = api.url()
        api.wait_ok(url)  # migrated and serving before the workers start
        worker_args = [*shared, "--max-concurrent-runs", str(concurrency)]
        procs = [
            stack.enter_context(graphport("worker", worker_args, tmp, f"worker{i}", env))
            for i in range(workers)
        ]
        for p in procs:
            p.wait_for_output("ready")
        yield Cluster(url, api, procs, worker_args, env)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("cluster"), workers=2) as c:
        yield c


@contextlib.asynccontextmanager
async def api(c: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=c.url, timeout=30) as http:
        yield http


async def test_the_api_replica_leaves_runs_to_the_workers(two_workers: Cluster) -> None:
    async with api(two_workers) as http:

        async def one() -> str:
            tid = str(uuid.uuid4())
            body = {"assistant_id": "slow", "input": slow(2, 0.2), "if_not_exists": "create"}
            r = await http.post(f"/threads/{tid}/runs/wait", json=body)
            assert r.status_code == 200, r.text
            assert r.json()["step"] == 2
            runs = (await http.get(f"/threads/{tid}/runs")).json()
            assert [run["status"] for run in runs] == ["success"]
            return str(runs[0]["run_id"])

        run_ids = set(await asyncio.gather(*(one() for _ in range(6))))
    # Two runs at a time per worker: six concurrent runs need both, each run exactly once.
    ran = [two_workers.ran(w) for w in two_workers.workers]
    assert all(ran), ran
    assert set(ran[0]) | set(ran[1]) == run_ids
    assert not set(ran[0]) & set(ran[1])
    assert set(ran[0].values()) | set(ran[1].values()) == {"success"}


async def test_a_stream_cut_mid_run_resumes_across_processes(two_workers: Cluster) -> None:
    async with api(two_workers) as http:
        tid = await new_thread(http)
        body = {"assistant_id": "slow", "input": slow(6, 0.15), "stream_mode": ["custom"]}
        first: list[Any] = []
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
            assert r.status_code == 200
            location = r.headers["location"]
            async for ev in events_of(r):
                first.append(ev)
                if sum(e.event == "custom" for e in first) == 2:
                    break
        rest: list[Any] = []
        headers = {"Last-Event-ID": first[-1].id}
        async with http.stream("GET", location, headers=headers) as r:
            assert r.status_code == 200
            rest = [ev async for ev in events_of(r)]
    everything = first + rest
    ids = [ev.id for ev in everything]
    assert len(ids) == len(set(ids))
    keys = [tuple(int(part) for part in i.split("-")) for i in ids]
    assert keys == sorted(keys)
    steps = [ev.data["step"] for ev in everything if ev.event == "custom"]
    assert steps == [1, 2, 3, 4, 5, 6]


async def test_a_stream_silent_longer_than_a_redis_read_keeps_going(two_workers: Cluster) -> None:
    """A node that says nothing for 6 s: the replica's blocking reads of the run's stream
    time out and ask again (5 s each) without cutting the client off."""
    async with api(two_workers) as http:
        tid = await new_thread(http)
        body = {"assistant_id": "slow", "input": slow(1, 6.0), "stream_mode": ["custom", "values"]}
        async with http.stream("POST", f"/threads/{tid}/runs/stream", json=body) as r:
            assert r.status_code == 200
            events = [ev async for ev in events_of(r)]
    assert [ev.event for ev in events if ev.event != "values"] == ["metadata", "custom"]
    assert events[-1].event == "values" and events[-1].data["step"] == 1


async def test_cancel_with_wait_stops_the_run_in_its_worker(two_workers: Cluster) -> None:
    async with api(two_workers) as http:
        tid = await new_thread(http)
        run = await create_run(http, tid, "slow", input=slow(20, 0.3), stream_mode=["custom"])
        await seen_events(http, tid, run["run_id"], "custom")
        t0 = time.monotonic()
        r = await http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"wait": 1})
        assert r.status_code in (200, 202, 204), r.text
        elapsed = time.monotonic() - t0
        status = (await http.get(f"/threads/{tid}/runs/{run['run_id']}")).json()["status"]
        assert status == "interrupted"
        assert elapsed < 5, elapsed
        assert (await http.get(f"/threads/{tid}")).json()["status"] == "interrupted"
    executed = {k: v for w in two_workers.workers for k, v in two_workers.ran(w).items()}
    assert executed[run["run_id"]] == "interrupted"


async def test_a_run_whose_worker_died_is_retried_by_another(tmp_path: Path) -> None:
    with cluster(tmp_path, workers=1) as c:
        async with api(c) as http:
            tid = await new_thread(http)
            run = await create_run(
                http, tid, "slow", input=slow(8, 0.25), stream_mode=["custom"]
            )
            await seen_events(http, tid, run["run_id"], "custom")
            c.workers[0].kill()
            with graphport("worker", c.worker_args, tmp_path, "rescuer", c.env) as rescuer:
                rescuer.wait_for_output("ready")
                assert await until_status(http, tid, run["run_id"], timeout=30) == "success"
                assert c.ran(rescuer) == {run["run_id"]: "success"}
            # The stream kept every event of both attempts, the first one's cut short.
            url = f"/threads/{tid}/runs/{run['run_id']}/stream"
            async with http.stream("GET", url, headers={"Last-Event-ID": "-"}) as r:
                events = [ev async for ev in events_of(r)]
        assert [ev.data["attempt"] for ev in events if ev.event == "metadata"] == [1, 2]
        assert [ev.data["step"] for ev in events if ev.event == "custom"][-1] == 8


async def test_a_cancel_no_worker_heard_still_stops_the_run(tmp_path: Path) -> None:
    """Its worker died, and no other was running when the cancel was sent, so nobody got
    the signal. The run's lease lapses and a worker started later takes it up: it finds the
    cancel with its first lease renewal instead of running the run again to its end."""
    with cluster(tmp_path, workers=1, lease="3") as c:
        async with api(c) as http:
            tid = await new_thread(http)
            run = await create_run(http, tid, "slow", input=slow(20, 0.6), stream_mode=["custom"])
            await seen_events(http, tid, run["run_id"], "custom")
            c.workers[0].kill()
            r = await http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel")
            assert r.status_code in (200, 202, 204), r.text
            with graphport("worker", c.worker_args, tmp_path, "rescuer", c.env) as rescuer:
                rescuer.wait_for_output("ready")
                # Swept back to the queue within two leases (6 s), renewed after 1 s; run
                # again in full it would take 12 s.
                assert await until_status(http, tid, run["run_id"], timeout=11) == "interrupted"
                assert c.ran(rescuer) == {run["run_id"]: "interrupted"}


async def test_a_run_whose_workers_keep_dying_ends_in_error_and_frees_its_waiters(
    tmp_path: Path,
) -> None:
    """Three attempts, three dead workers: the sweep gives the run up as `error` and ends
    its event stream, so a client joined since the start gets its answer."""
    with cluster(tmp_path, workers=1) as c:
        async with api(c) as http:
            tid = await new_thread(http)
            run = await create_run(http, tid, "slow", input=slow(20, 0.5), stream_mode=["custom"])
            rid = run["run_id"]
            joined = asyncio.create_task(http.get(f"/threads/{tid}/runs/{rid}/join", timeout=90))
            doomed = c.workers[0]
            for attempt in (1, 2, 3):
                await seen_events(http, tid, rid, "metadata", count=attempt, timeout=30)
                doomed.kill()
                if attempt < 3:
                    doomed = Graphport("worker", c.worker_args, tmp_path, f"doomed{attempt}", c.env)
                    doomed.wait_for_output("ready")
            assert await until_status(http, tid, rid, timeout=30) == "error"
            r = await asyncio.wait_for(joined, 30)
            assert r.status_code == 200
            assert (await http.get(f"/threads/{tid}")).json()["status"] == "error"


@pytest.mark.parametrize("transport", ["sse", "websocket"])
async def test_a_thread_stream_session_spans_processes(
    two_workers: Cluster, transport: str
) -> None:
    """The official client's thread streaming session on the API replica, while a worker
    process executes the run: events cross processes through Redis
    (docs/api.md#thread-event-streaming)."""
    from langgraph_sdk import get_client

    client = get_client(url=two_workers.url, api_key=None)
    try:
        async with asyncio.timeout(60):
            async with client.threads.stream(assistant_id="agent", transport=transport) as t:
                await t.run.start(input={"messages": [{"role": "user", "content": "hi all"}]})
                streams: list[Any] = []
                async for channel, item in t.interleave_projections(["messages", "values"]):
                    if channel == "messages":
                        streams.append(item)
                texts = [await message.text for message in streams]
                output = await t.output
    finally:
        await client.aclose()
    assert texts == ["You said: hi all"]
    assert [m["type"] for m in output["messages"]] == ["human", "ai"]
    executed = {k for w in two_workers.workers for k in two_workers.ran(w)}
    runs = (await client_runs(two_workers.url, t.thread_id))
    assert runs and all(r["run_id"] in executed for r in runs)  # run by a worker process


async def client_runs(url: str, thread_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return list((await http.get(f"/threads/{thread_id}/runs")).json())
