"""What each resource method puts on the wire: method, path, query and JSON body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from graphport.sdk import get_client

from ..helpers import Server, json_body

pytestmark = pytest.mark.timeout(10)

CHECKPOINT = {"thread_id": "t", "checkpoint_ns": "", "checkpoint_id": "c", "checkpoint_map": None}
RUN_DEFAULTS = {"stream_mode": "values", "stream_subgraphs": False, "stream_resumable": False}

# (call, method, path, query, body); query as (key, value) pairs, body None for no body.
CASES: list[tuple[Callable[[Any], Any], str, str, list[tuple[str, str]], Any]] = [
    (lambda c: c.assistants.get("a/b"), "GET", "/assistants/a%2Fb", [], None),
    (lambda c: c.assistants.get(".."), "GET", "/assistants/%2E%2E", [], None),
    (
        lambda c: c.assistants.get_graph("a", xray=True),
        "GET",
        "/assistants/a/graph",
        [("xray", "true")],
        None,
    ),
    (lambda c: c.assistants.get_schemas("a"), "GET", "/assistants/a/schemas", [], None),
    (
        lambda c: c.assistants.get_subgraphs("a", "ns", recurse=True),
        "GET",
        "/assistants/a/subgraphs/ns",
        [("recurse", "true")],
        None,
    ),
    (
        lambda c: c.assistants.create("g", {"tags": ["x"]}, if_exists="do_nothing", name="n"),
        "POST",
        "/assistants",
        [],
        {"graph_id": "g", "config": {"tags": ["x"]}, "if_exists": "do_nothing", "name": "n"},
    ),
    (
        lambda c: c.assistants.update("a", config={}, name="n", metadata={}),
        "PATCH",
        "/assistants/a",
        [],
        {"name": "n", "config": {}},
    ),
    (
        lambda c: c.assistants.delete("a", delete_threads=True),
        "DELETE",
        "/assistants/a",
        [("delete_threads", "true")],
        None,
    ),
    (
        lambda c: c.assistants.search(graph_id="g", limit=5, select=["name"]),
        "POST",
        "/assistants/search",
        [],
        {"limit": 5, "offset": 0, "graph_id": "g", "select": ["name"]},
    ),
    (
        lambda c: c.assistants.count(metadata={"k": 1}),
        "POST",
        "/assistants/count",
        [],
        {"metadata": {"k": 1}},
    ),
    (
        lambda c: c.assistants.get_versions("a", {"k": 1}),
        "POST",
        "/assistants/a/versions",
        [],
        {"limit": 10, "offset": 0, "metadata": {"k": 1}},
    ),
    (
        lambda c: c.assistants.set_latest("a", 3),
        "POST",
        "/assistants/a/latest",
        [],
        {"version": 3},
    ),
    (
        lambda c: c.threads.get("t", include=["ttl"]),
        "GET",
        "/threads/t",
        [("include", "ttl")],
        None,
    ),
    (
        lambda c: c.threads.create(
            graph_id="g",
            metadata={"k": 1},
            ttl=5,
            supersteps=[{"updates": [{"values": {"a": 1}, "as_node": "n"}]}],
        ),
        "POST",
        "/threads",
        [],
        {
            "metadata": {"k": 1, "graph_id": "g"},
            "supersteps": [{"updates": [{"values": {"a": 1}, "command": None, "as_node": "n"}]}],
            "ttl": {"ttl": 5, "strategy": "delete"},
        },
    ),
    (
        lambda c: c.threads.update("t", metadata={}, ttl={"ttl": 1, "strategy": "keep"}),
        "PATCH",
        "/threads/t",
        [],
        {"metadata": {}, "ttl": {"ttl": 1, "strategy": "keep"}},
    ),
    (lambda c: c.threads.delete("t"), "DELETE", "/threads/t", [], None),
    (
        lambda c: c.threads.search(status="idle", ids=["t"], extract={"m": "values.m"}),
        "POST",
        "/threads/search",
        [],
        {"limit": 10, "offset": 0, "ids": ["t"], "status": "idle", "extract": {"m": "values.m"}},
    ),
    (
        lambda c: c.threads.count(values={"a": 1}),
        "POST",
        "/threads/count",
        [],
        {"values": {"a": 1}},
    ),
    (lambda c: c.threads.copy("t"), "POST", "/threads/t/copy", [], None),
    (
        lambda c: c.threads.prune(["t"], strategy="keep_latest"),
        "POST",
        "/threads/prune",
        [],
        {"thread_ids": ["t"], "strategy": "keep_latest"},
    ),
    (
        lambda c: c.threads.get_state("t"),
        "GET",
        "/threads/t/state",
        [("subgraphs", "false")],
        None,
    ),
    (
        lambda c: c.threads.get_state("t", checkpoint_id="c", subgraphs=True, select=["values"]),
        "GET",
        "/threads/t/state/c",
        [("subgraphs", "true"), ("select", "values")],
        None,
    ),
    (
        lambda c: c.threads.get_state("t", CHECKPOINT),
        "POST",
        "/threads/t/state/checkpoint",
        [],
        {"checkpoint": CHECKPOINT, "subgraphs": False},
    ),
    (
        lambda c: c.threads.update_state("t", None, as_node="n"),
        "POST",
        "/threads/t/state",
        [],
        {"values": None, "as_node": "n"},
    ),
    (
        lambda c: c.threads.get_history("t", limit=2, before="c"),
        "POST",
        "/threads/t/history",
        [],
        {"limit": 2, "before": "c"},
    ),
    (
        lambda c: c.runs.create(
            None,
            "agent",
            command={"resume": 1, "goto": None},
            langsmith_tracing={"project_name": "p"},
            durability="exit",
        ),
        "POST",
        "/runs",
        [],
        {
            "assistant_id": "agent",
            "command": {"resume": 1},
            **RUN_DEFAULTS,
            "durability": "exit",
            "langsmith_tracer": {"project_name": "p"},
        },
    ),
    (
        lambda c: c.runs.create("t", "agent", input={"x": 1}, stream_mode=["values", "updates"]),
        "POST",
        "/threads/t/runs",
        [],
        {
            **RUN_DEFAULTS,
            "assistant_id": "agent",
            "input": {"x": 1},
            "stream_mode": ["values", "updates"],
        },
    ),
    (
        lambda c: c.runs.create_batch([{"assistant_id": "a", "input": None}]),  # type: ignore[typeddict-item]
        "POST",
        "/runs/batch",
        [],
        [{"assistant_id": "a"}],
    ),
    (
        lambda c: c.runs.list("t", status="success", select=["run_id", "status"]),
        "GET",
        "/threads/t/runs",
        [
            ("limit", "10"),
            ("offset", "0"),
            ("status", "success"),
            ("select", "run_id"),
            ("select", "status"),
        ],
        None,
    ),
    (lambda c: c.runs.get("t", "r"), "GET", "/threads/t/runs/r", [], None),
    (
        lambda c: c.runs.cancel("t", "r"),
        "POST",
        "/threads/t/runs/r/cancel",
        [("wait", "0"), ("action", "interrupt")],
        None,
    ),
    (
        lambda c: c.runs.cancel_many(status="pending"),
        "POST",
        "/runs/cancel",
        [("action", "interrupt")],
        {"status": "pending"},
    ),
    (lambda c: c.runs.join("t", "r"), "GET", "/threads/t/runs/r/join", [], None),
    (lambda c: c.runs.delete("t", "r"), "DELETE", "/threads/t/runs/r", [], None),
    (
        lambda c: c.crons.create_for_thread(
            "t",
            "a",
            schedule="0 9 * * *",
            end_time=datetime(2030, 1, 1, tzinfo=UTC),
            timezone=ZoneInfo("Europe/Paris"),
            multitask_strategy="enqueue",
        ),
        "POST",
        "/threads/t/runs/crons",
        [],
        {
            "assistant_id": "a",
            "schedule": "0 9 * * *",
            "timezone": "Europe/Paris",
            "multitask_strategy": "enqueue",
            "end_time": "2030-01-01T00:00:00+00:00",
        },
    ),
    (
        lambda c: c.crons.create("a", schedule="* * * * *", on_run_completed="keep"),
        "POST",
        "/runs/crons",
        [],
        {"assistant_id": "a", "schedule": "* * * * *", "on_run_completed": "keep"},
    ),
    (
        lambda c: c.crons.update("c", end_time=None, enabled=False),
        "PATCH",
        "/runs/crons/c",
        [],
        {"enabled": False, "end_time": None},
    ),
    (
        lambda c: c.crons.update("c", schedule="@daily"),
        "PATCH",
        "/runs/crons/c",
        [],
        {"schedule": "@daily"},
    ),
    (lambda c: c.crons.delete("c"), "DELETE", "/runs/crons/c", [], None),
    (
        lambda c: c.crons.search(enabled=True, sort_by="created_at"),
        "POST",
        "/runs/crons/search",
        [],
        {"enabled": True, "limit": 10, "offset": 0, "sort_by": "created_at"},
    ),
    (
        lambda c: c.crons.count(thread_id="t"),
        "POST",
        "/runs/crons/count",
        [],
        {"thread_id": "t"},
    ),
    (
        lambda c: c.store.put_item(["a", "b"], "k", {"v": 1}, ttl=3),
        "PUT",
        "/store/items",
        [],
        {"namespace": ["a", "b"], "key": "k", "value": {"v": 1}, "ttl": 3},
    ),
    (
        lambda c: c.store.get_item(["a", "b"], "k", refresh_ttl=False),
        "GET",
        "/store/items",
        [("namespace", "a.b"), ("key", "k"), ("refresh_ttl", "false")],
        None,
    ),
    (
        lambda c: c.store.delete_item(["a"], "k"),
        "DELETE",
        "/store/items",
        [],
        {"namespace": ["a"], "key": "k"},
    ),
    (
        lambda c: c.store.search_items(["a"], query="q"),
        "POST",
        "/store/items/search",
        [],
        {"namespace_prefix": ["a"], "limit": 10, "offset": 0, "query": "q"},
    ),
    (
        lambda c: c.store.list_namespaces(prefix=["a"]),
        "POST",
        "/store/namespaces",
        [],
        {"prefix": ["a"], "limit": 100, "offset": 0},
    ),
    (
        lambda c: c.assistants.get_graph("a", xray=1, params={"xray": 2, "extra": "x"}),
        "GET",
        "/assistants/a/graph",
        [("xray", "2"), ("extra", "x")],
        None,
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "query", "body"), CASES)
async def test_wire_format(
    call: Callable[[Any], Any], method: str, path: str, query: list[tuple[str, str]], body: Any
) -> None:
    server = Server(httpx.Response(200, json={}))
    async with get_client(url="http://test", transport=server.transport) as client:
        await call(client)
    request = server.last
    assert (request.method, request.url.raw_path.partition(b"?")[0].decode()) == (method, path)
    assert request.url.params.multi_items() == query
    assert json_body(request) == body


async def test_per_call_headers_and_minimal_update() -> None:
    server = Server(httpx.Response(204))
    async with get_client(url="http://test", transport=server.transport) as client:
        result = await client.threads.update(
            "t", metadata={"k": 1}, return_minimal=True, headers={"x-trace": "1"}
        )
    assert result is None
    assert server.last.headers["prefer"] == "return=minimal"
    assert server.last.headers["x-trace"] == "1"


async def test_assistant_search_object_format_reads_next_page_header() -> None:
    server = Server(
        httpx.Response(200, json=[{"assistant_id": "a"}], headers={"x-pagination-next": "10"})
    )
    async with get_client(url="http://test", transport=server.transport) as client:
        page = await client.assistants.search(response_format="object")
    assert page == {"assistants": [{"assistant_id": "a"}], "next": "10"}


async def test_client_side_validation() -> None:
    server = Server(httpx.Response(200, json={}))
    async with get_client(url="http://test", transport=server.transport) as client:
        with pytest.raises(ValueError, match="response_format"):
            await client.assistants.search(response_format="table")  # type: ignore[call-overload]
        with pytest.raises(ValueError, match="cannot contain"):
            await client.store.put_item(["a.b"], "k", {})
        with pytest.raises(TypeError, match="path id"):
            await client.threads.get(None)  # type: ignore[arg-type]
        with pytest.warns(DeprecationWarning, match="durability"):
            await client.runs.create("t", "agent", checkpoint_during=True)
    assert json_body(server.last)["checkpoint_during"] is True


async def test_join_stream_of_a_thread_sends_mode_and_last_event_id() -> None:
    server = Server(httpx.Response(200, headers={"content-type": "text/event-stream"}))
    async with get_client(url="http://test", transport=server.transport) as client:
        stream = await client.threads.join_stream("t", last_event_id="9", stream_mode="lifecycle")
        assert [p async for p in stream] == []
    assert server.last.url.params["stream_mode"] == "lifecycle"
    assert server.last.headers["last-event-id"] == "9"
