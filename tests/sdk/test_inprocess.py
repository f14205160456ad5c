"""In-process transports: an ASGI app called without a socket, with live, closable streams."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
import pytest

from graphport.sdk import get_client, get_sync_client
from graphport.sdk.client import AsyncInProcessTransport, Lifespan

from .helpers import sse

pytestmark = pytest.mark.timeout(10)

EVENTS = [("metadata", {"run_id": "r"}, "1"), ("values", {"n": 1}, "2"), ("values", {"n": 2}, "3")]
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"location", b"/threads/t/runs/r/stream"),
]


class App:
    """A raw ASGI app standing in for the server.

    `/threads/t/runs/stream` sends one event, waits for `gate`, then sends the rest and `end`;
    with `crash_after` it crashes after that many events the first time (a dropped connection)
    and resumes after `Last-Event-ID` on the next request. `/forever` streams until the client
    leaves. `/echo` returns the request body and the lifespan state.
    """

    def __init__(self, *, crash_after: int | None = None) -> None:
        self.gate = threading.Event()
        self.crash_after = crash_after
        self.disconnected = threading.Event()
        self.lifespan: list[str] = []
        self.seen: list[tuple[str, str, dict[bytes, bytes]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.run_lifespan(scope, receive, send)
            return
        headers = dict(scope["headers"])
        self.seen.append((scope["method"], scope["path"], headers))
        body = (await receive())["body"]
        if scope["path"] == "/boom":
            raise RuntimeError("boom")
        if scope["path"] == "/echo":
            reply = orjson.dumps({"body": orjson.loads(body), "state": scope.get("state")})
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": reply})
            return
        await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
        if scope["path"] == "/forever":
            await self.stream_until_disconnect(receive, send)
        else:
            await self.stream_run(headers.get(b"last-event-id"), send)

    async def stream_run(self, last_event_id: bytes | None, send: Any) -> None:
        events = [e for e in EVENTS if last_event_id is None or e[2] > last_event_id.decode()]
        for index, (event, data, id) in enumerate(events):
            if index == self.crash_after:
                self.crash_after = None
                raise RuntimeError("worker died")
            await send(
                {"type": "http.response.body", "body": sse(event, data, id), "more_body": True}
            )
            if index == 0:
                await asyncio.to_thread(self.gate.wait, 5)
        await send({"type": "http.response.body", "body": sse("end", None)})

    async def stream_until_disconnect(self, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.body", "body": sse("values", {}, "1"), "more_body": True}
        )
        if (await receive())["type"] == "http.disconnect":
            self.disconnected.set()

    async def run_lifespan(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            self.lifespan.append(message["type"])
            if message["type"] == "lifespan.startup":
                scope["state"]["ready"] = True
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return


async def test_stream_is_live_not_buffered() -> None:
    app = App()
    async with get_client(app=app) as client:
        stream = client.runs.stream("t", "agent")
        first = await asyncio.wait_for(anext(stream), 5)  # the app is still blocked on `gate`
        assert (first.event, app.gate.is_set()) == ("metadata", False)
        app.gate.set()
        rest = [part.id async for part in stream]
    assert rest == ["2", "3", "3"]


async def test_closing_the_stream_disconnects_the_app() -> None:
    app = App()
    async with get_client(app=app) as client:
        stream = client.http.stream("/forever", "GET")
        await asyncio.wait_for(anext(stream), 5)
        await stream.aclose()
    assert app.disconnected.is_set()


async def test_stream_resumes_after_the_app_crashes_mid_response() -> None:
    app = App(crash_after=2)
    app.gate.set()
    async with get_client(app=app, reconnect_delay=0.001) as client:
        parts = [part async for part in client.runs.stream("t", "agent")]
    assert [(p.event, p.id) for p in parts] == [
        ("metadata", "1"),
        ("values", "2"),
        ("values", "3"),
        ("end", "3"),
    ]
    method, path, headers = app.seen[1]
    assert (method, path, headers[b"last-event-id"]) == ("GET", "/threads/t/runs/r/stream", b"2")


async def test_json_request_and_app_error_before_response() -> None:
    app = App()
    async with get_client(app=app) as client:
        assert await client.http.post("/echo", json={"a": 1}) == {"body": {"a": 1}, "state": None}
        with pytest.raises(RuntimeError, match="boom"):
            await client.http.get("/boom")
    assert str(client.http.client.base_url) == "http://api"


def test_sync_client_runs_the_app_and_its_lifespan_on_a_background_loop() -> None:
    app = App()
    with get_sync_client(app=app) as client:
        assert client.http.post("/echo", json=[1]) == {"body": [1], "state": {"ready": True}}
        stream = client.runs.stream("t", "agent")
        assert next(stream).event == "metadata"
        app.gate.set()
        assert [part.id for part in stream] == ["2", "3", "3"]
        forever = client.http.stream("/forever", "GET")
        next(forever)
        forever.close()
        assert app.disconnected.is_set()
    assert app.lifespan == ["lifespan.startup", "lifespan.shutdown"]


async def test_async_client_with_a_lifespan_run_by_the_caller() -> None:
    app = App()
    async with Lifespan(app) as lifespan:
        transport = AsyncInProcessTransport(app, state=lifespan.state)
        async with get_client(transport=transport) as client:
            echoed = await client.http.post("/echo", json={})
        assert echoed == {"body": {}, "state": {"ready": True}}
    assert app.lifespan == ["lifespan.startup", "lifespan.shutdown"]


async def test_lifespan_of_an_app_without_one_is_a_no_op() -> None:
    async def plain(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"

    async with Lifespan(plain) as lifespan:  # type: ignore[arg-type]
        assert lifespan.state == {}


async def test_failed_startup_raises() -> None:
    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(RuntimeError, match="no database"):
        await Lifespan(failing).startup()  # type: ignore[arg-type]


async def test_closing_an_idle_starlette_stream_is_prompt_and_clean() -> None:
    # Starlette stops a stream on `http.disconnect` only if the server says ASGI < 2.4; told
    # 2.4, it waits for its next send to fail (an idle SSE stream: the next heartbeat), so
    # closing took the whole disconnect grace, and the failed send surfaced as an app error.
    from starlette.responses import StreamingResponse

    closed = threading.Event()
    errors: list[BaseException] = []

    async def idle() -> Any:
        try:
            yield b"event: values\r\ndata: {}\r\nid: 1\r\n\r\n"
            await asyncio.sleep(30)
        finally:
            closed.set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await StreamingResponse(idle(), media_type="text/event-stream")(scope, receive, send)
        except BaseException as exc:
            errors.append(exc)
            raise

    async with get_client(app=app) as client:
        stream = client.http.stream("/idle", "GET")
        assert (await asyncio.wait_for(anext(stream), 5)).id == "1"
        async with asyncio.timeout(1):
            await stream.aclose()
    assert closed.is_set() and errors == []
