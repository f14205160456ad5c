"""Two source trees side by side: is a change faster?

On a shared 2-core machine two benchmark runs one after the other differ by more than
most changes do. This starts one server from each tree (`PYTHONPATH=<tree>/src`) at the
same time and sends them blocks of sequential runs in alternation (A B, B A, ...), so
both see the same machine; per block it reads the server's CPU time per run and the
median latency, and prints the medians over the blocks.

    python bench/compare_bench.py BEFORE_TREE AFTER_TREE [--backend sqlite|postgres]
        [--database-url URL] [--blocks 12] [--runs 100] [--stateless]

A tree is a checkout of this repository (`git worktree add /tmp/before <commit>`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import accounting
import run_bench


async def _block(call: Callable[[], Awaitable[Any]], pid: int, runs: int) -> tuple[float, float]:
    """(server CPU ms per run, median ms) over `runs` sequential runs."""
    cpu0 = accounting.cpu_seconds([pid])
    latencies = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - t0)
    cpu_ms = (accounting.cpu_seconds([pid]) - cpu0) * 1000 / runs
    return cpu_ms, statistics.median(latencies) * 1000


async def _compare(
    servers: list[tuple[str, int]], blocks: int, runs: int, stateless: bool
) -> list[tuple[list[float], list[float]]]:
    results: list[tuple[list[float], list[float]]] = [([], []) for _ in servers]
    async with contextlib.AsyncExitStack() as stack:
        calls = []
        for url, _ in servers:
            http = await stack.enter_async_context(run_bench._client(url, 1))
            stateful, stateless_call = run_bench._callers(http)
            calls.append(stateless_call if stateless else stateful)
        for call in calls:  # warm-up
            for _ in range(run_bench.WARMUP):
                await call()
        for b in range(blocks):
            order = list(range(len(servers)))
            if b % 2:
                order.reverse()
            for i in order:
                cpu_ms, p50 = await _block(calls[i], servers[i][1], runs)
                results[i][0].append(cpu_ms)
                results[i][1].append(p50)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs=2, type=Path)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--blocks", type=int, default=12)
    parser.add_argument("--runs", type=int, default=100, help="sequential runs per block")
    parser.add_argument("--stateless", action="store_true", help="POST /runs/wait instead")
    args = parser.parse_args()
    url = args.database_url if args.backend == "postgres" else None
    backend = run_bench.Backend(key=args.backend, database_url=url)
    with contextlib.ExitStack() as stack:
        servers = []
        for tree in args.trees:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve() / "src")}
            before = set(accounting.children())
            server_url, _ = stack.enter_context(run_bench.server_process(backend, env))
            (pid,) = set(accounting.children()) - before
            servers.append((server_url, pid))
        results = asyncio.run(_compare(servers, args.blocks, args.runs, args.stateless))
    kind = "stateless" if args.stateless else "checkpointed"
    print(f"{kind} echo runs, {backend.title}, {args.blocks} blocks of {args.runs} per tree")
    for tree, (cpu, p50) in zip(args.trees, results, strict=True):
        print(
            f"{tree!s:<40} server CPU ms/run {statistics.median(cpu):6.2f} "
            f"(min {min(cpu):.2f})   runs.wait p50 {statistics.median(p50):6.2f} ms"
        )


if __name__ == "__main__":
    main()
