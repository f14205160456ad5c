"""Assistants through the official `langgraph_sdk` client (docs/api.md#assistants), plus the plain
HTTP details the client hides: status codes and pagination headers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)

SYSTEM_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
ASSISTANT_KEYS = {
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
    "name",
    "description",
}
SCHEMA_KEYS = {"input_schema", "output_schema", "state_schema", "config_schema", "context_schema"}


def tag() -> str:
    """A metadata value unique to one test, so searches on the shared server are isolated."""
    return uuid.uuid4().hex


def ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def assert_assistant(a: dict[str, Any], *, version_row: bool = False) -> None:
    expected = ASSISTANT_KEYS - {"updated_at"} if version_row else ASSISTANT_KEYS
    assert expected <= set(a), set(a) ^ expected
    uuid.UUID(a["assistant_id"])
    assert isinstance(a["graph_id"], str)
    assert isinstance(a["config"], dict)
    assert isinstance(a["context"], dict)
    assert isinstance(a["metadata"], dict)
    assert isinstance(a["version"], int) and a["version"] >= 1
    assert isinstance(a["name"], str)
    assert a["description"] is None or isinstance(a["description"], str)
    ts(a["created_at"])
    if not version_row:
        ts(a["updated_at"])


async def make(client: Any, label: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("graph_id", "counter")
    metadata = {"label": label, **kwargs.pop("metadata", {})}
    return await client.assistants.create(metadata=metadata, **kwargs)  # type: ignore[no-any-return]


# --- system assistants, get ---------------------------------------------------------------


async def test_system_assistant_per_graph(client: Any) -> None:
    found = await client.assistants.search(graph_id="agent", metadata={"created_by": "system"})
    assert len(found) == 1
    a = found[0]
    assert_assistant(a)
    assert a["assistant_id"] == str(uuid.uuid5(SYSTEM_NAMESPACE, "agent"))
    assert a["graph_id"] == "agent"
    assert a["version"] == 1
    assert a["name"] == "agent"
    assert await client.assistants.get(a["assistant_id"]) == a


async def test_get_unknown_is_404(client: Any) -> None:
    with pytest.raises(NotFoundError):
        await client.assistants.get(str(uuid.uuid4()))


# --- create -------------------------------------------------------------------------------


async def test_create_returns_full_assistant(client: Any) -> None:
    label = tag()
    a = await client.assistants.create(
        "counter",
        config={"tags": ["t1"], "recursion_limit": 7},
        metadata={"label": label, "team": "x"},
        name="Counter One",
        description="counts",
    )
    assert_assistant(a)
    assert a["graph_id"] == "counter"
    assert a["config"]["tags"] == ["t1"] and a["config"]["recursion_limit"] == 7
    assert a["metadata"] == {"label": label, "team": "x"}
    assert a["name"] == "Counter One"
    assert a["description"] == "counts"
    assert a["version"] == 1
    assert a["created_at"] == a["updated_at"]
    assert await client.assistants.get(a["assistant_id"]) == a


async def test_create_defaults(client: Any) -> None:
    a = await client.assistants.create("echo")
    assert_assistant(a)
    assert a["name"] == "Untitled"
    assert a["description"] is None
    assert a["metadata"] == {}
    assert a["context"] == {}


async def test_create_with_id_and_if_exists(client: Any) -> None:
    assistant_id = str(uuid.uuid4())
    first = await client.assistants.create("counter", assistant_id=assistant_id, name="first")
    assert first["assistant_id"] == assistant_id

    with pytest.raises(ConflictError) as exc:
        await client.assistants.create("counter", assistant_id=assistant_id, name="second")
    assert exc.value.status_code == 409
    assert assistant_id in str(exc.value)

    same = await client.assistants.create(
        "counter", assistant_id=assistant_id, name="third", if_exists="do_nothing"
    )
    assert same == first
    assert (await client.assistants.get(assistant_id))["name"] == "first"


async def test_create_context_mirrors_configurable(client: Any) -> None:
    a = await client.assistants.create("context", context={"user": "ada"})
    assert a["context"] == {"user": "ada"}
    assert a["config"]["configurable"] == {"user": "ada"}

    b = await client.assistants.create("context", config={"configurable": {"user": "bob"}})
    assert b["context"] == {"user": "bob"}

    with pytest.raises(BadRequestError) as exc:
        await client.assistants.create(
            "context", config={"configurable": {"user": "a"}}, context={"user": "b"}
        )
    assert "context" in str(exc.value)


async def test_create_strips_reserved_keys(client: Any) -> None:
    a = await client.assistants.create(
        "counter",
        metadata={"thread_id": "x", "run_id": "y", "kept": 1},
        config={"configurable": {"langgraph_auth_user": "evil", "mine": 1}},
    )
    assert a["metadata"] == {"kept": 1}
    assert a["config"]["configurable"] == {"mine": 1}


async def test_create_unknown_graph_is_404(client: Any) -> None:
    with pytest.raises(NotFoundError) as exc:
        await client.assistants.create("no-such-graph")
    assert "no-such-graph" in str(exc.value)


# --- update, versions, set_latest ---------------------------------------------------------


async def test_update_appends_version_and_merges_metadata(client: Any) -> None:
    label = tag()
    a = await make(client, label, metadata={"keep": 1, "change": "old"}, config={"tags": ["v1"]})
    b = await client.assistants.update(
        a["assistant_id"],
        metadata={"change": "new", "added": True},
        config={"tags": ["v2"]},
        name="renamed",
    )
    assert_assistant(b)
    assert b["version"] == 2
    assert b["metadata"] == {"label": label, "keep": 1, "change": "new", "added": True}
    assert b["config"]["tags"] == ["v2"]
    assert b["name"] == "renamed"
    assert b["created_at"] == a["created_at"]
    assert ts(b["updated_at"]) > ts(a["updated_at"])
    assert await client.assistants.get(a["assistant_id"]) == b

    # Fields not given keep their value; the version still advances.
    c = await client.assistants.update(a["assistant_id"], description="described")
    assert c["version"] == 3
    assert c["name"] == "renamed" and c["config"]["tags"] == ["v2"]
    assert c["description"] == "described"


async def test_update_graph_id_and_context(client: Any) -> None:
    a = await client.assistants.create("counter")
    b = await client.assistants.update(a["assistant_id"], graph_id="echo")
    assert b["graph_id"] == "echo"
    c = await client.assistants.update(a["assistant_id"], context={"user": "z"})
    assert c["context"] == {"user": "z"}
    assert c["config"]["configurable"] == {"user": "z"}
    with pytest.raises(NotFoundError):
        await client.assistants.update(a["assistant_id"], graph_id="no-such-graph")
    with pytest.raises(NotFoundError):
        await client.assistants.update(str(uuid.uuid4()), name="x")


async def test_update_context_of_assistant_created_with_context(client: Any) -> None:
    # The stored config mirrors the stored context; a new context replaces both.
    a = await client.assistants.create("context", context={"user": "ada"}, metadata={"a": 1})
    b = await client.assistants.update(
        a["assistant_id"], context={"user": "bob"}, metadata={"b": 2}
    )
    assert b["version"] == 2
    assert b["context"] == {"user": "bob"}
    assert b["config"]["configurable"] == {"user": "bob"}
    assert b["metadata"] == {"a": 1, "b": 2}
    c = await client.assistants.update(a["assistant_id"], config={"configurable": {"user": "cy"}})
    assert c["context"] == {"user": "cy"} and c["version"] == 3
    with pytest.raises(BadRequestError):
        await client.assistants.update(
            a["assistant_id"], config={"configurable": {"user": "a"}}, context={"user": "b"}
        )


async def test_context_strips_reserved_keys(client: Any) -> None:
    forged = {"langgraph_auth_user_id": "evil", "langgraph_auth_permissions": ["admin"]}
    a = await client.assistants.create("context", context={**forged, "user": "ada"})
    assert a["context"] == {"user": "ada"}
    assert a["config"]["configurable"] == {"user": "ada"}
    b = await client.assistants.update(a["assistant_id"], context={**forged, "user": "bob"})
    assert b["context"] == {"user": "bob"}
    assert b["config"]["configurable"] == {"user": "bob"}


async def test_versions_listing(client: Any) -> None:
    a = await make(client, tag(), name="v1")
    await client.assistants.update(a["assistant_id"], name="v2", metadata={"phase": "two"})
    await client.assistants.update(a["assistant_id"], name="v3", metadata={"phase": "three"})

    versions = await client.assistants.get_versions(a["assistant_id"])
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert [v["name"] for v in versions] == ["v3", "v2", "v1"]
    for v in versions:
        assert_assistant(v, version_row=True)
        assert v["assistant_id"] == a["assistant_id"]

    page = await client.assistants.get_versions(a["assistant_id"], limit=1, offset=1)
    assert [v["version"] for v in page] == [2]

    filtered = await client.assistants.get_versions(a["assistant_id"], metadata={"phase": "two"})
    assert [v["version"] for v in filtered] == [2]

    with pytest.raises(NotFoundError):
        await client.assistants.get_versions(str(uuid.uuid4()))


async def test_set_latest(client: Any) -> None:
    a = await make(client, tag(), name="first", config={"tags": ["one"]})
    await client.assistants.update(a["assistant_id"], name="second", config={"tags": ["two"]})

    back = await client.assistants.set_latest(a["assistant_id"], 1)
    assert_assistant(back)
    assert back["version"] == 1
    assert ts(back["updated_at"]) > ts(a["updated_at"])
    assert back["name"] == "first"
    assert back["config"]["tags"] == ["one"]
    assert await client.assistants.get(a["assistant_id"]) == back
    # Making an old version current does not add a version.
    versions = await client.assistants.get_versions(a["assistant_id"])
    assert [v["version"] for v in versions] == [2, 1]

    forward = await client.assistants.set_latest(a["assistant_id"], 2)
    assert forward["name"] == "second" and forward["version"] == 2

    # The next update is max + 1, not current + 1.
    await client.assistants.set_latest(a["assistant_id"], 1)
    nxt = await client.assistants.update(a["assistant_id"], name="third")
    assert nxt["version"] == 3

    with pytest.raises(NotFoundError):
        await client.assistants.set_latest(a["assistant_id"], 99)
    with pytest.raises(NotFoundError):
        await client.assistants.set_latest(str(uuid.uuid4()), 1)


async def test_runs_use_the_current_version(client: Any) -> None:
    a = await client.assistants.create("slow", config={"configurable": {"steps": 1}})
    await client.assistants.update(a["assistant_id"], config={"configurable": {"steps": 2}})
    thread = await client.threads.create()
    out = await client.runs.wait(thread["thread_id"], a["assistant_id"], input={"delay": 0})
    assert out["step"] == 2
    await client.assistants.set_latest(a["assistant_id"], 1)
    thread = await client.threads.create()
    out = await client.runs.wait(thread["thread_id"], a["assistant_id"], input={"delay": 0})
    assert out["step"] == 1


# --- delete -------------------------------------------------------------------------------


async def test_delete(client: Any, http: httpx.AsyncClient) -> None:
    a = await client.assistants.create("counter")
    await client.assistants.update(a["assistant_id"], name="v2")
    r = await http.delete(f"/assistants/{a['assistant_id']}")
    assert r.status_code == 204
    assert r.content == b""
    with pytest.raises(NotFoundError):
        await client.assistants.get(a["assistant_id"])
    with pytest.raises(NotFoundError):
        await client.assistants.get_versions(a["assistant_id"])
    with pytest.raises(NotFoundError):
        await client.assistants.delete(a["assistant_id"])


async def test_delete_with_threads(client: Any) -> None:
    a = await client.assistants.create("counter")
    used = await client.threads.create()
    await client.runs.wait(used["thread_id"], a["assistant_id"], input={"count": 1})
    assert (await client.threads.get(used["thread_id"]))["metadata"]["assistant_id"] == a[
        "assistant_id"
    ]
    other = await client.threads.create()
    await client.runs.wait(other["thread_id"], "counter", input={"count": 1})

    await client.assistants.delete(a["assistant_id"], delete_threads=True)
    with pytest.raises(NotFoundError):
        await client.threads.get(used["thread_id"])
    assert (await client.threads.get(other["thread_id"]))["thread_id"] == other["thread_id"]


async def test_delete_keeps_threads_by_default(client: Any) -> None:
    a = await client.assistants.create("counter")
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], a["assistant_id"], input={"count": 1})
    await client.assistants.delete(a["assistant_id"])
    kept = await client.threads.get(thread["thread_id"])
    assert kept["values"] == {"count": 4, "log": ["increment", "double"]}


# --- search and count ---------------------------------------------------------------------


async def test_search_filters(client: Any) -> None:
    label = tag()
    a = await make(client, label, name="Alpha Searcher", metadata={"kind": "a"})
    b = await make(client, label, graph_id="echo", name="beta searcher", metadata={"kind": "b"})
    c = await make(client, label, name="Gamma", metadata={"kind": "b", "nested": {"x": [1, 2]}})

    def ids(rows: list[dict[str, Any]]) -> set[str]:
        return {r["assistant_id"] for r in rows}

    everything = await client.assistants.search(metadata={"label": label})
    assert ids(everything) == {a["assistant_id"], b["assistant_id"], c["assistant_id"]}
    for row in everything:
        assert_assistant(row)

    assert ids(await client.assistants.search(metadata={"label": label, "kind": "b"})) == {
        b["assistant_id"],
        c["assistant_id"],
    }
    # Containment: nested objects and lists match by subset.
    assert ids(await client.assistants.search(metadata={"nested": {"x": [2]}, "label": label})) == {
        c["assistant_id"]
    }
    assert ids(await client.assistants.search(metadata={"label": label}, graph_id="echo")) == {
        b["assistant_id"]
    }
    # name: case-insensitive substring
    assert ids(await client.assistants.search(metadata={"label": label}, name="SEARCHER")) == {
        a["assistant_id"],
        b["assistant_id"],
    }
    assert await client.assistants.search(metadata={"label": label, "kind": "zzz"}) == []


async def test_search_unknown_graph_is_404(client: Any) -> None:
    with pytest.raises(NotFoundError):
        await client.assistants.search(graph_id="no-such-graph")


async def test_search_sort_limit_offset(client: Any) -> None:
    label = tag()
    made = [await make(client, label, name=f"n{i}") for i in range(5)]
    newest_first = await client.assistants.search(metadata={"label": label})
    assert [r["assistant_id"] for r in newest_first] == [r["assistant_id"] for r in reversed(made)]

    by_name = await client.assistants.search(
        metadata={"label": label}, sort_by="name", sort_order="asc"
    )
    assert [r["name"] for r in by_name] == ["n0", "n1", "n2", "n3", "n4"]
    by_name_desc = await client.assistants.search(
        metadata={"label": label}, sort_by="name", sort_order="desc"
    )
    assert [r["name"] for r in by_name_desc] == ["n4", "n3", "n2", "n1", "n0"]

    page = await client.assistants.search(
        metadata={"label": label}, sort_by="name", sort_order="asc", limit=2, offset=1
    )
    assert [r["name"] for r in page] == ["n1", "n2"]
    assert (await client.assistants.search(metadata={"label": label}, limit=2, offset=10)) == []

    for key in ("assistant_id", "created_at", "updated_at", "graph_id"):
        rows = await client.assistants.search(
            metadata={"label": label}, sort_by=key, sort_order="asc"
        )
        assert [r[key] for r in rows] == sorted(r[key] for r in rows)


async def test_search_select(client: Any) -> None:
    label = tag()
    await make(client, label, name="selected")
    rows = await client.assistants.search(
        metadata={"label": label}, select=["assistant_id", "name", "version"]
    )
    assert len(rows) == 1
    assert set(rows[0]) == {"assistant_id", "name", "version"}
    assert rows[0]["name"] == "selected"


async def test_search_object_response_with_next(client: Any) -> None:
    label = tag()
    for i in range(3):
        await make(client, label, name=f"p{i}")
    first = await client.assistants.search(
        metadata={"label": label}, limit=2, response_format="object"
    )
    assert set(first) == {"assistants", "next"}
    assert len(first["assistants"]) == 2
    assert first["next"] == "2"
    last = await client.assistants.search(
        metadata={"label": label}, limit=2, offset=int(first["next"]), response_format="object"
    )
    assert len(last["assistants"]) == 1
    assert last["next"] is None


async def test_search_pagination_headers(client: Any, http: httpx.AsyncClient) -> None:
    label = tag()
    for i in range(3):
        await make(client, label, name=f"h{i}")
    r = await http.post("/assistants/search", json={"metadata": {"label": label}, "limit": 2})
    assert r.status_code == 200
    assert len(r.json()) == 2
    assert r.headers["X-Pagination-Next"] == "2"
    assert r.headers["X-Pagination-Total"] == "3"

    r = await http.post(
        "/assistants/search", json={"metadata": {"label": label}, "limit": 2, "offset": 2}
    )
    assert len(r.json()) == 1
    assert "X-Pagination-Next" not in r.headers
    assert r.headers["X-Pagination-Total"] == "3"

    r = await http.post("/assistants/search", json={"metadata": {"label": label}})
    assert r.headers["X-Pagination-Total"] == "3"
    assert "X-Pagination-Next" not in r.headers


async def test_count(client: Any) -> None:
    label = tag()
    await make(client, label, name="Count Me", metadata={"kind": "x"})
    await make(client, label, graph_id="echo", name="count too", metadata={"kind": "y"})
    assert await client.assistants.count(metadata={"label": label}) == 2
    assert await client.assistants.count(metadata={"label": label, "kind": "x"}) == 1
    assert await client.assistants.count(metadata={"label": label}, graph_id="echo") == 1
    assert await client.assistants.count(metadata={"label": label}, name="COUNT") == 2
    assert await client.assistants.count(metadata={"label": tag()}) == 0
    assert await client.assistants.count() >= 2


# --- graph, schemas, subgraphs ------------------------------------------------------------


def node_ids(drawn: dict[str, Any]) -> set[str]:
    return {n["id"] for n in drawn["nodes"]}


async def test_get_graph(client: Any) -> None:
    drawn = await client.assistants.get_graph("agent")
    assert set(drawn) >= {"nodes", "edges"}
    assert node_ids(drawn) == {"__start__", "call_model", "__end__"}
    for node in drawn["nodes"]:
        assert isinstance(node["id"], str)
        assert "id" not in (node.get("data") or {})
    for edge in drawn["edges"]:
        assert {"source", "target"} <= set(edge)
    # By uuid too, and for user assistants.
    a = await client.assistants.create("agent")
    assert await client.assistants.get_graph(a["assistant_id"]) == drawn


async def test_get_graph_xray(client: Any) -> None:
    flat = await client.assistants.get_graph("subgraph")
    assert "child" in node_ids(flat)
    assert not any(":" in n for n in node_ids(flat))
    for xray in (True, 1):
        deep = await client.assistants.get_graph("subgraph", xray=xray)
        assert {"child:shout", "child:exclaim"} <= node_ids(deep)
    with pytest.raises(NotFoundError):
        await client.assistants.get_graph(str(uuid.uuid4()))


async def test_get_schemas(client: Any) -> None:
    a = await client.assistants.create("counter")
    schemas = await client.assistants.get_schemas(a["assistant_id"])
    assert set(schemas) == {"graph_id", *SCHEMA_KEYS}
    assert schemas["graph_id"] == "counter"
    for key in SCHEMA_KEYS:
        assert schemas[key] is None or isinstance(schemas[key], dict)
    assert set(schemas["input_schema"]["properties"]) == {"count", "log"}
    assert set(schemas["state_schema"]["properties"]) == {"count", "log"}
    assert set(schemas["output_schema"]["properties"]) == {"count", "log"}

    ctx = await client.assistants.get_schemas(str(uuid.uuid5(SYSTEM_NAMESPACE, "context")))
    assert ctx["graph_id"] == "context"
    assert isinstance(ctx["context_schema"], dict)
    with pytest.raises(NotFoundError):
        await client.assistants.get_schemas(str(uuid.uuid4()))


async def test_get_subgraphs(client: Any) -> None:
    assistant_id = str(uuid.uuid5(SYSTEM_NAMESPACE, "subgraph"))
    subgraphs = await client.assistants.get_subgraphs(assistant_id)
    assert set(subgraphs) == {"child"}
    assert set(subgraphs["child"]) == SCHEMA_KEYS
    assert set(subgraphs["child"]["input_schema"]["properties"]) == {"text"}

    assert set(await client.assistants.get_subgraphs(assistant_id, recurse=True)) == {"child"}
    one = await client.assistants.get_subgraphs(assistant_id, namespace="child")
    assert one == subgraphs
    assert await client.assistants.get_subgraphs(assistant_id, namespace="nope") == {}

    agent = str(uuid.uuid5(SYSTEM_NAMESPACE, "agent"))
    assert await client.assistants.get_subgraphs(agent) == {}
    with pytest.raises(NotFoundError):
        await client.assistants.get_subgraphs(str(uuid.uuid4()))


@pytest.mark.parametrize("graph_id", ["sync_factory", "async_cm_factory", "context"])
async def test_factory_graphs_draw_and_describe(client: Any, graph_id: str) -> None:
    a = await client.assistants.create(graph_id, config={"configurable": {"greeting": "hi"}})
    drawn = await client.assistants.get_graph(a["assistant_id"])
    assert "respond" in node_ids(drawn)
    schemas = await client.assistants.get_schemas(a["assistant_id"])
    assert schemas["graph_id"] == graph_id
    assert set(schemas["input_schema"]["properties"]) == {"text", "reply"}
    assert await client.assistants.get_subgraphs(a["assistant_id"]) == {}


async def test_graph_id_is_not_an_assistant_id_outside_graph_route(client: Any) -> None:
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.get("agent")
    with pytest.raises(UnprocessableEntityError):
        await client.assistants.get_schemas("agent")


# --- plain HTTP: status codes -------------------------------------------------------------


async def test_status_codes(http: httpx.AsyncClient) -> None:
    r = await http.post("/assistants", json={"graph_id": "counter"})
    assert r.status_code == 200
    aid = r.json()["assistant_id"]
    checks = [
        ("GET", f"/assistants/{aid}", None),
        ("PATCH", f"/assistants/{aid}", {"name": "x"}),
        ("GET", f"/assistants/{aid}/graph", None),
        ("GET", f"/assistants/{aid}/schemas", None),
        ("GET", f"/assistants/{aid}/subgraphs", None),
        ("GET", f"/assistants/{aid}/subgraphs/child", None),
        ("POST", f"/assistants/{aid}/versions", {}),
        ("POST", f"/assistants/{aid}/latest", {"version": 1}),
        ("POST", "/assistants/search", {}),
        ("POST", "/assistants/count", {}),
    ]
    for method, path, body in checks:
        r = await http.request(method, path, json=body)
        assert r.status_code == 200, (method, path, r.text)
        assert r.headers["content-type"].startswith("application/json")
    assert isinstance((await http.post("/assistants/count", json={})).json(), int)
    r = await http.delete(f"/assistants/{aid}")
    assert r.status_code == 204


async def test_optional_bodies_may_be_omitted(http: httpx.AsyncClient) -> None:
    aid = (await http.post("/assistants", json={"graph_id": "counter"})).json()["assistant_id"]
    for path in ("/assistants/search", "/assistants/count", f"/assistants/{aid}/versions"):
        r = await http.post(path)
        assert r.status_code == 200, (path, r.text)
    r = await http.post(
        "/assistants/search", content=b"null", headers={"content-type": "application/json"}
    )
    assert r.status_code == 200
    r = await http.patch(f"/assistants/{aid}")
    assert r.status_code == 200 and r.json()["version"] == 2
    # A JSON body without a Content-Type header is still read as JSON.
    r = await http.post("/assistants/search", content=b'{"limit": 1}')
    assert r.status_code == 200 and len(r.json()) == 1
