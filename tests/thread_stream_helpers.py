"""Shared by the thread streaming tests: through the official SDK (tests/test_thread_stream.py)
and through ours (tests/sdk_integration/test_sdk_thread_stream.py). Every wait is bounded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from langgraph_sdk.stream.transport import ProtocolSseTransport, ProtocolWebSocketTransport

LIMIT = 30.0


def protocol_transport(http: httpx.AsyncClient, thread_id: str, kind: str) -> Any:
    """The official SDK's transport (`sse` or `websocket`) for one thread."""
    cls = ProtocolWebSocketTransport if kind == "websocket" else ProtocolSseTransport
    return cls(client=http, thread_id=thread_id)


async def read_until(handle: Any, stop: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The events of an official SDK event stream, up to the first one `stop` accepts."""
    seen = []
    async for event in handle.events:
        if "method" not in event:  # the WebSocket's answer to its subscribe
            continue
        seen.append(event)
        if stop(event):
            break
    return seen


def root_end(event: dict[str, Any]) -> bool:
    """The root graph's run completed or failed."""
    params = event["params"]
    return (
        event["method"] == "lifecycle"
        and params["namespace"] == []
        and params["data"]["event"] in ("completed", "failed")
    )


async def thread_log(url: str, thread_id: str, channels: list[str]) -> list[dict[str, Any]]:
    """The thread's events on `channels` from its first, up to its first run's end, as the
    official SDK reads them (the reference a resumed stream is compared with)."""
    async with httpx.AsyncClient(base_url=url, timeout=LIMIT) as http:
        session = protocol_transport(http, thread_id, "sse")
        try:
            whole = session.open_event_stream({"channels": channels, "since": 0})
            events = await read_until(whole, root_end)
            await whole.close()
        finally:
            await session.close()
    return events
