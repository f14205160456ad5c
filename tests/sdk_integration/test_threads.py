"""`client.threads`: every method against a real server (see conftest for the four modes)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from graphport.sdk.errors import ConflictError, NotFoundError

from .helpers import (
    CHECKPOINT,
    THREAD,
    THREAD_STATE,
    THREAD_STATUSES,
    TIMESTAMP,
    check,
    check_all,
)

pytestmark = pytest.mark.timeout(60)


async def test_create_get_update_delete(client: Any) -> None:
    tag = uuid.uuid4().hex
    thread_id = str(uuid.uuid4())
    created = await client.threads.create(
        metadata={"tag": tag}, thread_id=thread_id, graph_id="counter"
    )
    check(created, THREAD, "thread")
    assert created["thread_id"] == thread_id and created["status"] in THREAD_STATUSES
    assert created["metadata"] == {"tag": tag, "graph_id": "counter"}

    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=thread_id)
    again = await client.threads.create(
        thread_id=thread_id, if_exists="do_nothing", metadata={"other": 1}
    )
    assert again["metadata"] == created["metadata"]

    got = check(await client.threads.get(thread_id), THREAD, "thread")
    assert got["thread_id"] == thread_id

    updated = check(await client.threads.update(thread_id, metadata={"more": 2}), THREAD, "thread")
    assert updated["metadata"] == {"tag": tag, "graph_id": "counter", "more": 2}
    assert await client.threads.update(thread_id, metadata={"x": 3}, return_minimal=True) is None
    assert (await client.threads.get(thread_id))["metadata"]["x"] == 3

    assert await client.threads.delete(thread_id) is None
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)


async def test_ttl_and_supersteps(client: Any) -> None:
    with_ttl = await client.threads.create(ttl=30)
    got = await client.threads.get(with_ttl["thread_id"], include=["ttl"])
    check(got, THREAD, "thread")
    check(got["ttl"], {"strategy": str, "ttl_minutes": (int, float), "expires_at": TIMESTAMP})
    assert (got["ttl"]["ttl_minutes"], got["ttl"]["strategy"]) == (30, "delete")
    await client.threads.update(with_ttl["thread_id"], metadata={}, ttl={"ttl": 60})
    got = await client.threads.get(with_ttl["thread_id"], include=["ttl"])
    assert got["ttl"]["ttl_minutes"] == 60

    seeded = await client.threads.create(
        graph_id="counter",
        supersteps=[
            {"updates": [{"values": {"count": 5, "log": ["seed"]}, "as_node": "increment"}]},
            {"updates": [{"values": {"count": 6, "log": ["bump"]}, "as_node": "double"}]},
        ],
    )
    state = check(await client.threads.get_state(seeded["thread_id"]), THREAD_STATE, "thread state")
    assert state["values"] == {"count": 6, "log": ["seed", "bump"]}
    assert state["next"] == []


async def test_search_and_count(client: Any) -> None:
    tag = uuid.uuid4().hex
    ids = [
        (await client.threads.create(metadata={"tag": tag, "n": i}))["thread_id"] for i in range(3)
    ]
    await client.runs.wait(ids[0], "counter", input={"count": 1})

    found = check_all(
        await client.threads.search(metadata={"tag": tag}, sort_by="created_at", sort_order="asc"),
        THREAD,
    )
    assert [t["thread_id"] for t in found] == ids
    assert [t["thread_id"] for t in await client.threads.search(ids=ids[1:])] != []
    assert {t["thread_id"] for t in await client.threads.search(ids=ids[1:])} == set(ids[1:])
    by_values = await client.threads.search(metadata={"tag": tag}, values={"count": 4})
    assert [t["thread_id"] for t in by_values] == [ids[0]]
    idle = await client.threads.search(metadata={"tag": tag}, status="idle", limit=2, offset=1)
    assert len(idle) == 2
    selected = await client.threads.search(
        metadata={"tag": tag}, select=["thread_id", "status"], limit=1
    )
    assert len(selected) == 1 and set(selected[0]) == {"thread_id", "status"}
    extracted = await client.threads.search(ids=[ids[0]], extract={"total": "values.count"})
    assert extracted[0]["extracted"] == {"total": 4}

    assert await client.threads.count(metadata={"tag": tag}) == 3
    assert await client.threads.count(metadata={"tag": tag}, values={"count": 4}) == 1
    assert await client.threads.count(metadata={"tag": tag}, status="busy") == 0


async def test_copy_and_prune(client: Any) -> None:
    tag = uuid.uuid4().hex
    source = await client.threads.create(metadata={"tag": tag})
    await client.runs.wait(source["thread_id"], "counter", input={"count": 1})

    copied = check(await client.threads.copy(source["thread_id"]), THREAD, "thread")
    assert copied["thread_id"] != source["thread_id"]
    copied_state = await client.threads.get_state(copied["thread_id"])
    assert copied_state["values"]["count"] == 4

    history = await client.threads.get_history(source["thread_id"], limit=100)
    assert len(history) > 1
    kept = await client.threads.prune([source["thread_id"]], strategy="keep_latest")
    assert kept == {"pruned_count": 1}
    assert len(await client.threads.get_history(source["thread_id"], limit=100)) == 1
    assert (await client.threads.get_state(source["thread_id"]))["values"]["count"] == 4

    pruned = await client.threads.prune([source["thread_id"], copied["thread_id"]])
    assert pruned == {"pruned_count": 2}
    assert await client.threads.count(metadata={"tag": tag}) == 0


async def test_state_three_ways_update_and_history(client: Any) -> None:
    thread = await client.threads.create()
    thread_id = thread["thread_id"]
    await client.runs.wait(thread_id, "counter", input={"count": 1})

    latest = check(await client.threads.get_state(thread_id), THREAD_STATE, "thread state")
    assert latest["values"] == {"count": 4, "log": ["increment", "double"]}
    assert latest["next"] == [] and latest["tasks"] == []
    check(latest["checkpoint"], CHECKPOINT, "checkpoint")
    checkpoint_id = latest["checkpoint"]["checkpoint_id"]

    history = check_all(await client.threads.get_history(thread_id), THREAD_STATE)
    assert history[0]["checkpoint"]["checkpoint_id"] == checkpoint_id
    middle = next(s for s in history if s["next"] == ["double"])
    middle_id = middle["checkpoint"]["checkpoint_id"]

    by_id = check(await client.threads.get_state(thread_id, checkpoint_id=middle_id), THREAD_STATE)
    assert by_id["values"]["count"] == 2 and by_id["next"] == ["double"]
    by_checkpoint = check(
        await client.threads.get_state(thread_id, {"checkpoint_id": middle_id}), THREAD_STATE
    )
    assert by_checkpoint["values"] == by_id["values"]
    with_subgraphs = await client.threads.get_state(thread_id, subgraphs=True)
    assert with_subgraphs["values"] == latest["values"]

    updated = await client.threads.update_state(thread_id, {"count": 10}, as_node="double")
    assert set(updated) >= {"checkpoint"}
    check(updated["checkpoint"], CHECKPOINT, "checkpoint")
    assert (await client.threads.get_state(thread_id))["values"]["count"] == 10

    forked = await client.threads.update_state(
        thread_id, {"count": 100}, as_node="increment", checkpoint_id=middle_id
    )
    fork_state = await client.threads.get_state(
        thread_id, checkpoint_id=forked["checkpoint"]["checkpoint_id"]
    )
    assert fork_state["values"]["count"] == 100 and fork_state["next"] == ["double"]

    newest = await client.threads.get_history(thread_id, limit=2)
    assert len(newest) == 2
    older = await client.threads.get_history(
        thread_id, limit=100, before=newest[-1]["checkpoint"]["checkpoint_id"]
    )
    assert older and all(
        s["checkpoint"]["checkpoint_id"] < newest[-1]["checkpoint"]["checkpoint_id"] for s in older
    )
    by_metadata = await client.threads.get_history(thread_id, metadata={"source": "update"})
    assert by_metadata and all(s["metadata"]["source"] == "update" for s in by_metadata)
    selected = await client.threads.get_history(
        thread_id, limit=1, checkpoint={"checkpoint_ns": ""}
    )
    assert len(selected) == 1


async def test_join_stream_replays_and_follows(client: Any) -> None:
    thread_id = (await client.threads.create())["thread_id"]
    first = await client.runs.create(thread_id, "counter", input={"count": 1})
    await client.runs.join(thread_id, first["run_id"])

    stream = await client.threads.join_stream(thread_id, last_event_id="-")
    seen: list[Any] = []
    second: dict[str, Any] = {}
    try:
        async with asyncio.timeout(20):
            async for part in stream:
                seen.append(part)
                if part.event == "metadata" and part.data.get("status") == "run_done":
                    if part.data["run_id"] == first["run_id"] and not second:
                        # The replay is done: a new run shows up live on the same stream.
                        second = await client.runs.create(thread_id, "counter", input={"count": 2})
                    elif part.data["run_id"] == second.get("run_id"):
                        break
    finally:
        await stream.aclose()
    assert all(part.id for part in seen), "thread stream events carry ids"
    ids = [part.id for part in seen]
    assert len(set(ids)) == len(ids)
    run_starts = [p.data["run_id"] for p in seen if p.event == "metadata" and "attempt" in p.data]
    assert run_starts == [first["run_id"], second["run_id"]]
    finals = [p.data for p in seen if p.event == "values"]
    assert finals[-1]["count"] == 6

    lifecycle = await client.threads.join_stream(
        thread_id, last_event_id="-", stream_mode="lifecycle"
    )
    events: list[Any] = []
    try:
        async with asyncio.timeout(20):
            async for part in lifecycle:
                events.append(part)
                if len([p for p in events if p.data.get("status") == "run_done"]) == 2:
                    break
    finally:
        await lifecycle.aclose()
    assert {p.event for p in events} == {"metadata"}
