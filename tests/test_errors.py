"""Error handling of every assistants, threads, state and history route (docs/api.md#errors):
malformed JSON, wrong types, missing fields, bad enums, out-of-range numbers, bad UUIDs and
unknown ids each get the right 4xx with a JSON `{"detail": "<names the problem>"}` — never a
500. Unknown body keys are accepted.

Table-driven: each case is one request against a shared set of resources (`world`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from conftest import TestServer

UNKNOWN = "00000000-0000-4000-8000-000000000000"
BAD = "not-a-uuid"
JSON_CT = {"content-type": "application/json"}


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # formatted with the `world` ids: {aid} {tid} {cp} {bare} {u} {bad}
    status: int
    detail: str  # must occur (case-insensitively) in the response's `detail`
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] = field(default_factory=dict)
    send_json: bool = True  # False: no body at all

    @property
    def id(self) -> str:
        body = self.content.decode() if self.content is not None else self.json
        query = f"?{self.params}" if self.params else ""
        return f"{self.method} {self.path}{query} {body!r}"[:120]


@pytest.fixture(scope="session")
async def world(server: TestServer) -> AsyncIterator[dict[str, str]]:
    """An assistant, a thread with checkpoints (`counter` ran on it) and a thread that
    never ran, created once per server."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        aid = (await http.post("/assistants", json={"graph_id": "counter"})).json()
        tid = (await http.post("/threads", json={})).json()["thread_id"]
        r = await http.post(
            f"/threads/{tid}/runs/wait", json={"assistant_id": "counter", "input": {"count": 1}}
        )
        assert r.status_code == 200, r.text
        state = (await http.get(f"/threads/{tid}/state")).json()
        bare = (await http.post("/threads", json={})).json()["thread_id"]
        yield {
            "aid": aid["assistant_id"],
            "tid": tid,
            "cp": state["checkpoint_id"],
            "bare": bare,
            "u": UNKNOWN,
            "bad": BAD,
        }


# --- the table ----------------------------------------------------------------------------

# Every route that takes a JSON body, with a valid body for it.
BODY_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/assistants", {"graph_id": "counter"}),
    ("POST", "/assistants/search", {}),
    ("POST", "/assistants/count", {}),
    ("PATCH", "/assistants/{aid}", {"name": "patched"}),
    ("POST", "/assistants/{aid}/versions", {}),
    ("POST", "/assistants/{aid}/latest", {"version": 1}),
    ("POST", "/threads", {}),
    ("POST", "/threads/search", {}),
    ("POST", "/threads/count", {}),
    ("POST", "/threads/prune", {"thread_ids": []}),
    ("PATCH", "/threads/{tid}", {"metadata": {}}),
    ("POST", "/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_id": "{cp}"}}),
    ("POST", "/threads/{tid}/state", {"values": {"count": 1}}),
    ("POST", "/threads/{tid}/history", {"limit": 2}),
]

# Every route with an id in its path: (method, path with `{id}`, kind, valid body or None).
ID_ROUTES: list[tuple[str, str, str, Any]] = [
    ("GET", "/assistants/{id}", "assistant", None),
    ("PATCH", "/assistants/{id}", "assistant", {"name": "x"}),
    ("DELETE", "/assistants/{id}", "assistant", None),
    ("GET", "/assistants/{id}/graph", "assistant", None),
    ("GET", "/assistants/{id}/schemas", "assistant", None),
    ("GET", "/assistants/{id}/subgraphs", "assistant", None),
    ("GET", "/assistants/{id}/subgraphs/child", "assistant", None),
    ("POST", "/assistants/{id}/versions", "assistant", {}),
    ("POST", "/assistants/{id}/latest", "assistant", {"version": 1}),
    ("GET", "/threads/{id}", "thread", None),
    ("PATCH", "/threads/{id}", "thread", {"metadata": {"x": 1}}),
    ("DELETE", "/threads/{id}", "thread", None),
    ("POST", "/threads/{id}/copy", "thread", None),
    ("GET", "/threads/{id}/state", "thread", None),
    ("GET", "/threads/{id}/state/{cp}", "thread", None),
    ("POST", "/threads/{id}/state/checkpoint", "thread", {"checkpoint": {"checkpoint_id": "x"}}),
    ("POST", "/threads/{id}/state", "thread", {"values": {"count": 1}}),
    ("GET", "/threads/{id}/history", "thread", None),
    ("POST", "/threads/{id}/history", "thread", {"limit": 1}),
]


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # Malformed JSON and bodies that are not objects, on every body route.
    for method, path, _ in BODY_ROUTES:
        add(Case(method, path, 422, "Invalid JSON", content=b'{"limit": 1,'))
        add(Case(method, path, 422, "Invalid JSON", content=b"{'single': 'quotes'}"))
        for not_object in (b"[1, 2]", b'"text"', b"42", b"true"):
            add(Case(method, path, 422, "JSON object", content=not_object))

    # Bad UUIDs in paths, and unknown (well-formed) ids.
    for method, template, kind, body in ID_ROUTES:
        bad = template.replace("{id}", "{bad}")
        add(Case(method, bad, 422, f"Invalid {kind} ID: must be a UUID", json=body))
        unknown = template.replace("{id}", "{u}")
        status = 409 if template.endswith("/copy") else 404
        add(Case(method, unknown, status, UNKNOWN, json=body))
    add(Case("GET", "/assistants/{bad}/graph", 422, "Invalid assistant ID"))

    # Required fields and required bodies.
    for method, path, missing, body in [
        ("POST", "/assistants", "graph_id", {}),
        ("POST", "/assistants", "graph_id", {"name": "no graph"}),
        ("POST", "/assistants/{aid}/latest", "version", {}),
        ("POST", "/threads/prune", "thread_ids", {}),
        ("POST", "/threads/prune", "thread_ids", {"strategy": "delete"}),
        ("POST", "/threads/{tid}/state/checkpoint", "checkpoint", {}),
        (
            "POST",
            "/threads",
            "as_node",
            {"metadata": {"graph_id": "counter"}, "supersteps": [{"updates": [{"values": {}}]}]},
        ),
        ("POST", "/threads", "updates", {"metadata": {"graph_id": "counter"}, "supersteps": [{}]}),
        (
            "POST",
            "/threads",
            "updates",
            {"metadata": {"graph_id": "counter"}, "supersteps": [{"updates": []}]},
        ),
    ]:
        add(Case(method, path, 422, missing, json=body))
    for method, path in [
        ("POST", "/assistants"),
        ("POST", "/assistants/{aid}/latest"),
        ("POST", "/threads/prune"),
        ("POST", "/threads/{tid}/state/checkpoint"),
    ]:
        add(Case(method, path, 422, "Request body is required", send_json=False))

    # Wrong types (the detail names the field).
    wrong_types: list[tuple[str, str, str, Any]] = [
        ("POST", "/assistants", "graph_id", {"graph_id": 5}),
        ("POST", "/assistants", "graph_id", {"graph_id": None}),
        ("POST", "/assistants", "config", {"graph_id": "counter", "config": "x"}),
        ("POST", "/assistants", "context", {"graph_id": "counter", "context": [1]}),
        ("POST", "/assistants", "metadata", {"graph_id": "counter", "metadata": []}),
        ("POST", "/assistants", "name", {"graph_id": "counter", "name": 5}),
        ("POST", "/assistants", "description", {"graph_id": "counter", "description": {}}),
        ("POST", "/assistants", "assistant_id", {"graph_id": "counter", "assistant_id": 5}),
        ("POST", "/assistants/search", "limit", {"limit": "ten"}),
        ("POST", "/assistants/search", "limit", {"limit": 2.5}),
        ("POST", "/assistants/search", "offset", {"offset": "x"}),
        ("POST", "/assistants/search", "metadata", {"metadata": "x"}),
        ("POST", "/assistants/search", "name", {"name": 5}),
        ("POST", "/assistants/search", "graph_id", {"graph_id": ["agent"]}),
        ("POST", "/assistants/search", "select", {"select": "name"}),
        ("POST", "/assistants/count", "metadata", {"metadata": 5}),
        ("POST", "/assistants/count", "graph_id", {"graph_id": 5}),
        ("PATCH", "/assistants/{aid}", "metadata", {"metadata": "x"}),
        ("PATCH", "/assistants/{aid}", "config", {"config": 5}),
        ("PATCH", "/assistants/{aid}", "name", {"name": []}),
        ("PATCH", "/assistants/{aid}", "graph_id", {"graph_id": 1}),
        ("POST", "/assistants/{aid}/versions", "limit", {"limit": "x"}),
        ("POST", "/assistants/{aid}/versions", "metadata", {"metadata": "x"}),
        ("POST", "/assistants/{aid}/latest", "version", {"version": "latest"}),
        ("POST", "/assistants/{aid}/latest", "version", {"version": 1.5}),
        ("POST", "/threads", "metadata", {"metadata": "x"}),
        ("POST", "/threads", "thread_id", {"thread_id": 5}),
        ("POST", "/threads", "ttl", {"ttl": "forever"}),
        ("POST", "/threads", "ttl", {"ttl": {"strategy": "delete"}}),
        ("POST", "/threads", "supersteps", {"supersteps": "x"}),
        ("POST", "/threads", "supersteps", {"supersteps": [{"updates": "x"}]}),
        ("POST", "/threads", "supersteps", {"supersteps": [{"updates": [5]}]}),
        ("POST", "/threads/search", "ids", {"ids": "x"}),
        ("POST", "/threads/search", "ids", {"ids": [1]}),
        ("POST", "/threads/search", "values", {"values": "x"}),
        ("POST", "/threads/search", "metadata", {"metadata": [1]}),
        ("POST", "/threads/search", "extract", {"extract": "values"}),
        ("POST", "/threads/search", "extract", {"extract": {"a": 1}}),
        ("POST", "/threads/search", "limit", {"limit": None}),
        ("POST", "/threads/count", "values", {"values": 5}),
        ("POST", "/threads/count", "status", {"status": 5}),
        ("POST", "/threads/prune", "thread_ids", {"thread_ids": "x"}),
        ("POST", "/threads/prune", "thread_ids", {"thread_ids": [1]}),
        ("PATCH", "/threads/{tid}", "metadata", {"metadata": "x"}),
        ("PATCH", "/threads/{tid}", "ttl", {"ttl": "x"}),
        ("POST", "/threads/{tid}/state/checkpoint", "checkpoint", {"checkpoint": "x"}),
        (
            "POST",
            "/threads/{tid}/state/checkpoint",
            "subgraphs",
            {"checkpoint": {}, "subgraphs": "maybe"},
        ),
        (
            "POST",
            "/threads/{tid}/state/checkpoint",
            "checkpoint_id",
            {"checkpoint": {"checkpoint_id": 5}},
        ),
        ("POST", "/threads/{tid}/state", "values", {"values": 5}),
        ("POST", "/threads/{tid}/state", "values", {"values": "x"}),
        ("POST", "/threads/{tid}/state", "as_node", {"values": {}, "as_node": 5}),
        ("POST", "/threads/{tid}/state", "checkpoint_id", {"checkpoint_id": 5}),
        ("POST", "/threads/{tid}/state", "checkpoint", {"checkpoint": "x"}),
        ("POST", "/threads/{tid}/history", "limit", {"limit": "x"}),
        ("POST", "/threads/{tid}/history", "before", {"before": 5}),
        ("POST", "/threads/{tid}/history", "metadata", {"metadata": "x"}),
        ("POST", "/threads/{tid}/history", "checkpoint", {"checkpoint": 5}),
    ]
    for method, path, name, body in wrong_types:
        add(Case(method, path, 422, name, json=body))
    add(Case("GET", "/threads/{tid}/history", 422, "limit", params={"limit": "ten"}))
    add(Case("GET", "/assistants/{aid}/graph", 422, "xray", params={"xray": "maybe"}))
    add(Case("GET", "/assistants/{aid}/graph", 422, "xray", params={"xray": "0"}))
    add(Case("GET", "/assistants/{aid}/graph", 422, "xray", params={"xray": "-1"}))

    # Bad enum values.
    for method, path, name, body in [
        ("POST", "/assistants", "if_exists", {"graph_id": "counter", "if_exists": "replace"}),
        ("POST", "/assistants/search", "sort_by", {"sort_by": "version"}),
        ("POST", "/assistants/search", "sort_order", {"sort_order": "up"}),
        ("POST", "/assistants/search", "select", {"select": ["assistant_id", "secret"]}),
        ("POST", "/threads", "if_exists", {"if_exists": "overwrite"}),
        ("POST", "/threads", "strategy", {"ttl": {"strategy": "archive", "ttl": 5}}),
        ("POST", "/threads/search", "status", {"status": "running"}),
        ("POST", "/threads/search", "sort_by", {"sort_by": "values"}),
        ("POST", "/threads/search", "sort_order", {"sort_order": "sideways"}),
        # the SDK's literal allows "context"; the server does not
        ("POST", "/threads/search", "select", {"select": ["thread_id", "context"]}),
        ("POST", "/threads/count", "status", {"status": "done"}),
        ("POST", "/threads/prune", "strategy", {"thread_ids": [], "strategy": "archive"}),
        ("PATCH", "/threads/{tid}", "strategy", {"ttl": {"strategy": "x", "ttl": 1}}),
    ]:
        add(Case(method, path, 422, name, json=body))

    # Numbers out of range.
    for method, path, name, body in [
        ("POST", "/assistants/search", "limit", {"limit": 0}),
        ("POST", "/assistants/search", "limit", {"limit": 1001}),
        ("POST", "/assistants/search", "limit", {"limit": -1}),
        ("POST", "/assistants/search", "offset", {"offset": -1}),
        ("POST", "/assistants/search", "offset", {"offset": 10**19}),
        ("POST", "/assistants/{aid}/versions", "limit", {"limit": 0}),
        ("POST", "/assistants/{aid}/versions", "limit", {"limit": 1001}),
        ("POST", "/assistants/{aid}/versions", "offset", {"offset": -5}),
        ("POST", "/assistants/{aid}/latest", "version", {"version": 0}),
        ("POST", "/assistants/{aid}/latest", "version", {"version": 2**40}),
        ("POST", "/threads", "ttl", {"ttl": 0}),
        ("POST", "/threads", "ttl", {"ttl": -5}),
        ("POST", "/threads", "ttl", {"ttl": 1e300}),
        ("POST", "/threads", "ttl", {"ttl": {"ttl": -1}}),
        ("PATCH", "/threads/{tid}", "ttl", {"ttl": {"strategy": "delete", "ttl": 10**12}}),
        ("POST", "/threads/search", "limit", {"limit": 0}),
        ("POST", "/threads/search", "limit", {"limit": 5000}),
        ("POST", "/threads/search", "offset", {"offset": -1}),
        ("POST", "/threads/{tid}/history", "limit", {"limit": 0}),
        ("POST", "/threads/{tid}/history", "limit", {"limit": 1001}),
    ]:
        add(Case(method, path, 422, name, json=body))
    for limit in (0, -1, 1001, 10**20):
        add(Case("GET", "/threads/{tid}/history", 422, "limit", params={"limit": limit}))

    # Bad UUIDs inside bodies.
    for method, path, kind, body in [
        ("POST", "/assistants", "assistant", {"graph_id": "counter", "assistant_id": BAD}),
        ("POST", "/threads", "thread", {"thread_id": BAD}),
        ("POST", "/threads", "thread", {"thread_id": ""}),
        ("POST", "/threads/search", "thread", {"ids": [UNKNOWN, BAD]}),
        ("POST", "/threads/prune", "thread", {"thread_ids": [BAD]}),
    ]:
        add(Case(method, path, 422, f"Invalid {kind} ID: must be a UUID", json=body))

    # NUL characters: rejected the same way on both backends.
    for method, path, body in [
        ("POST", "/assistants", {"graph_id": "counter", "metadata": {"a\u0000": 1}}),
        ("POST", "/assistants", {"graph_id": "counter", "name": "a\u0000b"}),
        ("POST", "/assistants/search", {"metadata": {"k": "v\u0000"}}),
        ("POST", "/assistants/search", {"name": "\u0000"}),
        ("POST", "/assistants/count", {"name": "\u0000"}),
        ("PATCH", "/assistants/{aid}", {"description": "\u0000"}),
        ("POST", "/threads", {"metadata": {"k": ["ok", "no\u0000"]}}),
        ("POST", "/threads/search", {"values": {"\u0000": 1}}),
        ("POST", "/threads/count", {"metadata": {"a": {"b": "\u0000"}}}),
        ("PATCH", "/threads/{tid}", {"metadata": {"k": "\u0000"}}),
        ("POST", "/threads/{tid}/state", {"values": {"count": "\u0000"}}),
        ("POST", "/threads/{tid}/history", {"metadata": {"source": "\u0000"}}),
        ("POST", "/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_id": "\u0000"}}),
    ]:
        add(Case(method, path, 422, "NUL", json=body))
    # Numbers no backend can store.
    for method, path, detail, content in [
        ("POST", "/threads", "64 bits", b'{"metadata": {"n": 100000000000000000000}}'),
        ("POST", "/threads/search", "64 bits", b'{"values": {"n": -100000000000000000000}}'),
        (
            "POST",
            "/assistants",
            "64 bits",
            b'{"graph_id": "echo", "config": {"x": [1e2, 1e20, 1' + b"0" * 25 + b"]}}",
        ),
        ("POST", "/threads", "finite", b'{"metadata": {"n": NaN}}'),
        ("PATCH", "/assistants/{aid}", "finite", b'{"metadata": {"n": -Infinity}}'),
        ("POST", "/threads", "finite", b'{"ttl": Infinity}'),
    ]:
        add(Case(method, path, 422, detail, content=content))
    add(Case("POST", "/assistants", 422, "name", json={"graph_id": "echo", "name": "n" * 256}))
    add(Case("PATCH", "/assistants/{aid}", 422, "name", json={"name": "n" * 256}))
    add(Case("GET", "/threads/{tid}/state/a%00b", 422, "NUL"))
    add(Case("GET", "/threads/{tid}/history", 422, "NUL", params={"before": "a\u0000"}))

    # Semantic errors.
    more: list[tuple[str, str, int, str, Any]] = [
        ("POST", "/assistants", 404, "no-such-graph", {"graph_id": "no-such-graph"}),
        (
            "POST",
            "/assistants",
            400,
            "context",
            {"graph_id": "counter", "config": {"configurable": {"a": 1}}, "context": {"b": 2}},
        ),
        (
            "POST",
            "/assistants",
            409,
            "already exists",
            {"graph_id": "counter", "assistant_id": "{aid}"},
        ),
        ("POST", "/assistants/search", 404, "no-such-graph", {"graph_id": "no-such-graph"}),
        ("PATCH", "/assistants/{aid}", 404, "no-such-graph", {"graph_id": "no-such-graph"}),
        (
            "PATCH",
            "/assistants/{aid}",
            400,
            "context",
            {"config": {"configurable": {"a": 1}}, "context": {"b": 2}},
        ),
        ("POST", "/assistants/{aid}/latest", 404, "99", {"version": 99}),
        ("POST", "/threads", 409, "already exists", {"thread_id": "{tid}"}),
        (
            "POST",
            "/threads",
            422,
            "graph_id",
            {"supersteps": [{"updates": [{"values": {}, "as_node": "increment"}]}]},
        ),
        (
            "POST",
            "/threads",
            404,
            "no-such-graph",
            {
                "metadata": {"graph_id": "no-such-graph"},
                "supersteps": [{"updates": [{"values": {}, "as_node": "x"}]}],
            },
        ),
        (
            "POST",
            "/threads",
            400,
            "nope",
            {
                "metadata": {"graph_id": "counter"},
                "supersteps": [{"updates": [{"values": {}, "as_node": "nope"}]}],
            },
        ),
        ("POST", "/threads/search", 422, "extract", {"extract": {"x": "elsewhere.a"}}),
        ("POST", "/threads/search", 422, "extract", {"extract": {"x": "values..a"}}),
        ("POST", "/threads/search", 422, "extract", {"extract": {"x": "values.a[one]"}}),
        ("POST", "/threads/search", 422, "extract", {"extract": {"not valid": "values"}}),
        ("POST", "/threads/search", 422, "extract", {"extract": {"values": "values"}}),
        (
            "POST",
            "/threads/search",
            422,
            "extract",
            {"extract": {f"k{i}": "values" for i in range(11)}},
        ),
        (
            "POST",
            "/threads/{tid}/state/checkpoint",
            404,
            "nope",
            {"checkpoint": {"checkpoint_id": "nope"}},
        ),
        ("POST", "/threads/{tid}/state", 404, "nope", {"values": {}, "checkpoint_id": "nope"}),
        (
            "POST",
            "/threads/{tid}/state",
            404,
            "nope",
            {"values": {}, "checkpoint": {"checkpoint_id": "nope"}},
        ),
        (
            "POST",
            "/threads/{tid}/state",
            400,
            "no_such_node",
            {"values": {}, "as_node": "no_such_node"},
        ),
        ("POST", "/threads/{tid}/state", 400, "Expected dict", {"values": [1, 2]}),
        (
            "POST",
            "/threads/{tid}/state",
            400,
            "Subgraph",
            {"values": {}, "checkpoint": {"checkpoint_ns": "nowhere:1"}},
        ),
        ("POST", "/threads/{bare}/state", 400, "graph", {"values": {"count": 1}}),
        ("POST", "/threads/{tid}/history", 422, "filter key", {"metadata": {"a b": 1}}),
        ("POST", "/threads/{tid}/history", 422, "filter key", {"metadata": {"a.b": 1}}),
    ]
    for method, path, status, detail, body in more:
        add(Case(method, path, status, detail, json=body))
    add(Case("GET", "/threads/{tid}/state/nope", 404, "nope"))
    add(Case("GET", "/threads/{bare}/state/nope", 404, "nope"))
    return cases


CASES = _cases()


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in world.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {_fill(k, world): _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


async def send(http: httpx.AsyncClient, case: Case, world: dict[str, str]) -> httpx.Response:
    path = _fill(case.path, world)
    if case.content is not None:
        return await http.request(
            case.method, path, content=case.content, headers=JSON_CT, params=case.params
        )
    if not case.send_json or case.json is None:
        return await http.request(case.method, path, params=case.params)
    return await http.request(case.method, path, json=_fill(case.json, world), params=case.params)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_error(http: httpx.AsyncClient, world: dict[str, str], case: Case) -> None:
    r = await send(http, case, world)
    assert r.status_code < 500, r.text
    assert r.status_code == case.status, r.text
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"detail"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert case.detail.lower() in body["detail"].lower(), body["detail"]


def test_table_covers_every_route(server: TestServer) -> None:
    """Each assistants/threads route (except the streaming/storage ones owned elsewhere)
    has at least one error case."""
    from fastapi.routing import APIRoute

    covered = set()
    for case in CASES:
        template = case.path.replace("{bad}", "{x}").replace("{u}", "{x}")
        for key in ("aid", "tid", "bare"):
            template = template.replace("{" + key + "}", "{x}")
        covered.add((case.method, template.split("?")[0]))
    missing = []
    for route in server.app.routes:
        if not isinstance(route, APIRoute):
            continue
        path = route.path
        if not path.startswith(("/assistants", "/threads")) or "/runs" in path:
            continue
        if path.endswith(("/stream", "/storage", "/commands", "/events")):
            continue
        for method in route.methods:
            generic = path
            for name in ("assistant_id", "thread_id"):
                generic = generic.replace("{" + name + "}", "{x}")
            generic = generic.replace("{checkpoint_id}", "{cp}").replace("{namespace}", "child")
            if (method, generic) not in covered:
                missing.append((method, path))
    assert not missing, missing


# --- accepted input -----------------------------------------------------------------------

EXTRA = {"unknown_key": 1, "another": {"nested": [1, 2]}, "select": ["values"]}


@pytest.mark.parametrize(
    ("method", "path", "body"), BODY_ROUTES, ids=[f"{m} {p}" for m, p, _ in BODY_ROUTES]
)
async def test_unknown_body_keys_are_accepted(
    http: httpx.AsyncClient, world: dict[str, str], method: str, path: str, body: Any
) -> None:
    extra = {k: v for k, v in EXTRA.items() if k not in body}
    if path.endswith("/search"):
        extra.pop("select")  # a real field there
    r = await http.request(method, _fill(path, world), json=_fill({**body, **extra}, world))
    assert r.status_code == 200, r.text


async def test_unknown_thread_keys_in_supersteps_are_accepted(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/threads",
        json={
            "metadata": {"graph_id": "counter"},
            "supersteps": [
                {"updates": [{"values": {"count": 2}, "as_node": "increment", "x": 1}], "y": 2}
            ],
            "z": 3,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["values"] == {"count": 2, "log": []}


async def test_bad_requests_leave_no_trace(http: httpx.AsyncClient) -> None:
    """Rejected creates write nothing."""
    thread_id = str(uuid.uuid4())
    r = await http.post(
        "/threads",
        json={
            "thread_id": thread_id,
            "metadata": {"graph_id": "counter"},
            "supersteps": [{"updates": [{"values": {}, "as_node": "nope"}]}],
        },
    )
    assert r.status_code == 400
    assert (await http.get(f"/threads/{thread_id}")).status_code == 404
    assistant_id = str(uuid.uuid4())
    r = await http.post("/assistants", json={"graph_id": "nope", "assistant_id": assistant_id})
    assert r.status_code == 404
    assert (await http.get(f"/assistants/{assistant_id}")).status_code == 404


async def test_concurrent_creates_with_one_id(http: httpx.AsyncClient) -> None:
    """Racing creates of one id: one wins, the others get 409 (never a key violation)."""
    import asyncio

    for path, key, body in [
        ("/threads", "thread_id", {}),
        ("/assistants", "assistant_id", {"graph_id": "counter"}),
    ]:
        the_id = str(uuid.uuid4())
        responses = await asyncio.gather(
            *(http.post(path, json={**body, key: the_id}) for _ in range(8))
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200] + [409] * 7, [r.text for r in responses]


async def test_uuid_forms_are_canonicalized(http: httpx.AsyncClient) -> None:
    """Any form `uuid.UUID` parses is accepted and stored canonically (lower-case,
    hyphenated), so later lookups in any form find it."""
    raw = uuid.uuid4()
    forms = [f"urn:uuid:{raw}", f"{{{raw}}}", raw.hex, str(raw).upper()]
    r = await http.post("/threads", json={"thread_id": forms[0]})
    assert r.status_code == 200, r.text
    assert r.json()["thread_id"] == str(raw)
    for form in forms:
        assert (await http.get(f"/threads/{form}")).json()["thread_id"] == str(raw)
    r = await http.post("/threads/search", json={"ids": [forms[1]]})
    assert [t["thread_id"] for t in r.json()] == [str(raw)]

    r = await http.post("/assistants", json={"graph_id": "echo", "assistant_id": forms[2]})
    assert r.status_code == 200, r.text
    assert r.json()["assistant_id"] == str(raw)
    assert (await http.get(f"/assistants/{forms[3]}")).status_code == 200
    assert (await http.post("/threads/prune", json={"thread_ids": [forms[3]]})).json() == {
        "pruned_count": 1
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/threads/search", {"ids": []}),
        ("/threads/search", {"select": [], "extract": {}, "metadata": {}, "values": {}}),
        ("/threads/search", {"offset": 2**62, "limit": 1000}),
        ("/threads/search", {"metadata": {"ключ": ["é🦦", None, True, 1.5, {"a": []}]}}),
        ("/threads/search", {"metadata": {'quote"d': 1, "back\\slash": 2, "$or": [1]}}),
        ("/assistants/search", {"name": "%_\\'\""}),
        ("/assistants/search", {"name": ""}),
        ("/assistants/count", {"metadata": {"n": 2**63 - 1}}),
        ("/threads", {"metadata": {"big": -(2**63), "tiny": 5e-324, "huge": 1.7e308}}),
    ],
)
async def test_edge_inputs_are_fine(http: httpx.AsyncClient, path: str, body: Any) -> None:
    r = await http.post(path, json=body)
    assert r.status_code == 200, r.text


async def test_unexpected_errors_are_json_500s_and_keep_the_connection(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence: an unforeseen exception is a plain JSON 500 (no
    traceback, no dropped keep-alive connection)."""
    from graphport.server.services import assistants as assistant_service

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(assistant_service, "count", broken)
    r = await http.post("/assistants/count", json={})
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal error: RuntimeError"}
    monkeypatch.undo()
    # The same pooled connection still works.
    for _ in range(3):
        assert (await http.post("/assistants/count", json={})).status_code == 200
