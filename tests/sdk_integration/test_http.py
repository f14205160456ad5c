"""`client.http`, the layer under the resource clients, for endpoints without a method."""

from __future__ import annotations

from typing import Any

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
