"""Burst benchmark: N clients at once, each streaming one 5-second run on a fresh thread.

For each N (default 100, 200, 500) a fresh `graphport dev --max-concurrent-runs 500`
(SQLite in a temp dir, or a fresh PostgreSQL database with `--database-url`) is started
with bench/langgraph.json. N clients each create a thread (`POST /threads`) and stream a
run on it (`POST /threads/{id}/runs/stream`) of the `sleeper` graph: 5 s of
`asyncio.sleep` in 5 checkpointed steps, an I/O-bound agent's shape.

A client has completed when its stream ends with the run's final values; it failed
otherwise (an HTTP error, a broken stream, no end before `--deadline`). 503 answers (the
server pushing back) are counted apart. Then the server gets SIGTERM, and the time it
takes to exit is reported (killed after 60 s). Server CPU time is read from /proc.

    python bench/burst_bench.py [--clients 100 200 500] [--seconds 5] [--deadline 120]
                                [--database-url postgresql://…/db] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from accounting import cpu_seconds
from run_bench import _free_port, _wait_ok, fresh_postgres

CONFIG = Path(__file__).resolve().parent / "langgraph.json"
MAX_CONCURRENT_RUNS = 500


@contextlib.contextmanager
def dev_server(
    database_url: str | None, log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`graphport dev` on a free port with its own database; stderr goes to `log`."""
    with contextlib.ExitStack() as stack:
        if database_url:
            storage = ["--database-url", stack.enter_context(fresh_postgres(database_url))]
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="graphport-burst-"))
            storage = ["--database", str(Path(tmp) / "graphport.db")]
        port = _free_port()
        err = stack.enter_context(log.open("wb"))
        cmd = [
            sys.executable, "-m", "graphport.server.cli", "dev", "--config", str(CONFIG),
            *storage, "--port", str(port), "--log-level", "warning",
            "--max-concurrent-runs", str(MAX_CONCURRENT_RUNS),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        stack.callback(_kill, proc)
        url = f"http://127.0.0.1:{port}"
        _wait_ok(url, proc)
        yield url, proc


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def sigterm_seconds(proc: subprocess.Popen[bytes], limit: float = 60.0) -> float | None:
    """Seconds from SIGTERM to exit; None when it had to be killed."""
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - t0


async def one_client(http: httpx.AsyncClient, seconds: float) -> str:
    """'ok', 'http-<status>' or the exception's name."""
    body = {
        "assistant_id": "sleeper",
        "input": {"seconds": seconds, "ticks": 5},
        "stream_mode": ["values", "custom"],
    }
    try:
        created = await http.post("/threads", json={})
        if created.status_code != 200:
            return f"http-{created.status_code}"
        thread_id = created.json()["thread_id"]
        async with http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as r:
            if r.status_code != 200:
                return f"http-{r.status_code}"
            event, done = "", False
            async for line in r.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "values":
                    done = json.loads(line[5:]).get("done") == 5
                elif line.startswith("data:") and event == "error":
                    return "error-event"
            return "ok" if done else "no-values"
    except httpx.HTTPError as exc:
        print(f"  client: {exc!r} on {exc.request.url}", file=sys.stderr)
        return type(exc).__name__


async def burst(url: str, clients: int, seconds: float, deadline: float) -> dict[str, Any]:
    # No keep-alive: each request on its own connection (a reused one raced the server's
    # keep-alive timeout under load, a client-side artefact).
    limits = httpx.Limits(max_connections=2 * clients + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(deadline, connect=deadline)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as http:
        t0 = time.perf_counter()
        tasks = [asyncio.create_task(one_client(http, seconds)) for _ in range(clients)]
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        wall = time.perf_counter() - t0
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    outcomes = Counter(t.result() for t in done)
    outcomes["deadline"] += len(pending)
    return {
        "clients": clients,
        "completed": outcomes.pop("ok", 0),
        "failed": sum(outcomes.values()),
        "503": outcomes.get("http-503", 0),
        "failures": dict(outcomes),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 200, 500])
    parser.add_argument("--seconds", type=float, default=5.0, help="each run's sleep")
    parser.add_argument("--deadline", type=float, default=120.0, help="per burst, seconds")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--log", default=None, help="keep each server's stderr here (prefix)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    rows = []
    with tempfile.TemporaryDirectory(prefix="graphport-burst-log-") as tmp:
        for n in args.clients:
            log = Path(args.log + f"-{n}.log") if args.log else Path(tmp) / f"{n}.log"
            with dev_server(args.database_url, log) as (url, proc):
                cpu0 = cpu_seconds([proc.pid])
                row = asyncio.run(burst(url, n, args.seconds, args.deadline))
                row["server_cpu_s"] = cpu_seconds([proc.pid]) - cpu0
                row["sigterm_s"] = sigterm_seconds(proc)
            errors = [
                line for line in log.read_text(errors="replace").splitlines()
                if "Error" in line or "error" in line
            ]
            row["server_error_lines"] = len(errors)
            rows.append(row)
            print(
                f"{backend:<10} N={n:<4} completed {row['completed']:>4}  failed "
                f"{row['failed']:>4} (503: {row['503']})  wall {row['wall_s']:6.1f} s  server CPU "
                f"{row['server_cpu_s']:5.1f} s  "
                f"SIGTERM exit {_secs(row['sigterm_s'])}  server error lines "
                f"{len(errors)}  {row['failures'] or ''}",
                flush=True,
            )
    if args.json:
        print(json.dumps(rows, indent=2))


def _secs(value: float | None) -> str:
    return "killed" if value is None else f"{value:.1f} s"


if __name__ == "__main__":
    main()
