# Generated from tests/sdk/_async/test_http.py by scripts/unasync.py; do not edit.
"""HTTP layer: typed errors, retries, and streams and waits that survive a cut."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graphport.sdk import get_sync_client
from graphport.sdk.client import SyncLangGraphClient
from graphport.sdk.errors import (
    APIStatusError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RunError,
    UnprocessableEntityError,
)
from graphport.sdk.schema import StreamPart

from ..helpers import Server, fail, json_body, sse, stream_response

pytestmark = pytest.mark.timeout(10)

RUN_STREAM = "/threads/t/runs/r/stream"
LOCATION = {"location": RUN_STREAM, "content-location": "/threads/t/runs/r"}


def client_for(server: Server, **options: Any) -> SyncLangGraphClient:
    return get_sync_client(
        url="http://test",
        transport=server.transport,
        api_key=None,
        retry_delay=0.001,
        reconnect_delay=0.001,
        **options,
    )


def test_error_status_raises_typed_error_with_detail() -> None:
    server = Server(httpx.Response(404, json={"detail": "Thread not found"}))
    with client_for(server) as client:
        with pytest.raises(NotFoundError) as caught:
            client.threads.get("t")
    error = caught.value
    assert isinstance(error, httpx.HTTPStatusError)
    assert (error.status_code, error.message) == (404, "Thread not found")
    assert error.body == {"detail": "Thread not found"}
    assert error.request.url.path == "/threads/t"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(409, ConflictError), (422, UnprocessableEntityError), (418, APIStatusError)],
)
def test_statuses_map_to_error_classes(status: int, error_type: type) -> None:
    server = Server(httpx.Response(status, json={"detail": "no"}))
    with client_for(server) as client:
        with pytest.raises(error_type):
            client.assistants.get("a")


def test_get_is_retried_on_503_then_succeeds() -> None:
    server = Server(
        httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"thread_id": "t"})
    )
    with client_for(server) as client:
        assert client.threads.get("t") == {"thread_id": "t"}
    assert len(server.requests) == 3


def test_get_gives_up_after_max_retries() -> None:
    server = Server(*[httpx.Response(502)] * 3)
    with client_for(server, max_retries=2) as client:
        with pytest.raises(InternalServerError):
            client.threads.get("t")
    assert len(server.requests) == 3


def test_post_is_not_retried_on_503() -> None:
    server = Server(httpx.Response(503), httpx.Response(200, json={}))
    with client_for(server) as client:
        with pytest.raises(InternalServerError):
            client.threads.create()
    assert len(server.requests) == 1


def test_post_is_not_retried_after_a_dropped_connection() -> None:
    server = Server(fail(httpx.ReadError("reset")), httpx.Response(200, json={}))
    with client_for(server) as client:
        with pytest.raises(httpx.ReadError):
            client.runs.create("t", "agent")
    assert len(server.requests) == 1


def test_refused_connection_is_retried_for_any_method() -> None:
    server = Server(fail(httpx.ConnectError("refused")), httpx.Response(200, json={"run_id": "r"}))
    with client_for(server) as client:
        assert client.runs.create("t", "agent") == {"run_id": "r"}
    assert len(server.requests) == 2


def test_stream_resumes_from_last_event_id_after_a_drop() -> None:
    server = Server(
        stream_response(
            sse("metadata", {"run_id": "r"}, "1"),
            sse("values", {"n": 1}, "2"),
            error=httpx.RemoteProtocolError("peer closed connection"),
            headers=LOCATION,
        ),
        stream_response(sse("values", {"n": 2}, "3"), sse("end", None, "4")),
    )
    with client_for(server) as client:
        parts = [p for p in client.runs.stream("t", "agent", input={"n": 0})]
    assert [p.id for p in parts] == ["1", "2", "3", "4"]
    resume = server.requests[1]
    assert (resume.method, resume.url.path) == ("GET", RUN_STREAM)
    assert resume.headers["last-event-id"] == "2"
    assert resume.headers["accept"] == "text/event-stream"
    assert resume.content == b""


def test_stream_rejoins_a_cleanly_closed_stream_while_the_run_is_running() -> None:
    server = Server(
        stream_response(sse("values", {"n": 1}, "1"), headers=LOCATION),
        httpx.Response(200, json={"run_id": "r", "status": "running"}),
        stream_response(sse("values", {"n": 2}, "2")),
        httpx.Response(200, json={"run_id": "r", "status": "success"}),
    )
    with client_for(server) as client:
        parts = [p for p in client.runs.stream("t", "agent")]
    assert [p.data for p in parts] == [{"n": 1}, {"n": 2}]
    check = server.requests[1]
    assert (check.url.path, check.headers["accept"]) == ("/threads/t/runs/r", "application/json")
    assert server.requests[2].headers["last-event-id"] == "1"


def test_stream_stops_after_five_failed_reconnections() -> None:
    drop = httpx.ReadError("reset")
    server = Server(
        stream_response(sse("values", {}, "1"), error=drop, headers=LOCATION),
        *[fail(httpx.ConnectError("refused"))] * 4,
        httpx.Response(503),
    )
    with client_for(server) as client:
        with pytest.raises(httpx.TransportError, match="Exceeded maximum"):
            [p for p in client.runs.stream("t", "agent")]
    assert len(server.requests) == 6  # the drop, then five reconnections


def test_stream_error_before_location_is_raised() -> None:
    server = Server(stream_response(sse("values", {}, "1"), error=httpx.ReadError("reset")))
    with client_for(server) as client:
        with pytest.raises(httpx.ReadError):
            [p for p in client.runs.stream("t", "agent")]


def test_stream_refuses_a_cross_origin_location() -> None:
    server = Server(stream_response(headers={"location": "http://evil/runs/r/stream"}))
    with client_for(server) as client:
        with pytest.raises(ValueError, match="cross-origin"):
            [p for p in client.runs.stream("t", "agent")]


def test_stream_requires_event_stream_content_type() -> None:
    server = Server(httpx.Response(200, text="<html>"))
    with client_for(server) as client:
        with pytest.raises(httpx.TransportError, match="text/event-stream"):
            [p for p in client.runs.stream("t", "agent")]


def test_join_stream_resumes_at_its_own_url() -> None:
    server = Server(
        stream_response(sse("values", {"n": 1}, "5"), error=httpx.ReadError("reset")),
        stream_response(sse("values", {"n": 2}, "6"), sse("end", None)),
    )
    with client_for(server) as client:
        parts = [p for p in client.runs.join_stream("t", "r", last_event_id="4")]
    assert [p.id for p in parts] == ["5", "6", "6"]
    first, resume = server.requests
    assert first.headers["last-event-id"] == "4"
    assert resume.url == first.url
    assert resume.headers["last-event-id"] == "5"


def test_join_stream_resumes_with_its_query_despite_a_location() -> None:
    # Servers send join streams a `Location` without the query; resuming there would drop
    # the join's filter (and `cancel_on_disconnect`), so the join repeats its own URL.
    server = Server(
        stream_response(
            sse("custom", {"n": 1}, "5"), error=httpx.ReadError("reset"), headers=LOCATION
        ),
        stream_response(sse("custom", {"n": 2}, "6"), sse("end", None), headers=LOCATION),
    )
    with client_for(server) as client:
        stream = client.runs.join_stream("t", "r", stream_mode="custom", cancel_on_disconnect=True)
        parts = [p for p in stream]
    assert [p.id for p in parts] == ["5", "6", "6"]
    first, resume = server.requests
    assert resume.url == first.url
    assert dict(resume.url.params) == {"cancel_on_disconnect": "true", "stream_mode": "custom"}
    assert resume.headers["last-event-id"] == "5"


def test_join_refetches_its_own_url_despite_a_location() -> None:
    server = Server(
        stream_response(b"\n", error=httpx.ReadError("reset"), headers={"location": "/elsewhere"}),
        httpx.Response(200, json={"n": 3}),
    )
    with client_for(server) as client:
        assert client.runs.join("t", "r", params={"cancel_on_disconnect": "true"}) == {"n": 3}
    first, again = server.requests
    assert again.url == first.url and again.url.params["cancel_on_disconnect"] == "true"


def test_stream_v2_parts_and_run_created_callback() -> None:
    server = Server(
        stream_response(
            sse("values", {"n": 1, "__interrupt__": [{"id": "i", "value": "?"}]}, "1"),
            sse("updates|sub:1", {"node": {}}, "2"),
            sse("end", None, "3"),
            headers=LOCATION,
        )
    )
    created = []
    with client_for(server) as client:
        parts = [
            p
            for p in client.runs.stream(
                "t", "agent", version="v2", on_run_created=created.append
            )
        ]
    assert parts == [
        {"type": "values", "ns": [], "data": {"n": 1}, "interrupts": [{"id": "i", "value": "?"}]},
        {"type": "updates", "ns": ["sub:1"], "data": {"node": {}}, "interrupts": []},
    ]
    assert created == [{"run_id": "r", "thread_id": "t"}]


def test_wait_tolerates_keep_alive_whitespace() -> None:
    server = Server(
        httpx.Response(200, content=b"\n\n\n" + b'{"messages": ["hi"]}', headers=LOCATION)
    )
    with client_for(server) as client:
        assert client.runs.wait("t", "agent") == {"messages": ["hi"]}


def test_wait_rejoins_location_when_the_body_is_cut() -> None:
    join = "/threads/t/runs/r/join"
    server = Server(
        stream_response(b"\n", b"\n", error=httpx.ReadError("reset"), headers={"location": join}),
        httpx.Response(503),
        httpx.Response(200, content=b'\n{"done": true}'),
    )
    with client_for(server) as client:
        assert client.runs.wait("t", "agent", input={}) == {"done": True}
    assert [(r.method, r.url.path) for r in server.requests] == [
        ("POST", "/threads/t/runs/wait"),
        ("GET", join),
        ("GET", join),
    ]


def test_join_refetches_its_own_url_when_the_body_is_cut() -> None:
    server = Server(
        stream_response(b"\n", error=httpx.RemoteProtocolError("incomplete chunked read")),
        fail(httpx.ConnectError("refused")),
        httpx.Response(200, json={"n": 3}),
    )
    with client_for(server) as client:
        assert client.runs.join("t", "r") == {"n": 3}
    assert {str(r.url) for r in server.requests} == {"http://test/threads/t/runs/r/join"}


def test_wait_raises_run_error_unless_asked_not_to() -> None:
    failed = {"__error__": {"error": "ValueError", "message": "bad input"}}
    server = Server(httpx.Response(200, json=failed), httpx.Response(200, json=failed))
    with client_for(server) as client:
        with pytest.raises(RunError, match="ValueError: bad input"):
            client.runs.wait(None, "agent")
        assert client.runs.wait(None, "agent", raise_error=False) == failed
    assert server.last.url.path == "/runs/wait"


def test_cancel_and_wait_follows_location() -> None:
    server = Server(httpx.Response(200, content=b' {"status": "interrupted"}'))
    with client_for(server) as client:
        result = client.runs.cancel("t", "r", wait=True, action="rollback")
    assert result == {"status": "interrupted"}
    assert dict(server.last.url.params) == {"wait": "1", "action": "rollback"}
    assert json_body(server.last) is None


def test_stream_part_is_a_named_tuple() -> None:
    server = Server(
        stream_response(sse("metadata", {"run_id": "r"}, "1")),
        httpx.Response(200, json={"run_id": "r", "status": "success"}),
    )
    with client_for(server) as client:
        parts = [p for p in client.runs.join_stream("t", "r")]
    assert parts == [StreamPart("metadata", {"run_id": "r"}, "1")]
    assert server.last.url.path == "/threads/t/runs/r"  # closed without `end`: run checked
