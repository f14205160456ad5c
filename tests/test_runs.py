"""Run routes and run options (docs/api.md#runs), over HTTP and through the
official `langgraph_sdk` client, on every backend."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from run_helpers import (
    create_run,
    get_run,
    history,
    new_thread,
    poll,
    slow,
    state,
    stream_run,
    thread,
    until_status,
    wait_run,
)

COUNTER_DONE = {"count": 4, "log": ["increment", "double"]}


def system_assistant(graph_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8"), graph_id))


# --- routes -------------------------------------------------------------------------------


async def test_background_run_get_list_join_delete(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    r = await http.post(
        f"/threads/{tid}/runs", json={"assistant_id": "counter", "input": {"count": 1}}
    )
    assert r.status_code == 200
    first = r.json()
    rid = first["run_id"]
    assert r.headers["content-location"] == f"/threads/{tid}/runs/{rid}"
    assert first["thread_id"] == tid
    assert first["assistant_id"] == system_assistant("counter")
    assert first["status"] in ("pending", "running")
    assert first["multitask_strategy"] == "enqueue"
    assert first["kwargs"]["input"] == {"count": 1}
    assert first["kwargs"]["stream_mode"] == ["values"]
    assert first["kwargs"]["config"]["configurable"]["run_id"] == rid

    joined = await http.get(f"/threads/{tid}/runs/{rid}/join")
    assert joined.status_code == 200
    assert joined.json() == COUNTER_DONE
    assert (await get_run(http, tid, rid))["status"] == "success"
    # Joining a finished run answers at once from the thread.
    assert (await http.get(f"/threads/{tid}/runs/{rid}/join")).json() == COUNTER_DONE

    second = await create_run(http, tid, "counter", input={"count": 10})
    await http.get(f"/threads/{tid}/runs/{second['run_id']}/join")

    runs = (await http.get(f"/threads/{tid}/runs")).json()
    assert [x["run_id"] for x in runs] == [second["run_id"], rid]  # newest first
    page = (await http.get(f"/threads/{tid}/runs", params={"limit": 1, "offset": 1})).json()
    assert [x["run_id"] for x in page] == [rid]
    assert len((await http.get(f"/threads/{tid}/runs", params={"limit": 1})).json()) == 1
    ok = (await http.get(f"/threads/{tid}/runs", params={"status": "success"})).json()
    assert len(ok) == 2
    assert (await http.get(f"/threads/{tid}/runs", params={"status": "error"})).json() == []
    picked = await http.get(
        f"/threads/{tid}/runs", params=[("select", "run_id"), ("select", "status")]
    )
    assert picked.status_code == 200
    assert all(set(x) == {"run_id", "status"} for x in picked.json())
    assert (await http.get(f"/threads/{tid}/runs", params={"select": "nope"})).status_code == 422
    assert (await http.get(f"/threads/{tid}/runs", params={"status": "nope"})).status_code == 422
    assert (await http.get(f"/threads/{uuid.uuid4()}/runs")).status_code == 404

    # DELETE removes the run and the checkpoints it wrote.
    before = [h["metadata"].get("run_id") for h in await history(http, tid)]
    assert second["run_id"] in before
    r = await http.delete(f"/threads/{tid}/runs/{second['run_id']}")
    assert r.status_code == 204
    assert (await http.get(f"/threads/{tid}/runs/{second['run_id']}")).status_code == 404
    after = [h["metadata"].get("run_id") for h in await history(http, tid)]
    assert second["run_id"] not in after and rid in after
    # The thread's cached values follow its state back.
    assert (await state(http, tid))["values"] == COUNTER_DONE
    assert (await thread(http, tid))["values"] == COUNTER_DONE
    assert (await http.delete(f"/threads/{tid}/runs/{second['run_id']}")).status_code == 404

    assert (await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}")).status_code == 404
    assert (await http.get(f"/threads/{uuid.uuid4()}/runs/{rid}")).status_code == 404
    assert (await http.get(f"/threads/{tid}/runs/not-a-uuid")).status_code == 422


async def test_wait_and_stream_location_headers(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    body = {"assistant_id": "counter", "input": {"count": 1}}
    r = await http.post(f"/threads/{tid}/runs/wait", json=body)
    assert r.status_code == 200 and r.json() == COUNTER_DONE
    base = r.headers["content-location"]
    assert base.startswith(f"/threads/{tid}/runs/")
    assert r.headers["location"] == f"{base}/join"
    rid = base.rsplit("/", 1)[1]
    assert (await get_run(http, tid, rid))["status"] == "success"

    r = await http.post("/runs/wait", json=body)
    assert r.status_code == 200 and r.json() == COUNTER_DONE
    tmp_base = r.headers["content-location"]
    assert tmp_base.startswith("/threads/") and r.headers["location"] == f"{tmp_base}/join"

    response, events = await stream_run(http, tid, body)
    base = response.headers["content-location"]
    assert base.startswith(f"/threads/{tid}/runs/")
    assert response.headers["location"] == f"{base}/stream"
    assert events[0].data["run_id"] == base.rsplit("/", 1)[1]

    response, events = await stream_run(http, None, body)
    rid = events[0].data["run_id"]
    assert response.headers["content-location"] == f"/runs/{rid}"
    assert response.headers["location"] == f"/runs/{rid}/stream"


async def test_stateless_background_run(http: httpx.AsyncClient, client: Any) -> None:
    r = await http.post(
        "/runs",
        json={"assistant_id": "counter", "input": {"count": 1}, "on_completion": "keep"},
    )
    assert r.status_code == 200
    run = r.json()
    assert r.headers["content-location"] == f"/runs/{run['run_id']}"
    joined = await http.get(f"/threads/{run['thread_id']}/runs/{run['run_id']}/join")
    assert joined.json() == COUNTER_DONE
    assert (await get_run(http, run["thread_id"], run["run_id"]))["status"] == "success"
    created: list[Any] = []
    sdk_run = await client.runs.create(
        None, "counter", input={"count": 1}, on_run_created=created.append
    )
    assert [c["run_id"] for c in created] == [sdk_run["run_id"]]  # from Content-Location


async def test_wait_keeps_the_connection_alive(http: httpx.AsyncClient) -> None:
    # Test servers send the keep-alive newline every 0.5 s (docs/api.md#wait-and-join).
    r = await http.post("/runs/wait", json={"assistant_id": "slow", "input": slow(1, 0.7)})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content.startswith(b"\n") and r.json()["step"] == 1


async def test_wait_ready_within_a_heartbeat_is_one_plain_document(
    http: httpx.AsyncClient,
) -> None:
    """No keep-alive needed: the document alone, with its length, so clients and proxies
    see a complete JSON response rather than a stream."""
    r = await http.post("/runs/wait", json={"assistant_id": "counter", "input": {"count": 1}})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    assert r.json() == COUNTER_DONE


async def test_batch(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/runs/batch",
        json=[
            {"assistant_id": "counter", "input": {"count": 1}, "on_completion": "keep"},
            {"assistant_id": "echo", "input": {"messages": []}, "thread_id": str(uuid.uuid4())},
        ],
    )
    assert r.status_code == 200, r.text
    runs = r.json()
    assert len(runs) == 2 and runs[0]["thread_id"] != runs[1]["thread_id"]
    assert [x["assistant_id"] for x in runs] == [
        system_assistant("counter"),
        system_assistant("echo"),
    ]
    kept = runs[0]
    await until_status(http, kept["thread_id"], kept["run_id"], ["success"])
    assert (await thread(http, kept["thread_id"]))["values"] == COUNTER_DONE
    # The second was temporary: its thread goes away when it ends.
    await poll(
        lambda: http.get(f"/threads/{runs[1]['thread_id']}"),
        lambda resp: resp.status_code == 404,
        what="temporary thread deleted",
    )
    assert (await http.post("/runs/batch", json=[])).status_code == 422


async def test_sdk_run_methods(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    created: list[Any] = []
    run = await client.runs.create(
        tid, "counter", input={"count": 1}, on_run_created=created.append
    )
    assert created and created[0]["run_id"] == run["run_id"]
    assert created[0]["thread_id"] == tid
    assert await client.runs.join(tid, run["run_id"]) == COUNTER_DONE
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    result = await client.runs.wait(tid, "counter", input={"count": 2})
    assert result == {"count": 6, "log": ["increment", "double"] * 2}
    listed = await client.runs.list(tid, limit=5, select=["run_id", "status"])
    assert len(listed) == 2 and all(x["status"] == "success" for x in listed)
    assert await client.runs.wait(None, "counter", input={"count": 1}) == COUNTER_DONE
    batch = await client.runs.create_batch(
        [{"assistant_id": "counter", "input": {"count": 1}, "on_completion": "keep"}]
    )
    assert len(batch) == 1
    assert await client.runs.join(batch[0]["thread_id"], batch[0]["run_id"]) == COUNTER_DONE
    await client.runs.delete(tid, run["run_id"])
    assert [x["run_id"] for x in await client.runs.list(tid)] != [] and run["run_id"] not in [
        x["run_id"] for x in await client.runs.list(tid)
    ]
    streamed = [
        p
        async for p in client.runs.stream(
            None, "counter", input={"count": 1}, stream_mode="updates"
        )
    ]
    assert [p.event for p in streamed] == ["metadata", "updates", "updates"]


# --- run options ----------------------------------------------------------------------------


async def test_stateless_on_completion(http: httpx.AsyncClient) -> None:
    body = {"assistant_id": "counter", "input": {"count": 1}}
    r = await http.post("/runs/wait", json=body)
    tmp_tid = r.headers["content-location"].split("/")[2]
    assert r.json() == COUNTER_DONE
    await poll(
        lambda: http.get(f"/threads/{tmp_tid}"),
        lambda resp: resp.status_code == 404,
        what="temporary thread deleted",
    )

    r = await http.post("/runs/wait", json={**body, "on_completion": "keep"})
    _, _, kept_tid, _, rid = r.headers["content-location"].split("/")
    assert r.json() == COUNTER_DONE
    kept = await thread(http, kept_tid)
    assert kept["status"] == "idle" and kept["values"] == COUNTER_DONE
    assert (await get_run(http, kept_tid, rid))["status"] == "success"
    assert (await state(http, kept_tid))["values"] == COUNTER_DONE

    # A stateless run cannot be resumed: there is no thread to resume.
    r = await http.post("/runs/wait", json={"assistant_id": "hitl", "command": {"resume": "x"}})
    assert r.status_code == 400
    assert "thread_id" in r.json()["detail"]


async def test_if_not_exists(http: httpx.AsyncClient) -> None:
    body = {"assistant_id": "counter", "input": {"count": 1}}
    missing = str(uuid.uuid4())
    r = await http.post(f"/threads/{missing}/runs/wait", json=body)
    assert r.status_code == 404
    r = await http.post(f"/threads/{missing}/runs", json={**body, "if_not_exists": "reject"})
    assert r.status_code == 404
    r = await http.post(
        f"/threads/{missing}/runs/wait",
        json={**body, "if_not_exists": "create", "metadata": {"origin": "run"}},
    )
    assert r.status_code == 200 and r.json() == COUNTER_DONE
    created = await thread(http, missing)
    assert created["status"] == "idle" and created["values"] == COUNTER_DONE
    assert created["metadata"]["graph_id"] == "counter"
    assert created["metadata"]["assistant_id"] == system_assistant("counter")
    assert created["metadata"]["origin"] == "run"  # create-by-run keeps run metadata
    # Existing thread with if_not_exists=create: just runs.
    r = await http.post(f"/threads/{missing}/runs/wait", json={**body, "if_not_exists": "create"})
    assert r.status_code == 200


async def test_after_seconds(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    t0 = time.monotonic()
    run = await create_run(http, tid, "counter", input={"count": 1}, after_seconds=0.6)
    rid = run["run_id"]
    assert run["status"] == "pending"
    assert datetime.fromisoformat(run["created_at"]) > datetime.fromisoformat(run["updated_at"])
    assert (await thread(http, tid))["status"] == "busy"
    # Delayed, the thread counts as busy: "reject" conflicts meanwhile.
    r = await http.post(
        f"/threads/{tid}/runs",
        json={"assistant_id": "counter", "multitask_strategy": "reject"},
    )
    assert r.status_code == 409
    await until_status(http, tid, rid, ["running", "success"], timeout=5)
    assert time.monotonic() - t0 >= 0.55
    await until_status(http, tid, rid, ["success"])
    assert (await thread(http, tid))["status"] == "idle"


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
async def test_durability(http: httpx.AsyncClient, durability: str) -> None:
    tid = await new_thread(http)
    result = await wait_run(http, tid, "counter", input={"count": 1}, durability=durability)
    assert result == COUNTER_DONE
    runs = (await http.get(f"/threads/{tid}/runs")).json()
    assert runs[0]["kwargs"]["durability"] == durability
    steps = sorted(h["metadata"]["step"] for h in await history(http, tid))
    if durability == "exit":
        assert steps == [2]  # only the final checkpoint is persisted
    else:
        assert steps == [-1, 0, 1, 2]
    assert (await state(http, tid))["values"] == COUNTER_DONE


async def test_checkpoint_during_maps_to_durability(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    await wait_run(http, tid, "counter", input={"count": 1}, checkpoint_during=False)
    await wait_run(http, tid, "counter", input={"count": 1}, checkpoint_during=True)
    runs = (await http.get(f"/threads/{tid}/runs")).json()
    assert [x["kwargs"]["durability"] for x in runs] == ["async", "exit"]


async def test_checkpoint_fork(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    await wait_run(http, tid, "counter", input={"count": 1})
    await wait_run(http, tid, "counter", input={"count": 10})
    assert (await state(http, tid))["values"]["count"] == 22
    after_increment = next(
        h
        for h in reversed(await history(http, tid))
        if h["metadata"]["step"] == 1 and h["values"]["count"] == 2
    )
    assert after_increment["next"] == ["double"]
    forked = await wait_run(
        http, tid, "counter", input=None, checkpoint_id=after_increment["checkpoint_id"]
    )
    assert forked == COUNTER_DONE
    now = await state(http, tid)
    assert now["values"] == COUNTER_DONE
    # The new branch descends from the fork point, not from the latest checkpoint.
    parents = {h["checkpoint_id"]: h["parent_checkpoint_id"] for h in await history(http, tid)}
    chain, cid = [], now["checkpoint_id"]
    while cid is not None and len(chain) < 5:
        chain.append(cid)
        cid = parents.get(cid)
    assert after_increment["checkpoint_id"] in chain
    # The `checkpoint` object form forks too.
    again = await wait_run(
        http,
        tid,
        "counter",
        input=None,
        checkpoint={"checkpoint_id": after_increment["checkpoint_id"], "checkpoint_ns": ""},
    )
    assert again == COUNTER_DONE
    r = await http.post(
        f"/threads/{tid}/runs/wait",
        json={"assistant_id": "counter", "checkpoint_id": "not-a-checkpoint"},
    )
    assert r.status_code == 422


async def test_config_and_context_merge(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    text = {"text": "world"}
    assert (await wait_run(http, tid, "context", input=text))["reply"] == "hello world (context)"
    hola = await wait_run(http, tid, "context", input=text, context={"greeting": "hola"})
    assert hola["reply"] == "hola world (context)"
    # configurable is mirrored into the context, and vice versa.
    hey = await wait_run(
        http, tid, "context", input=text, config={"configurable": {"greeting": "hey"}}
    )
    assert hey["reply"] == "hey world (context)"
    r = await http.post(
        f"/threads/{tid}/runs/wait",
        json={
            "assistant_id": "context",
            "context": {"greeting": "a"},
            "config": {"configurable": {"greeting": "b"}},
        },
    )
    assert r.status_code == 400
    # Keys outside the graph's context schema are dropped, not fatal.
    extra = await wait_run(
        http, tid, "context", input=text, context={"greeting": "yo", "unknown": 1}
    )
    assert extra["reply"] == "yo world (context)"
    # Assistant context and config underneath, the run's on top.
    r = await http.post(
        "/assistants", json={"graph_id": "context", "context": {"greeting": "bonjour"}}
    )
    assistant = r.json()["assistant_id"]
    fr = await wait_run(http, tid, assistant, input=text)
    assert fr["reply"] == "bonjour world (context)"
    ciao = await wait_run(http, tid, assistant, input=text, context={"greeting": "ciao"})
    assert ciao["reply"] == "ciao world (context)"
    r = await http.post(
        "/assistants",
        json={"graph_id": "slow", "config": {"configurable": {"steps": 3, "delay": 0.0}}},
    )
    slow_assistant = r.json()["assistant_id"]
    tid2 = await new_thread(http)
    assert (await wait_run(http, tid2, slow_assistant, input={}))["step"] == 3
    one = await wait_run(
        http, tid2, slow_assistant, input={}, config={"configurable": {"steps": 1}}
    )
    assert one["step"] == 1
    run = (await http.get(f"/threads/{tid2}/runs", params={"limit": 1})).json()[0]
    configurable = run["kwargs"]["config"]["configurable"]
    assert configurable["steps"] == 1 and configurable["delay"] == 0.0
    assert configurable["assistant_id"] == slow_assistant
    assert configurable["graph_id"] == "slow" and configurable["thread_id"] == tid2
    # A factory graph sees the run's configurable.
    yo = await wait_run(
        http, tid, "sync_factory", input=text, config={"configurable": {"greeting": "yo"}}
    )
    assert yo["reply"] == "yo world (sync_factory)"


async def test_metadata_merge(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/assistants",
        json={"graph_id": "counter", "metadata": {"a": 1, "shared": "assistant"}},
    )
    assistant = r.json()["assistant_id"]
    tid = await new_thread(http, metadata={"t": 1, "shared": "thread"})
    run = await create_run(
        http,
        tid,
        assistant,
        input={"count": 1},
        config={"metadata": {"c": 1, "shared": "config"}},
        metadata={"r": 1, "shared": "request", "assistant_id": "spoofed"},
    )
    expected = {"a": 1, "t": 1, "c": 1, "r": 1, "shared": "request", "assistant_id": assistant}
    assert {k: run["metadata"].get(k) for k in expected} == expected
    assert run["kwargs"]["config"]["metadata"] == run["metadata"]
    await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    meta = (await thread(http, tid))["metadata"]
    assert meta["graph_id"] == "counter" and meta["assistant_id"] == assistant
    assert meta["t"] == 1
    # The checkpoints carry the run's metadata (the worker adds run_attempt).
    latest = (await state(http, tid))["metadata"]
    assert latest["r"] == 1 and latest["run_id"] == run["run_id"]


async def test_feedback_keys_accepted(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    response, events = await stream_run(
        http,
        tid,
        {"assistant_id": "counter", "input": {"count": 1}, "feedback_keys": ["score"]},
    )
    assert response.status_code == 200
    assert events[-1].event == "values" and events[-1].data == COUNTER_DONE
    run = (await http.get(f"/threads/{tid}/runs")).json()[0]
    assert run["kwargs"]["feedback_keys"] == ["score"]


async def test_blocking_graph_does_not_stall_other_streams(http: httpx.AsyncClient) -> None:
    slow_tid, block_tid = await new_thread(http), await new_thread(http)
    arrivals: list[float] = []

    async def watch() -> None:
        async with http.stream(
            "POST",
            f"/threads/{slow_tid}/runs/stream",
            json={"assistant_id": "slow", "input": slow(8, 0.1), "stream_mode": "custom"},
        ) as response:
            async for line in response.aiter_lines():
                if line.startswith("event: custom"):
                    arrivals.append(time.monotonic())

    async with asyncio.timeout(20):
        watcher = asyncio.create_task(watch())
        await poll(lambda: asyncio.sleep(0, arrivals), lambda a: len(a) >= 1, what="first tick")
        blocked = await wait_run(
            http, block_tid, "blocking", input={"sleep": 0.6, "iterations": 100_000}
        )
        await watcher
    assert blocked["thread"] != "MainThread" and blocked["total"] > 0
    assert len(arrivals) == 8
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) < 0.45, gaps  # the 0.6 s sleep never froze the event loop


# --- errors, interrupts, Command ----------------------------------------------------------


async def test_failing_graph(http: httpx.AsyncClient, client: Any) -> None:
    tid = await new_thread(http)
    r = await http.post(
        f"/threads/{tid}/runs/wait", json={"assistant_id": "failing", "input": {"value": "v"}}
    )
    assert r.status_code == 200
    assert r.json() == {"__error__": {"error": "ValueError", "message": "boom"}}
    rid = r.headers["content-location"].rsplit("/", 1)[1]
    assert (await get_run(http, tid, rid))["status"] == "error"
    failed = await thread(http, tid)
    assert failed["status"] == "error"
    assert failed["values"] == {"value": "v", "prepared": True}
    # The finished run's join answers with the error too.
    joined = await http.get(f"/threads/{tid}/runs/{rid}/join")
    assert joined.json() == {"__error__": {"error": "ValueError", "message": "boom"}}

    _, events = await stream_run(http, tid, {"assistant_id": "failing", "input": {"value": "v"}})
    assert events[-1].event == "error"
    assert events[-1].data == {"error": "ValueError", "message": "boom"}

    with pytest.raises(Exception, match="boom"):
        await client.runs.wait(tid, "failing", input={"value": "v"})
    body = await client.runs.wait(tid, "failing", input={"value": "v"}, raise_error=False)
    assert body["__error__"]["error"] == "ValueError"

    # The server keeps serving: another thread, and the failed thread itself.
    assert await wait_run(http, await new_thread(http), "counter", input={"count": 1}) == (
        COUNTER_DONE
    )
    await wait_run(http, tid, "counter", input={"count": 1})
    assert (await thread(http, tid))["status"] == "idle"


async def test_thread_status_follows_runs(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    assert (await thread(http, tid))["status"] == "idle"
    run = await create_run(http, tid, "slow", input=slow(3, 0.1))
    assert (await thread(http, tid))["status"] == "busy"
    await until_status(http, tid, run["run_id"], ["running"], timeout=5)
    assert (await thread(http, tid))["status"] == "busy"
    await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    done = await thread(http, tid)
    assert done["status"] == "idle"
    assert done["values"]["log"] == ["tick 1", "tick 2", "tick 3"]

    await wait_run(http, tid, "hitl", input={"topic": "otters"})
    assert (await thread(http, tid))["status"] == "interrupted"
    await wait_run(http, tid, "hitl", command={"resume": "yes"})
    assert (await thread(http, tid))["status"] == "idle"
    await wait_run(http, tid, "failing", input={})
    assert (await thread(http, tid))["status"] == "error"
    await wait_run(http, tid, "counter", input={"count": 1})
    assert (await thread(http, tid))["status"] == "idle"


async def test_interrupt_and_resume(http: httpx.AsyncClient, client: Any) -> None:
    tid = await new_thread(http)
    r = await http.post(
        f"/threads/{tid}/runs/wait", json={"assistant_id": "hitl", "input": {"topic": "otters"}}
    )
    body = r.json()
    rid = r.headers["content-location"].rsplit("/", 1)[1]
    assert body["draft"] == "A short note about otters."
    [intr] = body["__interrupt__"]
    assert intr["value"]["draft"] == body["draft"] and intr["id"]
    assert (await get_run(http, tid, rid))["status"] == "success"

    paused = await thread(http, tid)
    assert paused["status"] == "interrupted"
    [(task_id, [stored])] = paused["interrupts"].items()
    assert stored["id"] == intr["id"] and stored["value"] == intr["value"]
    st = await state(http, tid)
    assert st["next"] == ["ask_human"]
    assert st["interrupts"][0]["id"] == intr["id"]
    assert st["tasks"][0]["id"] == task_id and st["tasks"][0]["name"] == "ask_human"
    assert st["tasks"][0]["interrupts"][0]["value"] == intr["value"]
    # Joining the finished run reports the interrupt as well.
    joined = (await http.get(f"/threads/{tid}/runs/{rid}/join")).json()
    assert joined["__interrupt__"][0]["id"] == intr["id"]

    resumed = await wait_run(http, tid, "hitl", command={"resume": "a better note"})
    assert resumed["final"] == "a better note" and "__interrupt__" not in resumed
    after = await thread(http, tid)
    assert after["status"] == "idle" and after["interrupts"] == {}
    assert (await state(http, tid))["next"] == []

    # Through the SDK: the stream shows __interrupt__; resume by interrupt id.
    tid2 = (await client.threads.create())["thread_id"]
    parts = [
        p
        async for p in client.runs.stream(tid2, "hitl", input={"topic": "x"}, stream_mode="values")
    ]
    [intr2] = parts[-1].data["__interrupt__"]
    final = await client.runs.wait(tid2, "hitl", command={"resume": {intr2["id"]: "yes"}})
    assert final["final"] == "A short note about x."


async def test_interrupt_before_and_after(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    before = await wait_run(http, tid, "counter", input={"count": 1}, interrupt_before=["double"])
    assert before["count"] == 2 and before["log"] == ["increment"]
    assert (await thread(http, tid))["status"] == "interrupted"
    assert (await state(http, tid))["next"] == ["double"]
    assert await wait_run(http, tid, "counter", input=None) == COUNTER_DONE
    assert (await thread(http, tid))["status"] == "idle"

    tid = await new_thread(http)
    after = await wait_run(http, tid, "counter", input={"count": 1}, interrupt_after=["increment"])
    assert after["count"] == 2
    assert (await state(http, tid))["next"] == ["double"]
    assert await wait_run(http, tid, "counter", input=None) == COUNTER_DONE

    tid = await new_thread(http)
    star = await wait_run(http, tid, "counter", input={"count": 1}, interrupt_before="*")
    assert star["count"] == 1
    assert (await state(http, tid))["next"] == ["increment"]
    star = await wait_run(http, tid, "counter", input=None, interrupt_after="*")
    assert star["count"] == 2
    assert (await state(http, tid))["next"] == ["double"]
    assert (await thread(http, tid))["status"] == "interrupted"
    assert await wait_run(http, tid, "counter", input=None) == COUNTER_DONE


@pytest.mark.parametrize("graph", ["paused", "paused_parent"])
async def test_static_interrupt_compiled_into_graph(http: httpx.AsyncClient, graph: str) -> None:
    """A graph compiled with interrupt_before pauses runs that never asked for it, even as
    a subgraph: the thread must say `interrupted`, though no `__interrupt__` was streamed."""
    tid = await new_thread(http)
    paused = await wait_run(http, tid, graph, input={"count": 1})
    # The parent's own state stays as given until its paused child returns.
    expected = {"count": 2, "log": ["increment"]} if graph == "paused" else {"count": 1, "log": []}
    assert paused == expected
    row = await thread(http, tid)
    assert row["status"] == "interrupted"
    assert row["values"] == expected
    assert (await state(http, tid))["next"] == ["double" if graph == "paused" else "child"]
    assert await wait_run(http, tid, graph, input=None) == COUNTER_DONE
    assert (await thread(http, tid))["status"] == "idle"


async def test_command_goto_and_update(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    await wait_run(http, tid, "counter", input={"count": 1})
    jumped = await wait_run(http, tid, "counter", command={"goto": "double"}, input={"count": 99})
    assert jumped["count"] == 8  # input ignored when a command is given
    assert jumped["log"] == ["increment", "double", "double"]
    updated = await wait_run(
        http, tid, "counter", command={"update": {"count": 10}, "goto": "double"}
    )
    assert updated["count"] == 20
    pairs = await wait_run(
        http, tid, "counter", command={"update": [["count", 5]], "goto": ["double"]}
    )
    assert pairs["count"] == 10
    sent = await wait_run(
        http, tid, "counter", command={"goto": {"node": "double", "input": {"count": 3}}}
    )
    assert sent["count"] == 6
    # A stateful resume after an interrupt, combined with an update.
    tid = await new_thread(http)
    await wait_run(http, tid, "hitl", input={"topic": "t"})
    done = await wait_run(
        http, tid, "hitl", command={"resume": "yes", "update": {"draft": "edited"}}
    )
    assert done["final"] == "edited"
