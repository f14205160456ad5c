"""Custom auth (issue 6, docs/api.md#auth) on a real server, with the owner-stamping auth
of `tests/auth/` written once against `graphport.Auth` and once against `langgraph_sdk.Auth`.

The matrix test has user B touch every one of user A's resources through every route and
checks that each request ran the authorization the route registry says it must."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import CONFIG, TestServer, running_server
from graphport.server.app import create_app
from graphport.server.auth import routes as registry
from graphport.server.auth.middleware import iter_app_routes
from graphport.server.serde import utcnow
from graphport.server.settings import Settings

AUTH_DIR = Path(__file__).parent / "auth"
FLAVOURS = {
    "graphport": AUTH_DIR / "langgraph.json",
    "langgraph_sdk": AUTH_DIR / "langgraph_sdk.json",
}
YEARLY = "0 0 1 1 *"


def msgs(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


class Recorder:
    """Every authorization the server performs, keyed by the request's x-test-id."""

    def __init__(self) -> None:
        self.calls: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def __call__(self, caller: Any, resource: str, action: str, value: dict[str, Any]) -> None:
        test_id = caller.configurable_headers.get("x-test-id")
        if test_id:
            self.calls[test_id].add((resource, action))


@pytest.fixture(scope="module", params=list(FLAVOURS))
def auth_server(request: pytest.FixtureRequest, backend: str) -> Iterator[TestServer]:
    with running_server(backend, FLAVOURS[request.param]) as srv:
        srv.app.state.auth.observer = Recorder()
        yield srv


class User:
    """Requests as one token; checks each request against the route registry."""

    def __init__(self, http: httpx.AsyncClient, srv: TestServer, token: str | None) -> None:
        self.http = http
        self.token = token
        self.recorder: Recorder = srv.app.state.auth.observer
        self.covered: set[tuple[str, str]] = set()

    async def call(
        self,
        method: str,
        template: str,
        params: dict[str, str] | None = None,
        *,
        json: Any = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        expect: int | None = None,
    ) -> httpx.Response:
        test_id = uuid.uuid4().hex
        sent = {"x-test-id": test_id, **(headers or {})}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        path = template.format(**(params or {}))
        r = await self.http.request(method, path, json=json, params=query, headers=sent)
        if expect is not None:
            assert r.status_code == expect, (method, path, json, r.status_code, r.text)
        entry = registry.lookup(method, template)
        assert entry is not None, f"{method} {template} is not in the route registry"
        if entry != registry.PUBLIC and r.status_code not in (401, 403, 422):
            seen = self.recorder.calls.pop(test_id, set())
            assert entry[0] in seen, f"{method} {template} did not authorize {entry[0]}: {seen}"
        self.covered.add((method, template))
        return r


# --- the route registry --------------------------------------------------------------------


@pytest.mark.parametrize("config", [CONFIG, FLAVOURS["graphport"]])
def test_every_route_is_mapped(config: Path, tmp_path: Path) -> None:
    app = create_app(Settings(config_path=config, database=str(tmp_path / "x.db")))
    routes = [
        (m, path)
        for path, methods, websocket in iter_app_routes(app)
        for m in (sorted(methods - {"HEAD"}) if not websocket else ["GET"])
    ]
    assert len(routes) > 50
    assert registry.unmapped(routes) == [], (
        "Map these routes in graphport/server/auth/routes.py (and authorize in the service)"
    )


async def test_unmapped_route_is_refused_under_custom_auth(tmp_path: Path) -> None:
    app = create_app(Settings(config_path=FLAVOURS["graphport"], database=str(tmp_path / "x.db")))

    @app.get("/threads/{thread_id}/unreviewed")
    async def unreviewed(thread_id: str) -> dict[str, str]:  # pragma: no cover - refused
        return {"leak": thread_id}

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        r = await http.get(
            f"/threads/{uuid.uuid4()}/unreviewed", headers={"Authorization": "Bearer token-a"}
        )
    assert r.status_code == 403
    assert "not mapped" in r.json()["detail"]


# --- authentication ------------------------------------------------------------------------


async def test_authentication_failures(auth_server: TestServer) -> None:
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as http:
        r = await http.post("/threads", json={})
        assert (r.status_code, r.json()) == (401, {"detail": "Missing credentials"})
        r = await http.post("/threads", json={}, headers={"Authorization": "Bearer nope"})
        assert (r.status_code, r.json()) == (401, {"detail": "Invalid token"})
        assert r.headers["www-authenticate"] == "Bearer"
        r = await http.get(f"/threads/{uuid.uuid4()}", headers={"Authorization": "Basic x"})
        assert r.status_code == 401
        # Any other status from the authenticator becomes 403 (docs/api.md#auth-dsl).
        r = await http.post(
            "/threads/search", json={}, headers={"Authorization": "Bearer forbidden-at-login"}
        )
        assert (r.status_code, r.json()) == (403, {"detail": "Account disabled"})
        r = await http.post("/threads/search", json={}, headers={"Authorization": "Bearer crash"})
        assert r.status_code == 403
        # Streams and unknown paths are not reachable without credentials either.
        r = await http.post("/runs/stream", json={"assistant_id": "echo", "input": msgs("x")})
        assert r.status_code == 401
        assert (await http.get("/no/such/route")).status_code == 401
        # Unprotected routes.
        for path in ("/ok", "/info", "/docs", "/openapi.json"):
            assert (await http.get(path)).status_code == 200, path


async def test_handler_outcomes(auth_server: TestServer) -> None:
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as http:
        denied = {"Authorization": "Bearer token-denied"}
        r = await http.post("/threads", json={}, headers=denied)
        assert (r.status_code, r.json()) == (403, {"detail": "Forbidden"})
        r = await http.post("/assistants/count", json={}, headers=denied)
        assert r.status_code == 200  # assistants.search has its own, more specific handler
        r = await http.post("/threads/search", json={}, headers=denied)
        assert r.status_code == 403
        r = await http.post("/threads", json={}, headers={"Authorization": "Bearer token-asserter"})
        assert (r.status_code, r.json()) == (403, {"detail": "Forbidden"})
        teapot = {"Authorization": "Bearer token-teapot"}
        r = await http.post("/threads", json={}, headers=teapot)
        assert (r.status_code, r.json()) == (418, {"detail": "I'm a teapot"})
        r = await http.post("/threads/search", json={}, headers=teapot)
        assert r.status_code == 200


# --- the authorization matrix --------------------------------------------------------------


async def test_authorization_matrix(auth_server: TestServer) -> None:
    srv = auth_server
    async with httpx.AsyncClient(base_url=srv.url, timeout=60) as http:
        a, b = User(http, srv, "token-a"), User(http, srv, "token-b")

        # --- user A's resources
        assistant = (
            await a.call("POST", "/assistants", json={"graph_id": "echo", "name": "a"}, expect=200)
        ).json()
        aid = assistant["assistant_id"]
        assert assistant["metadata"]["owner"] == "user-a"
        thread = (
            await a.call("POST", "/threads", json={"metadata": {"topic": "a"}}, expect=200)
        ).json()
        tid = thread["thread_id"]
        assert thread["metadata"] == {"topic": "a", "owner": "user-a"}
        body = {"assistant_id": aid, "input": msgs("a secret")}
        result = (
            await a.call(
                "POST", "/threads/{thread_id}/runs/wait", {"thread_id": tid}, json=body, expect=200
            )
        ).json()
        assert result["messages"][-1]["content"] == "a secret"
        runs = (
            await a.call("GET", "/threads/{thread_id}/runs", {"thread_id": tid}, expect=200)
        ).json()
        rid = runs[0]["run_id"]
        assert runs[0]["metadata"]["owner"] == "user-a"
        state = (
            await a.call("GET", "/threads/{thread_id}/state", {"thread_id": tid}, expect=200)
        ).json()
        cp = state["checkpoint"]["checkpoint_id"]
        cron = (
            await a.call(
                "POST",
                "/threads/{thread_id}/runs/crons",
                {"thread_id": tid},
                json={"assistant_id": "echo", "schedule": YEARLY},
                expect=200,
            )
        ).json()
        cid = cron["cron_id"]
        await a.call(
            "PUT",
            "/store/items",
            json={"namespace": ["docs"], "key": "k", "value": {"v": "a"}},
            expect=204,
        )
        busy = (await a.call("POST", "/threads", json={}, expect=200)).json()["thread_id"]
        slow = (
            await a.call(
                "POST",
                "/threads/{thread_id}/runs",
                {"thread_id": busy},
                json={"assistant_id": "slow", "input": {"steps": 20, "delay": 0.25}},
                expect=200,
            )
        ).json()

        # --- user B on A's resources: 404 (409 for creates, docs/api.md#auth-filters), never a leak
        ids = {
            "thread_id": tid,
            "run_id": rid,
            "assistant_id": aid,
            "cron_id": cid,
            "checkpoint_id": cp,
            "namespace": "sub",
        }
        run_on_a = {"assistant_id": "echo", "input": msgs("b")}
        on_a_assistant = {"assistant_id": aid, "input": msgs("b")}
        cases: list[tuple[str, str, Any, int]] = [
            ("GET", "/assistants/{assistant_id}", None, 404),
            ("PATCH", "/assistants/{assistant_id}", {"name": "pwned"}, 404),
            ("DELETE", "/assistants/{assistant_id}", None, 404),
            ("GET", "/assistants/{assistant_id}/graph", None, 404),
            ("GET", "/assistants/{assistant_id}/schemas", None, 404),
            ("GET", "/assistants/{assistant_id}/subgraphs", None, 404),
            ("GET", "/assistants/{assistant_id}/subgraphs/{namespace}", None, 404),
            ("POST", "/assistants/{assistant_id}/versions", {}, 404),
            ("POST", "/assistants/{assistant_id}/latest", {"version": 1}, 404),
            ("POST", "/assistants", {"graph_id": "echo", "assistant_id": aid}, 409),
            (
                "POST",
                "/assistants",
                {"graph_id": "echo", "assistant_id": aid, "if_exists": "do_nothing"},
                409,
            ),
            ("GET", "/threads/{thread_id}", None, 404),
            ("PATCH", "/threads/{thread_id}", {"metadata": {"owner": "user-b"}}, 404),
            ("DELETE", "/threads/{thread_id}", None, 404),
            ("POST", "/threads/{thread_id}/copy", None, 409),
            ("POST", "/threads", {"thread_id": tid}, 409),
            ("POST", "/threads", {"thread_id": tid, "if_exists": "do_nothing"}, 409),
            ("GET", "/threads/{thread_id}/state", None, 404),
            ("POST", "/threads/{thread_id}/state", {"values": {"messages": []}}, 404),
            ("GET", "/threads/{thread_id}/state/{checkpoint_id}", None, 404),
            (
                "POST",
                "/threads/{thread_id}/state/checkpoint",
                {"checkpoint": {"checkpoint_id": cp}},
                404,
            ),
            ("GET", "/threads/{thread_id}/history", None, 404),
            ("POST", "/threads/{thread_id}/history", {"limit": 10}, 404),
            ("GET", "/threads/{thread_id}/stream", None, 404),
            ("POST", "/threads/{thread_id}/stream/events", {"channels": ["values"]}, 404),
            (
                "POST",
                "/threads/{thread_id}/commands",
                {"id": 1, "method": "run.start", "params": {"assistant_id": "echo", "input": {}}},
                404,
            ),
            ("GET", "/threads/{thread_id}/storage", None, 404),
            ("POST", "/threads/{thread_id}/runs", run_on_a, 404),
            ("POST", "/threads/{thread_id}/runs", {**run_on_a, "if_not_exists": "create"}, 404),
            ("POST", "/threads/{thread_id}/runs/stream", run_on_a, 404),
            ("POST", "/threads/{thread_id}/runs/wait", run_on_a, 404),
            ("GET", "/threads/{thread_id}/runs", None, 404),
            ("GET", "/threads/{thread_id}/runs/{run_id}", None, 404),
            ("DELETE", "/threads/{thread_id}/runs/{run_id}", None, 404),
            ("GET", "/threads/{thread_id}/runs/{run_id}/join", None, 404),
            ("GET", "/threads/{thread_id}/runs/{run_id}/stream", None, 404),
            ("POST", "/threads/{thread_id}/runs/{run_id}/cancel", None, 404),
            ("GET", "/runs/{run_id}", None, 404),
            ("GET", "/runs/{run_id}/stream", None, 404),
            ("POST", "/runs/cancel", {"thread_id": tid, "run_ids": [rid]}, 404),
            ("POST", "/runs", on_a_assistant, 404),
            ("POST", "/runs/wait", on_a_assistant, 404),
            ("POST", "/runs/stream", on_a_assistant, 404),
            ("POST", "/runs/batch", [on_a_assistant], 404),
            (
                "POST",
                "/threads/{thread_id}/runs/crons",
                {"assistant_id": "echo", "schedule": YEARLY},
                404,
            ),
            ("POST", "/runs/crons", {"assistant_id": aid, "schedule": YEARLY}, 404),
            ("GET", "/runs/crons/{cron_id}", None, 404),
            ("PATCH", "/runs/crons/{cron_id}", {"enabled": False}, 404),
            ("DELETE", "/runs/crons/{cron_id}", None, 404),
            ("GET", "/a2a/{assistant_id}/.well-known/agent-card.json", None, 404),
            (
                "POST",
                "/a2a/{assistant_id}",
                {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": rid}},
                404,
            ),
        ]
        existing = {(m, p) for p, ms, _ in iter_app_routes(srv.app) for m in ms}
        for method, template, payload, status in cases:
            if (method, template) not in existing:
                continue  # e.g. /storage where the backend has no such route
            await b.call(method, template, ids, json=payload, expect=status)
        # The live run on A's thread: B can neither see nor cancel it.
        for_slow = {"thread_id": busy, "run_id": slow["run_id"]}
        await b.call("POST", "/threads/{thread_id}/runs/{run_id}/cancel", for_slow, expect=404)
        await b.call("GET", "/threads/{thread_id}/runs/{run_id}/stream", for_slow, expect=404)
        await b.call("POST", "/runs/cancel", json={"status": "all"}, expect=404)

        # --- lists, counts and searches show B nothing of A's
        found = (await b.call("POST", "/assistants/search", json={"limit": 100}, expect=200)).json()
        assert aid not in {x["assistant_id"] for x in found}
        assert found and all(x["metadata"].get("created_by") == "system" for x in found)
        owned = {"metadata": {"owner": "user-a"}}
        assert (await b.call("POST", "/assistants/search", json=owned, expect=200)).json() == []
        count = (await b.call("POST", "/assistants/count", json=owned, expect=200)).json()
        assert count == 0
        listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        mcp_accept = {"Accept": "application/json, text/event-stream"}
        tools = await b.call("POST", "/mcp", json=listing, headers=mcp_accept, expect=200)
        names = {t["name"] for t in tools.json()["result"]["tools"]}
        assert "echo" in names and not names & {"a", aid}
        mine = (await b.call("POST", "/threads", json={}, expect=200)).json()["thread_id"]
        found = (await b.call("POST", "/threads/search", json={"limit": 100}, expect=200)).json()
        assert [x["thread_id"] for x in found] == [mine]
        assert (
            await b.call("POST", "/threads/search", json={"ids": [tid, busy]}, expect=200)
        ).json() == []
        assert (await b.call("POST", "/threads/count", json={}, expect=200)).json() == 1
        await b.call("POST", "/threads/prune", json={"thread_ids": [tid]}, expect=404)
        card = (await b.call("GET", "/.well-known/agent-card.json", expect=200)).json()
        assert card["skills"] and aid not in {s["id"] for s in card["skills"]}
        crons = (await b.call("POST", "/runs/crons/search", json={}, expect=200)).json()
        assert crons == []
        assert (await b.call("POST", "/runs/crons/count", json={}, expect=200)).json() == 0
        # B's own run on B's thread cannot be pointed at A's checkpoint.
        r = await b.call(
            "POST",
            "/threads/{thread_id}/runs/wait",
            {"thread_id": mine},
            json={"assistant_id": "echo", "input": msgs("b"), "checkpoint_id": cp},
        )
        assert "a secret" not in r.text
        # Stateless runs on system assistants work for B, and B's runs are B's.
        out = await b.call(
            "POST", "/runs/wait", json={"assistant_id": "echo", "input": msgs("b only")}, expect=200
        )
        assert out.json()["messages"][-1]["content"] == "b only"
        batch = await b.call(
            "POST", "/runs/batch", json=[{"assistant_id": "echo", "input": msgs("b")}], expect=200
        )
        assert batch.json()[0]["metadata"]["owner"] == "user-b"
        # Store: B's namespace is B's own; A's item is invisible and untouched.
        got = await b.call(
            "GET", "/store/items", query={"namespace": "docs", "key": "k"}, expect=200
        )
        assert got.json() is None
        found = await b.call(
            "POST", "/store/items/search", json={"namespace_prefix": ["docs"]}, expect=200
        )
        assert found.json() == {"items": []}
        spaces = await b.call("POST", "/store/namespaces", json={}, expect=200)
        assert all(ns[0] == "user-b" for ns in spaces.json()["namespaces"])
        await b.call(
            "PUT",
            "/store/items",
            json={"namespace": ["docs"], "key": "k", "value": {"v": "b"}},
            expect=204,
        )
        await b.call("DELETE", "/store/items", json={"namespace": ["docs"], "key": "k"}, expect=204)

        # --- every protected route of the app was exercised by B
        protected = {
            (m, p)
            for (m, p) in existing
            if m != "HEAD" and registry.lookup(m, p) not in (None, registry.PUBLIC)
        }
        assert not protected - b.covered, sorted(protected - b.covered)

        # --- A's resources are intact
        got = (await a.call("GET", "/threads/{thread_id}", ids, expect=200)).json()
        assert got["metadata"] == {**thread["metadata"], "graph_id": "echo", "assistant_id": aid}
        assert (await a.call("GET", "/assistants/{assistant_id}", ids, expect=200)).json()[
            "name"
        ] == "a"
        assert (await a.call("GET", "/runs/crons/{cron_id}", ids, expect=200)).json()["enabled"]
        item = await a.call(
            "GET", "/store/items", query={"namespace": "docs", "key": "k"}, expect=200
        )
        assert item.json()["value"] == {"v": "a"}
        assert item.json()["namespace"] == ["user-a", "docs"]
        run = (
            await a.call("GET", "/threads/{thread_id}/runs/{run_id}", for_slow, expect=200)
        ).json()
        assert run["status"] in ("pending", "running")
        await a.call("POST", "/threads/{thread_id}/runs/{run_id}/cancel", for_slow, expect=202)


# --- filters, identity in graphs, crons, streaming ---------------------------------------


async def test_filter_operators(auth_server: TestServer) -> None:
    batch = uuid.uuid4().hex
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as http:

        async def as_user(token: str, method: str, path: str, **kw: Any) -> httpx.Response:
            return await http.request(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kw
            )

        made = {}
        for name, meta in {
            "t1": {"members": ["ops-contains", "x", "ops-subset"], "shared": True, "level": 3},
            "t2": {"members": ["ops-subset"], "shared": False, "level": 4},
            "t3": {"members": ["x"], "shared": True, "level": 5},
        }.items():
            r = await as_user(
                "token-a", "POST", "/threads", json={"metadata": {**meta, "batch": batch}}
            )
            made[r.json()["thread_id"]] = name
        expected = {
            "token-ops-eq": {"t1", "t2", "t3"},
            "token-ops-contains": {"t1"},
            "token-ops-subset": {"t1"},
            "token-ops-or": {"t1", "t3"},
            "token-ops-and": {"t1"},
            "token-b": set(),
        }
        query = {"metadata": {"batch": batch}, "limit": 100}
        for token, names in expected.items():
            r = await as_user(token, "POST", "/threads/search", json=query)
            assert r.status_code == 200, r.text
            assert {made[t["thread_id"]] for t in r.json()} == names, token
            r = await as_user(token, "POST", "/threads/count", json={"metadata": {"batch": batch}})
            assert r.json() == len(names), token
            for tid, name in made.items():
                r = await as_user(token, "GET", f"/threads/{tid}")
                assert r.status_code == (200 if name in names else 404), (token, name)


async def test_identity_reaches_the_graph_and_cannot_be_forged(auth_server: TestServer) -> None:
    forged = {
        "langgraph_auth_user_id": "evil",
        "langgraph_auth_user": {"identity": "evil"},
        "langgraph_auth_permissions": ["admin"],
    }
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as http:
        r = await http.post(
            "/runs/wait",
            json={"assistant_id": "whoami", "input": {}, "config": {"configurable": forged}},
            headers={"Authorization": "Bearer token-a", "x-custom": "hello"},
        )
        seen = r.json()["seen"]
        assert seen["user_id"] == "user-a"
        assert seen["permissions"] == ["runs:write", "me"]
        assert seen["identity_attr"] == seen["identity_item"] == "user-a"
        assert seen["org"] == "acme"
        assert seen["x_custom"] == "hello"
        assert seen["authorization"] is None  # never copied by default
        r = await http.post(
            "/runs/wait",
            json={"assistant_id": "whoami", "input": {}, "context": forged},
            headers={"Authorization": "Bearer token-b"},
        )
        seen = r.json()["seen"]
        assert (seen["user_id"], seen["permissions"], seen["org"]) == (
            "user-b",
            ["runs:write"],
            "globex",
        )


async def test_assistant_context_cannot_forge_identity(auth_server: TestServer) -> None:
    from langgraph_sdk import get_client

    forged = {"langgraph_auth_user_id": "evil", "langgraph_auth_permissions": ["admin"]}
    client = get_client(
        url=auth_server.url, api_key=None, headers={"Authorization": "Bearer token-a"}
    )
    try:
        assistant = await client.assistants.create("whoami", context={**forged, "team": "x"})
        assert assistant["context"] == {"team": "x"}
        assert assistant["config"]["configurable"] == {"team": "x"}
        assistant = await client.assistants.update(
            assistant["assistant_id"], context={**forged, "team": "y"}
        )
        assert assistant["context"] == {"team": "y"}
        out = await client.runs.wait(None, assistant["assistant_id"], input={})
        assert isinstance(out, dict)
        assert out["seen"]["context"] == {"team": "y"}
        assert out["seen"]["user_id"] == "user-a"
    finally:
        await client.aclose()


async def test_pruning_someone_elses_thread_is_404(auth_server: TestServer) -> None:
    from langgraph_sdk import get_client

    def as_user(token: str) -> Any:
        return get_client(
            url=auth_server.url, api_key=None, headers={"Authorization": f"Bearer {token}"}
        )

    a, b = as_user("token-a"), as_user("token-b")
    try:
        theirs = (await a.threads.create())["thread_id"]
        mine = (await b.threads.create())["thread_id"]
        for ids in ([theirs], [mine, theirs]):
            with pytest.raises(httpx.HTTPStatusError) as err:
                await b.threads.prune(ids)
            assert err.value.response.status_code == 404
        # Nothing was pruned: the request is checked as a whole first.
        assert (await b.threads.get(mine))["thread_id"] == mine
        assert (await a.threads.get(theirs))["thread_id"] == theirs
        assert await b.threads.prune([mine]) == {"pruned_count": 1}
    finally:
        await a.aclose()
        await b.aclose()


async def test_cron_runs_execute_as_their_creator(auth_server: TestServer) -> None:
    srv = auth_server
    a = {"Authorization": "Bearer token-a"}
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
        cron = (
            await http.post(
                "/runs/crons",
                json={
                    "assistant_id": "whoami",
                    "schedule": "* * * * *",
                    "on_run_completed": "keep",
                    "input": {},
                },
                headers=a,
            )
        ).json()
        assert cron["metadata"]["owner"] == "user-a"
        runs = srv.call(srv.app.state.scheduler.tick, utcnow() + timedelta(minutes=2))
        run = next(
            r
            for r in runs
            if r["thread_id"]
            and r["kwargs"]["config"]["configurable"].get("cron_id") == cron["cron_id"]
        )
        assert run["kwargs"]["config"]["configurable"]["langgraph_auth_user_id"] == "user-a"
        tid = run["thread_id"]
        joined = await http.get(f"/threads/{tid}/runs/{run['run_id']}/join", headers=a)
        assert joined.json()["seen"]["user_id"] == "user-a"
        # The thread the cron made is A's, and only A's.
        assert (await http.get(f"/threads/{tid}", headers=a)).json()["metadata"]["owner"] == (
            "user-a"
        )
        b = {"Authorization": "Bearer token-b"}
        assert (await http.get(f"/threads/{tid}", headers=b)).status_code == 404
        await http.delete(f"/runs/crons/{cron['cron_id']}", headers=a)


async def test_streams_pass_through_unbuffered(auth_server: TestServer) -> None:
    from langgraph_sdk import get_client

    client = get_client(
        url=auth_server.url, api_key=None, headers={"Authorization": "Bearer token-a"}
    )
    try:
        thread = await client.threads.create()
        started = time.monotonic()
        first: float | None = None
        events = []
        async for part in client.runs.stream(
            thread["thread_id"], "slow", input={"steps": 6, "delay": 0.3}, stream_mode="custom"
        ):
            first = first if first is not None else time.monotonic() - started
            events.append(part.event)
        total = time.monotonic() - started
        assert events.count("custom") == 6
        assert first is not None and first < total - 1.0  # events arrived while running
        other = get_client(
            url=auth_server.url, api_key=None, headers={"Authorization": "Bearer token-b"}
        )
        try:
            with pytest.raises(httpx.HTTPStatusError) as err:
                await other.threads.get(thread["thread_id"])
            assert err.value.response.status_code == 404
        finally:
            await other.aclose()
    finally:
        await client.aclose()


async def test_in_process_noauth_root_path_bypasses_auth(tmp_path: Path) -> None:
    """Only in-process callers can set the ASGI root path `/noauth`."""
    app = create_app(Settings(config_path=FLAVOURS["graphport"], database=str(tmp_path / "x.db")))
    async with app.router.lifespan_context(app):
        inside = httpx.ASGITransport(app, root_path="/noauth")
        async with httpx.AsyncClient(transport=inside, base_url="http://t") as http:
            r = await http.post("/threads/search", json={})
            assert r.status_code == 200
        outside = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=outside, base_url="http://t") as http:
            assert (await http.post("/threads/search", json={})).status_code == 401
            assert (await http.post("/noauth/threads/search", json={})).status_code == 401


async def test_ended_stateless_run_stays_private(auth_server: TestServer) -> None:
    """A temporary run's rows go with its thread when it ends, but its events stay
    replayable for a while: only its owner may rejoin them."""
    a = {"Authorization": "Bearer token-a"}
    b = {"Authorization": "Bearer token-b"}
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as http:
        r = await http.post(
            "/runs/wait", json={"assistant_id": "echo", "input": msgs("mine")}, headers=a
        )
        assert r.status_code == 200
        run_id = r.headers["content-location"].rsplit("/", 1)[-1]
        # The run has ended and its thread is gone, yet its owner can still replay it.
        r = await http.get(f"/runs/{run_id}", headers=a)
        assert (r.status_code, r.json()["status"]) == (200, "success")
        r = await http.get(f"/runs/{run_id}/stream", headers={**a, "Last-Event-ID": "-"})
        assert r.status_code == 200 and "event: values" in r.text
        # Nobody else can, not even knowing the id.
        assert (await http.get(f"/runs/{run_id}", headers=b)).status_code == 404
        r = await http.get(f"/runs/{run_id}/stream", headers={**b, "Last-Event-ID": "-"})
        assert r.status_code == 404
