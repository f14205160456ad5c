"""Serve requests from an ASGI app in this process, streaming the response.

httpx's own `ASGITransport` runs the app to completion and buffers the body: a live SSE stream
would arrive all at once at the end, and a client could never hang up on it. Here the app runs in
a task and hands each body chunk through a queue as it is sent; closing the response tells the
app the client disconnected, as a socket close would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

_CLIENT = ("127.0.0.1", 123)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AsyncInProcessTransport(httpx.AsyncBaseTransport):
    """An httpx transport that calls `app` directly; no socket, no serialization round-trip.

    The app's lifespan is not run: call this for an app that is already started (the server
    calling itself, or a test that entered the app's lifespan). `state` is the lifespan state
    handed to each request, as a server does. There is no back-pressure: chunks the reader has
    not taken yet wait in memory.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        root_path: str = "",
        state: dict[str, Any] | None = None,
        disconnect_grace: float = 5.0,
    ) -> None:
        self.app = app
        self.root_path = root_path
        self.state = state
        self.disconnect_grace = disconnect_grace

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Start the app on `request`; return as soon as it has sent the response head."""
        exchange = _Exchange(await request.aread(), self.disconnect_grace)
        task = asyncio.ensure_future(
            self.app(self._scope(request), exchange.receive, exchange.send)
        )
        task.add_done_callback(exchange.finished)
        start = await exchange.started(task)
        return httpx.Response(
            start["status"],
            headers=start.get("headers", []),
            stream=_ResponseBody(exchange, task),
            request=request,
        )

    def _scope(self, request: httpx.Request) -> Scope:
        raw_path, _, query = request.url.raw_path.partition(b"?")
        scope: Scope = {
            "type": "http",
            # 2.3, as uvicorn says: Starlette then listens for `http.disconnect` and stops a
            # stream the moment the client closes it. Told 2.4, it waits for its next send to
            # fail (an idle SSE stream: the next heartbeat) and reports that failure as an
            # unhandled ClientDisconnect, neither of which a socket client ever sees.
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": unquote(raw_path.decode("ascii")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": self.root_path,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": _CLIENT,
            "server": (request.url.host, request.url.port or _DEFAULT_PORTS[request.url.scheme]),
        }
        if self.state is not None:
            scope["state"] = dict(self.state)
        return scope


class _Exchange:
    """Both ends of one request: the app's `receive`/`send` and the client's body queue."""

    def __init__(self, body: bytes, disconnect_grace: float) -> None:
        self.body: bytes | None = body
        # Body chunks, then an error if the app stopped mid-body, then None: the end.
        self.chunks: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        self.start: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.disconnected = asyncio.Event()
        self.disconnect_grace = disconnect_grace

    async def receive(self) -> Message:
        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.disconnected.is_set():
            # Sending to a gone client raises an OSError (as ASGI allows), so streaming apps
            # that never call `receive` stop too.
            raise OSError("Client disconnected")
        if message["type"] == "http.response.start":
            self.start.set_result(message)
        elif message["type"] == "http.response.body":
            if chunk := message.get("body", b""):
                self.chunks.put_nowait(chunk)
            if not message.get("more_body", False):
                self.chunks.put_nowait(None)

    async def started(self, task: asyncio.Task[None]) -> Message:
        """The response head, or the app's exception if it failed before sending one."""
        try:
            waiters: set[asyncio.Future[Any]] = {self.start, task}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if self.start.done():
            return self.start.result()
        task.result()  # raises what the app raised
        raise RuntimeError("The ASGI app returned without starting a response")

    def finished(self, task: asyncio.Task[None]) -> None:
        """An app that stops (or crashes) mid-body ends the stream, as a closed socket would."""
        if task.cancelled() or task.exception() is not None:
            error = httpx.RemoteProtocolError("The app stopped mid-response")
            error.__cause__ = None if task.cancelled() else task.exception()
            self.chunks.put_nowait(error)
        self.chunks.put_nowait(None)


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, exchange: _Exchange, task: asyncio.Task[None]) -> None:
        self.exchange = exchange
        self.task = task

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self.exchange.chunks.get()) is not None:
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk

    async def aclose(self) -> None:
        """Tell the app the client left; give it a moment to wind down, then cancel it."""
        self.exchange.disconnected.set()
        if not self.task.done():
            await asyncio.wait({self.task}, timeout=self.exchange.disconnect_grace)
        if not self.task.done():
            self.task.cancel()
            await asyncio.wait({self.task})
