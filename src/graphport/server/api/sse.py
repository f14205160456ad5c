"""Server-sent events: framing (spec 4.1), heartbeats while idle, and the keep-alive body
of wait/join (spec 5). Disconnects cancel the generator; `on_close` sees whether the
stream ended on its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.responses import StreamingResponse

from graphport.server import serde
from graphport.server.runtime.broker import Event

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
    source: AsyncIterator[Any], interval: float
) -> AsyncIterator[Any | None]:
    """Items of `source`, and None whenever `interval` passes without one."""
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=256)

    async def pump() -> None:
        try:
            async for item in source:
                await queue.put(("item", item))
            await queue.put(("end", None))
        except Exception as e:  # surfaces in the consumer
            await queue.put(("error", e))

    task = asyncio.create_task(pump())
    try:
        while True:
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
    events: AsyncIterator[Event], heartbeat: float, on_close: OnClose | None
) -> AsyncIterator[bytes]:
    finished = False
    try:
        async for ev in _with_ticks(events, heartbeat):
            yield HEARTBEAT if ev is None else frame(ev)
        finished = True
    except Exception as e:
        err = Event("", "error", serde.dumps({"error": type(e).__name__, "message": str(e)}))
        yield frame(err)
        finished = True
    finally:
        if on_close is not None:
            await asyncio.shield(on_close(finished))


def sse_response(
    events: AsyncIterator[Event],
    *,
    heartbeat: float,
    headers: dict[str, str] | None = None,
    on_close: OnClose | None = None,
) -> StreamingResponse:
    return StreamingResponse(
        _sse_body(events, heartbeat, on_close),
        media_type="text/event-stream; charset=utf-8",
        headers={**SSE_HEADERS, **(headers or {})},
    )


async def _wait_body(
    result: Awaitable[Any], heartbeat: float, on_close: OnClose | None
) -> AsyncIterator[bytes]:
    task = asyncio.ensure_future(result)
    finished = False
    try:
        while True:
            done, _ = await asyncio.wait([task], timeout=heartbeat)
            if done:
                break
            yield b"\n"
        body = task.result()
        finished = True
        yield serde.dumps(body)
    finally:
        if not task.done():
            task.cancel()
        if on_close is not None:
            await asyncio.shield(on_close(finished))


def wait_response(
    result: Awaitable[Any],
    *,
    heartbeat: float,
    headers: dict[str, str] | None = None,
    on_close: OnClose | None = None,
) -> StreamingResponse:
    """200 JSON streamed: newlines while waiting, then the document (spec 5)."""
    return StreamingResponse(
        _wait_body(result, heartbeat, on_close),
        media_type="application/json",
        headers=headers,
    )
