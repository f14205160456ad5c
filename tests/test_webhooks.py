"""Run webhooks (docs/api.md#webhooks): a local HTTP server receives the finished run;
5xx answers are retried with back-off."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from run_helpers import create_run, new_thread, poll, seen_events, slow, wait_run


class Receiver:
    """Records POSTed JSON bodies; answers with the queued status codes, then 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append(
                        {"path": self.path, "headers": dict(self.headers), **json.loads(body)}
                    )
                    code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def for_run(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.received if r["run_id"] == run_id]

    async def wait_for(self, run_id: str, count: int = 1) -> list[dict[str, Any]]:
        async def fetch() -> list[dict[str, Any]]:
            return self.for_run(run_id)

        got: list[dict[str, Any]] = await poll(
            fetch, lambda r: len(r) >= count, timeout=10, what=f"{count} webhook(s)"
        )
        return got


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec._thread.start()
    try:
        yield rec
    finally:
        rec.httpd.shutdown()
        rec.httpd.server_close()


def _run_id(response: httpx.Response) -> str:
    return response.headers["content-location"].rsplit("/", 1)[1]


async def test_webhook_on_success(http: httpx.AsyncClient, receiver: Receiver) -> None:
    tid = await new_thread(http)
    r = await http.post(
        f"/threads/{tid}/runs/wait",
        json={
            "assistant_id": "counter",
            "input": {"count": 1},
            "webhook": f"{receiver.url}/hook?x=1",
            "metadata": {"tag": "w"},
        },
    )
    rid = _run_id(r)
    [hook] = await receiver.wait_for(rid)
    assert hook["path"] == "/hook?x=1"
    assert hook["headers"]["Content-Type"] == "application/json"
    assert hook["thread_id"] == tid and hook["status"] == "success"
    assert hook["values"] == {"count": 4, "log": ["increment", "double"]}
    assert hook["metadata"]["tag"] == "w"
    assert hook["kwargs"]["input"] == {"count": 1}
    assert hook["multitask_strategy"] == "enqueue"
    assert "error" not in hook
    for key in ("created_at", "updated_at", "run_started_at", "run_ended_at", "webhook_sent_at"):
        datetime.fromisoformat(hook[key])
    assert hook["run_started_at"] <= hook["run_ended_at"] <= hook["webhook_sent_at"]


async def test_webhook_on_error_and_stateless(http: httpx.AsyncClient, receiver: Receiver) -> None:
    r = await http.post(
        "/runs/wait",
        json={"assistant_id": "failing", "input": {"value": "v"}, "webhook": receiver.url},
    )
    [hook] = await receiver.wait_for(_run_id(r))
    assert hook["status"] == "error"
    assert hook["error"] == {"error": "ValueError", "message": "boom"}
    # A temporary run's thread is gone, yet the webhook still has its final values.
    r = await http.post(
        "/runs/wait",
        json={"assistant_id": "counter", "input": {"count": 1}, "webhook": receiver.url},
    )
    [hook] = await receiver.wait_for(_run_id(r))
    assert hook["status"] == "success" and hook["values"]["count"] == 4


async def test_webhook_on_cancel(http: httpx.AsyncClient, receiver: Receiver) -> None:
    tid = await new_thread(http)
    run = await create_run(
        http,
        tid,
        "slow",
        input=slow(40, 0.1),
        config={"recursion_limit": 100},
        stream_mode="custom",
        webhook=receiver.url,
    )
    await seen_events(http, tid, run["run_id"], "custom")
    await http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"wait": "1"})
    [hook] = await receiver.wait_for(run["run_id"])
    assert hook["status"] == "interrupted"


async def test_webhook_retries_5xx(http: httpx.AsyncClient, receiver: Receiver) -> None:
    receiver.answers = [503]
    tid = await new_thread(http)
    body = await wait_run(http, tid, "counter", input={"count": 1}, webhook=receiver.url)
    assert body["count"] == 4
    rid = (await http.get(f"/threads/{tid}/runs")).json()[0]["run_id"]
    first, second = await receiver.wait_for(rid, 2)
    assert first["status"] == second["status"] == "success"
    assert first["webhook_sent_at"] < second["webhook_sent_at"]
    assert len(receiver.for_run(rid)) == 2  # a 200 ends the retries


async def test_webhook_on_rollback(http: httpx.AsyncClient, receiver: Receiver) -> None:
    tid = await new_thread(http)
    run = await create_run(
        http,
        tid,
        "slow",
        input=slow(40, 0.1),
        config={"recursion_limit": 100},
        stream_mode="custom",
        webhook=receiver.url,
    )
    await seen_events(http, tid, run["run_id"], "custom")
    await http.post(
        f"/threads/{tid}/runs/{run['run_id']}/cancel", params={"wait": "1", "action": "rollback"}
    )
    [hook] = await receiver.wait_for(run["run_id"])
    assert hook["status"] == "rollback"
