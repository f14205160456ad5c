"""Faults of the services Graphport depends on, with real processes: `graphport serve` and
two `graphport worker`s on PostgreSQL and a private `redis-server` this test starts on a
free port and may kill. Whatever happens, every run ends in a status that matches its
effects (each successful run's entry is in its thread exactly once, no failed run's is),
no thread stays busy, no request answers 5xx except a documented 503, and new runs work
within seconds of recovery (docs/run-lifecycle.md, docs/api.md#errors)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from conftest import CONFIG, REQUIRE_PG, database_for, free_port, unavailable
from processes import graphport
from run_helpers import poll

RUNS = 10
WORK = {"steps": 10, "delay": 0.3}  # about 3 s per run: faults land mid-run
TERMINAL = {"success", "error", "timeout", "interrupted"}


class PrivateRedis:
    """A redis-server of this test's own, on a free loopback port, that it may kill."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        assert exe, "redis-server is not installed"
        args = [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@dataclass
class Cluster:
    url: str
    database_url: str
    redis: PrivateRedis
    answers: list[int] = field(default_factory=list)


@contextlib.contextmanager
def cluster(tmp: Path) -> Iterator[Cluster]:
    reason = unavailable("postgres")
    if reason or not shutil.which("redis-server"):
        reason = reason or "redis-server is not installed"
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    redis = PrivateRedis(tmp)
    redis.start()
    try:
        with database_for("postgres") as db, contextlib.ExitStack() as stack:
            env = {"GRAPHPORT_LEASE_SECONDS": "2"}
            shared = ["--config", str(CONFIG), "--database-url", db["database_url"]]
            shared += ["--redis-url", redis.url]
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
            api.wait_ok(url)
            for i in range(2):
                worker = stack.enter_context(
                    graphport(
                        "worker", [*shared, "--max-concurrent-runs", "5"], tmp, f"w{i}", env
                    )
                )
                worker.wait_for_output("ready")
            yield Cluster(url, db["database_url"], redis)
    finally:
        redis.kill()


async def request(c: Cluster, http: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Any:
    """A request whose status is recorded; during an outage a refused connection to the
    API itself is not expected either (the API process stays up)."""
    r = await http.request(method, path, **kw)
    c.answers.append(r.status_code)
    return r


async def start_runs(c: Cluster, http: httpx.AsyncClient, tag: str) -> dict[str, str]:
    """One ledger run per new thread; thread id -> the run's entry."""
    entries = {}
    for i in range(RUNS):
        thread = (await request(c, http, "POST", "/threads", json={})).json()["thread_id"]
        entry = f"{tag}-{i}"
        body = {"assistant_id": "ledger", "input": {"entries": [entry], **WORK}}
        r = await request(c, http, "POST", f"/threads/{thread}/runs", json=body)
        assert r.status_code == 200, r.text
        entries[thread] = entry
    return entries


async def runs_of(http: httpx.AsyncClient, thread: str) -> list[dict[str, Any]]:
    r = await http.get(f"/threads/{thread}/runs")
    return r.json() if r.status_code == 200 else []


async def settle(c: Cluster, http: httpx.AsyncClient, threads: list[str]) -> float:
    """Wait (bounded) until no run of these threads is in flight; returns the seconds."""
    began = time.monotonic()

    async def in_flight() -> int:
        count = 0
        for thread in threads:
            count += sum(r["status"] not in TERMINAL for r in await runs_of(http, thread))
        return count

    await poll(in_flight, lambda n: n == 0, timeout=120, interval=0.5)
    return time.monotonic() - began


async def check_truth(c: Cluster, http: httpx.AsyncClient, entries: dict[str, list[str]]) -> None:
    """Every run's status matches its thread's state; nothing stays busy."""
    for thread, expected in entries.items():
        runs = await runs_of(http, thread)
        thread_row = (await http.get(f"/threads/{thread}")).json()
        state = (await http.get(f"/threads/{thread}/state")).json()
        got = state["values"].get("entries", [])
        succeeded = {r["run_id"] for r in runs if r["status"] == "success"}
        assert len(succeeded) == len(runs), f"thread {thread}: runs {runs}"
        assert sorted(got) == sorted(expected), f"thread {thread}: {got} != {expected}"
        assert thread_row["status"] == "idle", thread_row


async def fresh_run_works(c: Cluster, http: httpx.AsyncClient) -> float:
    """Seconds until a new run succeeds end to end (bounded)."""
    began = time.monotonic()
    thread = (await http.post("/threads", json={})).json()["thread_id"]
    body = {"assistant_id": "ledger", "input": {"entries": ["after"], "steps": 1, "delay": 0}}
    r = await http.post(f"/threads/{thread}/runs/wait", json=body, timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["entries"] == ["after"]
    return time.monotonic() - began


def no_unexpected_5xx(c: Cluster) -> None:
    bad = [s for s in c.answers if s >= 500 and s != 503]
    assert not bad, f"unexpected answers: {bad}"


async def test_redis_killed_and_restarted_mid_load(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        async with httpx.AsyncClient(base_url=c.url, timeout=60) as http:
            entries = await start_runs(c, http, "before")
            await asyncio.sleep(1.0)  # mid-run
            c.redis.kill()
            outage_began = time.monotonic()
            # Work asked for during the outage: committed work is answered normally.
            during = await start_runs(c, http, "during")
            await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - outage_began)))
            c.redis.start()
            # Right after recovery, concurrent requests on stale pooled connections.
            thread = next(iter(during))
            extra = [
                request(
                    c,
                    http,
                    "POST",
                    f"/threads/{thread}/runs",
                    json={"assistant_id": "ledger", "input": {"entries": [f"x-{i}"], "steps": 1}},
                )
                for i in range(5)
            ]
            extra_answers = await asyncio.gather(*extra)
            assert [r.status_code for r in extra_answers] == [200] * 5
            all_entries = {t: [e] for t, e in entries.items()}
            for t, e in during.items():
                all_entries[t] = [e]
            all_entries[thread] += [f"x-{i}" for i in range(5)]
            took = await settle(c, http, list(all_entries))
            await check_truth(c, http, all_entries)
            recovery = await fresh_run_works(c, http)
            no_unexpected_5xx(c)
            print(
                f"\nredis restart: {3 * RUNS + 5} runs in flight or queued, all success;"
                f" settled {took:.1f} s after recovery; a new run took {recovery:.2f} s"
            )


def terminate_backends(database_url: str) -> int:
    """`pg_terminate_backend` on every other connection to the test database."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


async def test_postgres_connections_terminated_mid_load(tmp_path: Path) -> None:
    with cluster(tmp_path) as c:
        async with httpx.AsyncClient(base_url=c.url, timeout=60) as http:
            entries = await start_runs(c, http, "before")
            killed = 0
            for _ in range(3):
                await asyncio.sleep(0.8)
                killed += terminate_backends(c.database_url)
                # Reads right after: answered, or a 503 the client may retry; never a 500.
                for thread in list(entries)[:3]:
                    await request(c, http, "GET", f"/threads/{thread}/state")
                    await request(c, http, "GET", f"/threads/{thread}/runs")
            took = await settle(c, http, list(entries))
            await check_truth(c, http, {t: [e] for t, e in entries.items()})
            recovery = await fresh_run_works(c, http)
            no_unexpected_5xx(c)
            print(
                f"\npostgres: {killed} connections terminated in 3 rounds, {RUNS} runs all"
                f" success, settled in {took:.1f} s; a new run took {recovery:.2f} s"
            )
