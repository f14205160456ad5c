"""Thread state and history through the official `langgraph_sdk` client
(docs/api.md#thread-state-and-history): reads at the latest or a given checkpoint,
subgraph state, updates (values, as_node, forks) and history paging/filtering."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import BadRequestError, NotFoundError

STATE_KEYS = {
    "values",
    "next",
    "tasks",
    "checkpoint",
    "parent_checkpoint",
    "metadata",
    "created_at",
    "interrupts",
    "checkpoint_id",
    "parent_checkpoint_id",
}
TASK_KEYS = {"id", "name", "error", "interrupts", "checkpoint", "state", "result"}
CHECKPOINT_KEYS = {"thread_id", "checkpoint_ns", "checkpoint_id"}


def assert_checkpoint(cp: dict[str, Any], thread_id: str, ns: str = "") -> None:
    assert CHECKPOINT_KEYS <= set(cp), cp
    assert cp["thread_id"] == thread_id
    assert cp["checkpoint_ns"] == ns
    assert isinstance(cp["checkpoint_id"], str) and cp["checkpoint_id"]


def assert_state(s: dict[str, Any], thread_id: str, ns: str = "") -> None:
    assert STATE_KEYS <= set(s), STATE_KEYS - set(s)
    assert isinstance(s["values"], (dict, list))
    assert isinstance(s["next"], list) and all(isinstance(n, str) for n in s["next"])
    assert isinstance(s["tasks"], list)
    for task in s["tasks"]:
        assert TASK_KEYS <= set(task), task
        assert isinstance(task["id"], str) and isinstance(task["name"], str)
        assert isinstance(task["interrupts"], list)
    assert_checkpoint(s["checkpoint"], thread_id, ns)
    assert s["checkpoint_id"] == s["checkpoint"]["checkpoint_id"]
    if s["parent_checkpoint"] is not None:
        assert_checkpoint(s["parent_checkpoint"], thread_id, ns)
        assert s["parent_checkpoint_id"] == s["parent_checkpoint"]["checkpoint_id"]
    assert isinstance(s["metadata"], dict)
    assert isinstance(s["metadata"]["step"], int)
    assert isinstance(s["created_at"], str)
    assert isinstance(s["interrupts"], list)


async def run_counter(client: Any, count: int = 1) -> str:
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "counter", input={"count": count})
    return str(thread["thread_id"])


# --- get_state ----------------------------------------------------------------------------


async def test_state_of_new_thread_is_empty(client: Any) -> None:
    t = await client.threads.create()
    state = await client.threads.get_state(t["thread_id"])
    assert state == {
        "values": {},
        "next": [],
        "tasks": [],
        "checkpoint": None,
        "parent_checkpoint": None,
        "metadata": None,
        "created_at": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }
    assert await client.threads.get_history(t["thread_id"]) == []


async def test_latest_state(client: Any) -> None:
    thread_id = await run_counter(client)
    state = await client.threads.get_state(thread_id)
    assert_state(state, thread_id)
    assert state["values"] == {"count": 4, "log": ["increment", "double"]}
    assert state["next"] == [] and state["tasks"] == [] and state["interrupts"] == []
    assert state["metadata"]["source"] == "loop"
    assert state["metadata"]["step"] == 2
    assert state["metadata"]["graph_id"] == "counter"
    thread = await client.threads.get(thread_id)
    assert thread["values"] == state["values"]
    assert thread["status"] == "idle"


async def test_state_at_checkpoint(client: Any) -> None:
    thread_id = await run_counter(client)
    history = await client.threads.get_history(thread_id, limit=10)
    middle = next(h for h in history if h["next"] == ["double"])

    by_id = await client.threads.get_state(thread_id, checkpoint_id=middle["checkpoint_id"])
    assert_state(by_id, thread_id)
    assert by_id["values"] == {"count": 2, "log": ["increment"]}
    assert by_id["next"] == ["double"]
    assert by_id["checkpoint"] == middle["checkpoint"]
    assert [t["name"] for t in by_id["tasks"]] == ["double"]

    by_object = await client.threads.get_state(thread_id, checkpoint=middle["checkpoint"])
    assert by_object == by_id

    with pytest.raises(NotFoundError):
        await client.threads.get_state(thread_id, checkpoint_id=str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await client.threads.get_state(
            thread_id, checkpoint={"checkpoint_id": "nope", "checkpoint_ns": ""}
        )


async def test_interrupted_state(client: Any) -> None:
    t = await client.threads.create()
    await client.runs.wait(t["thread_id"], "hitl", input={"topic": "otters"})
    state = await client.threads.get_state(t["thread_id"])
    assert_state(state, t["thread_id"])
    assert state["next"] == ["ask_human"]
    assert len(state["interrupts"]) == 1
    interrupt = state["interrupts"][0]
    assert isinstance(interrupt["id"], str)
    assert interrupt["value"]["draft"] == "A short note about otters."
    (task,) = state["tasks"]
    assert task["name"] == "ask_human"
    assert task["interrupts"] == state["interrupts"]

    thread = await client.threads.get(t["thread_id"])
    assert thread["status"] == "interrupted"
    assert thread["interrupts"] == {task["id"]: state["interrupts"]}

    await client.runs.wait(t["thread_id"], "hitl", command={"resume": "yes"})
    done = await client.threads.get_state(t["thread_id"])
    assert done["next"] == [] and done["interrupts"] == []
    assert done["values"]["final"] == "A short note about otters."
    assert (await client.threads.get(t["thread_id"]))["interrupts"] == {}


async def test_subgraph_state(client: Any) -> None:
    t = await client.threads.create()
    tid = t["thread_id"]
    await client.runs.wait(tid, "subgraph", input={"text": " hi there "})
    history = await client.threads.get_history(tid, limit=10)
    before_child = next(h for h in history if h["next"] == ["child"])

    # Without subgraphs: the child task points at its namespace.
    plain = await client.threads.get_state(tid, checkpoint_id=before_child["checkpoint_id"])
    (task,) = plain["tasks"]
    assert task["name"] == "child" and task["state"] is None
    ns = task["checkpoint"]["checkpoint_ns"]
    assert ns == f"child:{task['id']}"

    # With subgraphs: the child's own state is nested in the task.
    nested = await client.threads.get_state(
        tid, checkpoint_id=before_child["checkpoint_id"], subgraphs=True
    )
    child = nested["tasks"][0]["state"]
    assert_state(child, tid, ns)
    assert child["values"] == {"text": "HI THERE!"}
    assert child["checkpoint"]["checkpoint_map"][""] == before_child["checkpoint_id"]
    same = await client.threads.get_state(
        tid, checkpoint=before_child["checkpoint"], subgraphs=True
    )
    assert same == nested

    # A subgraph checkpoint can be read and listed directly.
    at_child = await client.threads.get_state(tid, checkpoint=child["checkpoint"])
    assert at_child["values"] == {"text": "HI THERE!"}
    assert at_child["checkpoint"]["checkpoint_ns"] == ns
    child_history = await client.threads.get_history(
        tid, checkpoint={"checkpoint_ns": ns}, limit=10
    )
    assert [h["values"].get("text") for h in child_history] == [
        "HI THERE!",
        "HI THERE",
        "hi there",
        None,
    ]
    assert {h["checkpoint"]["checkpoint_ns"] for h in child_history} == {ns}


async def test_subgraph_state_after_interrupt(client: Any) -> None:
    t = await client.threads.create()
    tid = t["thread_id"]
    await client.runs.wait(tid, "subgraph", input={"text": "a b"}, interrupt_before=["child"])
    assert (await client.threads.get(tid))["status"] == "interrupted"
    state = await client.threads.get_state(tid, subgraphs=True)
    assert_state(state, tid)
    assert state["next"] == ["child"]
    (task,) = state["tasks"]
    assert task["name"] == "child"
    # Not started yet: the nested state is there, and empty.
    assert task["state"]["values"] == {}
    assert task["state"]["checkpoint"]["checkpoint_ns"] == f"child:{task['id']}"

    await client.runs.wait(tid, "subgraph", input=None)
    final = await client.threads.get_state(tid, subgraphs=True)
    assert final["values"] == {"text": "A B!", "words": 2}
    assert final["tasks"] == []


# --- update_state -------------------------------------------------------------------------


async def test_update_state_values(client: Any) -> None:
    thread_id = await run_counter(client)
    before = await client.threads.get_state(thread_id)
    result = await client.threads.update_state(thread_id, {"count": 100, "log": ["manual"]})
    assert set(result) >= {"checkpoint"}
    assert_checkpoint(result["checkpoint"], thread_id)
    assert result["checkpoint"]["checkpoint_id"] != before["checkpoint_id"]

    state = await client.threads.get_state(thread_id)
    assert state["checkpoint"] == result["checkpoint"]
    assert state["parent_checkpoint"] == before["checkpoint"]
    # count is replaced, log goes through its reducer (appends)
    assert state["values"] == {"count": 100, "log": ["increment", "double", "manual"]}
    assert state["metadata"]["source"] == "update"
    thread = await client.threads.get(thread_id)
    assert thread["values"] == state["values"]
    assert thread["status"] == "idle"


async def test_update_state_bumps_state_updated_at(client: Any) -> None:
    thread_id = await run_counter(client)
    before = await client.threads.get(thread_id)
    await client.threads.update_state(thread_id, {"count": 7})
    after = await client.threads.get(thread_id)
    assert after["state_updated_at"] > before["state_updated_at"]
    assert after["values"]["count"] == 7


async def test_update_state_resolves_interrupt(client: Any) -> None:
    t = await client.threads.create()
    await client.runs.wait(t["thread_id"], "hitl", input={"topic": "edits"})
    assert (await client.threads.get(t["thread_id"]))["interrupts"] != {}
    await client.threads.update_state(t["thread_id"], {"review": "Edited."}, as_node="ask_human")
    thread = await client.threads.get(t["thread_id"])
    assert thread["interrupts"] == {}
    assert thread["status"] == "interrupted"  # finalize is next
    assert (await client.threads.get_state(t["thread_id"]))["next"] == ["finalize"]
    out = await client.runs.wait(t["thread_id"], "hitl", input=None)
    assert out["final"] == "Edited."


async def test_update_state_as_node(client: Any) -> None:
    t = await client.threads.create(graph_id="counter")
    tid = t["thread_id"]
    await client.threads.update_state(tid, {"count": 10}, as_node="increment")
    state = await client.threads.get_state(tid)
    assert state["next"] == ["double"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["values"] == {"count": 10, "log": []}
    out = await client.runs.wait(tid, "counter", input=None)
    assert out == {"count": 20, "log": ["double"]}

    await client.threads.update_state(tid, {"count": 1}, as_node="double")
    assert (await client.threads.get_state(tid))["next"] == []
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_update_state_forks_from_checkpoint(client: Any) -> None:
    thread_id = await run_counter(client)
    history = await client.threads.get_history(thread_id, limit=10)
    middle = next(h for h in history if h["next"] == ["double"])

    forked = await client.threads.update_state(
        thread_id, {"count": 50}, checkpoint_id=middle["checkpoint_id"]
    )
    state = await client.threads.get_state(thread_id)
    assert state["checkpoint"] == forked["checkpoint"]
    assert state["parent_checkpoint"]["checkpoint_id"] == middle["checkpoint_id"]
    assert state["values"] == {"count": 50, "log": ["increment"]}

    again = await client.threads.update_state(
        thread_id, {"count": 60}, checkpoint=middle["checkpoint"], as_node="increment"
    )
    state = await client.threads.get_state(thread_id)
    assert state["checkpoint"] == again["checkpoint"]
    assert state["parent_checkpoint"]["checkpoint_id"] == middle["checkpoint_id"]
    assert state["next"] == ["double"]

    with pytest.raises(NotFoundError):
        await client.threads.update_state(thread_id, {"count": 1}, checkpoint_id="nope")


async def test_update_state_errors(client: Any) -> None:
    t = await client.threads.create()
    with pytest.raises(BadRequestError) as exc:
        await client.threads.update_state(t["thread_id"], {"count": 1})
    assert "graph" in str(exc.value)

    thread_id = await run_counter(client)
    with pytest.raises(BadRequestError) as exc:
        await client.threads.update_state(thread_id, {"count": 1}, as_node="no_such_node")
    assert "no_such_node" in str(exc.value)
    with pytest.raises(NotFoundError):
        await client.threads.update_state(str(uuid.uuid4()), {"count": 1})


async def test_update_state_conflicts_with_running_run(client: Any) -> None:
    t = await client.threads.create()
    run = await client.runs.create(t["thread_id"], "slow", input={"steps": 50, "delay": 0.1})
    try:
        with pytest.raises(Exception) as exc:
            await client.threads.update_state(t["thread_id"], {"step": 0}, as_node="tick")
        assert getattr(exc.value, "status_code", None) == 409
    finally:
        await client.runs.cancel(t["thread_id"], run["run_id"], wait=True)


# --- history ------------------------------------------------------------------------------


async def test_history(client: Any) -> None:
    thread_id = await run_counter(client)
    history = await client.threads.get_history(thread_id)
    assert len(history) == 4
    for h in history:
        assert_state(h, thread_id)
    assert [h["metadata"]["step"] for h in history] == [2, 1, 0, -1]
    assert [h["next"] for h in history] == [[], ["double"], ["increment"], ["__start__"]]
    assert [h["metadata"]["source"] for h in history] == ["loop", "loop", "loop", "input"]
    assert history[0] == await client.threads.get_state(thread_id)
    for newer, older in itertools.pairwise(history):
        assert newer["parent_checkpoint"] == older["checkpoint"]

    assert [h["checkpoint_id"] for h in await client.threads.get_history(thread_id, limit=2)] == [
        h["checkpoint_id"] for h in history[:2]
    ]
    # `before` as a checkpoint id or a checkpoint object pages backwards.
    older = await client.threads.get_history(thread_id, before=history[1]["checkpoint_id"])
    assert [h["checkpoint_id"] for h in older] == [h["checkpoint_id"] for h in history[2:]]
    older = await client.threads.get_history(thread_id, before=history[1]["checkpoint"], limit=1)
    assert [h["checkpoint_id"] for h in older] == [history[2]["checkpoint_id"]]
    # `checkpoint` starts from a given checkpoint (inclusive).
    start = await client.threads.get_history(thread_id, checkpoint=history[2]["checkpoint"])
    assert [h["checkpoint_id"] for h in start] == [history[2]["checkpoint_id"]]

    by_source = await client.threads.get_history(thread_id, metadata={"source": "input"})
    assert [h["checkpoint_id"] for h in by_source] == [history[3]["checkpoint_id"]]
    by_step = await client.threads.get_history(thread_id, metadata={"step": 1})
    assert [h["checkpoint_id"] for h in by_step] == [history[1]["checkpoint_id"]]
    assert await client.threads.get_history(thread_id, metadata={"step": 99}) == []

    with pytest.raises(NotFoundError):
        await client.threads.get_history(str(uuid.uuid4()))


async def test_checkpoint_metadata_and_thread_config_shapes(client: Any) -> None:
    # As the official server: checkpoints name their thread, graph, assistant and run;
    # request-scoped keys (request id, copied headers) stay out of the thread's config.
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(
        thread_id, "counter", input={"count": 1}, headers={"x-probe": "yes"}
    )
    await client.runs.join(thread_id, run["run_id"])
    history = await client.threads.get_history(thread_id, limit=10)
    state = await client.threads.get_state(thread_id)
    for metadata in [h["metadata"] for h in history] + [state["metadata"]]:
        assert metadata["thread_id"] == thread_id
        assert metadata["graph_id"] == "counter"
        assert metadata["assistant_id"] == run["assistant_id"]
        assert metadata["run_id"] == run["run_id"]
        assert {"source", "step", "parents"} <= set(metadata)
        assert "langgraph_request_id" not in metadata
    configurable = (await client.threads.get(thread_id))["config"]["configurable"]
    assert configurable["graph_id"] == "counter"
    for key in ("langgraph_request_id", "user-agent", "x-probe", "run_id"):
        assert key not in configurable, key


async def test_history_over_http(client: Any, http: httpx.AsyncClient) -> None:
    thread_id = await run_counter(client)
    r = await http.get(f"/threads/{thread_id}/history")
    assert r.status_code == 200
    assert len(r.json()) == 1  # the handler's default limit is 1
    r = await http.get(f"/threads/{thread_id}/history", params={"limit": 10})
    full = r.json()
    assert len(full) == 4
    r = await http.get(
        f"/threads/{thread_id}/history", params={"limit": 10, "before": full[0]["checkpoint_id"]}
    )
    assert [h["checkpoint_id"] for h in r.json()] == [h["checkpoint_id"] for h in full[1:]]
    r = await http.post(
        f"/threads/{thread_id}/history",
        json={"limit": 10, "before": {"configurable": full[1]["checkpoint"]}},
    )
    assert [h["checkpoint_id"] for h in r.json()] == [h["checkpoint_id"] for h in full[2:]]
    r = await http.post(f"/threads/{thread_id}/history", json={})
    assert len(r.json()) == 1


async def test_state_routes_status_codes(client: Any, http: httpx.AsyncClient) -> None:
    thread_id = await run_counter(client)
    state = (await http.get(f"/threads/{thread_id}/state")).json()
    cp = state["checkpoint"]
    checks = [
        ("GET", f"/threads/{thread_id}/state", None),
        ("GET", f"/threads/{thread_id}/state/{cp['checkpoint_id']}", None),
        ("POST", f"/threads/{thread_id}/state/checkpoint", {"checkpoint": cp}),
        ("POST", f"/threads/{thread_id}/state", {"values": {"count": 1}}),
        ("GET", f"/threads/{thread_id}/history", None),
        ("POST", f"/threads/{thread_id}/history", {"limit": 2}),
    ]
    for method, path, body in checks:
        r = await http.request(method, path, json=body)
        assert r.status_code == 200, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/json")
