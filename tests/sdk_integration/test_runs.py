"""`client.runs`: every method against a real server (see conftest for the four modes)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from graphport.sdk.errors import ConflictError, NotFoundError, RunError
from graphport.sdk.schema import StreamPart

from .helpers import (
    FINAL_RUN_STATUSES,
    RUN,
    RUN_STATUSES,
    check,
    check_all,
    collect,
    poll,
)

pytestmark = pytest.mark.timeout(60)


async def _thread(client: Any) -> str:
    return str((await client.threads.create())["thread_id"])


async def _status(client: Any, thread_id: str, run_id: str) -> str:
    return str((await client.runs.get(thread_id, run_id))["status"])


async def _until_final(client: Any, thread_id: str, run_id: str) -> str:
    return str(
        await poll(
            lambda: _status(client, thread_id, run_id),
            lambda s: s in FINAL_RUN_STATUSES,
            what=f"run {run_id} to finish",
        )
    )


async def test_stream_modes_ids_and_on_run_created(client: Any) -> None:
    thread_id = await _thread(client)
    created: list[Any] = []
    parts = await collect(
        client.runs.stream(
            thread_id,
            "slow",
            input={"steps": 3, "delay": 0.01},
            stream_mode=["values", "updates", "custom"],
            on_run_created=created.append,
            metadata={"origin": "sdk-tests"},
        )
    )
    assert all(isinstance(p, StreamPart) for p in parts)
    assert parts[0].event == "metadata"
    run_id = parts[0].data["run_id"]
    assert created == [{"run_id": run_id, "thread_id": thread_id}]
    assert {p.event for p in parts} == {"metadata", "values", "updates", "custom"}
    assert [p.data["step"] for p in parts if p.event == "custom"] == [1, 2, 3]
    assert [next(iter(p.data)) for p in parts if p.event == "updates"] == [
        "start",
        "tick",
        "tick",
        "tick",
    ]
    assert parts[-1].event == "values" and parts[-1].data["log"] == ["tick 1", "tick 2", "tick 3"]
    ids = [p.id for p in parts]
    assert all(ids) and len(set(ids)) == len(ids)

    run = check(await client.runs.get(thread_id, run_id), RUN, "run")
    assert run["status"] == "success" and run["metadata"]["origin"] == "sdk-tests"


async def test_stream_stateless_messages_and_subgraphs(client: Any) -> None:
    created: list[Any] = []
    stateless = await collect(
        client.runs.stream(None, "counter", input={"count": 1}, on_run_created=created.append)
    )
    assert [p.event for p in stateless] == ["metadata", "values", "values", "values"]
    assert stateless[-1].data == {"count": 4, "log": ["increment", "double"]}
    assert created == [{"run_id": stateless[0].data["run_id"], "thread_id": None}]

    tokens = await collect(
        client.runs.stream(
            None,
            "agent",
            input={"messages": [{"role": "user", "content": "hello there"}]},
            stream_mode="messages-tuple",
        )
    )
    chunks = [p.data for p in tokens if p.event == "messages"]
    assert len(chunks) > 1
    assert all(isinstance(c, list) and len(c) == 2 and isinstance(c[1], dict) for c in chunks)
    assert "".join(c[0]["content"] for c in chunks) == "You said: hello there"

    thread_id = await _thread(client)
    nested = await collect(
        client.runs.stream(
            thread_id,
            "subgraph",
            input={"text": " hello world "},
            stream_mode="updates",
            stream_subgraphs=True,
        )
    )
    namespaced = [p.event for p in nested if "|" in p.event]
    assert namespaced and all(e.startswith("updates|child:") for e in namespaced)


async def test_stream_v2_parts_and_interrupts(client: Any) -> None:
    thread_id = await _thread(client)
    parts = await collect(
        client.runs.stream(
            thread_id,
            "hitl",
            input={"topic": "otters"},
            stream_mode=["values", "updates"],
            version="v2",
        )
    )
    for part in parts:
        assert isinstance(part, dict) and set(part) >= {"type", "ns", "data", "interrupts"}
        assert part["ns"] == [] and isinstance(part["interrupts"], list)
    assert parts[0]["type"] == "metadata"
    values = [p for p in parts if p["type"] == "values"]
    paused = values[-1]
    assert "__interrupt__" not in paused["data"]
    assert len(paused["interrupts"]) == 1
    assert paused["interrupts"][0]["value"]["draft"] == "A short note about otters."

    resumed = await collect(
        client.runs.stream(thread_id, "hitl", command={"resume": "yes"}, version="v2")
    )
    assert resumed[-1]["type"] == "values"
    assert resumed[-1]["data"]["final"] == "A short note about otters."
    assert resumed[-1]["interrupts"] == []

    nested = await collect(
        client.runs.stream(
            None,
            "subgraph",
            input={"text": "a b"},
            stream_mode="values",
            stream_subgraphs=True,
            version="v2",
        )
    )
    assert any(p["ns"] and p["ns"][0].startswith("child:") for p in nested)


async def test_create_get_list_join_delete(client: Any) -> None:
    thread_id = await _thread(client)
    created: list[Any] = []
    run = check(
        await client.runs.create(
            thread_id,
            "counter",
            input={"count": 1},
            metadata={"n": 1},
            on_run_created=created.append,
        ),
        RUN,
        "run",
    )
    assert run["thread_id"] == thread_id and run["status"] in RUN_STATUSES
    assert created == [{"run_id": run["run_id"], "thread_id": thread_id}]

    result = await client.runs.join(thread_id, run["run_id"])
    assert result == {"count": 4, "log": ["increment", "double"]}
    got = check(await client.runs.get(thread_id, run["run_id"]), RUN, "run")
    assert got["status"] == "success"

    second = await client.runs.create(thread_id, "counter", input={"count": 2})
    await client.runs.join(thread_id, second["run_id"])
    listed = check_all(await client.runs.list(thread_id), RUN)
    assert [r["run_id"] for r in listed] == [second["run_id"], run["run_id"]]
    paged = await client.runs.list(thread_id, limit=1, offset=1)
    assert [r["run_id"] for r in paged] == [run["run_id"]]
    assert len(await client.runs.list(thread_id, status="success")) == 2
    assert await client.runs.list(thread_id, status="error") == []
    selected = await client.runs.list(thread_id, select=["run_id", "status"])
    assert [set(r) for r in selected] == [{"run_id", "status"}] * 2

    assert await client.runs.delete(thread_id, run["run_id"]) is None
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, run["run_id"])
    assert [r["run_id"] for r in await client.runs.list(thread_id)] == [second["run_id"]]


async def test_create_stateless_and_batch(client: Any) -> None:
    created: list[Any] = []
    run = check(
        await client.runs.create(
            None, "counter", input={"count": 1}, on_completion="keep", on_run_created=created.append
        ),
        RUN,
        "run",
    )
    assert created == [{"run_id": run["run_id"], "thread_id": None}]
    assert await client.runs.join(run["thread_id"], run["run_id"]) == {
        "count": 4,
        "log": ["increment", "double"],
    }

    batch = check_all(
        await client.runs.create_batch(
            [
                {"assistant_id": "counter", "input": {"count": 1}, "on_completion": "keep"},
                {
                    "assistant_id": "counter",
                    "input": {"count": 2},
                    "metadata": {"b": 2},
                    "config": None,
                    "on_completion": "keep",
                },
            ]
        ),
        RUN,
    )
    assert len(batch) == 2 and len({r["run_id"] for r in batch}) == 2
    results = [await client.runs.join(r["thread_id"], r["run_id"]) for r in batch]
    assert [r["count"] for r in results] == [4, 6]


async def test_wait_results_errors_and_interrupts(client: Any) -> None:
    thread_id = await _thread(client)
    created: list[Any] = []
    result = await client.runs.wait(
        thread_id, "counter", input={"count": 1}, on_run_created=created.append
    )
    assert result == {"count": 4, "log": ["increment", "double"]}
    assert created and created[0]["thread_id"] == thread_id

    stateless = await client.runs.wait(None, "counter", input={"count": 3})
    assert stateless == {"count": 8, "log": ["increment", "double"]}

    with pytest.raises(RunError) as raised:
        await client.runs.wait(None, "failing", input={"value": "x"})
    assert isinstance(raised.value, Exception)
    assert "ValueError" in str(raised.value) and "boom" in str(raised.value)
    failed = await client.runs.wait(None, "failing", input={"value": "x"}, raise_error=False)
    assert failed == {"__error__": {"error": "ValueError", "message": "boom"}}

    paused = await client.runs.wait(thread_id, "hitl", input={"topic": "owls"})
    assert isinstance(paused, dict) and len(paused["__interrupt__"]) == 1
    assert paused["__interrupt__"][0]["value"]["draft"] == "A short note about owls."


async def test_cancel_and_cancel_many(client: Any) -> None:
    thread_id = await _thread(client)
    long = {"steps": 20, "delay": 0.2}
    run = await client.runs.create(thread_id, "slow", input=long, config={"recursion_limit": 50})
    await poll(
        lambda: _status(client, thread_id, run["run_id"]),
        lambda s: s == "running",
        what="run to start",
    )
    assert await client.runs.cancel(thread_id, run["run_id"]) is None
    assert await _until_final(client, thread_id, run["run_id"]) == "interrupted"
    with pytest.raises(NotFoundError):
        await client.runs.cancel(thread_id, run["run_id"])

    waited = await client.runs.create(thread_id, "slow", input=long, config={"recursion_limit": 50})
    await poll(
        lambda: _status(client, thread_id, waited["run_id"]),
        lambda s: s == "running",
        what="run to start",
    )
    joined = await client.runs.cancel(thread_id, waited["run_id"], wait=True)
    assert isinstance(joined, dict)
    assert await _status(client, thread_id, waited["run_id"]) == "interrupted"

    rolled = await client.runs.create(thread_id, "slow", input=long, config={"recursion_limit": 50})
    await client.runs.cancel(thread_id, rolled["run_id"], wait=True, action="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, rolled["run_id"])

    first = await client.runs.create(thread_id, "slow", input=long, config={"recursion_limit": 50})
    queued = await client.runs.create(
        thread_id, "slow", input=long, config={"recursion_limit": 50}, multitask_strategy="enqueue"
    )
    assert await client.runs.get(thread_id, queued["run_id"])
    assert (
        await client.runs.cancel_many(
            thread_id=thread_id, run_ids=[first["run_id"], queued["run_id"]]
        )
        is None
    )
    statuses = [await _until_final(client, thread_id, r["run_id"]) for r in (first, queued)]
    assert statuses == ["interrupted", "interrupted"]
    with pytest.raises(NotFoundError):
        await client.runs.cancel_many(thread_id=thread_id, run_ids=[str(uuid.uuid4())])


async def test_join_stream_live_filtered_and_replayed(client: Any) -> None:
    thread_id = await _thread(client)
    modes = ["values", "updates", "custom"]
    streamed = await collect(
        client.runs.stream(thread_id, "slow", input={"steps": 3, "delay": 0.01}, stream_mode=modes)
    )
    run_id = streamed[0].data["run_id"]

    replay = await collect(client.runs.join_stream(thread_id, run_id, last_event_id="-"))
    assert [(p.event, p.data, p.id) for p in replay] == [(p.event, p.data, p.id) for p in streamed]
    after = await collect(client.runs.join_stream(thread_id, run_id, last_event_id=replay[3].id))
    assert [p.id for p in after] == [p.id for p in replay[4:]]
    custom = await collect(
        client.runs.join_stream(thread_id, run_id, last_event_id="-", stream_mode="custom")
    )
    assert {p.event for p in custom} <= {"custom", "metadata"}
    assert [p.data["step"] for p in custom if p.event == "custom"] == [1, 2, 3]
    assert await collect(client.runs.join_stream(thread_id, run_id)) == []

    live = await client.runs.create(
        thread_id, "slow", input={"steps": 4, "delay": 0.05}, stream_mode=modes
    )
    joined = await collect(
        client.runs.join_stream(thread_id, live["run_id"], last_event_id="-", stream_mode=modes)
    )
    assert joined[0].event == "metadata"
    assert [p.data["step"] for p in joined if p.event == "custom"] == [1, 2, 3, 4]
    assert joined[-1].data["step"] == 4
    assert await _status(client, thread_id, live["run_id"]) == "success"


async def test_join_stream_cancel_on_disconnect(client: Any) -> None:
    thread_id = await _thread(client)
    run = await client.runs.create(
        thread_id,
        "slow",
        input={"steps": 20, "delay": 0.2},
        config={"recursion_limit": 50},
        stream_mode="custom",
    )
    stream = client.runs.join_stream(thread_id, run["run_id"], cancel_on_disconnect=True)
    try:
        async with asyncio.timeout(15):
            async for part in stream:
                if part.event == "custom":
                    break
    finally:
        await stream.aclose()
    assert await _until_final(client, thread_id, run["run_id"]) == "interrupted"


async def test_stream_error_event_and_on_disconnect_cancel(client: Any) -> None:
    failed = await collect(client.runs.stream(None, "failing", input={"value": "x"}))
    assert failed[-1].event == "error"
    assert failed[-1].data == {"error": "ValueError", "message": "boom"}
    v2 = await collect(client.runs.stream(None, "failing", input={"value": "x"}, version="v2"))
    assert v2[-1]["type"] == "error" and v2[-1]["data"]["message"] == "boom"

    thread_id = await _thread(client)
    created: list[Any] = []
    stream = client.runs.stream(
        thread_id,
        "slow",
        input={"steps": 20, "delay": 0.2},
        config={"recursion_limit": 50},
        stream_mode="custom",
        on_disconnect="cancel",
        on_run_created=created.append,
    )
    try:
        async with asyncio.timeout(15):
            async for part in stream:
                if part.event == "custom":
                    break
    finally:
        await stream.aclose()
    assert await _until_final(client, thread_id, created[0]["run_id"]) == "interrupted"


async def test_reject_a_second_run_on_a_busy_thread(client: Any) -> None:
    thread_id = await _thread(client)
    first = await client.runs.create(
        thread_id, "slow", input={"steps": 20, "delay": 0.2}, config={"recursion_limit": 50}
    )
    with pytest.raises(ConflictError):
        await client.runs.create(thread_id, "counter", input={}, multitask_strategy="reject")
    await client.runs.cancel(thread_id, first["run_id"], wait=True)


async def test_stateless_stream_checkpoints(client: Any) -> None:
    parts = await collect(
        client.runs.stream(None, "counter", input={"count": 1}, stream_mode="checkpoints")
    )
    checkpoints = [p.data for p in parts if p.event == "checkpoints"]
    assert checkpoints and checkpoints[-1]["values"] == {"count": 4, "log": ["increment", "double"]}
