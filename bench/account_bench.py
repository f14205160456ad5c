"""Per-run account from the servers' own counters, stable on a noisy machine where
wall-clock times are not: what one checkpointed `echo` run (`POST /threads/{new id}/
runs/wait`) costs PostgreSQL (transactions committed, rows written, WAL bytes), Redis
(commands, by name) and the Graphport processes (CPU ms).

Starts the same deployment as bench/run_bench.py (`--database-url`, optionally
`--redis-url … --workers N`), warms up, then runs `--runs` runs one after another and
divides the counters' deltas by the count. The database is the benchmark's own, so
PostgreSQL's counters see only its traffic (autovacuum aside). SQLite has no such
counters; use `--database-url`.

    python bench/account_bench.py --database-url URL [--redis-url URL --workers N] [--runs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from run_bench import INPUT, _free_port, server_process

_PG = """SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_returned + tup_fetched
          FROM pg_stat_database WHERE datname = current_database()"""


def pg_counters(url: str) -> dict[str, float]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(_PG).fetchone()
        wal = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None and wal is not None
    names = ["transactions", "rows inserted", "rows updated", "rows deleted", "rows read"]
    return {**dict(zip(names, map(float, row), strict=True)), "WAL bytes": float(wal[0])}


def redis_counters(url: str) -> dict[str, float]:
    stats: dict[str, Any] = redis.Redis.from_url(url).info("commandstats")
    return {k.removeprefix("cmdstat_"): float(v["calls"]) for k, v in stats.items()}


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def graphport_pids() -> list[int]:
    """This benchmark's server processes (children of this process)."""
    me = str(os.getpid())
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            pids.append(int(stat.parent.name))
    return pids


async def runs(url: str, n: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        body = {"assistant_id": "echo", "input": INPUT, "if_not_exists": "create"}
        for _ in range(n):
            r = await http.post(f"/threads/{uuid.uuid4()}/runs/wait", json=body)
            assert r.status_code == 200, r.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with server_process(_free_port(), args) as (url, db_url):
        assert db_url is not None
        asyncio.run(runs(url, 20))  # warm-up
        pids = graphport_pids()
        pg0, cpu0 = pg_counters(db_url), cpu_seconds(pids)
        rd0 = redis_counters(args.redis_url) if args.redis_url else {}
        asyncio.run(runs(url, args.runs))
        pg1, cpu1 = pg_counters(db_url), cpu_seconds(pids)
        rd1 = redis_counters(args.redis_url) if args.redis_url else {}
    setup = "PostgreSQL" + (f" + Redis, API + {args.workers} worker(s)" if args.redis_url else "")
    print(f"\nPer checkpointed echo run ({setup}, {args.runs} sequential runs, "
          "server-side counters):")
    for key in pg0:
        per = (pg1[key] - pg0[key]) / args.runs
        print(f"  PostgreSQL {key:<16} {per:10.1f}")
    print(f"  Graphport CPU ms         {(cpu1 - cpu0) * 1000 / args.runs:10.1f}  "
          f"({len(pids)} process(es))")
    if args.redis_url:
        calls = {k: (rd1.get(k, 0) - rd0.get(k, 0)) / args.runs for k in rd1}
        calls = {k: v for k, v in calls.items() if v > 0.01}
        print(f"  Redis commands           {sum(calls.values()):10.1f}  "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(calls.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
