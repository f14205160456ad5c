"""Clients for the SDK acceptance tests: both clients, over a socket and in-process.

`client` is parametrized four ways; each test body is written against the async surface:

- `async-socket`: `get_client(url=server.url)` against the session's uvicorn server.
- `sync-socket`: `get_sync_client(url=server.url)`, driven through `SyncAdapter`.
- `async-inprocess`: a separate app from `create_app(...)` (own database), whose lifespan this
  fixture runs, called through `AsyncInProcessTransport(app, state=lifespan.state)`.
- `sync-inprocess`: `get_sync_client(app=...)` on another app of its own; the transport runs
  that app and its lifespan on a background loop.

Each backend of the root conftest (sqlite, postgres) gets its own set.

`proxied`: an async or a sync client (parametrized) whose every connection goes through a
fresh `CutProxy`, with the proxy, for tests that cut connections.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from graphport.sdk import get_client, get_sync_client
from graphport.sdk.client import AsyncInProcessTransport, Lifespan

from .adapter import SyncAdapter
from .proxy import CutProxy

CONFIG = Path(__file__).resolve().parent.parent / "langgraph.json"
TIMEOUT = 30.0
MODES = ["async-socket", "sync-socket", "async-inprocess", "sync-inprocess"]


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Our SDK's thread streaming sessions (test_sdk_thread_stream.py) are a client: the
    server side of sessions is tested on every backend through the official SDK
    (tests/test_thread_stream.py), so these run on SQLite only, and a WebSocket session only
    where there is a socket (in process, one test checks the clear refusal)."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        unsuited = item.module is not None and item.module.__name__.endswith(
            "test_sdk_thread_stream"
        ) and (
            params.get("backend", "sqlite") != "sqlite"
            or (
                "session_transport" in getattr(item, "fixturenames", ())
                and params.get("transport") == "websocket"
                and str(params.get("client", "")).endswith("inprocess")
            )
            or (
                item.name.startswith("test_websocket_needs_the_network")
                and str(params.get("client", "")).endswith("socket")
            )
        )
        (drop if unsuited else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _app(db: dict[str, Any]) -> Any:
    from conftest import _settings  # the root conftest: same settings as the socket server
    from graphport.server.app import create_app

    return create_app(_settings(db, CONFIG))


@functools.cache
def server_paths() -> frozenset[str]:
    """Paths in the server's OpenAPI schema (an app is built for it, never started)."""
    with tempfile.TemporaryDirectory(prefix="graphport-openapi-") as tmp:
        app = _app({"database": str(Path(tmp) / "unused.db")})
        return frozenset(app.openapi()["paths"])


def requires_routes(*paths: str) -> pytest.MarkDecorator:
    """Skip until the server has these routes (so the tests run by themselves once it does)."""
    missing = sorted(set(paths) - server_paths())
    return pytest.mark.skipif(bool(missing), reason=f"server lacks routes {missing}")


@pytest.fixture(scope="session")
async def async_socket_client(server: Any) -> AsyncIterator[Any]:
    async with get_client(url=server.url, api_key=None, timeout=TIMEOUT) as c:
        yield c


@pytest.fixture(scope="session")
def sync_socket_client(server: Any) -> Iterator[SyncAdapter]:
    with get_sync_client(url=server.url, api_key=None, timeout=TIMEOUT) as c:
        yield SyncAdapter(c)


@pytest.fixture(scope="session")
async def async_inprocess_client(backend: str) -> AsyncIterator[Any]:
    from conftest import database_for

    with database_for(backend) as db:
        app = _app(db)
        async with Lifespan(app) as lifespan:
            transport = AsyncInProcessTransport(app, state=lifespan.state)
            async with get_client(transport=transport, api_key=None, timeout=TIMEOUT) as c:
                yield c


@pytest.fixture(scope="session")
def sync_inprocess_client(backend: str) -> Iterator[SyncAdapter]:
    from conftest import database_for

    with (
        database_for(backend) as db,
        contextlib.closing(get_sync_client(app=_app(db), api_key=None, timeout=TIMEOUT)) as c,
    ):
        yield SyncAdapter(c)


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest, backend: str) -> Any:
    """The client under test, with the async client's calling conventions.

    (`backend` is named so that the tests are parametrized by it; the mode's own fixtures,
    fetched by name, depend on it.)
    """
    return request.getfixturevalue(str(request.param).replace("-", "_") + "_client")


@pytest.fixture(params=["async", "sync"])
async def proxied(
    request: pytest.FixtureRequest, server: Any
) -> AsyncIterator[tuple[Any, CutProxy]]:
    """A client of the given flavor whose every connection goes through a fresh proxy."""
    async with CutProxy(server.port) as proxy:
        options: dict[str, Any] = {"url": proxy.url, "api_key": None, "timeout": 10.0}
        if request.param == "async":
            async with get_client(**options, reconnect_delay=0.05) as c:
                yield c, proxy
        else:
            sync = SyncAdapter(get_sync_client(**options, reconnect_delay=0.05))
            try:
                yield sync, proxy
            finally:
                await sync.aclose()
