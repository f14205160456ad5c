"""Helpers shared by the run-engine tests: SSE over httpx, bounded polling, small shortcuts.

Every wait here has a deadline; nothing sleeps a fixed time when a condition can be polled."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

FINAL = ("success", "error", "timeout", "interrupted")


@dataclass(frozen=True)
class SSE:
    event: str
    data: Any
    id: str | None = None
    raw: str = ""

    @property
    def mode(self) -> str:
        return self.event.split("|", 1)[0]


async def events_of(response: httpx.Response) -> AsyncIterator[SSE]:
    """Decode an SSE body line by line (comments skipped), as a spec-following client would."""
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if "event" in fields or "data" in fields:
                raw = fields.get("data", "")
                yield SSE(
                    fields.get("event", "message"),
                    json.loads(raw) if raw else None,
                    fields.get("id"),
                    raw,
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        fields[key] = value[1:] if value.startswith(" ") else value


async def stream(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    params: Any = None,
    timeout: float = 30.0,
) -> tuple[httpx.Response, list[SSE]]:
    """The whole SSE response of a request that ends by itself."""
    async with asyncio.timeout(timeout):
        async with http.stream(
            method, url, json=json_body, headers=headers, params=params
        ) as response:
            if response.status_code != 200:
                await response.aread()
                return response, []
            return response, [ev async for ev in events_of(response)]


async def stream_run(
    http: httpx.AsyncClient, thread_id: str | None, body: dict[str, Any], **kw: Any
) -> tuple[httpx.Response, list[SSE]]:
    url = f"/threads/{thread_id}/runs/stream" if thread_id else "/runs/stream"
    return await stream(http, "POST", url, json_body=body, **kw)


async def take(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    until: Callable[[list[SSE]], bool],
    *,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    params: Any = None,
    timeout: float = 15.0,
) -> tuple[httpx.Response, list[SSE]]:
    """Read events until `until(events)` holds, then drop the connection (a client going away)."""
    seen: list[SSE] = []
    async with asyncio.timeout(timeout):
        async with http.stream(
            method, url, json=json_body, headers=headers, params=params
        ) as response:
            assert response.status_code == 200, (await response.aread()).decode()
            async for ev in events_of(response):
                seen.append(ev)
                if until(seen):
                    break
    return response, seen


async def poll(
    fn: Callable[[], Awaitable[Any]],
    ok: Callable[[Any], bool],
    *,
    timeout: float = 15.0,
    interval: float = 0.02,
    what: str = "condition",
) -> Any:
    """Call `fn` until `ok(result)`; fail with the last result after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        await asyncio.sleep(interval)


async def new_thread(http: httpx.AsyncClient, **body: Any) -> str:
    r = await http.post("/threads", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["thread_id"])


async def create_run(
    http: httpx.AsyncClient, thread_id: str, assistant_id: str, **body: Any
) -> dict[str, Any]:
    r = await http.post(f"/threads/{thread_id}/runs", json={"assistant_id": assistant_id, **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def wait_run(
    http: httpx.AsyncClient, thread_id: str, assistant_id: str | None, **body: Any
) -> Any:
    url = f"/threads/{thread_id}/runs/wait" if thread_id else "/runs/wait"
    r = await http.post(url, json={"assistant_id": assistant_id, **body})
    assert r.status_code == 200, r.text
    return r.json()


async def get_run(http: httpx.AsyncClient, thread_id: str, run_id: str) -> dict[str, Any]:
    r = await http.get(f"/threads/{thread_id}/runs/{run_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def run_status(http: httpx.AsyncClient, thread_id: str, run_id: str) -> str | None:
    r = await http.get(f"/threads/{thread_id}/runs/{run_id}")
    return str(r.json()["status"]) if r.status_code == 200 else None


async def until_status(
    http: httpx.AsyncClient,
    thread_id: str,
    run_id: str,
    statuses: Iterable[str] = FINAL,
    timeout: float = 10.0,
) -> str:
    wanted = set(statuses)
    return str(
        await poll(
            lambda: run_status(http, thread_id, run_id),
            lambda s: s in wanted,
            timeout=timeout,
            what=f"run {run_id} in {sorted(wanted)}",
        )
    )


async def thread(http: httpx.AsyncClient, thread_id: str) -> dict[str, Any]:
    r = await http.get(f"/threads/{thread_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def state(http: httpx.AsyncClient, thread_id: str) -> dict[str, Any]:
    r = await http.get(f"/threads/{thread_id}/state")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def history(http: httpx.AsyncClient, thread_id: str, limit: int = 100) -> list[Any]:
    r = await http.post(f"/threads/{thread_id}/history", json={"limit": limit})
    assert r.status_code == 200, r.text
    return list(r.json())


async def seen_events(
    http: httpx.AsyncClient,
    thread_id: str,
    run_id: str,
    event: str,
    count: int = 1,
    timeout: float = 10.0,
) -> list[SSE]:
    """Join a run's stream from the start until `count` events named `event` were seen."""
    _, seen = await take(
        http,
        "GET",
        f"/threads/{thread_id}/runs/{run_id}/stream",
        lambda evs: sum(e.event == event for e in evs) >= count,
        headers={"Last-Event-ID": "-"},
        timeout=timeout,
    )
    return seen


def names(events: Iterable[SSE]) -> list[str]:
    return [e.event for e in events]


def slow(steps: int, delay: float) -> dict[str, Any]:
    return {"steps": steps, "delay": delay}
