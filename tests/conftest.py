"""Test harness: real Graphport servers on free 127.0.0.1 ports, one per backend.

Fixtures
- `backend`: "sqlite" | "postgres" | "distributed" (session-scoped, parametrized).
  "distributed" is PostgreSQL plus Redis carrying events, cancels and wake-ups (as between
  `graphport serve` and `graphport worker` processes; here one process, every signal still
  through Redis). Backends skip with a reason when their services are unreachable, and
  fail instead when GRAPHPORT_REQUIRE_POSTGRES=1, as in CI.
- `server`: a running `TestServer` for that backend (session-scoped): `.url`, `.app`,
  `.core` (server internals; use only for things with no API, e.g. a cron tick) and
  `.call(coro_fn, *args)` to run a coroutine on the server's own event loop.
- `client`: an async `langgraph_sdk` client for `server` (the compatibility oracle).
- `http`: an `httpx.AsyncClient` with `base_url=server.url`.
- `transport`: "sse" | "websocket", how a thread streaming session connects (parametrized).
- `start_server(config_path, **settings)`: context manager for a dedicated server (own
  database) when a test needs special settings; runs on the same backend.

The PostgreSQL URL comes from GRAPHPORT_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test); each server gets its own fresh database. Redis
comes from GRAPHPORT_TEST_REDIS_URL (default redis://127.0.0.1:6379/0); each server gets
its own key prefix."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from graphport.server.app import create_app
from graphport.server.settings import Settings
from graphport.server.storage.database import Database, open_database

TESTS = Path(__file__).parent
CONFIG = TESTS / "langgraph.json"
PG_URL = os.environ.get(
    "GRAPHPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("GRAPHPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_PG = os.environ.get("GRAPHPORT_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgres", "distributed"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestServer:
    __test__ = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._server.serve())

    @property
    def core(self) -> Any:
        return self.app.state.core

    def start(self, timeout: float = 60.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("server thread died during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.02)

    def stop(self, timeout: float = 30.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30.0) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(fn(*args), self.loop).result(timeout)


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as e:  # pragma: no cover - depends on the machine
        return f"PostgreSQL unreachable at {PG_URL}: {e}"


def _redis_available() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        return None
    except Exception as e:  # pragma: no cover - depends on the machine
        return f"Redis unreachable at {REDIS_URL}: {e}"


def unavailable(backend: str) -> str | None:
    """Why a backend's services can't be reached (None: they can)."""
    if backend == "sqlite":
        return None
    return _pg_available() or (_redis_available() if backend == "distributed" else None)


@contextlib.contextmanager
def _pg_database() -> Iterator[str]:
    import psycopg

    name = f"graphport_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database_for(backend: str) -> Iterator[dict[str, Any]]:
    if backend == "postgres":
        with _pg_database() as url:
            yield {"database_url": url}
    elif backend == "distributed":
        with _pg_database() as url:
            prefix = f"graphport-test-{uuid.uuid4().hex[:12]}"
            yield {"database_url": url, "redis_url": REDIS_URL, "redis_prefix": prefix}
    else:
        with tempfile.TemporaryDirectory(prefix="graphport-test-") as tmp:
            yield {"database": str(Path(tmp) / "graphport.db")}


@contextlib.asynccontextmanager
async def opened_database(backend: str) -> AsyncIterator[Database]:
    """`open_database` on a fresh database of `backend` ("sqlite" or "postgres"); skips
    (fails when GRAPHPORT_REQUIRE_POSTGRES=1) when its service is unreachable."""
    if reason := unavailable(backend):
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    with database_for(backend) as where:
        async with open_database(
            sqlite_path=where.get("database"), postgres_url=where.get("database_url")
        ) as database:
            yield database


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    reason = unavailable(request.param)
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    return str(request.param)


def _settings(db: dict[str, Any], config: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "config_path": config,
        "heartbeat_seconds": 0.5,
        "stream_retention_seconds": 120.0,
        "cron_tick_seconds": 0.2,
        "webhook_backoff_seconds": 0.05,
        "dev": True,  # webhooks to the tests' 127.0.0.1 receivers, as under `graphport dev`
        # Stopping a test server cuts its runs short at once (as a crash would, but handing
        # them back): tests of the grace period set their own.
        "shutdown_grace_seconds": 0.0,
        **db,
        **overrides,
    }
    return Settings(**values)


@contextlib.contextmanager
def running_server(backend: str, config: Path = CONFIG, **overrides: Any) -> Iterator[TestServer]:
    with database_for(backend) as db:
        srv = TestServer(_settings(db, config, **overrides))
        srv.start()
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture(scope="session")
def server(backend: str) -> Iterator[TestServer]:
    with running_server(backend) as srv:
        yield srv


@pytest.fixture
def start_server(backend: str) -> Callable[..., contextlib.AbstractContextManager[TestServer]]:
    def start(config: Path = CONFIG, **overrides: Any) -> Any:
        return running_server(backend, config, **overrides)

    return start


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[Any]:
    from langgraph_sdk import get_client

    c = get_client(url=server.url, api_key=None)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
async def http(server: TestServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture(params=["sse", "websocket"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)
