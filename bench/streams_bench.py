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

    python bench/streams_bench.py [--streams 2000] [--runs 10000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import uuid
from pathlib import Path

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


async def sustained(url: str, pid: int, runs: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        done = 0
        warm: float | None = None

        async def client() -> None:
            nonlocal done, warm
            while done < runs:
                done += 1
                r = await http.post(f"/threads/{uuid.uuid4()}/runs/wait", json=ECHO)
                assert r.status_code == 200, r.text
                if warm is None and done >= runs // 10:
                    warm = rss_mb(pid)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(10)))
        wall = time.perf_counter() - t0
    end = rss_mb(pid)
    assert warm is not None
    return {"runs": runs, "rss_warm_mb": warm, "rss_end_mb": end,
            "growth_pct": (end - warm) / warm * 100, "runs_per_s": runs / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--runs-live", type=int, default=100)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    log = Path(f"/tmp/graphport-streams-{uuid.uuid4().hex[:8]}.log")
    with dev_server(args.database_url, log) as (url, proc):
        s = asyncio.run(open_streams(url, proc.pid, args.streams, args.runs_live))
        print(f"{backend}: {s['opened']} of {args.streams} SSE streams open "
              f"({s['failed']} failed) in {s['open_s']:.1f} s on {args.runs_live} running runs; "
              f"RSS {s['rss_before_mb']:.0f} -> {s['rss_streams_mb']:.0f} MB, "
              f"{s['kb_per_stream']:.1f} KB per stream", flush=True)
        m = asyncio.run(sustained(url, proc.pid, args.runs))
        print(f"{backend}: {m['runs']} echo runs at 10 clients ({m['runs_per_s']:.0f} runs/s): "
              f"RSS after warm-up {m['rss_warm_mb']:.0f} MB, at the end {m['rss_end_mb']:.0f} MB "
              f"({m['growth_pct']:+.1f}%)")
    log.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
