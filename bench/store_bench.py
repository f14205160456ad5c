"""Store throughput: put / get / search with 10 concurrent clients against a real server.

    python bench/store_bench.py [--ops 200] [--clients 10] [--database-url postgresql://…]

Starts `graphport dev` on a free 127.0.0.1 port (a throw-away SQLite database unless
--database-url is given), runs each phase with every client doing `--ops` requests, prints
throughput and latency percentiles, and stops the server. Everything is bounded in time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "langgraph.json"
START_TIMEOUT = 60.0
PHASE_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(database_url: str | None) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "graphport.server.cli", "dev", "--config", str(CONFIG)]
    cmd += ["--port", str(port), "--log-level", "warning"]
    cmd += ["--database-url", database_url] if database_url else ["--database", ":memory:"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise SystemExit("server exited during start-up")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("server did not start in time")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


Op = Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]


def put(c: httpx.AsyncClient, client: int, i: int) -> Awaitable[httpx.Response]:
    value = {"text": f"note {i} of client {client}", "n": i, "even": i % 2 == 0}
    body = {"namespace": ["bench", f"c{client}"], "key": f"k{i}", "value": value}
    return c.put("/store/items", json=body)


def get(c: httpx.AsyncClient, client: int, i: int) -> Awaitable[httpx.Response]:
    return c.get("/store/items", params={"namespace": f"bench.c{client}", "key": f"k{i}"})


def search(c: httpx.AsyncClient, client: int, i: int) -> Awaitable[httpx.Response]:
    body = {"namespace_prefix": ["bench", f"c{client}"], "filter": {"even": True}, "limit": 10}
    return c.post("/store/items/search", json=body)


async def phase(url: str, op: Op, clients: int, ops: int) -> tuple[float, list[float]]:
    """(seconds, per-request latencies) for `clients` clients doing `ops` requests each."""
    latencies: list[float] = []

    async def one(client: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            for i in range(ops):
                t0 = time.perf_counter()
                r = await op(c, client, i)
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 400:
                    raise SystemExit(f"{op.__name__}: HTTP {r.status_code} {r.text}")

    start = time.perf_counter()
    async with asyncio.timeout(PHASE_TIMEOUT):
        await asyncio.gather(*(one(n) for n in range(clients)))
    return time.perf_counter() - start, latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=200, help="requests per client per phase")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with server(args.database_url) as url:
        backend = "postgres" if args.database_url else "sqlite"
        print(f"store bench: {backend}, {args.clients} clients x {args.ops} requests per phase")
        print(f"{'op':<8}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
        for op in (put, get, search):
            seconds, lat = await phase(url, op, args.clients, args.ops)
            rate = len(lat) / seconds
            print(
                f"{op.__name__:<8}{rate:>10.0f}{pct(lat, 50):>10.1f}"
                f"{pct(lat, 95):>10.1f}{pct(lat, 99):>10.1f}"
            )


if __name__ == "__main__":
    asyncio.run(main())
