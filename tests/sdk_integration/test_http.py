"""`client.http`, the layer under the resource clients, for endpoints without a method."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from graphport.sdk.errors import NotFoundError, UnprocessableEntityError

from .helpers import RUN, check, collect

pytestmark = pytest.mark.timeout(60)


async def test_http_methods(client: Any) -> None:
    info = await client.http.get("/info")
    assert isinstance(info, dict) and "version" in info
    assert (await client.http.get("/ok"))["ok"] is True
    with pytest.raises(NotFoundError) as raised:
        await client.http.get(f"/threads/{'0' * 8}-0000-0000-0000-{'0' * 12}")
    assert raised.value.status_code == 404 and "not found" in raised.value.message.lower()

    thread = await client.http.post("/threads", json={"metadata": {"via": "http"}})
    path = f"/threads/{thread['thread_id']}"
    patched = await client.http.patch(path, json={"metadata": {"more": 1}})
    assert patched["metadata"] == {"via": "http", "more": 1}
    await client.http.put(
        "/store/items", json={"namespace": ["http"], "key": "k", "value": {"v": 1}}
    )
    assert (
        await client.http.delete("/store/items", json={"namespace": ["http"], "key": "k"}) is None
    )

    run = check(
        await client.http.post(f"{path}/runs", json={"assistant_id": "counter", "input": {}}),
        RUN,
        "run",
    )
    joined = await client.http.request_reconnect(f"{path}/runs/{run['run_id']}/join", "GET")
    assert joined == {"count": 2, "log": ["increment", "double"]}
    parts = await collect(
        client.http.stream(f"/runs/{run['run_id']}/stream", "GET", headers={"Last-Event-ID": "-"})
    )
    assert parts[0].event == "metadata" and {p.event for p in parts[1:]} == {"values"}
    assert parts[-1].data == joined
    got = await client.http.get(f"/runs/{run['run_id']}")
    assert got["run_id"] == run["run_id"] and got["status"] == "success"

    with pytest.raises(UnprocessableEntityError):
        await client.http.post("/threads/search", json={"limit": -1})
    assert await client.http.delete(path) is None


async def test_open_event_stream_hands_back_the_open_response(client: Any) -> None:
    thread = await client.threads.create()
    path = f"/threads/{thread['thread_id']}/stream/events"
    await client.runs.wait(thread["thread_id"], "counter", input={})
    # A classic run shows its lifecycle on the thread's event stream.
    response = await client.http.open_event_stream(
        path, json={"channels": ["lifecycle"], "since": 0}
    )
    try:
        assert response.headers["content-type"].startswith("text/event-stream")
        first = await _first_event(response)
    finally:
        await _close(response)
    assert b"event: lifecycle" in first
    with pytest.raises(UnprocessableEntityError):
        await client.http.open_event_stream(path, json={"channels": ["nope"]})


async def _first_event(response: httpx.Response) -> bytes:
    """The streamed body up to its first event (past heartbeats), from an async or a sync
    (adapted) client."""
    if isinstance(response.stream, httpx.AsyncByteStream):
        body = b""
        async for chunk in response.aiter_bytes():
            body += chunk
            if b"event: " in body:
                break
        return body
    return await asyncio.to_thread(_first_event_blocking, response)


def _first_event_blocking(response: httpx.Response) -> bytes:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if b"event: " in body:
            break
    return body


async def _close(response: httpx.Response) -> None:
    if isinstance(response.stream, httpx.AsyncByteStream):
        await response.aclose()
    else:
        await asyncio.to_thread(response.close)
