"""Bad input on the run, cron and store routes: the right 4xx with a JSON `detail` that
names the problem, never a 500 (values no backend can store included)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

NUL = "x\u0000y"
HUGE = 2**70
T = "{thread}"

# (method, path, body, status, a fragment the detail must contain)
CASES: list[tuple[str, str, Any, int, str]] = [
    ("POST", f"/threads/{T}/runs", {"assistant_id": "echo", "metadata": {"a": NUL}}, 422, "NUL"),
    ("POST", f"/threads/{T}/runs", {"assistant_id": "echo", "input": {"n": HUGE}}, 422, "64 bits"),
    ("POST", f"/threads/{T}/runs", {"assistant_id": "echo", "stream_mode": "tools"}, 422,
     "stream_mode"),
    ("POST", f"/threads/{T}/runs", {"assistant_id": "echo", "multitask_strategy": "x"}, 422,
     "multitask_strategy"),
    ("POST", f"/threads/{T}/runs", {"assistant_id": "nope"}, 422, "nope"),
    ("POST", f"/threads/{T}/runs", {"input": {}}, 422, "assistant_id"),
    ("POST", f"/threads/{T}/runs", {"assistant_id": "echo", "after_seconds": -1}, 422,
     "after_seconds"),
    ("POST", f"/threads/{T}/runs", {"assistant_id": "echo", "checkpoint_id": "zz"}, 422,
     "checkpoint"),
    ("POST", f"/threads/{uuid.UUID(int=1)}/runs", {"assistant_id": "echo"}, 404, "not found"),
    ("POST", "/threads/not-a-uuid/runs", {"assistant_id": "echo"}, 422, "thread"),
    ("POST", f"/threads/{T}/runs/wait", {"assistant_id": "echo", "config": {"a": NUL}}, 422,
     "NUL"),
    ("POST", f"/threads/{T}/runs/stream", {"assistant_id": "echo", "context": {"n": HUGE}}, 422,
     "64 bits"),
    ("POST", "/runs", {"assistant_id": "echo", "command": {"resume": 1}}, 400, "thread_id"),
    ("POST", "/runs/wait", {"assistant_id": "echo", "webhook": ""}, 422, "webhook"),
    ("POST", "/runs/batch", [], 422, "one"),
    ("POST", "/runs/batch", [{"assistant_id": "echo", "metadata": {NUL: 1}}], 422, "NUL"),
    ("POST", "/runs/cancel", {"thread_id": T, "run_ids": [NUL]}, 422, "NUL"),
    ("POST", "/runs/cancel", {"status": "all", "thread_id": T}, 422, "status"),
    ("GET", f"/threads/{T}/runs?limit=0", None, 422, "limit"),
    ("GET", f"/threads/{T}/runs?status=bogus", None, 422, "status"),
    ("GET", f"/threads/{T}/runs?select=bogus", None, 422, "select"),
    ("GET", f"/threads/{T}/runs/{uuid.UUID(int=2)}", None, 404, "not found"),
    ("GET", f"/threads/{T}/runs/bad/join", None, 422, "run"),
    ("POST", f"/threads/{T}/runs/{uuid.UUID(int=3)}/cancel", None, 404, "runs"),
    ("POST", "/runs/crons", {"assistant_id": "echo", "schedule": "nope"}, 422, "schedule"),
    ("POST", "/runs/crons", {"assistant_id": "echo", "schedule": "* * * * *",
                             "timezone": "Mars/Base"}, 422, "timezone"),
    ("POST", "/runs/crons", {"assistant_id": "echo", "schedule": "* * * * *",
                             "input": {"n": HUGE}}, 422, "64 bits"),
    ("POST", "/runs/crons/search", {"metadata": {"a": NUL}}, 422, "NUL"),
    ("POST", "/runs/crons/search", {"limit": 5000}, 422, "limit"),
    ("PATCH", f"/runs/crons/{uuid.UUID(int=4)}", {"enabled": False}, 404, "not found"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": {"v": NUL}}, 422, "NUL"),
    ("PUT", "/store/items", {"namespace": ["a.b"], "key": "k", "value": {}}, 422, "namespace"),
    ("PUT", "/store/items", {"namespace": ["a"], "key": "k", "value": []}, 422, "value"),
    ("POST", "/store/items/search", {"namespace_prefix": ["a"], "limit": 0}, 422, "limit"),
    ("POST", "/store/namespaces", {"max_depth": 0}, 422, "max_depth"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "fragment"), CASES)
async def test_bad_input(
    http: httpx.AsyncClient, method: str, path: str, body: Any, status: int, fragment: str
) -> None:
    thread = (await http.post("/threads", json={})).json()["thread_id"]

    def fill(obj: Any) -> Any:
        if isinstance(obj, str):
            return obj.replace(T, thread)
        if isinstance(obj, list):
            return [fill(o) for o in obj]
        if isinstance(obj, dict):
            return {fill(k): fill(v) for k, v in obj.items()}
        return obj

    r = await http.request(method, fill(path), json=fill(body))
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and fragment.lower() in detail.lower(), detail


async def test_malformed_json_on_run_routes(http: httpx.AsyncClient) -> None:
    thread = (await http.post("/threads", json={})).json()["thread_id"]
    for path in (f"/threads/{thread}/runs", "/runs/wait", "/runs/crons", "/runs/batch"):
        r = await http.post(
            path, content=b'{"assistant_id": ', headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422, (path, r.text)
        assert r.json()["detail"] == "Invalid JSON in request body"
