"""Run webhooks (docs/api.md#webhooks): a local HTTP server receives the finished run; 5xx
answers are retried with back-off; configured headers, payload trimming and signatures.
Receivers listen on 127.0.0.1 and the servers run with `graphport dev` defaults, which allow
loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphport.sdk import WebhookVerificationError, verify_webhook
from run_helpers import create_run, new_thread, seen_events, slow, wait_run
from webhook_helpers import Receiver, loopback_only, receiving

SIGNED = Path(__file__).parent / "webhook_configs" / "signed.json"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with loopback_only(), receiving() as rec:
        yield rec


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


async def test_signed_webhook_with_headers_and_trimmed_payload(
    start_server: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webhook_configs/signed.json: an Authorization header from LG_WEBHOOK_TOKEN, a fixed
    header, four payload fields kept, and a signature the SDK helper verifies."""
    monkeypatch.setenv("LG_WEBHOOK_TOKEN", "t0ken")
    monkeypatch.setenv("LG_WEBHOOK_SECRET", "s3cret")
    with start_server(SIGNED) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            tid = await new_thread(http)
            body = await wait_run(http, tid, "counter", input={"count": 1}, webhook=receiver.url)
            assert body["count"] == 4
            rid = (await http.get(f"/threads/{tid}/runs")).json()[0]["run_id"]
            [hook] = await receiver.wait_for(rid)
    assert hook["headers"]["Authorization"] == "Bearer t0ken"
    assert hook["headers"]["X-Deployment"] == "tests"
    assert set(json.loads(hook["raw"])) == {"run_id", "status", "values", "webhook_sent_at"}
    assert hook["status"] == "success" and hook["values"]["count"] == 4
    signature = hook["headers"]["X-Graphport-Signature"]
    verify_webhook(hook["raw"], signature, "s3cret")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(hook["raw"], signature, "t0ken")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(hook["raw"].replace(b"success", b"failure"), signature, "s3cret")
