"""Thread streaming bookkeeping apart from I/O: filters, repeats, interrupts, WebSocket
handshakes and failures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.frames import Close
from websockets.http11 import Response

from graphport.sdk._shared import thread_stream as plan
from graphport.sdk._shared.retry import Backoff
from graphport.sdk.errors import InternalServerError, NotFoundError, PermissionDeniedError
from graphport.sdk.stream import SubscribeParams


def event(method: str, data: Any = None, namespace: list[str] | None = None, seq: int = 1) -> Any:
    return {
        "type": "event",
        "event_id": f"{seq}-x",
        "seq": seq,
        "method": method,
        "params": {"namespace": namespace or [], "timestamp": 0, "data": data},
    }


@pytest.mark.parametrize(
    ("params", "ev", "expected"),
    [
        ({"channels": ["custom"]}, event("custom", {"name": "progress"}), True),
        ({"channels": ["custom:progress"]}, event("custom", {"name": "progress"}), True),
        ({"channels": ["custom:other"]}, event("custom", {"name": "progress"}), False),
        ({"channels": ["custom:progress"]}, event("custom", {"step": 1}), False),
        ({"channels": ["input"]}, event("input.requested", {}), True),
        ({"channels": ["values"]}, event("input.requested", {}), False),
        ({"channels": ["values"]}, event("new.method"), False),
        (
            {"channels": ["values"], "namespaces": [["child"]]},
            event("values", {}, ["child:1"]),
            True,
        ),
        (
            {"channels": ["values"], "namespaces": [["child"]], "depth": 0},
            event("values", {}, ["child:1", "inner:2"]),
            False,
        ),
        (
            {"channels": ["values"], "namespaces": [["child"]], "depth": 1},
            event("values", {}, ["child:1", "inner:2"]),
            True,
        ),
        (
            {"channels": ["values"], "namespaces": [["child:1"]]},
            event("values", {}, ["child:2"]),
            False,
        ),
        (
            {"channels": ["values"], "namespaces": [[]], "depth": 0},
            event("values", {}, ["c:1"]),
            False,
        ),
    ],
)
def test_filters_match_channels_and_namespace_prefixes(
    params: SubscribeParams, ev: Any, expected: bool
) -> None:
    assert plan.matches(ev, params) is expected


def test_a_repeat_is_recognised_by_seq_and_event_id() -> None:
    cursor = plan.SubscriptionPlan(
        {"channels": ["values"]}, since=None, until=plan.PAUSED, backoff=Backoff()
    )
    first = {**event("values", seq=5), "event_id": "a"}
    same_seq = {**event("values", seq=5), "event_id": "b"}
    assert cursor.advance(first) and cursor.advance(same_seq)
    assert not cursor.advance(first) and not cursor.advance(event("values", seq=4))
    assert cursor.request() == {"channels": ["values", "lifecycle", "input"], "since": 5}
    assert cursor.advance(event("lifecycle", {"event": "completed"}, ["child:1"], seq=6))
    assert not cursor.ended  # a subgraph's end is not the run's
    assert cursor.advance(event("lifecycle", {"event": "completed"}, seq=7))
    assert cursor.ended


def test_the_session_learns_interrupts_from_new_events_only() -> None:
    log = plan.SessionLog()
    log.observe(event("input.requested", {"interrupt_id": "i", "payload": 1}, ["c:1"], seq=3))
    log.observe(event("lifecycle", {"event": "completed"}, seq=2))  # a replay: older
    assert log.interrupts == [{"interrupt_id": "i", "value": 1, "namespace": ["c:1"]}]
    assert log.pick(None) == ("i", ["c:1"])
    log.observe(event("lifecycle", {"event": "running"}, seq=4))
    assert not log.interrupted


def test_websocket_urls_and_handshake_headers() -> None:
    client = httpx.Client(
        base_url="https://api.example/prefix/",
        headers={"x-api-key": "k", "User-Agent": "ua/1"},
        cookies={"session": "c"},
    )
    path = "/threads/t/stream/events"
    assert plan.websocket_url(client.base_url, path) == f"wss://api.example/prefix{path}"
    headers, agent = plan.websocket_headers(client, path, {"x-tenant": "t1"})
    assert agent == "ua/1"
    assert sorted(headers) == [("cookie", "session=c"), ("x-api-key", "k"), ("x-tenant", "t1")]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (InvalidStatus(Response(404, "Not Found", Headers())), NotFoundError),
        (ConnectionClosedError(Close(4403, "not yours"), None), PermissionDeniedError),
        (ConnectionClosedError(Close(4503, "later"), None), InternalServerError),
        (ConnectionClosedError(Close(1011, "oops"), None), httpx.ReadError),
        (ConnectionClosedError(None, None), httpx.ReadError),
        (TimeoutError("handshake"), httpx.ConnectTimeout),
        (ConnectionRefusedError("refused"), httpx.ConnectError),
    ],
)
def test_websocket_failures_become_the_sdks_errors(error: Exception, expected: type) -> None:
    failure = plan.websocket_failure(error, "ws://h/threads/t/stream/events")
    assert isinstance(failure, expected)
    assert plan.reconnectable(failure) is not isinstance(
        failure, NotFoundError | PermissionDeniedError
    )


def test_a_refusal_close_carries_its_reason() -> None:
    failure = plan.websocket_failure(
        ConnectionClosedError(Close(4403, "not yours"), None), "ws://h"
    )
    assert isinstance(failure, PermissionDeniedError) and failure.message == "not yours"
