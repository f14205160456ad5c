"""Run-engine benchmark: Graphport against the same graph invoked in-process.

Starts `graphport dev` (its own process, SQLite in a temp dir) on a free port with the `echo`
graph from examples/langgraph.json and measures, over HTTP with httpx:

- sequential `runs.wait` latency (p50/p99), two ways: "thread" = `POST /threads/{new id}/
  runs/wait` with `if_not_exists=create` (checkpointed, one request per run, like the
  reference) and "stateless" = `POST /runs/wait` (temporary thread, no checkpointer,
  docs/api.md#stateless-runs);
- throughput with 10 concurrent clients (runs/s), both ways;
- stream time-to-first-event (request sent -> first SSE event read), p50/p99.

The reference is the same compiled `echo` graph run in this process with `ainvoke` and the
server's checkpointer (`AsyncSqliteSaver` on a temp file, or `AsyncPostgresSaver` with
`--database-url`), a fresh thread id per call, same concurrency, measured while the server
idles so the two never share the CPU.

`--database-url postgresql://…/db` runs the server on PostgreSQL (a fresh database, dropped
after); adding `--redis-url redis://… --workers N` runs it distributed: `graphport serve
--max-concurrent-runs 0` plus N `graphport worker` processes. Shared machines drift by tens of
percent over a minute, so reference and server alternate for `--rounds` rounds: latencies
pool every round's samples, rates are the median round. Targets: wait p50 <= 2x in-process,
throughput >= 0.7x in-process, first event < 10 ms.

    python bench/run_bench.py [--rounds 3] [--runs 200] [--concurrency 10]
                              [--throughput-runs 400] [--json]
                              [--database-url URL [--redis-url URL --workers N]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "langgraph.json"
INPUT = {"messages": [{"role": "user", "content": "ping"}]}
WARMUP = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Latency:
    samples: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return _pct(self.samples, 99)


async def _timed(n: int, call: Callable[[], Awaitable[Any]]) -> Latency:
    for _ in range(WARMUP):
        await call()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - t0) * 1000)
    return Latency(samples)


async def _throughput(total: int, concurrency: int, call: Callable[[], Awaitable[Any]]) -> float:
    """Runs per second with `concurrency` clients each calling back to back."""
    await asyncio.gather(*(call() for _ in range(concurrency)))  # warm every client path
    remaining = total

    async def client() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return total / (time.perf_counter() - t0)


# --- in-process reference -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def _saver(database_url: str | None) -> AsyncIterator[Any]:
    """The checkpointer the server uses, on its own fresh database."""
    if database_url is None:
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        with tempfile.TemporaryDirectory(prefix="graphport-bench-ref-") as tmp:
            async with AsyncSqliteSaver.from_conn_string(str(Path(tmp) / "ref.db")) as saver:
                # As the server's checkpointer connection (storage/database.py).
                await saver.conn.execute("PRAGMA journal_mode=WAL")
                await saver.conn.execute("PRAGMA synchronous=NORMAL")
                yield saver
        return
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    with fresh_postgres(database_url) as url:
        kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
        async with AsyncConnectionPool(url, max_size=20, kwargs=kwargs) as pool:
            saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
            await saver.setup()
            yield saver


async def reference(
    runs: int, concurrency: int, throughput_runs: int, database_url: str | None
) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "examples"))
    from echo import graph  # type: ignore[import-not-found]

    async with _saver(database_url) as saver:
        compiled = graph.copy(update={"checkpointer": saver})

        async def call() -> Any:
            config = {"configurable": {"thread_id": str(uuid.uuid4())}}
            result = await compiled.ainvoke(INPUT, config)
            assert result["messages"][-1].content == "ping"

        latency = await _timed(runs, call)
        rate = await _throughput(throughput_runs, concurrency, call)
    return {"wait": latency, "throughput": rate}


# --- the server -----------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """A new database beside the one `url` names, dropped afterwards."""
    import psycopg

    name = f"graphport_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _graphport(*args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "graphport.server.cli", *args, "--log-level", "warning"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def server_process(port: int, args: argparse.Namespace) -> Iterator[tuple[str, str | None]]:
    """(the server's URL, its fresh PostgreSQL database's URL or None on SQLite)."""
    with contextlib.ExitStack() as stack:
        database: str | None = None
        if args.database_url:
            database = stack.enter_context(fresh_postgres(args.database_url))
            storage = ["--database-url", database]
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="graphport-bench-"))
            storage = ["--database", str(Path(tmp) / "graphport.db")]
        if args.redis_url:
            storage += ["--redis-url", args.redis_url]
        shared = ["--config", str(CONFIG), *storage]
        local = ["--max-concurrent-runs", "0"] if args.workers else []
        procs = [_graphport("serve", *shared, "--host", "127.0.0.1", "--port", str(port), *local)]
        for proc in procs:
            stack.callback(_stop, proc)
        url = f"http://127.0.0.1:{port}"
        _wait_ok(url, procs[0])
        for _ in range(args.workers):  # after the API replica has migrated the database
            procs.append(_graphport("worker", *shared))
            stack.callback(_stop, procs[-1])
        time.sleep(3 if args.workers else 0)  # workers import the graphs and connect
        for proc in procs:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"a graphport process exited during start-up:\n{err}")
        yield url, database


def _wait_ok(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"server exited during start-up:\n{err}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("server did not start within 60 s")
        time.sleep(0.05)


async def first_event_ms(http: httpx.AsyncClient) -> float:
    t0 = time.perf_counter()
    body = {"assistant_id": "echo", "input": INPUT, "if_not_exists": "create"}
    async with http.stream("POST", f"/threads/{uuid.uuid4()}/runs/stream", json=body) as r:
        assert r.status_code == 200, r.status_code
        lines = r.aiter_lines()
        async for line in lines:
            if line.startswith("event:"):
                elapsed = (time.perf_counter() - t0) * 1000
                break
        else:
            raise AssertionError("stream ended without an event")
        async for _ in lines:  # drain: the run finishes before the next sample
            pass
    return elapsed


async def measure_server(
    url: str, runs: int, concurrency: int, throughput_runs: int
) -> dict[str, Any]:
    pool = 2 * concurrency
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        body = {"assistant_id": "echo", "input": INPUT, "if_not_exists": "create"}

        async def stateful() -> Any:
            r = await http.post(f"/threads/{uuid.uuid4()}/runs/wait", json=body)
            assert r.status_code == 200, r.text
            assert r.json()["messages"][-1]["content"] == "ping"

        async def stateless() -> Any:
            r = await http.post("/runs/wait", json={"assistant_id": "echo", "input": INPUT})
            assert r.status_code == 200, r.text
            assert r.json()["messages"][-1]["content"] == "ping"

        out: dict[str, Any] = {
            "wait": await _timed(runs, stateful),
            "stateless_wait": await _timed(runs, stateless),
            "throughput": await _throughput(throughput_runs, concurrency, stateful),
            "stateless_throughput": await _throughput(throughput_runs, concurrency, stateless),
        }
        for _ in range(WARMUP):
            await first_event_ms(http)
        out["ttfe"] = Latency([await first_event_ms(http) for _ in range(max(50, runs // 2))])
    return out


# --- report ---------------------------------------------------------------------------------


def _merge(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Latencies: every round's samples together. Rates: the median round."""
    out: dict[str, Any] = {}
    for key, first in rounds[0].items():
        values = [r[key] for r in rounds]
        if isinstance(first, Latency):
            out[key] = Latency([s for v in values for s in v.samples])
        else:
            out[key] = statistics.median(values)
    return out


def report(ref: dict[str, Any], srv: dict[str, Any], args: argparse.Namespace) -> list[dict]:
    def row(metric: str, ours: float, theirs: float | None, target: str, ok: Any) -> dict:
        ratio = ours / theirs if theirs else None
        return {
            "metric": metric,
            "graphport": ours,
            "in-process": theirs,
            "ratio": ratio,
            "target": target,
            "ok": None if ok is None else bool(ok(ratio if theirs else ours)),
        }

    def latency_ok(r: float) -> bool:
        return r <= 2.0

    def rate_ok(r: float) -> bool:
        return r >= 0.7

    n = args.concurrency
    return [
        row("wait p50, thread (ms)", srv["wait"].p50, ref["wait"].p50, "<= 2.0x", latency_ok),
        row("wait p99, thread (ms)", srv["wait"].p99, ref["wait"].p99, "-", None),
        row(
            "wait p50, stateless (ms)",
            srv["stateless_wait"].p50,
            ref["wait"].p50,
            "<= 2.0x",
            latency_ok,
        ),
        row("wait p99, stateless (ms)", srv["stateless_wait"].p99, ref["wait"].p99, "-", None),
        row(
            f"runs/s @{n} clients, thread", srv["throughput"], ref["throughput"], ">= 0.7x", rate_ok
        ),
        row(
            f"runs/s @{n} clients, stateless",
            srv["stateless_throughput"],
            ref["throughput"],
            ">= 0.7x",
            rate_ok,
        ),
        row("stream first event p50 (ms)", srv["ttfe"].p50, None, "< 10 ms", lambda v: v < 10),
        row("stream first event p99 (ms)", srv["ttfe"].p99, None, "-", None),
    ]


def _setup(args: argparse.Namespace) -> str:
    setup = "PostgreSQL" if args.database_url else "SQLite"
    if args.redis_url:
        setup += " + Redis"
    if args.workers:
        setup += f", API replica + {args.workers} worker process(es)"
    return setup


def print_table(rows: list[dict], args: argparse.Namespace) -> None:
    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    header = f"{'metric':<36} {'graphport':>10} {'in-process':>11} {'ratio':>7}  {'target':<8} ok"
    print(
        f"\nGraphport run engine vs in-process langgraph  (echo graph, {_setup(args)}, "
        f"{args.rounds} rounds of {args.runs} sequential runs after {WARMUP} warm-up and "
        f"{args.throughput_runs} runs at {args.concurrency} clients, {os.cpu_count()} CPUs)"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        ok = {True: "PASS", False: "MISS", None: ""}[r["ok"]]
        print(
            f"{r['metric']:<36} {num(r['graphport']):>10} {num(r['in-process']):>11} "
            f"{ratio:>7}  {r['target']:<8} {ok}"
        )
    print(
        "thread = POST /threads/{id}/runs/wait (checkpointed, as the reference); "
        "stateless = POST /runs/wait (no checkpointer)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="reference/server alternations")
    parser.add_argument("--runs", type=int, default=200, help="sequential samples per metric")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--throughput-runs", type=int, default=400)
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--redis-url", help="Redis URL: events and signals between processes")
    parser.add_argument(
        "--workers", type=int, default=0, help="worker processes (needs --redis-url)"
    )
    args = parser.parse_args()
    if args.workers and not args.redis_url:
        parser.error("--workers needs --redis-url")

    try:
        import uvloop

        run: Callable[[Any], Any] = uvloop.run  # the server runs on uvloop too
    except ImportError:  # pragma: no cover - uvloop is a uvicorn[standard] extra
        run = asyncio.run

    refs, srvs = [], []
    with server_process(_free_port(), args) as (url, _):
        for _ in range(args.rounds):
            ref = reference(args.runs, args.concurrency, args.throughput_runs, args.database_url)
            refs.append(run(ref))
            srvs.append(
                run(measure_server(url, args.runs, args.concurrency, args.throughput_runs))
            )
    rows = report(_merge(refs), _merge(srvs), args)
    print_table(rows, args)
    if args.json:
        print(json.dumps(rows, indent=2))
    missed = [r["metric"] for r in rows if r["ok"] is False]
    if missed:
        print(f"\nMissed: {', '.join(missed)}")


if __name__ == "__main__":
    main()
