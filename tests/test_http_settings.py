"""The `http` section of langgraph.json (docs/api.md#conventions) and the shared-key mode:
CORS, mount prefix, custom app routes, configurable headers, disabled route families,
the request body limit and `--api-key`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import TestServer, running_server

AUTH_DIR = Path(__file__).parent / "auth"
KEY = "k3y"
LIMIT = 4096


@pytest.fixture(scope="module")
def open_server(backend: str) -> Iterator[TestServer]:
    """No custom auth, a shared API key, a custom app, default CORS, a small body limit."""
    with running_server(
        backend, AUTH_DIR / "http_open.json", api_key=KEY, max_body_bytes=LIMIT
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def custom_server(backend: str) -> Iterator[TestServer]:
    """Custom auth under /api, custom routes behind auth, strict CORS, header rules."""
    with running_server(backend, AUTH_DIR / "http_custom.json") as srv:
        yield srv


@pytest.fixture(scope="module")
def disabled_server(backend: str) -> Iterator[TestServer]:
    with running_server(backend, AUTH_DIR / "http_disabled.json") as srv:
        yield srv


@pytest.fixture
async def keyed(open_server: TestServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=open_server.url, headers={"x-api-key": KEY}, timeout=30
    ) as c:
        yield c


# --- shared API key ------------------------------------------------------------------------


async def test_api_key_is_required_except_on_public_routes(open_server: TestServer) -> None:
    async with httpx.AsyncClient(base_url=open_server.url, timeout=30) as http:
        r = await http.post("/threads", json={})
        assert (r.status_code, r.json()) == (401, {"detail": "Missing or invalid API key"})
        r = await http.post("/threads", json={}, headers={"x-api-key": "wrong"})
        assert r.status_code == 401
        r = await http.post("/threads", json={}, headers={"x-api-key": KEY})
        assert r.status_code == 200
        for path in ("/ok", "/docs", "/openapi.json"):
            assert (await http.get(path)).status_code == 200, path
        # Custom routes without enable_custom_route_auth are the user's business.
        r = await http.get("/custom/hello")
        assert r.json() == {"hello": "world", "user": None, "started": True}


async def test_api_key_with_the_official_client(open_server: TestServer) -> None:
    from langgraph_sdk import get_client

    client = get_client(url=open_server.url, api_key=KEY)
    try:
        thread = await client.threads.create()
        out = await client.runs.wait(thread["thread_id"], "echo", input={"messages": ["hi"]})
        assert out["messages"][-1]["content"] == "hi"
    finally:
        await client.aclose()


# --- CORS ----------------------------------------------------------------------------------


async def test_default_cors(open_server: TestServer) -> None:
    async with httpx.AsyncClient(base_url=open_server.url, timeout=30) as http:
        r = await http.options(
            "/threads/search",
            headers={
                "Origin": "https://anywhere.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key, content-type",
            },
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "*"
        assert "POST" in r.headers["access-control-allow-methods"]
        assert "x-api-key" in r.headers["access-control-allow-headers"].lower()
        r = await http.post(
            "/threads/search",
            json={},
            headers={"Origin": "https://anywhere.example", "x-api-key": KEY},
        )
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"x-pagination-total", "x-pagination-next", "content-location"} <= exposed
        # Rejections carry CORS headers too, so browsers can read the 401.
        r = await http.post("/threads", json={}, headers={"Origin": "https://anywhere.example"})
        assert r.status_code == 401
        assert r.headers["access-control-allow-origin"] == "*"


async def test_configured_cors(custom_server: TestServer) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    async with httpx.AsyncClient(base_url=custom_server.url, timeout=30) as http:
        r = await http.options(
            "/api/threads", headers={"Origin": "https://app.example", **preflight}
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        assert r.headers["access-control-max-age"] == "600"
        r = await http.options(
            "/api/threads", headers={"Origin": "https://evil.example", **preflight}
        )
        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers


# --- mount prefix, custom app --------------------------------------------------------------


async def test_mount_prefix(custom_server: TestServer) -> None:
    a = {"Authorization": "Bearer token-a"}
    async with httpx.AsyncClient(base_url=custom_server.url, timeout=30) as http:
        assert (await http.get("/api/ok")).status_code == 200
        assert (await http.get("/ok")).status_code == 404
        assert (await http.post("/threads", json={}, headers=a)).status_code == 404
        assert (await http.post("/api/threads", json={})).status_code == 401
        r = await http.post("/api/threads", json={}, headers=a)
        assert r.status_code == 200 and r.json()["metadata"]["owner"] == "user-a"
        docs = await http.get("/api/docs")
        assert docs.status_code == 200 and "/api/openapi.json" in docs.text
        assert (await http.get("/api/openapi.json")).status_code == 200
        # disable_store
        r = await http.get("/api/store/items", params={"key": "k"}, headers=a)
        assert r.status_code == 404


async def test_official_client_under_a_prefix(custom_server: TestServer) -> None:
    from langgraph_sdk import get_client

    client = get_client(
        url=f"{custom_server.url}/api", api_key=None, headers={"Authorization": "Bearer token-a"}
    )
    try:
        thread = await client.threads.create()
        run = await client.runs.create(thread["thread_id"], "echo", input={"messages": ["x"]})
        parts = [p async for p in client.runs.join_stream(thread["thread_id"], run["run_id"])]
        assert parts is not None
        await client.runs.join(thread["thread_id"], run["run_id"])
        state = await client.threads.get_state(thread["thread_id"])
        assert state["values"]["messages"][-1]["content"] == "x"
    finally:
        await client.aclose()


async def test_custom_routes_take_precedence(open_server: TestServer, keyed: Any) -> None:
    r = await keyed.get("/info")
    assert r.json() == {"custom": True}
    assert (await keyed.get("/ok")).json()["ok"] is True


async def test_custom_route_auth(custom_server: TestServer) -> None:
    async with httpx.AsyncClient(base_url=custom_server.url, timeout=30) as http:
        assert (await http.get("/api/custom/hello")).status_code == 401
        r = await http.get("/api/custom/hello", headers={"Authorization": "Bearer token-a"})
        assert r.json() == {"hello": "world", "user": "user-a", "started": True}
        assert (await http.get("/api/info")).json() == {"custom": True}


# --- configurable headers, request id ------------------------------------------------------


async def test_default_configurable_headers(keyed: httpx.AsyncClient) -> None:
    r = await keyed.post(
        "/runs/wait",
        json={"assistant_id": "whoami", "input": {}},
        headers={
            "x-custom": "c",
            "my-header": "m",
            "authorization": "Bearer t",
            "x-request-id": "req-1",
        },
    )
    seen = r.json()["seen"]
    assert seen["x_custom"] == "c"
    assert seen["custom_header"] is None  # not x-*: only with includes
    assert seen["x_api_key"] is None  # never copied
    assert seen["authorization"] is None
    assert seen["request_id"] == "req-1"
    assert seen["user_id"] is None  # no identity without custom auth


async def test_configured_configurable_headers(custom_server: TestServer) -> None:
    async with httpx.AsyncClient(base_url=custom_server.url, timeout=30) as http:
        r = await http.post(
            "/api/runs/wait",
            json={"assistant_id": "whoami", "input": {}},
            headers={"Authorization": "Bearer token-a", "x-custom": "c", "my-header": "m"},
        )
        seen = r.json()["seen"]
        assert (seen["custom_header"], seen["x_custom"]) == ("m", None)
        assert seen["user_id"] == "user-a"
        assert seen["request_id"]  # generated when the client sends none


# --- body limit, disabled families ---------------------------------------------------------


async def test_request_body_limit(keyed: httpx.AsyncClient) -> None:
    big = {"metadata": {"blob": "x" * LIMIT}}
    r = await keyed.post("/threads", json=big)
    assert r.status_code == 413
    assert r.json() == {"detail": f"Request body too large (limit: {LIMIT} bytes)"}

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted while read
        yield b'{"metadata": {"blob": "'
        for _ in range(LIMIT // 512 + 1):
            yield b"x" * 512
        yield b'"}}'

    r = await keyed.post("/threads", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"].startswith("Request body too large")
    assert (await keyed.post("/threads", json={"metadata": {"small": 1}})).status_code == 200


async def test_disabled_route_families(disabled_server: TestServer) -> None:
    tid = "00000000-0000-0000-0000-000000000001"
    async with httpx.AsyncClient(base_url=disabled_server.url, timeout=30) as http:
        for method, path in [
            ("POST", "/assistants/search"),
            ("POST", "/threads"),
            ("GET", f"/threads/{tid}"),
            ("POST", "/runs/wait"),
            ("GET", f"/threads/{tid}/runs"),
            ("POST", "/runs/crons/search"),
            ("POST", "/store/namespaces"),
            ("GET", "/info"),
        ]:
            r = await http.request(method, path, json={})
            assert r.status_code == 404, (method, path, r.text)
        assert (await http.get("/ok")).status_code == 200
        assert (await http.get("/docs")).status_code == 200
        # The API document describes only what answers: here /ok and nothing else.
        paths = set((await http.get("/openapi.json")).json()["paths"])
        assert "/ok" in paths
        assert not {p for p in paths if p.startswith(("/assistants", "/threads", "/runs"))}
        assert not {p for p in paths if p.startswith("/store") or p in ("/info", "/metrics")}
