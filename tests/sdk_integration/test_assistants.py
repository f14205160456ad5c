"""`client.assistants`: every method against a real server (see conftest for the four modes)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from graphport.sdk.errors import ConflictError, NotFoundError

from .helpers import (
    ASSISTANT,
    ASSISTANT_VERSION,
    GRAPH_SCHEMA,
    SUBGRAPH_SCHEMA,
    check,
    check_all,
    system_assistant,
)

pytestmark = pytest.mark.timeout(60)


async def test_create_get_update_versions_delete(client: Any) -> None:
    tag = uuid.uuid4().hex
    assistant_id = str(uuid.uuid4())
    created = await client.assistants.create(
        "counter",
        {"configurable": {"steps": 1}},
        metadata={"tag": tag},
        assistant_id=assistant_id,
        name="first",
        description="made by the SDK tests",
    )
    check(created, ASSISTANT, "assistant")
    assert (created["assistant_id"], created["graph_id"], created["version"]) == (
        assistant_id,
        "counter",
        1,
    )
    assert created["metadata"]["tag"] == tag
    assert created["description"] == "made by the SDK tests"

    with pytest.raises(ConflictError):
        await client.assistants.create("counter", assistant_id=assistant_id)
    same = await client.assistants.create("echo", assistant_id=assistant_id, if_exists="do_nothing")
    assert (same["assistant_id"], same["graph_id"]) == (assistant_id, "counter")

    got = check(await client.assistants.get(assistant_id), ASSISTANT, "assistant")
    assert got["name"] == "first" and got["config"]["configurable"] == {"steps": 1}

    updated = await client.assistants.update(
        assistant_id, name="second", metadata={"more": 1}, context={}, config={}
    )
    check(updated, ASSISTANT, "assistant")
    assert (updated["version"], updated["name"]) == (2, "second")
    assert updated["metadata"]["tag"] == tag and updated["metadata"]["more"] == 1

    versions = check_all(await client.assistants.get_versions(assistant_id), ASSISTANT_VERSION)
    assert [v["version"] for v in versions] == [2, 1]
    only_first = await client.assistants.get_versions(assistant_id, limit=1, offset=1)
    assert [v["version"] for v in only_first] == [1]

    latest = check(await client.assistants.set_latest(assistant_id, 1), ASSISTANT, "assistant")
    assert (latest["version"], latest["name"]) == (1, "first")
    assert (await client.assistants.get(assistant_id))["version"] == 1

    assert await client.assistants.delete(assistant_id) is None
    with pytest.raises(NotFoundError) as raised:
        await client.assistants.get(assistant_id)
    assert raised.value.status_code == 404


async def test_delete_with_threads(client: Any) -> None:
    assistant = await client.assistants.create("counter")
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], assistant["assistant_id"], input={"count": 1})
    await client.assistants.delete(assistant["assistant_id"], delete_threads=True)
    with pytest.raises(NotFoundError):
        await client.threads.get(thread["thread_id"])


async def test_search_count_and_pages(client: Any) -> None:
    tag = uuid.uuid4().hex
    ids = [
        (await client.assistants.create("echo", metadata={"tag": tag}, name=f"n{i}"))[
            "assistant_id"
        ]
        for i in range(3)
    ]
    assert await client.assistants.count(metadata={"tag": tag}) == 3
    assert await client.assistants.count(metadata={"tag": tag}, graph_id="counter") == 0
    assert await client.assistants.count(graph_id="echo") >= 3

    found = check_all(
        await client.assistants.search(metadata={"tag": tag}, sort_by="name", sort_order="asc"),
        ASSISTANT,
    )
    assert [a["assistant_id"] for a in found] == ids
    by_name = await client.assistants.search(metadata={"tag": tag}, name="n1")
    assert [a["assistant_id"] for a in by_name] == [ids[1]]
    selected = await client.assistants.search(
        metadata={"tag": tag}, select=["assistant_id", "name"], limit=1
    )
    assert len(selected) == 1 and set(selected[0]) == {"assistant_id", "name"}

    page = await client.assistants.search(
        metadata={"tag": tag},
        limit=2,
        sort_by="name",
        sort_order="asc",
        response_format="object",
    )
    assert set(page) == {"assistants", "next"}
    check_all(page["assistants"], ASSISTANT)
    assert [a["assistant_id"] for a in page["assistants"]] == ids[:2]
    assert page["next"] == "2"
    rest = await client.assistants.search(
        metadata={"tag": tag},
        limit=2,
        offset=int(page["next"]),
        sort_by="name",
        sort_order="asc",
        response_format="object",
    )
    assert [a["assistant_id"] for a in rest["assistants"]] == ids[2:]
    assert rest["next"] is None

    with pytest.raises(ValueError, match="response_format"):
        await client.assistants.search(response_format="table")


async def test_graph_schemas_and_subgraphs(client: Any) -> None:
    graph = await client.assistants.get_graph("subgraph")
    assert set(graph) >= {"nodes", "edges"}
    assert all(isinstance(n, dict) and "id" in n for n in graph["nodes"])
    assert all(isinstance(e, dict) and {"source", "target"} <= e.keys() for e in graph["edges"])
    flat = {n["id"] for n in graph["nodes"]}
    assert {"prepare", "child", "count_words"} <= flat
    xray = await client.assistants.get_graph("subgraph", xray=True)
    assert len(xray["nodes"]) > len(graph["nodes"])
    assert any("shout" in n["id"] for n in xray["nodes"])

    counter = await system_assistant(client, "counter")
    schemas = check(await client.assistants.get_schemas(counter), GRAPH_SCHEMA, "schemas")
    assert schemas["graph_id"] == "counter"
    assert "count" in schemas["state_schema"]["properties"]

    parent = await system_assistant(client, "subgraph")
    subgraphs = await client.assistants.get_subgraphs(parent)
    assert set(subgraphs) == {"child"}
    # As the official server does, a subgraph's schemas come without a `graph_id`.
    check(subgraphs["child"], SUBGRAPH_SCHEMA, "subgraph schema")
    assert await client.assistants.get_subgraphs(parent, namespace="child") == subgraphs
    assert set(await client.assistants.get_subgraphs(parent, recurse=True)) == {"child"}
    assert await client.assistants.get_subgraphs(counter) == {}
