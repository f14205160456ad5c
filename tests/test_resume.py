"""Resumable streams (docs/api.md#resuming-a-stream): a client drops a stream mid-run and
rejoins with Last-Event-ID; it must receive every remaining event exactly once."""

from __future__ import annotations

from typing import Any

import httpx

from run_helpers import SSE, names, new_thread, slow, stream, take, until_status, wait_run

BODY = {
    "assistant_id": "slow",
    "input": slow(8, 0.05),
    "stream_mode": ["values", "updates", "custom"],
    "stream_resumable": True,
}


def _key(ev: SSE) -> tuple[str | None, str, str]:
    return (ev.id, ev.event, ev.raw)


async def _drop_after(
    http: httpx.AsyncClient, url: str, n: int, body: dict[str, Any] = BODY
) -> tuple[httpx.Response, list[SSE]]:
    return await take(http, "POST", url, lambda evs: len(evs) >= n, json_body=body)


async def test_resume_after_drop(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    response, head = await _drop_after(http, f"/threads/{tid}/runs/stream", 5)
    location = response.headers["location"]
    rid = response.headers["content-location"].rsplit("/", 1)[1]
    assert location == f"/threads/{tid}/runs/{rid}/stream"
    assert (await http.get(f"/threads/{tid}/runs/{rid}")).json()["status"] in (
        "pending",
        "running",
    )
    _, tail = await stream(http, "GET", location, headers={"Last-Event-ID": str(head[-1].id)})
    _, full = await stream(http, "GET", location, headers={"Last-Event-ID": "-"})

    assert [_key(e) for e in head + tail] == [_key(e) for e in full]
    ids = [e.id for e in full]
    assert len(set(ids)) == len(ids)
    assert names(full).count("custom") == 8 and full[-1].event == "values"
    assert full[-1].data["step"] == 8
    assert await until_status(http, tid, rid) == "success"

    # Resuming from any earlier point yields exactly the suffix.
    for i in (0, 3, len(full) - 2):
        _, rest = await stream(http, "GET", location, headers={"Last-Event-ID": str(full[i].id)})
        assert [_key(e) for e in rest] == [_key(e) for e in full[i + 1 :]]
    _, none_left = await stream(http, "GET", location, headers={"Last-Event-ID": str(ids[-1])})
    assert none_left == []


async def test_resume_twice_while_running(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    response, first = await _drop_after(http, f"/threads/{tid}/runs/stream", 3)
    location = response.headers["location"]
    _, second = await take(
        http,
        "GET",
        location,
        lambda evs: len(evs) >= 3,
        headers={"Last-Event-ID": str(first[-1].id)},
    )
    _, third = await stream(http, "GET", location, headers={"Last-Event-ID": str(second[-1].id)})
    _, full = await stream(http, "GET", location, headers={"Last-Event-ID": "-"})
    assert [_key(e) for e in first + second + third] == [_key(e) for e in full]


async def test_resume_stateless_stream(http: httpx.AsyncClient) -> None:
    response, head = await _drop_after(http, "/runs/stream", 4)
    location = response.headers["location"]
    assert location.startswith("/runs/") and location.endswith("/stream")
    _, tail = await stream(http, "GET", location, headers={"Last-Event-ID": str(head[-1].id)})
    steps = [e.data["step"] for e in head + tail if e.event == "custom"]
    assert steps == list(range(1, 9))
    assert tail[-1].event == "values" and tail[-1].data["step"] == 8


async def test_resume_through_sdk(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        tid, "slow", **{k: v for k, v in BODY.items() if k != "assistant_id"}
    )
    head = []
    async for part in client.runs.join_stream(tid, run["run_id"], last_event_id="-"):
        head.append(part)
        if len(head) == 4:
            break
    tail = [p async for p in client.runs.join_stream(tid, run["run_id"], last_event_id=head[-1].id)]
    full = [p async for p in client.runs.join_stream(tid, run["run_id"], last_event_id="-")]
    assert [(p.id, p.event) for p in head + tail] == [(p.id, p.event) for p in full]
    assert [p.data for p in head + tail] == [p.data for p in full]


async def test_thread_stream_replay(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    _, run_events = await stream(http, "POST", f"/threads/{tid}/runs/stream", json_body=BODY)
    _, replay = await take(
        http,
        "GET",
        f"/threads/{tid}/stream",
        lambda evs: any(
            e.data == {"status": "run_done", "run_id": run_events[0].data["run_id"]}
            for e in evs
            if e.event == "metadata"
        ),
        headers={"Last-Event-ID": "-"},
    )
    assert [_key(e) for e in replay[:-1]] == [_key(e) for e in run_events]
    # And from the middle.
    mid = run_events[5].id
    _, rest = await take(
        http,
        "GET",
        f"/threads/{tid}/stream",
        lambda evs: any("status" in (e.data or {}) for e in evs if e.event == "metadata"),
        headers={"Last-Event-ID": str(mid)},
    )
    assert [_key(e) for e in rest[:-1]] == [_key(e) for e in run_events[6:]]


async def test_a_run_past_the_retained_count_rejoins_as_an_expired_one(start_server: Any) -> None:
    """`stream_retention_runs` (docs/architecture.md#the-broker-and-event-ids): the runs
    that ended first are forgotten, and read as if their retention had lapsed."""
    with start_server(stream_retention_runs=1) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            tid = await new_thread(http)
            body = {"assistant_id": "counter", "input": {"count": 1}}
            response, events = await stream(
                http, "POST", f"/threads/{tid}/runs/stream", json_body=body
            )
            location = response.headers["location"]
            _, replay = await stream(http, "GET", location, headers={"Last-Event-ID": "-"})
            assert [_key(e) for e in replay] == [_key(e) for e in events]
            joined = (await http.get(f"{location.removesuffix('/stream')}/join")).json()

            await wait_run(http, await new_thread(http), "counter", input={"count": 1})

            _, forgotten = await stream(http, "GET", location, headers={"Last-Event-ID": "-"})
            assert forgotten == []
            # join answers from the thread, as for a run whose events expired
            assert (await http.get(f"{location.removesuffix('/stream')}/join")).json() == joined
