"""Run-engine benchmark: Graphport against the same graph invoked in-process, and what one
run costs, on each backend in one invocation.

Backends (`--backend`, repeatable; default: each one whose URLs are given):

- `sqlite`: `graphport serve` on SQLite in a temp dir;
- `postgres`: the same on a fresh PostgreSQL database beside `--database-url` (dropped
  after);
- `redis`: PostgreSQL plus `--redis-url`, the API replica serving only
  (`--max-concurrent-runs 0`) and `--workers` (default 1) `graphport worker` processes.

For each, with the `echo` graph from examples/langgraph.json:

1. The per-run account (bench/accounting.py): a server started with the counting hook runs
   `--account-runs` checkpointed runs one after another after a warm-up, and the counters'
   differences are divided by the count: SQL statements and round trips, ours and the
   checkpointer's apart; thread hops; Redis commands and round trips; bytes written
   (PostgreSQL: WAL; SQLite: pages dirtied by the process); PostgreSQL transactions and
   rows. Counts do not depend on the machine's speed.
2. Ratios, on a server without the hook, over HTTP with httpx: sequential `runs.wait`
   latency (p50/p99) two ways: "thread" = `POST /threads/{new id}/runs/wait` with
   `if_not_exists=create` (checkpointed, one request per run, like the reference) and
   "stateless" = `POST /runs/wait` (temporary thread, no checkpointer,
   docs/api.md#stateless-runs); throughput with `--concurrency` clients (runs/s), both
   ways; stream time-to-first-event; and the server's CPU ms per sequential run (/proc,
   every Graphport process).

The reference is the same compiled `echo` graph run in this process with `ainvoke` and the
server's checkpointer (`AsyncSqliteSaver` on a temp file, or `AsyncPostgresSaver` on a
fresh database), a fresh thread id per call, same concurrency, measured while the server
idles so the two never share the CPU. Shared machines drift by tens of percent over a
minute, so reference and server alternate for `--rounds` rounds: latencies pool every
round's samples, rates are the median round. Targets (issue 16): wait p50 <= 1.5x
in-process and throughput >= 0.7x on one process (SQLite, PostgreSQL); <= 2.5x and >= 0.6x
for PostgreSQL + Redis, API + 1 worker; first event < 10 ms.

    python bench/run_bench.py [--backend sqlite|postgres|redis ...]
                              [--database-url URL] [--redis-url URL] [--workers 1]
                              [--rounds 3] [--runs 200] [--concurrency 10]
                              [--throughput-runs 400] [--account-runs 200]
                              [--account-only] [--json]
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

import accounting
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


@dataclass(frozen=True)
class Backend:
    key: str  # sqlite | postgres | redis
    database_url: str | None = None
    redis_url: str | None = None
    workers: int = 0

    @property
    def title(self) -> str:
        if self.key == "sqlite":
            return "SQLite, one process"
        if self.key == "postgres":
            return "PostgreSQL, one process"
        return f"PostgreSQL + Redis, API + {self.workers} worker(s)"

    @property
    def targets(self) -> tuple[float, float]:
        """(most wait p50 / in-process, least runs/s / in-process), from issue 16."""
        return (2.5, 0.6) if self.key == "redis" else (1.5, 0.7)


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


def _graphport(env: dict[str, str] | None, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "graphport.server.cli", *args, "--log-level", "warning"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextlib.contextmanager
def server_process(
    backend: Backend, env: dict[str, str] | None = None
) -> Iterator[tuple[str, str | None]]:
    """(the server's URL, its fresh PostgreSQL database's URL or None on SQLite); `env`
    for every Graphport process (default: this one's)."""
    with contextlib.ExitStack() as stack:
        database: str | None = None
        if backend.database_url:
            database = stack.enter_context(fresh_postgres(backend.database_url))
            storage = ["--database-url", database]
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="graphport-bench-"))
            storage = ["--database", str(Path(tmp) / "graphport.db")]
        if backend.redis_url:
            # A prefix of its own: the Redis may be shared.
            prefix = f"graphport-bench-{uuid.uuid4().hex[:8]}"
            storage += ["--redis-url", backend.redis_url, "--redis-prefix", prefix]
        shared = ["--config", str(CONFIG), *storage]
        local = ["--max-concurrent-runs", "0"] if backend.workers else []
        port = str(_free_port())
        procs = [_graphport(env, "serve", *shared, "--host", "127.0.0.1", "--port", port, *local)]
        for proc in procs:
            stack.callback(_stop, proc)
        url = f"http://127.0.0.1:{port}"
        _wait_ok(url, procs[0])
        for _ in range(backend.workers):  # after the API replica has migrated the database
            procs.append(_graphport(env, "worker", *shared))
            stack.callback(_stop, procs[-1])
        time.sleep(3 if backend.workers else 0)  # workers import the graphs and connect
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


def _client(url: str, concurrency: int) -> httpx.AsyncClient:
    pool = 2 * concurrency
    limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
    return httpx.AsyncClient(base_url=url, timeout=60, limits=limits)


def _callers(http: httpx.AsyncClient) -> tuple[Callable[[], Awaitable[Any]], ...]:
    """(a checkpointed run on a new thread, a stateless run), each waited for."""
    body = {"assistant_id": "echo", "input": INPUT, "if_not_exists": "create"}

    async def stateful() -> Any:
        r = await http.post(f"/threads/{uuid.uuid4()}/runs/wait", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["messages"][-1]["content"] == "ping"

    async def stateless() -> Any:
        r = await http.post("/runs/wait", json={"assistant_id": "echo", "input": INPUT})
        assert r.status_code == 200, r.text
        assert r.json()["messages"][-1]["content"] == "ping"

    return stateful, stateless


async def _cpu_ms(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[Latency, float]:
    """Sequential latency, and the server's CPU ms per run over the same calls."""
    pids = accounting.children()
    cpu0 = accounting.cpu_seconds(pids)
    latency = await _timed(runs, call)
    return latency, (accounting.cpu_seconds(pids) - cpu0) * 1000 / (WARMUP + runs)


async def measure_server(
    url: str, runs: int, concurrency: int, throughput_runs: int
) -> dict[str, Any]:
    async with _client(url, concurrency) as http:
        stateful, stateless = _callers(http)
        wait, cpu = await _cpu_ms(runs, stateful)
        stateless_wait, stateless_cpu = await _cpu_ms(runs, stateless)
        out: dict[str, Any] = {
            "wait": wait,
            "stateless_wait": stateless_wait,
            "cpu_ms": cpu,
            "stateless_cpu_ms": stateless_cpu,
            "throughput": await _throughput(throughput_runs, concurrency, stateful),
            "stateless_throughput": await _throughput(throughput_runs, concurrency, stateless),
        }
        for _ in range(WARMUP):
            await first_event_ms(http)
        out["ttfe"] = Latency([await first_event_ms(http) for _ in range(max(50, runs // 2))])
    return out


# --- the per-run account ----------------------------------------------------------------------


async def _sequential(url: str, n: int) -> None:
    async with _client(url, 1) as http:
        stateful, _ = _callers(http)
        for _ in range(n):
            await stateful()


def measure_account(backend: Backend, runs: int, run: Callable[[Any], Any]) -> dict[str, float]:
    """Counters per checkpointed run, on a server counting at its drivers."""
    with tempfile.TemporaryDirectory(prefix="graphport-account-") as tmp:
        directory = Path(tmp)
        env = accounting.hook_env(directory)
        with server_process(backend, env) as (url, database):
            account = accounting.Account(directory, database, backend.redis_url)
            run(_sequential(url, WARMUP))
            before = account.snapshot()
            run(_sequential(url, runs))
            after = account.snapshot()
    return accounting.per_run(before, after, runs)


def _mix(per: dict[str, float], prefix: str, top: int = 6) -> str:
    """The largest counters under `prefix`, by name: "INSERT 3.0, SELECT 2.0"."""
    items = [(k.removeprefix(prefix), v) for k, v in per.items() if k.startswith(prefix)]
    items = sorted((kv for kv in items if kv[1] >= 0.05), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:.1f}" for k, v in items[:top])


def account_rows(per: dict[str, float], backend: Backend) -> list[dict[str, Any]]:
    """(metric, ours, the checkpointer's, detail) rows of the account."""

    def get(key: str) -> float:
        return per.get(key, 0.0)

    def row(metric: str, ours: float, theirs: float | None, detail: str = "") -> dict:
        return {"metric": metric, "ours": ours, "checkpointer": theirs, "detail": detail}

    rows = [
        row(
            "SQL statements",
            get("sql.ours.statements"),
            get("sql.checkpointer.statements"),
            f"ours: {_mix(per, 'sql.ours.verb.')}; "
            f"checkpointer: {_mix(per, 'sql.checkpointer.verb.')}",
        )
    ]
    if backend.database_url:
        rows += [
            row(
                "PostgreSQL round trips",
                get("sql.ours.round_trips"),
                get("sql.checkpointer.round_trips"),
            ),
            row(
                "bytes sent to PostgreSQL",
                get("sql.ours.bytes_sent"),
                get("sql.checkpointer.bytes_sent"),
            ),
            row(
                "PostgreSQL transactions, rows ins/upd/del",
                get("pg.transactions"),
                None,
                f"{get('pg.rows inserted'):.1f} / {get('pg.rows updated'):.1f} / "
                f"{get('pg.rows deleted'):.1f} (all connections)",
            ),
            row("WAL bytes (whole server)", get("pg.WAL bytes"), None),
        ]
    else:
        rows.append(row("bytes written (SQLite file and WAL)", get("bytes written"), None))
    rows.append(
        row(
            "thread hops",
            get("hops.ours"),
            get("hops.checkpointer"),
            f"other executors {get('hops.other'):.1f}",
        )
    )
    if backend.redis_url:
        rows += [
            row(
                "Redis commands sent",
                sum(v for k, v in per.items() if k.startswith("redis.command.")),
                None,
                f"in {get('redis.round_trips'):.1f} round trips, "
                f"{get('redis.bytes_sent'):.0f} bytes: {_mix(per, 'redis.command.')}",
            ),
            row(
                "Redis commands run (scripts' inside)",
                sum(v for k, v in per.items() if k.startswith("redis-server.")),
                None,
                f"{_mix(per, 'redis-server.', 8)} (whole Redis server)",
            ),
        ]
    return rows


def print_account(rows: list[dict[str, Any]], backend: Backend, runs: int) -> None:
    print(
        f"\nPer checkpointed echo run ({backend.title}, {runs} sequential runs after "
        f"{WARMUP} warm-up, counted at the drivers):"
    )
    print(f"  {'':<42} {'ours':>9} {'checkpointer':>13}")
    for r in rows:
        theirs = "" if r["checkpointer"] is None else f"{r['checkpointer']:,.1f}"
        print(f"  {r['metric']:<42} {r['ours']:>9,.1f} {theirs:>13}  {r['detail']}")


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


def report(
    ref: dict[str, Any], srv: dict[str, Any], backend: Backend, concurrency: int
) -> list[dict]:
    most, least = backend.targets

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
        return r <= most

    def rate_ok(r: float) -> bool:
        return r >= least

    n = concurrency
    wait_t, rate_t = f"<= {most}x", f">= {least}x"
    return [
        row("wait p50, thread (ms)", srv["wait"].p50, ref["wait"].p50, wait_t, latency_ok),
        row("wait p99, thread (ms)", srv["wait"].p99, ref["wait"].p99, "-", None),
        row(
            "wait p50, stateless (ms)",
            srv["stateless_wait"].p50,
            ref["wait"].p50,
            wait_t,
            latency_ok,
        ),
        row("wait p99, stateless (ms)", srv["stateless_wait"].p99, ref["wait"].p99, "-", None),
        row(f"runs/s @{n} clients, thread", srv["throughput"], ref["throughput"], rate_t, rate_ok),
        row(
            f"runs/s @{n} clients, stateless",
            srv["stateless_throughput"],
            ref["throughput"],
            rate_t,
            rate_ok,
        ),
        row("stream first event p50 (ms)", srv["ttfe"].p50, None, "< 10 ms", lambda v: v < 10),
        row("stream first event p99 (ms)", srv["ttfe"].p99, None, "-", None),
        row("server CPU ms per run, thread", srv["cpu_ms"], None, "-", None),
        row("server CPU ms per run, stateless", srv["stateless_cpu_ms"], None, "-", None),
    ]


def print_table(rows: list[dict], backend: Backend, args: argparse.Namespace) -> None:
    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    header = f"{'metric':<36} {'graphport':>10} {'in-process':>11} {'ratio':>7}  {'target':<8} ok"
    print(
        f"\nGraphport run engine vs in-process langgraph  (echo graph, {backend.title}, "
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


def print_summary(results: list[dict[str, Any]]) -> None:
    """Every backend side by side: the ratios and the account's main lines."""
    width = max(24, *(len(r["backend"]) for r in results))
    print(f"\n{'per backend':<38}" + "".join(f" {r['backend']:>{width}}" for r in results))

    def line(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        print(f"{label:<38}" + "".join(f" {cell(r):>{width}}" for r in results))

    def find(rows: list[dict[str, Any]], start: str, end: str) -> dict[str, Any] | None:
        return next(
            (r for r in rows if r["metric"].startswith(start) and r["metric"].endswith(end)), None
        )

    def ratio(start: str, end: str) -> Callable[[dict[str, Any]], str]:
        def cell(result: dict[str, Any]) -> str:
            r = find(result.get("ratios", []), start, end)
            if r is None or r["ratio"] is None:
                return "-"
            return f"{r['ratio']:.2f}x ({r['target']}){' MISS' if r['ok'] is False else ''}"

        return cell

    def value(start: str, end: str) -> Callable[[dict[str, Any]], str]:
        def cell(result: dict[str, Any]) -> str:
            r = find(result.get("ratios", []), start, end)
            return "-" if r is None else f"{r['graphport']:.1f}"

        return cell

    def counted(metric: str) -> Callable[[dict[str, Any]], str]:
        def cell(result: dict[str, Any]) -> str:
            r = find(result.get("account", []), metric, "")
            if r is None:
                return "-"
            theirs = "" if r["checkpointer"] is None else f" / {r['checkpointer']:.1f}"
            return f"{r['ours']:.1f}{theirs}"

        return cell

    line("wait p50 / in-process, thread", ratio("wait p50", "thread (ms)"))
    line("wait p50 / in-process, stateless", ratio("wait p50", "stateless (ms)"))
    line("runs/s / in-process, thread", ratio("runs/s", "thread"))
    line("runs/s / in-process, stateless", ratio("runs/s", "stateless"))
    line("server CPU ms per run, thread", value("server CPU", "thread"))
    line("server CPU ms per run, stateless", value("server CPU", "stateless"))
    line("SQL statements (ours / checkpointer)", counted("SQL statements"))
    line("PG round trips (ours / checkpointer)", counted("PostgreSQL round trips"))
    line("thread hops (ours / checkpointer)", counted("thread hops"))
    line("Redis commands sent", counted("Redis commands sent"))


def _uvloop_run() -> Callable[[Any], Any]:
    try:
        import uvloop

        return uvloop.run  # the server runs on uvloop too
    except ImportError:  # pragma: no cover - uvloop is a uvicorn[standard] extra
        return asyncio.run


def _backends(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Backend]:
    given = {"sqlite": True, "postgres": args.database_url, "redis": args.redis_url}
    keys = args.backend or [key for key, url in given.items() if url]
    out = []
    for key in dict.fromkeys(keys):
        if key != "sqlite" and not args.database_url:
            parser.error(f"--backend {key} needs --database-url")
        if key == "redis" and not args.redis_url:
            parser.error("--backend redis needs --redis-url")
        if key == "sqlite":
            out.append(Backend("sqlite"))
        elif key == "postgres":
            out.append(Backend("postgres", args.database_url))
        else:
            out.append(Backend("redis", args.database_url, args.redis_url, args.workers))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backend",
        action="append",
        choices=["sqlite", "postgres", "redis"],
        help="repeatable (default: sqlite, and postgres/redis when their URLs are given)",
    )
    parser.add_argument("--database-url", help="PostgreSQL server URL")
    parser.add_argument("--redis-url", help="Redis URL (the redis backend)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes with Redis")
    parser.add_argument("--rounds", type=int, default=3, help="reference/server alternations")
    parser.add_argument("--runs", type=int, default=200, help="sequential samples per metric")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--throughput-runs", type=int, default=400)
    parser.add_argument(
        "--account-runs", type=int, default=200, help="runs counted (0: skip the account)"
    )
    parser.add_argument("--account-only", action="store_true", help="skip the ratios")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    run = _uvloop_run()

    results = []
    for backend in _backends(args, parser):
        result: dict[str, Any] = {"backend": backend.title}
        if args.account_runs > 0:
            per = measure_account(backend, args.account_runs, run)
            result["account"] = account_rows(per, backend)
            print_account(result["account"], backend, args.account_runs)
        if not args.account_only:
            refs, srvs = [], []
            with server_process(backend) as (url, _):
                for _ in range(args.rounds):
                    db = backend.database_url
                    refs.append(
                        run(reference(args.runs, args.concurrency, args.throughput_runs, db))
                    )
                    srvs.append(
                        run(measure_server(url, args.runs, args.concurrency, args.throughput_runs))
                    )
            result["ratios"] = report(_merge(refs), _merge(srvs), backend, args.concurrency)
            print_table(result["ratios"], backend, args)
        sys.stdout.flush()
        results.append(result)
    print_summary(results)
    if args.json:
        print(json.dumps(results, indent=2))
    missed = [
        f"{r['backend']}: {row['metric']}"
        for r in results
        for row in r.get("ratios", [])
        if row["ok"] is False
    ]
    if missed:
        print(f"\nMissed: {'; '.join(missed)}")


if __name__ == "__main__":
    main()
