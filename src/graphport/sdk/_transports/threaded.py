"""Serve a blocking client from an ASGI app running on an event loop in a background thread.

The sync client can't await the app, so the app gets a loop of its own, started on first use.
Nobody else can reach that loop, so this transport also runs the app's lifespan on it: with
`get_sync_client(app=create_app(...))` the app starts on the first request and stops on `close()`.
Requests are handed to `AsyncInProcessTransport` on that loop, and body chunks come back one by
one, so streams stay live.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx

from graphport.sdk._transports.asgi import ASGIApp, AsyncInProcessTransport
from graphport.sdk._transports.lifespan import Lifespan

T = TypeVar("T")


class InProcessTransport(httpx.BaseTransport):
    """Blocking twin of `AsyncInProcessTransport`; see the module docstring."""

    def __init__(self, app: ASGIApp, *, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lifespan: Lifespan | None = None
        self._inner: AsyncInProcessTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` to the app; the body streams from the background loop."""
        inner = self._start()
        request.read()
        response = self._run(inner.handle_async_request(request))
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_BlockingBody(self, response.stream),
            request=request,
        )

    def close(self) -> None:
        """Run the app's shutdown and stop the loop thread."""
        with self._lock:
            if self._loop is None or self._thread is None:
                return
            try:
                if self._lifespan is not None:
                    self._run(self._lifespan.shutdown())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join()
                self._loop.close()
                self._loop = self._thread = self._lifespan = self._inner = None

    def _start(self) -> AsyncInProcessTransport:
        with self._lock:
            if self._inner is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._loop.run_forever, name="graphport-sdk-asgi", daemon=True
                )
                self._thread.start()
                self._lifespan = Lifespan(self.app)
                self._run(self._lifespan.startup())
                self._inner = AsyncInProcessTransport(
                    self.app, root_path=self.root_path, state=self._lifespan.state
                )
            return self._inner

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


class _BlockingBody(httpx.SyncByteStream):
    def __init__(self, transport: InProcessTransport, stream: httpx.AsyncByteStream) -> None:
        self.transport = transport
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        chunks = aiter(self.stream)
        while (chunk := self.transport._run(_next_or_none(chunks))) is not None:
            yield chunk

    def close(self) -> None:
        if self.transport._loop is not None:  # else the app is gone with its loop
            self.transport._run(self.stream.aclose())


async def _next_or_none(chunks: Any) -> bytes | None:
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None
