"""Thread streaming sessions (docs/api.md#thread-event-streaming): commands over HTTP,
events as SSE (the body is the subscription) or both over one WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends, WebSocket, WebSocketDisconnect
from starlette.responses import Response

from graphport.server import serde
from graphport.server.api import deps
from graphport.server.api.responses import JSON
from graphport.server.api.sse import sse_response
from graphport.server.core import Core
from graphport.server.errors import GraphportError, Unprocessable
from graphport.server.runtime.broker import Event, InvalidEventId, event_key
from graphport.server.services import thread_stream as service
from graphport.server.services.caller import Caller

router = APIRouter(prefix="/threads", tags=["thread streaming"], strict_content_type=False)
Ctx = Depends(deps.core)
Who = Depends(deps.caller)

CALLER_KEY = "graphport.caller"
# A WebSocket refused after its upgrade closes with 4000 + the HTTP status it would get.
_WS_STATUS_BASE = 4000
_WS_GOING_AWAY = 1001


@router.post("/{thread_id}/commands")
async def thread_command(
    thread_id: str, body: Any = Body(None), core: Core = Ctx, caller: Caller = Who
) -> JSON:
    """One command of a session; protocol failures are error envelopes with a 200."""
    return JSON(await service.command(core, caller, thread_id, body))


def _since(params: dict[str, Any]) -> int | None:
    since = params.get("since")
    if since is not None and (not isinstance(since, int) or since < 0):
        raise service.ProtocolError("invalid_argument", "since must be a non-negative integer")
    return since


@router.post("/{thread_id}/stream/events")
async def thread_events(
    thread_id: str, body: Any = Body(None), core: Core = Ctx, caller: Caller = Who
) -> Response:
    """The thread's events matching the body's filter, from after `since` (or from its
    latest run), as SSE until the client leaves."""
    params = body if isinstance(body, dict) else {}
    try:
        flt = service.Filter.parse(params)
        since = _since(params)
    except service.ProtocolError as e:
        raise Unprocessable(e.message) from None
    events = await service.open_events(core, caller, thread_id, since=since)
    return sse_response(
        _frames(service.filtered(events, flt)),
        heartbeat=core.settings.heartbeat_seconds,
        stop=core.shutdown,
    )


async def _frames(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[Event]:
    async for out in events:
        yield Event(out["event_id"], out["method"], serde.dumps(out))


@router.websocket("/{thread_id}/stream/events")
async def thread_events_ws(websocket: WebSocket, thread_id: str) -> None:
    """Commands in, responses and events out. Subscriptions are per connection; closes
    when the process shuts down, so the client reconnects elsewhere with its last id."""
    core: Core = websocket.app.state.core
    found = websocket.scope.get(CALLER_KEY)
    caller = found if isinstance(found, Caller) else Caller()
    await websocket.accept()
    session = _Socket(core, caller, thread_id, websocket)
    with core.shutdown.listening(session.stop):
        try:
            await session.serve()
        except GraphportError as e:
            await _close(websocket, _WS_STATUS_BASE + e.status_code, str(e))
        except WebSocketDisconnect:
            pass
        finally:
            await session.close()


async def _close(websocket: WebSocket, code: int, reason: str = "") -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason[:120])


class _Socket:
    """One WebSocket session: its subscriptions and the task pumping matching events."""

    def __init__(self, core: Core, caller: Caller, thread_id: str, websocket: WebSocket) -> None:
        self.core = core
        self.caller = caller
        self.thread_id = thread_id
        self.websocket = websocket
        self.subscriptions: dict[str, service.Filter] = {}
        self.pump: asyncio.Task[None] | None = None
        self.sending = asyncio.Lock()
        self.stopped = asyncio.Event()

    def stop(self) -> None:
        self.stopped.set()

    async def send(self, message: Mapping[str, Any]) -> None:
        async with self.sending:
            await self.websocket.send_text(serde.dumps(message).decode())

    async def serve(self) -> None:
        stop = asyncio.create_task(self.stopped.wait())
        try:
            while True:
                receive = asyncio.create_task(self.websocket.receive_text())
                await asyncio.wait([receive, stop], return_when=asyncio.FIRST_COMPLETED)
                if stop.done():
                    receive.cancel()
                    await _close(self.websocket, _WS_GOING_AWAY, "server shutting down")
                    return
                await self.handle(receive.result())
        finally:
            stop.cancel()

    async def handle(self, raw: str) -> None:
        try:
            cmd = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self.send(service.failure(None, "invalid_argument", "frames are JSON"))
            return
        method = cmd.get("method") if isinstance(cmd, dict) else None
        command_id = cmd.get("id") if isinstance(cmd, dict) else None
        params = (cmd.get("params") if isinstance(cmd, dict) else None) or {}
        try:
            if method == "subscription.subscribe":
                result = await self.subscribe(params)
            elif method == "subscription.unsubscribe":
                result = self.unsubscribe(params)
            elif method == "subscription.reconnect":
                result = await self.reconnect(params)
            else:
                await self.send(await service.command(self.core, self.caller, self.thread_id, cmd))
                return
        except service.ProtocolError as e:
            await self.send(service.failure(command_id, e.code, e.message))
            return
        await self.send(service.success(command_id, result))

    async def subscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        flt = service.Filter.parse(params)
        since = _since(params)
        subscription_id = f"sub-{len(self.subscriptions) + 1}-{id(flt):x}"
        if self.pump is None:
            # The first subscription decides where the connection's events start.
            events = await service.open_events(self.core, self.caller, self.thread_id, since=since)
            await self.start(events)
        self.subscriptions[subscription_id] = flt
        return {"subscription_id": subscription_id}

    def unsubscribe(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.subscriptions.pop(str(params.get("subscription_id")), None) is None:
            raise service.ProtocolError("no_such_subscription", "no such subscription")
        return {}

    async def reconnect(self, params: dict[str, Any]) -> dict[str, Any]:
        """Resume this connection's events right after `last_event_id`."""
        last = params.get("last_event_id")
        try:
            position = event_key(last) if isinstance(last, str) else None
        except (InvalidEventId, ValueError):
            raise service.ProtocolError("invalid_argument", "malformed last_event_id") from None
        await self.start(
            await service.open_events(self.core, self.caller, self.thread_id, after=position)
        )
        return {"restored": bool(self.subscriptions)}

    async def start(self, events: AsyncIterator[dict[str, Any]]) -> None:
        await self.close()
        self.pump = asyncio.create_task(self._pump(events))

    async def _pump(self, events: AsyncIterator[dict[str, Any]]) -> None:
        async for out in events:
            if any(flt.matches(out) for flt in list(self.subscriptions.values())):
                await self.send(out)

    async def close(self) -> None:
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pump
            self.pump = None
