"""MCP at /mcp (docs/api.md#mcp) through the official `mcp` client against a running server:
the handshake and every protocol version, one tool per assistant with its graph's input
schema, tool calls that run graphs (and fail), custom auth, and `http.disable_mcp`."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_MODERN_VERSION

from conftest import TESTS, TestServer, running_server

AUTH_CONFIG = TESTS / "auth" / "langgraph.json"
EXAMPLES = TESTS.parent / "examples"
# What a Streamable HTTP client sends with every POST.
ACCEPT = {"Accept": "application/json, text/event-stream"}
LEAKY = """
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    path: str


def leak(state: State) -> State:
    raise OSError(f"cannot open {state['path']}")


graph = StateGraph(State).add_node(leak).add_edge(START, "leak").compile()
"""


def write_config(folder: Path, http: dict[str, Any] | None = None) -> Path:
    (folder / "leaky.py").write_text(LEAKY)
    config = {
        "graphs": {
            "echo": {
                "path": str(EXAMPLES / "echo.py") + ":graph",
                "description": "Repeats the last message.",
            },
            "counter": str(TESTS / "graphs" / "counter.py") + ":graph",
            "failing": str(TESTS / "graphs" / "failing.py") + ":graph",
            "leaky": "./leaky.py:graph",
        },
        "http": http or {},
    }
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture(scope="module")
def mcp_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    """A server of its own: a known set of assistants."""
    with running_server(backend, write_config(tmp_path_factory.mktemp("mcp"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def auth_server(backend: str) -> Iterator[TestServer]:
    with running_server(backend, AUTH_CONFIG) as srv:
        yield srv


@contextlib.asynccontextmanager
async def session(url: str, token: str | None = None) -> AsyncIterator[ClientSession]:
    """An initialized client session (the initialize handshake), as `token`'s user."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        yield s


async def rest(srv: TestServer, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
        r = await http.request(method, path, headers=headers, **kw)
        r.raise_for_status()
        return r.json()


def msgs(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


# --- tools ---------------------------------------------------------------------------------


async def test_initialize_and_list_tools(mcp_server: TestServer) -> None:
    # Assistants of their own: a description, a name that is no tool name, a name twice.
    made = {}
    for name, description in [
        ("Summarizer", "Counts for you."),
        ("not a tool name", None),
        ("twin", None),
        ("twin", None),
    ]:
        body = {"graph_id": "counter", "name": name, "description": description}
        made[name, len(made)] = await rest(mcp_server, "POST", "/assistants", json=body)
    async with session(mcp_server.url) as s:
        init = s.initialize_result
        assert init is not None
        assert init.protocol_version == HANDSHAKE_PROTOCOL_VERSIONS[-1]
        assert init.server_info.name == "graphport"
        assert init.capabilities.tools is not None
        tools = {t.name: t for t in (await s.list_tools()).tools}

    # One tool per assistant: system assistants by graph name, the others by theirs or,
    # when that cannot be a unique tool name, by their id.
    twins = [a["assistant_id"] for (name, _), a in made.items() if name == "twin"]
    odd = made["not a tool name", 1]["assistant_id"]
    assert set(tools) == {"echo", "counter", "failing", "leaky", "Summarizer", odd, *twins}
    assert tools[odd].title == "not a tool name"
    assert {tools[t].title for t in twins} == {"twin"}
    assert tools["Summarizer"].description == "Counts for you."
    assert tools["echo"].description == "Repeats the last message."
    assert "counter" in (tools["counter"].description or "")

    # Each with its graph's input schema, as /assistants/{id}/schemas serves it.
    system = await rest(
        mcp_server, "POST", "/assistants/search", json={"metadata": {"created_by": "system"}}
    )
    ids = {a["graph_id"]: a["assistant_id"] for a in system}
    for name, aid in [("echo", ids["echo"]), ("counter", ids["counter"]), (odd, odd)]:
        schemas = await rest(mcp_server, "GET", f"/assistants/{aid}/schemas")
        assert tools[name].input_schema == schemas["input_schema"], name
    assert tools["counter"].input_schema["properties"]["count"]["type"] == "integer"
    assert "messages" in tools["echo"].input_schema["properties"]


async def test_call_tool_runs_the_graph(mcp_server: TestServer) -> None:
    async with session(mcp_server.url) as s:
        result = await s.call_tool("counter", {"count": 1})
        assert not result.is_error
        assert result.structured_content == {"count": 4, "log": ["increment", "double"]}
        assert len(result.content) == 1 and result.content[0].type == "text"
        assert json.loads(result.content[0].text) == result.structured_content

        result = await s.call_tool("echo", msgs("ping"))
        assert result.structured_content is not None
        assert [m["content"] for m in result.structured_content["messages"]] == ["ping", "ping"]
    # A stateless run: its thread went with it.
    threads = await rest(mcp_server, "POST", "/threads/search", json={"limit": 100})
    assert threads == []


async def test_failing_graph_is_a_tool_error(mcp_server: TestServer) -> None:
    async with session(mcp_server.url) as s:
        result = await s.call_tool("failing", {"value": "x"})
        assert result.is_error
        assert [c.text for c in result.content if c.type == "text"] == ["ValueError: boom"]
        assert result.structured_content is None
        # Exception types outside the safe list keep their message to the server log.
        result = await s.call_tool("leaky", {"path": "/srv/secret.key"})
        assert result.is_error
        texts = [c.text for c in result.content if c.type == "text"]
        assert texts == ["OSError: An internal error occurred"]


async def test_unknown_tool_is_a_protocol_error(mcp_server: TestServer) -> None:
    async with session(mcp_server.url) as s:
        with pytest.raises(MCPError, match="Unknown tool: nope"):
            await s.call_tool("nope", {})


# --- protocol versions ---------------------------------------------------------------------


@pytest.mark.parametrize("version", HANDSHAKE_PROTOCOL_VERSIONS)
async def test_every_handshake_version(mcp_server: TestServer, version: str) -> None:
    """Clients of each revision since 2024-11-05, as raw JSON-RPC over one POST each."""
    async with httpx.AsyncClient(base_url=mcp_server.url, headers=ACCEPT, timeout=30) as http:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        }
        r = await http.post("/mcp", json=init)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["result"]["protocolVersion"] == version
        headers = {"mcp-protocol-version": version}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await http.post("/mcp", json=note, headers=headers)).status_code == 202
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "counter", "arguments": {"count": 2}},
        }
        r = await http.post("/mcp", json=call, headers=headers)
        text = r.json()["result"]["content"][0]["text"]
        assert json.loads(text) == {"count": 6, "log": ["increment", "double"]}


async def test_latest_protocol_without_handshake(mcp_server: TestServer) -> None:
    """The newest revision's per-request envelope, as the client negotiates it by itself."""
    async with Client(f"{mcp_server.url}/mcp") as client:
        assert client.session.protocol_version == LATEST_MODERN_VERSION
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"echo", "counter", "failing", "leaky"} <= names
        result = await client.call_tool("counter", {"count": 0})
        assert result.structured_content == {"count": 2, "log": ["increment", "double"]}
        failed = await client.call_tool("failing", {"value": "x"})
        assert failed.is_error


# --- auth ----------------------------------------------------------------------------------


async def test_mcp_requires_credentials(auth_server: TestServer) -> None:
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient(base_url=auth_server.url, headers=ACCEPT, timeout=30) as http:
        r = await http.post("/mcp", json=listing)
        assert (r.status_code, r.json()) == (401, {"detail": "Missing credentials"})
        r = await http.post("/mcp", json=listing, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = await http.post("/mcp", json=listing, headers={"Authorization": "Bearer token-a"})
        assert r.status_code == 200
    with pytest.raises(ExceptionGroup) as caught:  # the official client cannot initialize
        async with session(auth_server.url):
            pass
    assert caught.group_contains(MCPError)


async def test_each_user_sees_the_tools_they_may_read(auth_server: TestServer) -> None:
    name = f"a-{uuid.uuid4().hex[:8]}"
    mine = await rest(
        auth_server, "POST", "/assistants", "token-a", json={"graph_id": "echo", "name": name}
    )
    assert mine["metadata"]["owner"] == "user-a"
    async with session(auth_server.url, "token-a") as a:
        assert name in {t.name for t in (await a.list_tools()).tools}
        result = await a.call_tool(name, msgs("from a"))
        assert result.structured_content is not None
        assert result.structured_content["messages"][-1]["content"] == "from a"
    async with session(auth_server.url, "token-b") as b:
        names = {t.name for t in (await b.list_tools()).tools}
        assert name not in names
        assert {"echo", "slow", "whoami"} <= names
        with pytest.raises(MCPError, match="Unknown tool"):
            await b.call_tool(name, msgs("from b"))
        # Runs are the caller's: the graph sees B.
        seen = await b.call_tool("whoami", {})
        assert seen.structured_content is not None
        assert seen.structured_content["seen"]["user_id"] == "user-b"
    # The newest protocol revision carries the same credentials on every request.
    headers = {"Authorization": "Bearer token-b"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{auth_server.url}/mcp", http_client=http)) as client,
    ):
        assert client.session.protocol_version == LATEST_MODERN_VERSION
        assert name not in {t.name for t in (await client.list_tools()).tools}
        seen = await client.call_tool("whoami", {})
        assert seen.structured_content["seen"]["user_id"] == "user-b"


# --- switched off --------------------------------------------------------------------------


async def test_mcp_is_on_by_default(mcp_server: TestServer) -> None:
    assert (await rest(mcp_server, "GET", "/info"))["flags"]["mcp"] is True
    assert "/mcp" in (await rest(mcp_server, "GET", "/openapi.json"))["paths"]


async def test_disable_mcp(backend: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"disable_mcp": True})
    with running_server(backend, config) as srv:
        async with httpx.AsyncClient(base_url=srv.url, headers=ACCEPT, timeout=30) as http:
            r = await http.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
            assert "/mcp" not in (await http.get("/openapi.json")).json()["paths"]
            assert (await http.get("/info")).json()["flags"]["mcp"] is False
            # The rest of the API is still there.
            assert (await http.post("/runs/wait", json={"assistant_id": "echo"})).status_code == 200
