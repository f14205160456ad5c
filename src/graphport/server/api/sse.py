"""Server-sent events: framing (docs/api.md#sse-framing), heartbeats while idle, and the
keep-alive body of wait/join (docs/api.md#wait-and-join). Disconnects cancel the generator;
`on_close` sees whether the stream ended on its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from graphport.server import metrics, serde
from graphport.server.runtime.broker import Event
from graphport.server.runtime.shutdown import Shutdown

HEARTBEAT = b": heartbeat\r\n\r\n"
SSE_HEADERS = {
    "Cache-Control": "no-store",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}


def _clean(value: str) -> bytes:
    return value.replace("\r", "").replace("\n", "").encode()


def frame(ev: Event) -> bytes:
    if not ev.id:  # not a stored event: nothing a client could resume from
        return b"event: %s\r\ndata: %s\r\n\r\n" % (_clean(ev.event), ev.data)
    return b"event: %s\r\ndata: %s\r\nid: %s\r\n\r\n" % (_clean(ev.event), ev.data, _clean(ev.id))


async def _with_ticks(
    source: AsyncIterator[Any], interval: float, stop: Shutdown | None = None
) -> AsyncIterator[Any | None]:
    """Items of `source`, and None whenever `interval` passes without one; ends early,
    cleanly, when the process shuts down."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=256)
    stopping = False

    def on_shutdown() -> None:
        nonlocal stopping
        stopping = True
        with contextlib.suppress(asyncio.QueueFull):  # a full queue is drained first
            queue.put_nowait(("end", None))

    async def pump() -> None:
        try:
            async for item in source:
                await queue.put(("item", item))
            await queue.put(("end", None))
        except Exception as e:  # surfaces in the consumer
            await queue.put(("error", e))

    task = asyncio.create_task(pump())
    listening = stop.listening(on_shutdown) if stop is not None else contextlib.nullcontext()
    try:
        with listening:
            while not stopping:
                try:
                    kind, item = await asyncio.wait_for(queue.get(), interval)
                except TimeoutError:
                    yield None
                    continue
                if kind == "end":
                    return
                if kind == "error":
                    raise item
                yield item
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


OnClose = Callable[[bool], Awaitable[None]]


async def _sse_body(
    events: AsyncIterator[Event],
    heartbeat: float,
    on_close: OnClose | None,
    stop: Shutdown | None,
) -> AsyncIterator[bytes]:
    # Ended by a shutdown counts as finished: the client reconnects elsewhere, so a
    # cancel-on-disconnect policy must not cancel its run.
    finished = False
    metrics.OPEN_STREAMS.inc()
    try:
        async for ev in _with_ticks(events, heartbeat, stop):
            yield HEARTBEAT if ev is None else frame(ev)
        finished = True
    except Exception as e:
        err = Event("", "error", serde.dumps({"error": type(e).__name__, "message": str(e)}))
        yield frame(err)
        finished = True
    finally:
        metrics.OPEN_STREAMS.dec()
        if on_close is not None:
            await asyncio.shield(on_close(finished))


def sse_response(
    events: AsyncIterator[Event],
    *,
    heartbeat: float,
    headers: dict[str, str] | None = None,
    on_close: OnClose | None = None,
    stop: Shutdown | None = None,
) -> StreamingResponse:
    return StreamingResponse(
        _sse_body(events, heartbeat, on_close, stop),
        media_type="text/event-stream; charset=utf-8",
        headers={**SSE_HEADERS, **(headers or {})},
    )


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class EventStream(Response):
    """What stream routes declare as their `response_class`: the document then names the
    media type they answer with (`sse_response` builds the actual response)."""

    media_type = "text/event-stream"


class WaitResponse(Response):
    """The 200 JSON of wait/join: the document alone (with a Content-Length) when
    it is ready within a heartbeat, else newlines every heartbeat until it is. Plain ASGI:
    a StreamingResponse costs a task group per request, most of which never stream. A
    client that goes away cancels the wait."""

    def __init__(
        self,
        result: Awaitable[Any],
        *,
        heartbeat: float,
        headers: dict[str, str] | None = None,
        on_close: OnClose | None = None,
        stop: Shutdown | None = None,
    ) -> None:
        self.result = result
        self.stop = stop
        self.heartbeat = heartbeat
        self.raw_headers = [
            *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
            (b"content-type", b"application/json"),
        ]
        self.on_close = on_close
        self.status_code = 200
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.ensure_future(self.result)
        gone = asyncio.ensure_future(_until_disconnect(receive))
        finished = started = False
        try:
            while not task.done():
                await asyncio.wait(
                    [task, gone], timeout=self.heartbeat, return_when=asyncio.FIRST_COMPLETED
                )
                if task.done():
                    break
                if gone.done():
                    return
                if not started:
                    await send(
                        {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                    )
                    started = True
                await send({"type": "http.response.body", "body": b"\n", "more_body": True})
            body = serde.dumps(task.result())
            finished = True
            if not started:
                length = (b"content-length", str(len(body)).encode())
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [*self.raw_headers, length],
                    }
                )
            await send({"type": "http.response.body", "body": body})
        finally:
            for pending in (task, gone):
                pending.cancel()
            # Cut by a shutdown, the run goes on elsewhere: not a client leaving.
            finished = finished or (self.stop is not None and self.stop.begun)
            if self.on_close is not None:
                await asyncio.shield(self.on_close(finished))
