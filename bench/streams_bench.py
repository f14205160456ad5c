"""Streams and memory: how many SSE streams one process holds, what each costs, and
whether memory stays flat over many runs.

Against one `graphport dev` (SQLite in a temp dir, or `--database-url`) with
bench/langgraph.json:

1. `--runs-live` runs of the `sleeper` graph are started (long enough to outlive the test)
   and `--streams` SSE streams are opened on them at once, half joining a run
   (`GET /threads/{id}/runs/{run_id}/stream`), half following its thread
   (`GET /threads/{id}/stream`). Reported: streams open without error, and the server's
   RSS per stream (RSS with every stream open minus RSS before, over the count).
2. `--runs` checkpointed `echo` runs (`POST /threads/{new id}/runs/wait`) at 10 clients;
   RSS is sampled after the first 10% (warm-up) and at the end. Reported: the growth past
   warm-up.
3. `--soak-seconds` of the same load (10 clients back to back: the 10-client rate), RSS
   sampled every `--sample-seconds`; the first `--soak-warmup` seconds are warm-up.
   Reported: RSS at the end of warm-up, at the end and at most afterwards, and the growth.

Each part is skipped when its count is 0.

    python bench/streams_bench.py [--streams 2000] [--runs 10000] [--soak-seconds 0]
                                  [--soak-warmup 60] [--sample-seconds 10]
                                  [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from burst_bench import dev_server

ECHO = {"assistant_id": "echo", "input": {"messages": [{"role": "user", "content": "x"}]},
        "if_not_exists": "create"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def open_streams(url: str, pid: int, streams: int, live: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=streams + 50, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        runs = []
        for _ in range(live):
            thread_id = (await http.post("/threads", json={})).json()["thread_id"]
            body = {"assistant_id": "sleeper", "input": {"seconds": 600, "ticks": 600}}
            r = await http.post(f"/threads/{thread_id}/runs", json=body)
            runs.append((thread_id, r.json()["run_id"]))
        await asyncio.sleep(2)  # every run has started and streamed a first event
        before = rss_mb(pid)
        opened, failed = 0, 0
        ready = asyncio.Event()
        release = asyncio.Event()

        async def hold(i: int) -> None:
            nonlocal opened, failed
            thread_id, run_id = runs[i % live]
            path = (f"/threads/{thread_id}/runs/{run_id}/stream" if i % 2 == 0
                    else f"/threads/{thread_id}/stream")
            try:
                async with http.stream("GET", path) as r:
                    if r.status_code != 200:
                        failed += 1
                        return
                    async for line in r.aiter_lines():
                        if line.startswith("event:"):  # the stream is live
                            break
                    opened += 1
                    if opened + failed == streams:
                        ready.set()
                    await release.wait()
            except httpx.HTTPError:
                failed += 1
            if opened + failed == streams:
                ready.set()

        t0 = time.perf_counter()
        tasks = [asyncio.create_task(hold(i)) for i in range(streams)]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(180):
                await ready.wait()
        open_s = time.perf_counter() - t0
        await asyncio.sleep(2)
        during = rss_mb(pid)
        release.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for thread_id, run_id in runs:
            await http.post(f"/threads/{thread_id}/runs/{run_id}/cancel")
    return {"opened": opened, "failed": failed, "open_s": open_s, "rss_before_mb": before,
            "rss_streams_mb": during, "kb_per_stream": (during - before) * 1024 / max(opened, 1)}


async def _load(
    url: str, until: Callable[[int], bool], on_run: Callable[[int], None]
) -> tuple[int, float]:
    """10 clients running echo runs back to back while `until(runs started)` is false;
    `on_run(runs done)` after each run. Returns (runs done, wall seconds)."""
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    started = done = 0
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:

        async def client() -> None:
            nonlocal started, done
            while not until(started):
                started += 1
                r = await http.post(f"/threads/{uuid.uuid4()}/runs/wait", json=ECHO)
                assert r.status_code == 200, r.text
                done += 1
                on_run(done)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(10)))
        return done, time.perf_counter() - t0


async def sustained(url: str, pid: int, runs: int) -> dict[str, float]:
    warm: float | None = None

    def on_run(done: int) -> None:
        nonlocal warm
        if warm is None and done >= runs // 10:
            warm = rss_mb(pid)

    done, wall = await _load(url, lambda done: done >= runs, on_run)
    end = rss_mb(pid)
    assert warm is not None
    return {"runs": done, "rss_warm_mb": warm, "rss_end_mb": end,
            "growth_pct": (end - warm) / warm * 100, "runs_per_s": done / wall}


async def soak(
    url: str, pid: int, seconds: float, warmup: float, every: float
) -> dict[str, Any]:
    t0 = time.monotonic()
    samples: list[tuple[float, float]] = []  # (seconds since start, RSS MB)

    async def sample() -> None:
        while True:
            await asyncio.sleep(every)
            samples.append((time.monotonic() - t0, rss_mb(pid)))

    sampler = asyncio.create_task(sample())
    try:
        done, wall = await _load(url, lambda _: time.monotonic() - t0 >= seconds, lambda _: None)
    finally:
        sampler.cancel()
    end = rss_mb(pid)
    after = [rss for t, rss in samples if t >= warmup] or [end]
    warm = after[0]
    return {"runs": done, "runs_per_s": done / wall, "seconds": wall, "samples": samples,
            "rss_warm_mb": warm, "rss_end_mb": end, "rss_max_mb": max(*after, end),
            "growth_pct": (end - warm) / warm * 100,
            "max_growth_pct": (max(*after, end) - warm) / warm * 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--runs-live", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--soak-seconds", type=float, default=0)
    parser.add_argument("--soak-warmup", type=float, default=60)
    parser.add_argument("--sample-seconds", type=float, default=10)
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    log = Path(f"/tmp/graphport-streams-{uuid.uuid4().hex[:8]}.log")
    with dev_server(args.database_url, log) as (url, proc):
        if args.streams:
            s = asyncio.run(open_streams(url, proc.pid, args.streams, args.runs_live))
            print(f"{backend}: {s['opened']} of {args.streams} SSE streams open "
                  f"({s['failed']} failed) in {s['open_s']:.1f} s on {args.runs_live} running "
                  f"runs; RSS {s['rss_before_mb']:.0f} -> {s['rss_streams_mb']:.0f} MB, "
                  f"{s['kb_per_stream']:.1f} KB per stream", flush=True)
        if args.runs:
            m = asyncio.run(sustained(url, proc.pid, args.runs))
            print(f"{backend}: {m['runs']} echo runs at 10 clients ({m['runs_per_s']:.0f} "
                  f"runs/s): RSS after warm-up {m['rss_warm_mb']:.0f} MB, at the end "
                  f"{m['rss_end_mb']:.0f} MB ({m['growth_pct']:+.1f}%)", flush=True)
        if args.soak_seconds:
            k = asyncio.run(
                soak(url, proc.pid, args.soak_seconds, args.soak_warmup, args.sample_seconds)
            )
            trace = " ".join(f"{rss:.0f}" for _, rss in k["samples"])
            print(f"{backend}: {k['seconds']:.0f} s of echo runs at 10 clients, {k['runs']} "
                  f"runs ({k['runs_per_s']:.0f} runs/s): RSS after {args.soak_warmup:.0f} s "
                  f"warm-up {k['rss_warm_mb']:.0f} MB, at the end {k['rss_end_mb']:.0f} MB "
                  f"({k['growth_pct']:+.1f}%), at most {k['rss_max_mb']:.0f} MB "
                  f"({k['max_growth_pct']:+.1f}%); every {args.sample_seconds:.0f} s (MB): "
                  f"{trace}")
    log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
