"""Threads through the official `langgraph_sdk` client (docs/api.md#threads), plus plain-HTTP
checks of status codes, pagination headers and the system routes (docs/api.md#system-routes)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from conftest import TestServer, running_server

THREAD_KEYS = {
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "status",
    "values",
    "interrupts",
}


def tag() -> str:
    return uuid.uuid4().hex


def ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def assert_thread(t: dict[str, Any]) -> None:
    assert THREAD_KEYS <= set(t), THREAD_KEYS - set(t)
    uuid.UUID(t["thread_id"])
    for key in ("created_at", "updated_at", "state_updated_at"):
        ts(t[key])
    assert isinstance(t["metadata"], dict)
    assert isinstance(t["config"], dict)
    assert t["status"] in ("idle", "busy", "interrupted", "error")
    assert t["values"] is None or isinstance(t["values"], dict)
    assert isinstance(t["interrupts"], dict)


async def counter_thread(client: Any, label: str | None = None, count: int = 1) -> str:
    """A thread with one finished `counter` run (values {"count": (count+1)*2, ...})."""
    thread = await client.threads.create(metadata={"label": label} if label else None)
    await client.runs.wait(thread["thread_id"], "counter", input={"count": count})
    return str(thread["thread_id"])


# --- create / get -------------------------------------------------------------------------


async def test_create_and_get(client: Any) -> None:
    t = await client.threads.create(metadata={"owner": "ada", "n": 1})
    assert_thread(t)
    assert uuid.UUID(t["thread_id"]).version == 7
    assert t["status"] == "idle"
    assert t["values"] is None
    assert t["interrupts"] == {}
    assert t["metadata"] == {"owner": "ada", "n": 1}
    assert "ttl" not in t
    got = await client.threads.get(t["thread_id"])
    assert got == t


async def test_create_with_id_and_if_exists(client: Any) -> None:
    thread_id = str(uuid.uuid4())
    first = await client.threads.create(thread_id=thread_id, metadata={"v": 1})
    assert first["thread_id"] == thread_id
    with pytest.raises(ConflictError) as exc:
        await client.threads.create(thread_id=thread_id)
    assert thread_id in str(exc.value)
    same = await client.threads.create(
        thread_id=thread_id, metadata={"v": 2}, if_exists="do_nothing"
    )
    assert same == first


async def test_create_strips_reserved_metadata(client: Any) -> None:
    t = await client.threads.create(metadata={"run_id": "x", "assistant_id": "y", "ok": True})
    assert t["metadata"] == {"ok": True}


async def test_get_unknown_is_404(client: Any) -> None:
    with pytest.raises(NotFoundError) as exc:
        await client.threads.get(str(uuid.uuid4()))
    assert "not found" in str(exc.value)


async def test_ttl(client: Any) -> None:
    before = datetime.now().astimezone()
    t = await client.threads.create(ttl=30)
    got = await client.threads.get(t["thread_id"], include=["ttl"])
    ttl = got["ttl"]
    assert set(ttl) == {"strategy", "ttl_minutes", "expires_at"}
    assert ttl["strategy"] == "delete"
    assert ttl["ttl_minutes"] == 30
    expires = ts(ttl["expires_at"])
    assert before + timedelta(minutes=29) < expires < before + timedelta(minutes=31)
    assert "ttl" not in await client.threads.get(t["thread_id"])

    k = await client.threads.create(ttl={"strategy": "keep_latest", "ttl": 5})
    got = await client.threads.get(k["thread_id"], include=["ttl"])
    assert got["ttl"]["strategy"] == "keep_latest" and got["ttl"]["ttl_minutes"] == 5

    await client.threads.update(k["thread_id"], metadata={}, ttl=60)
    got = await client.threads.get(k["thread_id"], include=["ttl"])
    assert got["ttl"]["strategy"] == "delete" and got["ttl"]["ttl_minutes"] == 60


async def test_create_with_supersteps(client: Any) -> None:
    t = await client.threads.create(
        graph_id="counter",
        supersteps=[
            {"updates": [{"values": {"count": 5}, "as_node": "increment"}]},
            {"updates": [{"values": {"log": ["manual"]}, "as_node": "increment"}]},
        ],
    )
    assert_thread(t)
    assert t["metadata"]["graph_id"] == "counter"
    assert t["values"] == {"count": 5, "log": ["manual"]}
    # The last update was written "as" increment, so double runs next.
    assert t["status"] == "interrupted"
    state = await client.threads.get_state(t["thread_id"])
    assert state["next"] == ["double"]
    history = await client.threads.get_history(t["thread_id"], limit=10)
    assert len(history) == 2
    # Resuming finishes the graph from the pre-populated state.
    out = await client.runs.wait(t["thread_id"], "counter", input=None)
    assert out == {"count": 10, "log": ["manual", "double"]}


async def test_create_with_supersteps_command(client: Any) -> None:
    t = await client.threads.create(
        graph_id="counter",
        supersteps=[
            {"updates": [{"values": {"count": 1}, "as_node": "increment"}]},
            {
                "updates": [
                    {
                        "values": None,
                        "command": {"update": {"count": 7}, "goto": "increment"},
                        "as_node": "double",
                    }
                ]
            },
        ],
    )
    state = await client.threads.get_state(t["thread_id"])
    assert state["values"]["count"] == 7
    assert state["next"] == ["increment"]


async def test_create_with_bad_supersteps_creates_nothing(client: Any) -> None:
    thread_id = str(uuid.uuid4())
    with pytest.raises(Exception) as exc:
        await client.threads.create(
            thread_id=thread_id,
            graph_id="counter",
            supersteps=[{"updates": [{"values": {"count": 1}, "as_node": "nope"}]}],
        )
    assert getattr(exc.value, "status_code", None) == 400
    assert "nope" in str(exc.value)
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)


# --- update -------------------------------------------------------------------------------


async def test_update_merges_metadata(client: Any, http: httpx.AsyncClient) -> None:
    t = await client.threads.create(metadata={"a": 1, "b": 2})
    u = await client.threads.update(t["thread_id"], metadata={"b": 3, "c": 4})
    assert_thread(u)
    assert u["metadata"] == {"a": 1, "b": 3, "c": 4}
    assert ts(u["updated_at"]) > ts(t["updated_at"])
    # metadata is not state
    assert u["state_updated_at"] == t["state_updated_at"]
    assert (await client.threads.get(t["thread_id"]))["metadata"] == u["metadata"]

    assert (
        await client.threads.update(t["thread_id"], metadata={"d": 5}, return_minimal=True) is None
    )
    r = await http.patch(
        f"/threads/{t['thread_id']}",
        json={"metadata": {"e": 6}},
        headers={"Prefer": "return=minimal"},
    )
    assert r.status_code == 204 and r.content == b""
    assert (await client.threads.get(t["thread_id"]))["metadata"] == {
        "a": 1,
        "b": 3,
        "c": 4,
        "d": 5,
        "e": 6,
    }
    with pytest.raises(NotFoundError):
        await client.threads.update(str(uuid.uuid4()), metadata={"x": 1})


# --- delete -------------------------------------------------------------------------------


async def test_delete_removes_thread_and_checkpoints(client: Any, http: httpx.AsyncClient) -> None:
    thread_id = await counter_thread(client)
    assert len(await client.threads.get_history(thread_id)) == 4
    r = await http.delete(f"/threads/{thread_id}")
    assert r.status_code == 204 and r.content == b""
    with pytest.raises(NotFoundError):
        await client.threads.get(thread_id)
    with pytest.raises(NotFoundError):
        await client.runs.list(thread_id)
    with pytest.raises(NotFoundError):
        await client.threads.get_state(thread_id)
    with pytest.raises(NotFoundError):
        await client.threads.delete(thread_id)
    # A new thread with the same id starts from nothing: no checkpoints survived.
    await client.threads.create(thread_id=thread_id, graph_id="counter")
    assert await client.threads.get_history(thread_id) == []
    state = await client.threads.get_state(thread_id)
    assert state["values"] == {} and state["checkpoint"] is None


# --- search / count -----------------------------------------------------------------------


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["thread_id"] for r in rows]


async def test_search_filters(client: Any) -> None:
    label = tag()
    idle = await counter_thread(client, label, count=1)  # values {"count": 4}
    other = await counter_thread(client, label, count=2)  # values {"count": 6}
    hitl = await client.threads.create(metadata={"label": label, "kind": "review"})
    await client.runs.wait(hitl["thread_id"], "hitl", input={"topic": "otters"})
    fresh = await client.threads.create(metadata={"label": label, "tags": ["a", "b"]})

    rows = await client.threads.search(metadata={"label": label})
    assert set(ids(rows)) == {idle, other, hitl["thread_id"], fresh["thread_id"]}
    for row in rows:
        assert_thread(row)

    assert ids(await client.threads.search(metadata={"label": label, "kind": "review"})) == [
        hitl["thread_id"]
    ]
    assert ids(await client.threads.search(metadata={"label": label, "tags": ["b"]})) == [
        fresh["thread_id"]
    ]
    assert ids(await client.threads.search(metadata={"label": label}, values={"count": 6})) == [
        other
    ]
    assert ids(
        await client.threads.search(metadata={"label": label}, values={"log": ["double"]})
    ) == [other, idle]
    assert ids(await client.threads.search(metadata={"label": label}, status="interrupted")) == [
        hitl["thread_id"]
    ]
    assert set(ids(await client.threads.search(metadata={"label": label}, status="idle"))) == {
        idle,
        other,
        fresh["thread_id"],
    }
    assert set(ids(await client.threads.search(ids=[idle, fresh["thread_id"]]))) == {
        idle,
        fresh["thread_id"],
    }
    assert await client.threads.search(ids=[str(uuid.uuid4())]) == []


async def test_search_sort_limit_offset_select(client: Any) -> None:
    label = tag()
    made = [(await client.threads.create(metadata={"label": label}))["thread_id"] for _ in range(4)]
    assert ids(await client.threads.search(metadata={"label": label})) == made[::-1]
    assert (
        ids(
            await client.threads.search(
                metadata={"label": label}, sort_by="created_at", sort_order="asc"
            )
        )
        == made
    )
    assert ids(
        await client.threads.search(
            metadata={"label": label}, sort_by="thread_id", sort_order="asc"
        )
    ) == sorted(made)
    page = await client.threads.search(
        metadata={"label": label}, sort_order="asc", sort_by="created_at", limit=2, offset=1
    )
    assert ids(page) == made[1:3]
    for key in ("status", "updated_at", "state_updated_at"):
        rows = await client.threads.search(metadata={"label": label}, sort_by=key)
        assert set(ids(rows)) == set(made)

    selected = await client.threads.search(
        metadata={"label": label}, select=["thread_id", "status"], limit=1
    )
    assert len(selected) == 1 and set(selected[0]) == {"thread_id", "status"}


async def test_search_extract(client: Any) -> None:
    label = tag()
    t = await client.threads.create(metadata={"label": label, "deep": {"k": "v"}})
    await client.runs.wait(
        t["thread_id"], "agent", input={"messages": [{"role": "user", "content": "hi"}]}
    )
    rows = await client.threads.search(
        metadata={"label": label},
        extract={
            "last": "values.messages[-1].content",
            "first_type": "values.messages[0].type",
            "deep": "metadata.deep.k",
            "missing": "values.nothing.here",
            "out_of_range": "values.messages[5]",
        },
    )
    assert len(rows) == 1
    assert rows[0]["extracted"] == {
        "last": "You said: hi",
        "first_type": "human",
        "deep": "v",
        "missing": None,
        "out_of_range": None,
    }
    selected = await client.threads.search(
        metadata={"label": label}, select=["thread_id"], extract={"deep": "metadata.deep"}
    )
    assert selected == [{"thread_id": t["thread_id"], "extracted": {"deep": {"k": "v"}}}]
    with pytest.raises(UnprocessableEntityError):
        await client.threads.search(extract={"x": "nowhere.at.all"})


async def test_search_pagination_headers(client: Any, http: httpx.AsyncClient) -> None:
    label = tag()
    for _ in range(3):
        await client.threads.create(metadata={"label": label})
    r = await http.post("/threads/search", json={"metadata": {"label": label}, "limit": 2})
    assert r.status_code == 200 and len(r.json()) == 2
    assert r.headers["X-Pagination-Next"] == "2"
    assert r.headers["X-Pagination-Total"] == "3"
    r = await http.post(
        "/threads/search", json={"metadata": {"label": label}, "limit": 2, "offset": 2}
    )
    assert len(r.json()) == 1
    assert "X-Pagination-Next" not in r.headers
    assert r.headers["X-Pagination-Total"] == "3"
    r = await http.post(
        "/threads/search", json={"metadata": {"label": label}, "limit": 5, "offset": 7}
    )
    assert r.json() == [] and r.headers["X-Pagination-Total"] == "7"


async def test_busy_status_while_running(client: Any) -> None:
    label = tag()
    t = await client.threads.create(metadata={"label": label})
    run = await client.runs.create(t["thread_id"], "slow", input={"steps": 50, "delay": 0.1})
    try:
        assert (await client.threads.get(t["thread_id"]))["status"] == "busy"
        found = await client.threads.search(metadata={"label": label}, status="busy")
        assert ids(found) == [t["thread_id"]]
        assert await client.threads.count(metadata={"label": label}, status="busy") == 1
    finally:
        await client.runs.cancel(t["thread_id"], run["run_id"], wait=True)
    assert (await client.threads.get(t["thread_id"]))["status"] != "busy"
    assert await client.threads.count(metadata={"label": label}, status="busy") == 0


async def test_count(client: Any) -> None:
    label = tag()
    await counter_thread(client, label, count=1)
    await counter_thread(client, label, count=2)
    await client.threads.create(metadata={"label": label, "x": 1})
    assert await client.threads.count(metadata={"label": label}) == 3
    assert await client.threads.count(metadata={"label": label, "x": 1}) == 1
    assert await client.threads.count(metadata={"label": label}, values={"count": 4}) == 1
    assert await client.threads.count(metadata={"label": label}, status="idle") == 3
    assert await client.threads.count(metadata={"label": label}, status="busy") == 0
    assert await client.threads.count(metadata={"label": tag()}) == 0


# --- copy ---------------------------------------------------------------------------------


async def test_copy_copies_checkpoints(client: Any) -> None:
    source = await counter_thread(client, tag())
    src = await client.threads.get(source)
    copy = await client.threads.copy(source)
    assert_thread(copy)
    assert copy["thread_id"] != source
    assert copy["metadata"] == src["metadata"]
    assert copy["values"] == src["values"]
    assert copy["status"] == "idle"
    assert (await client.threads.get(copy["thread_id"]))["thread_id"] == copy["thread_id"]

    src_history = await client.threads.get_history(source, limit=20)
    copy_history = await client.threads.get_history(copy["thread_id"], limit=20)
    assert [h["values"] for h in copy_history] == [h["values"] for h in src_history]
    assert [h["checkpoint_id"] for h in copy_history] == [h["checkpoint_id"] for h in src_history]
    assert {h["checkpoint"]["thread_id"] for h in copy_history} == {copy["thread_id"]}

    # The copy is independent: running it leaves the source alone.
    await client.runs.wait(copy["thread_id"], "counter", input={"count": 10})
    assert (await client.threads.get_state(source))["values"]["count"] == 4
    assert (await client.threads.get_state(copy["thread_id"]))["values"]["count"] == 22


async def test_copy_of_interrupted_thread_resumes(client: Any) -> None:
    t = await client.threads.create()
    await client.runs.wait(t["thread_id"], "hitl", input={"topic": "copies"})
    copy = await client.threads.copy(t["thread_id"])
    # The pending interrupt (a pending write) came along.
    assert copy["status"] == "interrupted"
    state = await client.threads.get_state(copy["thread_id"])
    assert state["next"] == ["ask_human"]
    assert state["interrupts"] == (await client.threads.get_state(t["thread_id"]))["interrupts"]
    out = await client.runs.wait(copy["thread_id"], "hitl", command={"resume": "Rewritten."})
    assert out["final"] == "Rewritten."
    assert (await client.threads.get(t["thread_id"]))["status"] == "interrupted"


async def test_copy_unknown_is_409(client: Any) -> None:
    with pytest.raises(ConflictError):
        await client.threads.copy(str(uuid.uuid4()))


# --- prune --------------------------------------------------------------------------------


async def test_prune_delete(client: Any) -> None:
    a = await counter_thread(client)
    b = (await client.threads.create())["thread_id"]
    keep = (await client.threads.create())["thread_id"]
    result = await client.threads.prune([a, b, str(uuid.uuid4())])
    assert result == {"pruned_count": 2}
    for gone in (a, b):
        with pytest.raises(NotFoundError):
            await client.threads.get(gone)
    assert (await client.threads.get(keep))["thread_id"] == keep
    assert await client.threads.prune([]) == {"pruned_count": 0}


async def test_prune_keep_latest(client: Any) -> None:
    thread_id = await counter_thread(client)
    before = await client.threads.get_state(thread_id)
    assert len(await client.threads.get_history(thread_id, limit=20)) == 4
    assert await client.threads.prune([thread_id], strategy="keep_latest") == {"pruned_count": 1}
    history = await client.threads.get_history(thread_id, limit=20)
    assert len(history) == 1
    assert history[0]["checkpoint_id"] == before["checkpoint_id"]
    assert history[0]["values"] == before["values"]
    # The thread still works.
    out = await client.runs.wait(thread_id, "counter", input={"count": 0})
    assert out["count"] == 2


# --- plain HTTP: status codes and system routes ------------------------------------------


async def test_status_codes(http: httpx.AsyncClient) -> None:
    r = await http.post("/threads", json={})
    assert r.status_code == 200
    tid = r.json()["thread_id"]
    checks = [
        ("GET", f"/threads/{tid}", None),
        ("PATCH", f"/threads/{tid}", {"metadata": {"x": 1}}),
        ("POST", "/threads/search", {}),
        ("POST", "/threads/count", {}),
        ("GET", f"/threads/{tid}/state", None),
        ("GET", f"/threads/{tid}/history", None),
        ("POST", f"/threads/{tid}/history", {}),
        ("POST", f"/threads/{tid}/copy", None),
        ("POST", "/threads/prune", {"thread_ids": []}),
    ]
    for method, path, body in checks:
        r = await http.request(method, path, json=body)
        assert r.status_code == 200, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/json")
    r = await http.delete(f"/threads/{tid}")
    assert r.status_code == 204


async def test_optional_bodies_may_be_omitted(http: httpx.AsyncClient) -> None:
    r = await http.post("/threads")
    assert r.status_code == 200, r.text
    tid = r.json()["thread_id"]
    for path in ("/threads/search", "/threads/count", f"/threads/{tid}/history"):
        r = await http.post(path)
        assert r.status_code == 200, (path, r.text)
    assert (await http.patch(f"/threads/{tid}")).status_code == 200
    r = await http.post("/threads", content=b'{"metadata": {"raw": true}}')
    assert r.status_code == 200 and r.json()["metadata"] == {"raw": True}


async def test_ok(http: httpx.AsyncClient, server: TestServer) -> None:
    r = await http.get("/ok")
    assert r.status_code == 200
    assert r.json()["ok"] is True
    r = await http.get("/ok", params={"check_db": 1})
    assert r.status_code == 200
    services = r.json()["services"]
    assert services.pop("database") == "healthy"
    assert services == ({"redis": "healthy"} if server.settings.redis_url else {})


OFFICIAL_FLAGS = {
    "assistants",
    "crons",
    "langsmith",
    "langsmith_tracing_replicas",
    "langsmith_tracing_session_on_runs",
}


async def test_info(client: Any) -> None:
    body = await client.http.get("/info")
    assert isinstance(body["version"], str) and isinstance(body["langgraph_py_version"], str)
    assert OFFICIAL_FLAGS <= set(body["flags"])
    assert all(isinstance(v, bool) for v in body["flags"].values())
    on = {k for k, v in body["flags"].items() if v}
    assert on == {"assistants", "crons", "threads", "runs", "store", "webhooks"} | {
        "resumable_streams",
        "thread_streaming",
        "mcp",
        "a2a",
    }
    assert {"kind", "project_id", "host_revision_id", "revision_id", "tenant_id"} <= set(
        body["host"]
    )


async def test_info_flags_follow_the_config(tmp_path: Path) -> None:
    from langgraph_sdk import get_client

    config = {
        "graphs": {"echo": f"{Path(__file__).parents[1] / 'examples' / 'echo.py'}:graph"},
        "http": {"disable_runs": True, "disable_webhooks": True},
        "store": {"ttl": {"default_ttl": 5}},
        "checkpointer": {"ttl": {"default_ttl": 60}},
    }
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    with running_server("sqlite", tmp_path / "langgraph.json") as srv:
        client = get_client(url=srv.url, api_key=None)
        try:
            flags = (await client.http.get("/info"))["flags"]
        finally:
            await client.aclose()
    on = {k for k, v in flags.items() if v}
    assert on == {"assistants", "threads", "store", "resumable_streams", "mcp", "a2a"} | {
        "thread_ttl",
        "store_ttl",
    }


async def test_docs_and_openapi(http: httpx.AsyncClient) -> None:
    r = await http.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    r = await http.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/assistants",
        "/assistants/search",
        "/assistants/{assistant_id}",
        "/threads",
        "/threads/search",
        "/threads/{thread_id}/state",
        "/threads/{thread_id}/history",
        "/ok",
    ):
        assert path in spec["paths"], path
