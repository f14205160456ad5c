"""SSE run streams (docs/api.md#sse-framing): framing, every stream mode's event names and
payload shapes, subgraph namespacing, join streams with filters, and the thread stream."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import httpx

from run_helpers import (
    SSE,
    create_run,
    names,
    new_thread,
    slow,
    stream,
    stream_run,
    take,
    until_status,
    wait_run,
)

COUNTER = {"assistant_id": "counter", "input": {"count": 1}}
AGENT_INPUT = {"messages": [{"role": "user", "content": "hello there"}]}
REPLY = "You said: hello there"


def modes_of(events: list[SSE]) -> set[str]:
    return {e.event for e in events} - {"metadata"}


async def test_framing_and_default_values_mode(server: Any, http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    async with http.stream("POST", f"/threads/{tid}/runs/stream", json=COUNTER) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        raw = (await response.aread()).decode()
    frames = [f for f in raw.split("\r\n\r\n") if f and not f.startswith(":")]
    first = frames[0].split("\r\n")
    assert first[0] == "event: metadata"
    assert first[1].startswith("data: {") and first[2].startswith("id: ")
    meta = json.loads(first[1][len("data: ") :])
    assert meta["attempt"] == 1
    assert response.headers["content-location"].endswith(meta["run_id"])

    _, events = await stream_run(http, tid, COUNTER)
    assert names(events) == ["metadata", "values", "values", "values"]
    assert events[1].data == {"count": 1, "log": ["increment", "double"]}  # input on top
    assert events[-1].data == {"count": 4, "log": ["increment", "double"] * 2}
    ids = [e.id for e in events]
    assert all(ids) and len(set(ids)) == len(ids)
    keys = [tuple(map(int, str(i).split("-"))) for i in ids]
    assert keys == sorted(keys)


async def test_updates_mode(http: httpx.AsyncClient) -> None:
    _, events = await stream_run(http, None, {**COUNTER, "stream_mode": "updates"})
    assert names(events) == ["metadata", "updates", "updates"]
    assert events[1].data == {"increment": {"count": 2, "log": ["increment"]}}
    assert events[2].data == {"double": {"count": 4, "log": ["double"]}}


async def test_messages_trio(http: httpx.AsyncClient) -> None:
    _, events = await stream_run(
        http, None, {"assistant_id": "agent", "input": AGENT_INPUT, "stream_mode": "messages"}
    )
    assert events[0].event == "metadata"
    body = events[1:]
    assert body[0].event == "messages/metadata"
    [(msg_id, meta)] = body[0].data.items()
    assert meta["metadata"]["langgraph_node"] == "call_model"
    partials = [e for e in body if e.event == "messages/partial"]
    assert len(partials) >= 3
    contents = [e.data[0]["content"] for e in partials]
    for shorter, longer in itertools.pairwise(contents):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert contents[-1] == REPLY
    assert {e.data[0]["id"] for e in partials} == {msg_id}
    assert {e.data[0]["type"] for e in partials} == {"ai"}
    assert set(names(body)) <= {"messages/metadata", "messages/partial", "messages/complete"}
    assert names(body).count("messages/metadata") == 1


async def test_messages_complete_for_state_messages(http: httpx.AsyncClient) -> None:
    # echo returns a whole AIMessage (no model streaming): one complete message.
    _, events = await stream_run(
        http,
        None,
        {
            "assistant_id": "echo",
            "input": {"messages": [{"role": "user", "content": "ping"}]},
            "stream_mode": "messages",
        },
    )
    assert names(events) == ["metadata", "messages/metadata", "messages/complete"]
    [message] = events[2].data
    assert message["type"] == "ai" and message["content"] == "ping"
    assert list(events[1].data) == [message["id"]]


async def test_messages_carry_finished_messages(client: Any) -> None:
    # As the official server: the accumulated message is sent as a finished message
    # (`type: "ai"`), never as a chunk, in `messages/partial` and `messages/complete`.
    parts = [
        part
        async for part in client.runs.stream(
            None, "agent", input=AGENT_INPUT, stream_mode="messages"
        )
        if part.event in ("messages/partial", "messages/complete")
    ]
    assert parts
    assert {part.data[0]["type"] for part in parts} == {"ai"}
    assert "tool_call_chunks" not in parts[-1].data[0]
    assert parts[-1].data[0]["content"] == REPLY


async def test_messages_tuple(http: httpx.AsyncClient) -> None:
    for modes in ("messages-tuple", ["messages", "messages-tuple"]):
        _, events = await stream_run(
            http, None, {"assistant_id": "agent", "input": AGENT_INPUT, "stream_mode": modes}
        )
        body = events[1:]
        assert body and set(names(body)) == {"messages"}
        for ev in body:
            chunk, meta = ev.data
            assert chunk["type"] == "AIMessageChunk"
            assert meta["langgraph_node"] == "call_model" and "langgraph_step" in meta
        assert "".join(ev.data[0]["content"] for ev in body) == REPLY


async def test_events_mode(http: httpx.AsyncClient) -> None:
    _, events = await stream_run(
        http, None, {"assistant_id": "agent", "input": AGENT_INPUT, "stream_mode": "events"}
    )
    body = events[1:]
    assert set(names(body)) == {"events"}
    kinds = [e.data["event"] for e in body]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"
    assert "on_chat_model_stream" in kinds
    for ev in body:
        assert {"event", "name", "run_id", "tags", "metadata", "data"} <= set(ev.data)
    # Events mode does not leak other modes.
    _, events = await stream_run(http, None, {**COUNTER, "stream_mode": ["events", "updates"]})
    assert modes_of(events) == {"events", "updates"}


async def test_debug_tasks_checkpoints(http: httpx.AsyncClient) -> None:
    # Stateful: a temporary (stateless) run has no checkpointer, hence no checkpoints.
    _, events = await stream_run(
        http, await new_thread(http), {**COUNTER, "stream_mode": ["debug", "tasks", "checkpoints"]}
    )
    assert modes_of(events) == {"debug", "tasks", "checkpoints"}
    debug = [e.data for e in events if e.event == "debug"]
    assert {d["type"] for d in debug} == {"checkpoint", "task", "task_result"}
    for d in debug:
        assert {"type", "step", "timestamp", "payload"} <= set(d)
    cps = [d["payload"] for d in debug if d["type"] == "checkpoint"]
    for payload in cps:
        assert {"config", "parent_config", "values", "metadata", "next", "tasks"} <= set(payload)
        # Checkpoint objects next to the configs (docs/api.md#stream-modes).
        assert (
            payload["checkpoint"]["checkpoint_id"]
            == (payload["config"]["configurable"]["checkpoint_id"])
        )
        assert payload["checkpoint"]["checkpoint_ns"] == ""
    assert cps[0]["parent_checkpoint"] is None
    assert cps[1]["parent_checkpoint"]["checkpoint_id"] == cps[0]["checkpoint"]["checkpoint_id"]

    tasks = [e.data for e in events if e.event == "tasks"]
    starts = [t for t in tasks if "input" in t]
    results = [t for t in tasks if "result" in t]
    assert [t["name"] for t in starts] == ["increment", "double"]
    assert {"id", "name", "input", "triggers"} <= set(starts[0])
    assert {"id", "name", "error", "interrupts", "result"} <= set(results[0])
    assert results[1]["result"] == {"count": 4, "log": ["double"]}

    checkpoints = [e.data for e in events if e.event == "checkpoints"]
    assert len(checkpoints) == 4
    for cp in checkpoints:
        assert {"config", "parent_config", "values", "metadata", "next", "tasks"} <= set(cp)
    assert checkpoints[-1]["values"] == {"count": 4, "log": ["increment", "double"]}
    assert checkpoints[-1]["next"] == []


async def test_custom_and_several_modes(http: httpx.AsyncClient) -> None:
    _, events = await stream_run(
        http,
        None,
        {"assistant_id": "slow", "input": slow(2, 0.01), "stream_mode": "custom"},
    )
    assert names(events) == ["metadata", "custom", "custom"]
    assert events[1].data == {"step": 1, "of": 2, "delay": 0.01}

    _, events = await stream_run(
        http,
        None,
        {
            "assistant_id": "slow",
            "input": slow(2, 0.01),
            "stream_mode": ["values", "updates", "custom"],
        },
    )
    assert events[0].event == "metadata"
    assert modes_of(events) == {"values", "updates", "custom"}
    assert names(events).count("custom") == 2
    assert [e.data for e in events if e.event == "updates"][-1] == {
        "tick": {"step": 2, "log": ["tick 2"]}
    }
    assert events[-1].event == "values" and events[-1].data["step"] == 2


async def test_interrupt_in_updates_and_values(http: httpx.AsyncClient) -> None:
    _, events = await stream_run(
        http,
        await new_thread(http),
        {"assistant_id": "hitl", "input": {"topic": "t"}, "stream_mode": ["updates", "values"]},
    )
    [update] = [e.data for e in events if e.event == "updates" and "__interrupt__" in e.data]
    [intr] = update["__interrupt__"]
    assert intr["value"]["draft"] == "A short note about t." and intr["id"]
    assert events[-1].event == "values" and events[-1].data["__interrupt__"] == [intr]


async def test_error_event(http: httpx.AsyncClient) -> None:
    _, events = await stream_run(
        http, None, {"assistant_id": "failing", "input": {"value": "v"}, "stream_mode": "updates"}
    )
    assert names(events) == ["metadata", "updates", "error"]
    assert events[-1].data == {"error": "ValueError", "message": "boom"}


async def test_subgraph_namespacing(http: httpx.AsyncClient) -> None:
    body = {"assistant_id": "subgraph", "input": {"text": " a b "}, "stream_mode": "updates"}
    _, flat = await stream_run(http, None, body)
    assert names(flat) == ["metadata", "updates", "updates", "updates"]
    _, nested = await stream_run(
        http, None, {**body, "stream_mode": ["updates", "values"], "stream_subgraphs": True}
    )
    child = [e for e in nested if "|" in e.event]
    assert {e.mode for e in child} == {"updates", "values"}
    namespaces = {e.event.split("|", 1)[1] for e in child}
    assert len(namespaces) == 1
    [ns] = namespaces
    node, _, task_id = ns.partition(":")
    assert node == "child" and task_id
    child_updates = [e.data for e in child if e.mode == "updates"]
    assert child_updates == [{"shout": {"text": "A B"}}, {"exclaim": {"text": "A B!"}}]
    root_updates = [e.data for e in nested if e.event == "updates"]
    assert [next(iter(u)) for u in root_updates] == ["prepare", "child", "count_words"]

    # Debug checkpoints point subgraph tasks at their checkpoint.
    _, debug = await stream_run(http, await new_thread(http), {**body, "stream_mode": "debug"})
    child_tasks = [
        t
        for e in debug
        if e.event == "debug" and e.data["type"] == "checkpoint"
        for t in e.data["payload"]["tasks"]
        if t["name"] == "child"
    ]
    assert child_tasks and "state" not in child_tasks[0]
    assert child_tasks[0]["checkpoint"]["checkpoint_ns"] == f"child:{child_tasks[0]['id']}"


async def test_sdk_stream_modes(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    parts = [
        p
        async for p in client.runs.stream(
            tid,
            "agent",
            input=AGENT_INPUT,
            stream_mode=["messages-tuple", "updates", "values"],
        )
    ]
    assert parts[0].event == "metadata" and parts[0].data["attempt"] == 1
    assert {p.event for p in parts} == {"metadata", "messages", "updates", "values"}
    assert parts[-1].data["messages"][-1]["content"] == REPLY
    parts = [
        p
        async for p in client.runs.stream(
            None, "subgraph", input={"text": "x"}, stream_mode="updates", stream_subgraphs=True
        )
    ]
    assert any(p.event.startswith("updates|child:") for p in parts)


async def test_heartbeat_while_idle(http: httpx.AsyncClient) -> None:
    # Test servers beat every 0.5 s; a 0.7 s step leaves room for one.
    async with http.stream(
        "POST",
        "/runs/stream",
        json={"assistant_id": "slow", "input": slow(1, 0.7), "stream_mode": "custom"},
    ) as response:
        raw = (await response.aread()).decode()
    assert ": heartbeat\r\n\r\n" in raw


# --- join streams ---------------------------------------------------------------------------


async def _finished_run(http: httpx.AsyncClient, **body: Any) -> tuple[str, str, list[SSE]]:
    """A finished slow run with every mode recorded, and its full replay."""
    tid = await new_thread(http)
    run = await create_run(
        http,
        tid,
        "slow",
        input=slow(3, 0.01),
        stream_mode=["values", "updates", "custom"],
        stream_resumable=True,
        **body,
    )
    await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    _, full = await stream(
        http,
        "GET",
        f"/threads/{tid}/runs/{run['run_id']}/stream",
        headers={"Last-Event-ID": "-"},
    )
    return tid, run["run_id"], full


async def test_join_stream_filters(http: httpx.AsyncClient, client: Any) -> None:
    tid, rid, full = await _finished_run(http)
    url = f"/threads/{tid}/runs/{rid}/stream"
    assert modes_of(full) == {"values", "updates", "custom"}
    assert full[0].event == "metadata"

    async def replay(params: Any) -> list[SSE]:
        response, events = await stream(
            http, "GET", url, headers={"Last-Event-ID": "-"}, params=params
        )
        assert response.status_code == 200
        assert response.headers["location"] == url
        return events

    custom = await replay({"stream_mode": "custom"})
    assert modes_of(custom) == {"custom"} and len(custom) == 1 + 3
    both = await replay({"stream_mode": json.dumps(["custom", "updates"])})
    assert modes_of(both) == {"custom", "updates"}
    assert [e.id for e in both] == [e.id for e in full if e.event != "values"]
    assert await replay({"stream_mode": ""}) == full  # empty = everything
    assert len(await replay([("stream_mode", "custom"), ("stream_mode", "values")])) > len(custom)

    # Through the SDK (single mode; a list would be sent as repeated params).
    parts = [
        p async for p in client.runs.join_stream(tid, rid, stream_mode="updates", last_event_id="-")
    ]
    assert [p.event for p in parts] == ["metadata"] + ["updates"] * 4

    # Without Last-Event-ID a finished run's join stream closes at once, empty.
    _, live = await stream(http, "GET", url)
    assert live == []
    bad_id = await http.get(url, headers={"Last-Event-ID": "garbage"})
    assert (bad_id.status_code, bad_id.json()) == (
        422,
        {"detail": "Invalid Last-Event-ID: 'garbage'"},
    )
    missing = await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}/stream")
    assert missing.status_code == 404


async def test_join_stream_of_running_run(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    run = await create_run(http, tid, "slow", input=slow(4, 0.05), stream_mode=["custom", "values"])
    _, events = await stream(
        http,
        "GET",
        f"/threads/{tid}/runs/{run['run_id']}/stream",
        headers={"Last-Event-ID": "-"},
        params={"stream_mode": "custom"},
    )
    assert [e.data["step"] for e in events if e.event == "custom"] == [1, 2, 3, 4]
    assert (await until_status(http, tid, run["run_id"], ["success"])) == "success"

    # A failed run's error passes any filter.
    failing = await create_run(http, tid, "failing", input={}, stream_mode="updates")
    _, events = await stream(
        http,
        "GET",
        f"/threads/{tid}/runs/{failing['run_id']}/stream",
        headers={"Last-Event-ID": "-"},
        params={"stream_mode": "custom"},
    )
    assert events[-1].event == "error"


async def test_thread_stream(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    seen: list[SSE] = []
    done = 0

    def two_runs_done(events: list[SSE]) -> bool:
        nonlocal done
        done = sum(
            1 for e in events if e.event == "metadata" and e.data.get("status") == "run_done"
        )
        return done >= 2

    async def follow() -> None:
        # From the start ("-"), so runs created before the subscription lands are included.
        _, events = await take(
            http,
            "GET",
            f"/threads/{tid}/stream",
            two_runs_done,
            headers={"Last-Event-ID": "-"},
            timeout=15,
        )
        seen.extend(events)

    watcher = asyncio.create_task(follow())
    first = await wait_run(http, tid, "counter", input={"count": 1})
    second = await wait_run(http, tid, "counter", input={"count": 1})
    async with asyncio.timeout(15):
        await watcher
    assert first["count"] == 4 and second["log"] == ["increment", "double"] * 2
    assert all(e.id for e in seen)
    starts = [e.data["run_id"] for e in seen if e.event == "metadata" and "attempt" in e.data]
    ends = [e.data["run_id"] for e in seen if e.event == "metadata" and "status" in e.data]
    assert len(starts) == 2 and starts == ends
    assert [e.data for e in seen if e.event == "values"][-1] == second

    # Replay from the start, filtered to lifecycle events, through the `stream_mode` alias.
    for key in ("stream_mode", "stream_modes"):
        _, replay = await take(
            http,
            "GET",
            f"/threads/{tid}/stream",
            lambda evs: len(evs) >= 4,
            headers={"Last-Event-ID": "-"},
            params={key: "lifecycle"},
        )
        assert names(replay) == ["metadata"] * 4
        assert [e.id for e in replay] == [e.id for e in seen if e.event == "metadata"]
    bad = await http.get(f"/threads/{tid}/stream", params={"stream_mode": "tools"})
    assert bad.status_code == 422
    bad_id = await http.get(f"/threads/{tid}/stream", headers={"Last-Event-ID": "1-x"})
    assert (bad_id.status_code, bad_id.json()) == (422, {"detail": "Invalid Last-Event-ID: '1-x'"})
    assert (await http.get(f"/threads/{uuid.uuid4()}/stream")).status_code == 404


async def test_thread_stream_state_updates_and_sdk(http: httpx.AsyncClient, client: Any) -> None:
    tid = await new_thread(http)
    await wait_run(http, tid, "counter", input={"count": 1})
    r = await http.post(f"/threads/{tid}/state", json={"values": {"count": 100}})
    assert r.status_code == 200
    _, updates = await take(
        http,
        "GET",
        f"/threads/{tid}/stream",
        lambda evs: len(evs) >= 1,
        headers={"Last-Event-ID": "-"},
        params={"stream_mode": "state_update"},
    )
    [update] = updates
    assert update.event == "state_update" and update.data["thread_id"] == tid
    assert update.data["state"]["values"]["count"] == 100
    # The official client's thread join stream (an `async def` returning the iterator).
    parts = []
    modes = ["run_modes", "state_update"]  # sent as repeated params; both are read
    async with asyncio.timeout(10):
        async for part in await client.threads.join_stream(
            tid, last_event_id="-", stream_mode=modes
        ):
            parts.append(part)
            if part.event == "state_update":
                break
    assert parts[0].event == "metadata" and parts[0].data["attempt"] == 1
    assert {"values", "state_update"} <= {p.event for p in parts}


async def test_v2_only_modes_rejected(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    for mode in ("tools", "lifecycle", "bogus"):
        r = await http.post(f"/threads/{tid}/runs/stream", json={**COUNTER, "stream_mode": [mode]})
        assert r.status_code == 422
