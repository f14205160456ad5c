"""The per-run account: what one run costs, counted rather than timed, so the figures hold
on a noisy machine where wall-clock times do not.

Two halves of one instrument:

- Inside a Graphport process, `install()` (run by bench/account_hook/sitecustomize.py,
  which a benchmark puts on the server's PYTHONPATH with GRAPHPORT_BENCH_ACCOUNT=<dir>;
  production code is untouched) counts at the drivers:
  - SQL statements, ours and the checkpointer's (langgraph's saver and store) apart:
    SQLite's trace callback on every connection, attributed by who opened it (aiosqlite:
    the checkpointer's); on PostgreSQL libpq's protocol trace of every connection
    (psycopg_pool's: the checkpointer's), from which statements (Query and Execute
    messages), round trips (the client speaking again after the server answered) and
    bytes sent are read;
  - thread hops: tasks handed to our SQLite threads (`graphport-db-*` executors); to
    aiosqlite's connection threads or an executor from langgraph's savers and stores (the
    checkpointer's); and to any other executor (`asyncio.to_thread`, `run_in_executor`);
  - Redis commands by name and round trips (a pipeline or a script call is one).
  On SIGUSR1 the process writes its counters to <dir>/<pid>.json.
- In the benchmark, `Account` snapshots those counters and the servers' own (PostgreSQL's
  `pg_stat_database` and WAL position, Redis's `commandstats`, /proc's I/O and CPU) before
  and after a number of runs; `per_run` divides the difference.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ENV = "GRAPHPORT_BENCH_ACCOUNT"
HOOK_DIR = Path(__file__).resolve().parent / "account_hook"

# --- inside the server process ---------------------------------------------------------------

_counts: Counter[str] = Counter()
# Counters are bumped from database threads too; re-entrant, as the SIGUSR1 handler runs
# on the main thread, which may hold it when the signal arrives.
_lock = threading.RLock()
_traces: list[_PgTrace] = []
_files: list[Any] = []  # trace files libpq writes to: kept open for the process's life


def _count(key: str, n: int = 1) -> None:
    with _lock:
        _counts[key] += n


def _opened_by(module: str) -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if module in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _verb(sql: str) -> str:
    """The statement's first word (traced statements may carry the trace's quotes)."""
    words = sql.split(None, 1)
    return (words[0].strip('"(;').upper() if words else "") or "(empty)"


def _on_sql(group: str, sql: str) -> None:
    if not sql.startswith("--"):  # "-- ..." is a statement run by a trigger
        _count(f"sql.{group}.statements")
        _count(f"sql.{group}.verb.{_verb(sql)}")


class _PgTrace:
    """libpq's trace of one connection (PQtrace), read as it grows: a round trip starts
    whenever the client sends after the server last spoke. A statement's text may span
    lines; its verb is then on the next one."""

    _PARSE = re.compile(r'^F\t\d+\tParse\t "(.*?)" "(.*)$')
    _BIND = re.compile(r'^F\t\d+\tBind\t "(.*?)" "(.*?)"')
    _QUERY = re.compile(r'^F\t\d+\tQuery\t "(.*)$')

    def __init__(self, path: Path, group: str) -> None:
        self.path, self.group = path, group
        self._offset = 0
        self._last = "B"
        self._prepared: dict[str, str] = {}  # statement name -> verb
        self._verb_of: str | None = None  # a Parse whose text starts on the next line
        self._bound = ""

    def read(self) -> None:
        with self.path.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1  # complete lines only
        self._offset += end
        for line in chunk[:end].decode(errors="replace").splitlines():
            self._line(line)

    def _line(self, line: str) -> None:
        g = f"sql.{self.group}"
        direction, _, rest = line.partition("\t")
        if direction not in ("F", "B"):  # a statement's text goes on
            if self._verb_of is not None and line.strip():
                self._prepared[self._verb_of] = _verb(line)
                self._verb_of = None
            return
        if direction == "F":
            if self._last != "F":
                _count(f"{g}.round_trips")
            _count(f"{g}.bytes_sent", int(rest.split("\t", 1)[0]))
            if m := self._PARSE.match(line):
                self._prepared[m[1]] = _verb(m[2])
                self._verb_of = None if m[2] else m[1]
            elif m := self._BIND.match(line):
                self._bound = m[2]
            elif m := self._QUERY.match(line):
                _on_sql(self.group, m[1])
            elif rest.split("\t", 2)[1:2] == ["Execute"]:
                _count(f"{g}.statements")
                _count(f"{g}.verb.{self._prepared.get(self._bound, '?')}")
        self._last = direction


def _patch_sqlite(sqlite3: Any) -> None:
    real = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        conn = real(*args, **kwargs)
        group = "checkpointer" if _opened_by("aiosqlite") else "ours"
        conn.set_trace_callback(functools.partial(_on_sql, group))
        return conn

    sqlite3.connect = connect
    sqlite3.dbapi2.connect = connect  # SQLAlchemy's pysqlite dialect calls this one


def _patch_psycopg(directory: Path) -> None:
    import psycopg

    real = psycopg.AsyncConnection.connect.__func__
    numbers = itertools.count()

    async def connect(cls: Any, *args: Any, **kwargs: Any) -> Any:
        conn = await real(cls, *args, **kwargs)
        group = "checkpointer" if _opened_by("psycopg_pool") else "ours"
        path = directory / f"pg-{os.getpid()}-{group}-{next(numbers)}.trace"
        f = path.open("w")
        _files.append(f)
        conn.pgconn.trace(f.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        _traces.append(_PgTrace(path, group))
        return conn

    psycopg.AsyncConnection.connect = classmethod(connect)


def _patch_hops() -> None:
    from concurrent.futures import ThreadPoolExecutor

    import aiosqlite

    submit = ThreadPoolExecutor.submit

    def counted_submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if self._thread_name_prefix.startswith("graphport-db"):
            _count("hops.ours")
        elif _opened_by("langgraph/checkpoint") or _opened_by("langgraph/store"):
            _count("hops.checkpointer")  # the savers' asyncio.to_thread (serialization)
        else:
            _count("hops.other")
        return submit(self, fn, *args, **kwargs)

    execute = aiosqlite.Connection._execute

    async def counted_execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        _count("hops.checkpointer")
        return await execute(self, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = counted_submit
    aiosqlite.Connection._execute = counted_execute


def _patch_redis() -> None:
    from redis.asyncio.connection import AbstractConnection

    send, pack = AbstractConnection.send_packed_command, AbstractConnection.pack_command

    async def counted_send(self: Any, command: Any, check_health: bool = True) -> None:
        _count("redis.round_trips")
        parts = [command] if isinstance(command, bytes | str) else list(command)
        _count("redis.bytes_sent", sum(len(p) for p in parts))
        await send(self, parts, check_health)

    def counted_pack(self: Any, *args: Any) -> list[bytes]:
        name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
        _count(f"redis.command.{name.split()[0].upper()}")
        return pack(self, *args)

    AbstractConnection.send_packed_command = counted_send
    AbstractConnection.pack_command = counted_pack


def _dump(directory: Path) -> None:
    for trace in _traces:
        trace.read()
    with _lock:
        snapshot = dict(_counts)
    tmp = directory / f"{os.getpid()}.tmp"
    tmp.write_text(json.dumps(snapshot))
    tmp.rename(directory / f"{os.getpid()}.json")


def install() -> None:
    """Count, if the benchmark asked for it (GRAPHPORT_BENCH_ACCOUNT names a directory)."""
    raw = os.environ.get(ENV)
    if not raw:
        return
    directory = Path(raw)
    import sqlite3

    _patch_sqlite(sqlite3)
    _patch_psycopg(directory)
    _patch_hops()
    _patch_redis()
    signal.signal(signal.SIGUSR1, lambda *_: _dump(directory))


# --- in the benchmark --------------------------------------------------------------------------


def hook_env(directory: Path) -> dict[str, str]:
    """The environment that makes a Graphport process count into `directory`."""
    path = [str(HOOK_DIR), str(HOOK_DIR.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p), ENV: str(directory)}


def children() -> list[int]:
    """This benchmark's server processes (children of this process)."""
    me = str(os.getpid())
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if stat.read_text().rsplit(")", 1)[1].split()[1] == me:
                pids.append(int(stat.parent.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes so far (Linux /proc)."""
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _written_bytes(pids: list[int]) -> float:
    """Bytes the processes sent towards storage (dirtied pages: SQLite's file and WAL)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                total += int(line.split()[1])
    return float(total)


_PG = """SELECT xact_commit, tup_inserted, tup_updated, tup_deleted
          FROM pg_stat_database WHERE datname = current_database()"""


def _pg_counters(url: str) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(_PG).fetchone()
        wal = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()
    assert row is not None and wal is not None
    names = ["transactions", "rows inserted", "rows updated", "rows deleted"]
    return {
        **{f"pg.{k}": float(v) for k, v in zip(names, row, strict=True)},
        "pg.WAL bytes": float(wal[0]),
    }


def _redis_counters(url: str) -> dict[str, float]:
    import redis

    with redis.Redis.from_url(url) as client:
        stats: dict[str, Any] = client.info("commandstats")
    return {
        f"redis-server.{k.removeprefix('cmdstat_').upper()}": float(v["calls"])
        for k, v in stats.items()
        if k != "cmdstat_info"  # our own reads of these counters
    }


class Account:
    """Snapshots of every counter of a deployment: its processes', its PostgreSQL
    database's and its Redis's."""

    def __init__(self, directory: Path, database_url: str | None, redis_url: str | None):
        self.directory = directory
        self.database_url = database_url
        self.redis_url = redis_url

    def _processes(self, pids: list[int]) -> dict[str, float]:
        for pid in pids:
            (self.directory / f"{pid}.json").unlink(missing_ok=True)
            os.kill(pid, signal.SIGUSR1)
        total: Counter[str] = Counter()
        deadline = time.monotonic() + 30
        for pid in pids:
            path = self.directory / f"{pid}.json"
            while not path.exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"process {pid} wrote no counters within 30 s")
                time.sleep(0.05)
            total.update(json.loads(path.read_text()))
        return {k: float(v) for k, v in total.items()}

    def snapshot(self) -> dict[str, float]:
        pids = children()
        out = {**self._processes(pids), "bytes written": _written_bytes(pids)}
        if self.database_url:
            out.update(_pg_counters(self.database_url))
        if self.redis_url:
            out.update(_redis_counters(self.redis_url))
        return out


def per_run(before: dict[str, float], after: dict[str, float], runs: int) -> dict[str, float]:
    return {k: (after[k] - before.get(k, 0.0)) / runs for k in after}
