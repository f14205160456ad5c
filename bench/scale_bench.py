"""Cost as tables grow: the same operations on an empty database and on a full one.

Two fresh databases (SQLite files in a temp dir, or fresh PostgreSQL databases with
`--database-url`) are seeded through the API with what the operations need (a thread with
1,000 checkpoints, a thread with a run, a store item). One is then filled by bulk inserts
copying those rows (not through the API) to 100k threads, 300k runs, 1M checkpoint rows
and 100k store items (times `--scale`); PostgreSQL is VACUUMed and ANALYZEd, as autovacuum
would do after such inserts.
With a `graphport serve` (bench/langgraph.json) on each, every operation is timed over
HTTP on both, the calls alternating between the two servers so that a shared machine's
drift hits both alike: the median of `--samples` calls each.

    python bench/scale_bench.py [--scale 1.0] [--samples 20] [--database-url URL] [--json]

`--scale 0.05` is a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from run_bench import _free_port, _stop, _wait_ok, fresh_postgres
from sqlalchemy import MetaData, create_engine, insert, select, text
from sqlalchemy.engine import Engine

CONFIG = Path(__file__).resolve().parent / "langgraph.json"
THREADS, RUNS_PER_THREAD, CHECKPOINTS_PER_THREAD, STORE_ITEMS = 100_000, 3, 10, 100_000
HISTORY = 1_000
USERS = 1_000  # distinct metadata values: a search by one matches 0.1% of the threads
BATCH = 10_000


@contextlib.contextmanager
def server(storage: list[str]) -> Iterator[str]:
    port = _free_port()
    cmd = [
        sys.executable, "-m", "graphport.server.cli", "serve", "--config", str(CONFIG),
        *storage, "--port", str(port), "--log-level", "warning",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ok(url, proc)
        yield url
    finally:
        _stop(proc)


async def seed(url: str) -> dict[str, str]:
    """Through the API: the rows the fill copies, and the 1,000-checkpoint thread."""
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        history = (await http.post("/threads", json={"metadata": {"user": "history"}})).json()
        r = await http.post(
            f"/threads/{history['thread_id']}/runs/wait",
            json={
                "assistant_id": "sleeper",
                "input": {"seconds": 0, "ticks": HISTORY - 2},
                "config": {"recursion_limit": 2 * HISTORY},
            },
        )
        assert r.status_code == 200, r.text
        template = (await http.post("/threads", json={"metadata": {"user": "u0"}})).json()
        echo = {"assistant_id": "echo", "input": {"messages": [{"role": "user", "content": "x"}]}}
        r = await http.post(f"/threads/{template['thread_id']}/runs/wait", json=echo)
        assert r.status_code == 200, r.text
        r = await http.put(
            "/store/items",
            json={"namespace": ["users", "u0"], "key": "k0", "value": {"kind": 0, "text": "x"}},
        )
        assert r.status_code == 204, r.text
    return {"history": history["thread_id"], "template": template["thread_id"]}


def _copies(
    engine: Engine, table: Any, where: Any, count: int, vary: Callable[[dict, int], dict]
) -> int:
    """Insert `count` copies of the first row matching `where`, each changed by `vary`."""
    with engine.connect() as conn:
        row = dict(conn.execute(select(table).where(where)).mappings().first())
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        with engine.begin() as conn:
            conn.execute(insert(table), [vary(dict(row), done + i) for i in range(n)])
        done += n
    return done


def fill(sync_url: str, ids: dict[str, str], scale: float) -> dict[str, float]:
    """Bulk inserts copying the seeded rows; seconds per table."""
    engine = create_engine(sync_url)
    meta = MetaData()
    meta.reflect(engine, only=["threads", "runs", "checkpoints", "store"])
    threads, runs, checkpoints, store = (
        meta.tables[t] for t in ("threads", "runs", "checkpoints", "store")
    )
    tid = ids["template"]
    n_threads = int(THREADS * scale)
    statuses = ["idle"] * 7 + ["error", "interrupted", "busy"]

    def ago(row: dict, i: int) -> Any:  # distinct creation times, older than the seeded
        return row["created_at"] - timedelta(seconds=i + 1)

    def thread_id(i: int) -> str:
        return str(uuid.UUID(int=i + 1))

    def thread(row: dict, i: int) -> dict:
        meta_ = {"user": f"u{i % USERS}", "bench": "fill"}
        return {**row, "thread_id": thread_id(i), "metadata": meta_,
                "status": statuses[i % len(statuses)], "created_at": ago(row, i)}

    def run(row: dict, i: int) -> dict:
        return {**row, "run_id": str(uuid.UUID(int=(1 << 64) + i)),
                "thread_id": thread_id(i // RUNS_PER_THREAD), "status": "success",
                "created_at": ago(row, i)}

    def checkpoint(row: dict, i: int) -> dict:
        return {**row, "thread_id": thread_id(i // CHECKPOINTS_PER_THREAD),
                "checkpoint_id": str(uuid.UUID(int=(2 << 64) + i))}

    def item(row: dict, i: int) -> dict:
        value = {"kind": i % 10, "text": f"item {i}"}
        return {**row, "prefix": f"users.u{i % USERS}", "key": f"k{i + 1}",
                "value": value if isinstance(row["value"], dict) else json.dumps(value)}

    seconds = {}
    plan = [
        ("threads", threads, threads.c.thread_id == tid, n_threads, thread),
        ("runs", runs, runs.c.thread_id == tid, n_threads * RUNS_PER_THREAD, run),
        ("checkpoints", checkpoints, checkpoints.c.thread_id == tid,
         n_threads * CHECKPOINTS_PER_THREAD, checkpoint),
        ("store", store, store.c.key == "k0", int(STORE_ITEMS * scale), item),
    ]
    for name, table, where, count, vary in plan:
        t0 = time.perf_counter()
        _copies(engine, table, where, count, vary)
        seconds[name] = time.perf_counter() - t0
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # What autovacuum does after bulk inserts (autovacuum_vacuum_insert_threshold):
            # statistics, the visibility map (index-only counts) and the GIN pending list
            # merged (metadata search read it linearly: 15 ms of an 18 ms search).
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return seconds


def _ops(http: httpx.AsyncClient, ids: dict[str, str]) -> dict[str, Callable[[], Any]]:
    hist = ids["history"]

    async def ok(r: Awaitable[httpx.Response]) -> Any:
        resp = await r
        assert resp.status_code in (200, 204), resp.text
        return resp

    echo = {"assistant_id": "echo", "input": {"messages": [{"role": "user", "content": "x"}]},
            "if_not_exists": "create"}
    return {
        "run create+claim+finish (wait)": lambda: ok(
            http.post(f"/threads/{uuid.uuid4()}/runs/wait", json=echo)),
        "threads.search by metadata": lambda: ok(
            http.post("/threads/search", json={"metadata": {"user": "u7"}, "limit": 10})),
        "threads.search by status": lambda: ok(
            http.post("/threads/search", json={"status": "error", "limit": 10})),
        "threads.count": lambda: ok(http.post("/threads/count", json={})),
        "threads.count by status": lambda: ok(
            http.post("/threads/count", json={"status": "interrupted"})),
        "runs.list of a thread": lambda: ok(http.get(f"/threads/{hist}/runs")),
        "history of a 1,000-checkpoint thread": lambda: ok(
            http.post(f"/threads/{hist}/history", json={"limit": 10})),
        "store search by filter": lambda: ok(http.post("/store/items/search", json={
            "namespace_prefix": ["users"], "filter": {"kind": 3}, "limit": 10})),
    }


async def measure(
    urls: tuple[str, str], ids: tuple[dict[str, str], dict[str, str]], samples: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median milliseconds per operation on each server, calls alternating."""
    async with (
        httpx.AsyncClient(base_url=urls[0], timeout=120) as a,
        httpx.AsyncClient(base_url=urls[1], timeout=120) as b,
    ):
        ops = (_ops(a, ids[0]), _ops(b, ids[1]))
        out: tuple[dict[str, float], dict[str, float]] = ({}, {})
        for name in ops[0]:
            times: tuple[list[float], list[float]] = ([], [])
            for i in range(samples + 3):
                for side in (0, 1):
                    t0 = time.perf_counter()
                    await ops[side][name]()
                    if i >= 3:  # warm-up
                        times[side].append((time.perf_counter() - t0) * 1000)
            for side in (0, 1):
                out[side][name] = statistics.median(times[side])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full fill")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        storages, sync_urls = [], []
        for _ in range(2):
            if args.database_url:
                url = stack.enter_context(fresh_postgres(args.database_url))
                storages.append(["--database-url", url])
                sync_urls.append("postgresql+psycopg://" + url.split("://", 1)[1])
            else:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="graphport-scale-"))
                path = str(Path(tmp) / "graphport.db")
                storages.append(["--database", path])
                sync_urls.append(f"sqlite:///{path}")
        empty_url = stack.enter_context(server(storages[0]))
        empty_ids = asyncio.run(seed(empty_url))
        with server(storages[1]) as base:
            full_ids = asyncio.run(seed(base))
        fill_s = fill(sync_urls[1], full_ids, args.scale)
        full_url = stack.enter_context(server(storages[1]))
        empty, full = asyncio.run(
            measure((empty_url, full_url), (empty_ids, full_ids), args.samples)
        )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    n = int(THREADS * args.scale)
    print(f"\n{backend}: filled {n} threads, {n * RUNS_PER_THREAD} runs, "
          f"{n * CHECKPOINTS_PER_THREAD} checkpoints, {int(STORE_ITEMS * args.scale)} store "
          f"items in {sum(fill_s.values()):.0f} s ("
          + ", ".join(f"{k} {v:.0f} s" for k, v in fill_s.items()) + ")")
    print(f"{'operation (median ms)':<40} {'empty':>8} {'full':>8} {'ratio':>7}")
    rows = []
    for name in empty:
        ratio = full[name] / empty[name]
        rows.append({"op": name, "empty_ms": empty[name], "full_ms": full[name], "ratio": ratio})
        print(f"{name:<40} {empty[name]:8.2f} {full[name]:8.2f} {ratio:6.2f}x")
    if args.json:
        print(json.dumps({"fill_seconds": fill_s, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
