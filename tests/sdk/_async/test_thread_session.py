"""Thread streaming sessions on the wire: what subscriptions ask for, how they resume,
when they end, what commands send and how refusals surface."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graphport.sdk import get_client
from graphport.sdk.client import LangGraphClient
from graphport.sdk.errors import ProtocolError, UnprocessableEntityError

from ..helpers import Server, fail, json_body, sse, stream_response

pytestmark = pytest.mark.timeout(10)

THREAD = "00000000-0000-0000-0000-000000000001"
EVENTS = f"/threads/{THREAD}/stream/events"


def client_for(server: Server) -> LangGraphClient:
    return get_client(
        url="http://test", transport=server.transport, api_key=None, reconnect_delay=0.001
    )


def event(seq: int, method: str, data: Any, namespace: list[str] | None = None) -> bytes:
    """One protocol event, framed as the server frames it."""
    envelope = {
        "type": "event",
        "event_id": f"{seq}-0",
        "seq": seq,
        "method": method,
        "params": {"namespace": namespace or [], "timestamp": 0, "data": data},
    }
    return sse(method, envelope, f"{seq}-0")


def lifecycle(seq: int, phase: str) -> bytes:
    return event(seq, "lifecycle", {"event": phase})


async def test_a_dropped_subscription_resumes_after_its_last_event() -> None:
    server = Server(
        stream_response(
            lifecycle(1, "running"),
            event(2, "custom", {"step": 1}),
            error=httpx.RemoteProtocolError("peer closed connection"),
        ),
        # The resumed stream repeats the last event (a saturated seq), then goes on.
        stream_response(event(2, "custom", {"step": 1}), event(3, "custom", {"step": 2})),
        stream_response(lifecycle(4, "completed")),  # after a clean close, once more
    )
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        seen = [e["seq"] async for e in thread.subscribe(["custom", "lifecycle"])]
    assert seen == [1, 2, 3, 4]
    first, resumed, again = (json_body(r) for r in server.requests)
    assert first == {"channels": ["custom", "lifecycle", "input"]}
    assert resumed == {**first, "since": 2}
    assert again == {**first, "since": 3}
    assert {(r.method, r.url.path) for r in server.requests} == {("POST", EVENTS)}
    assert server.requests[0].headers["accept"] == "text/event-stream"


async def test_a_subscription_ends_when_the_run_pauses() -> None:
    ask = {"interrupt_id": "i1", "payload": {"q": "?"}}
    server = Server(
        stream_response(
            event(1, "values", {"n": 1}, ["child:1"]),
            event(2, "values", {"n": 2}),
            event(3, "input.requested", ask),
            lifecycle(4, "interrupted"),
            event(5, "values", {"n": 3}),  # never read: the subscription is over
        )
    )
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        subscription = thread.subscribe(["values"], namespaces=[[]], depth=0)
        seen = [e["params"]["data"] async for e in subscription]
        assert thread.interrupted
        assert thread.interrupts == [{"interrupt_id": "i1", "value": {"q": "?"}, "namespace": []}]
    # Lifecycle and input are read too, from every namespace, and filtered here.
    assert json_body(server.requests[0]) == {"channels": ["values", "lifecycle", "input"]}
    assert seen == [{"n": 2}]
    assert (subscription.seq, subscription.last_event_id) == (4, "4-0")


async def test_events_follow_the_thread_with_the_filter_as_given() -> None:
    server = Server(stream_response(lifecycle(1, "completed"), event(2, "custom", {"n": 1})))
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        events = thread.events
        seen = [await anext(events), await anext(events)]
        await events.aclose()
    assert [e["method"] for e in seen] == ["lifecycle", "custom"]
    body = json_body(server.requests[0])
    assert body["channels"] == [
        "values",
        "updates",
        "messages",
        "tools",
        "lifecycle",
        "input",
        "checkpoints",
        "tasks",
        "custom",
    ]
    assert set(body) == {"channels"}


async def test_reconnection_gives_up_after_five_failures_in_a_row() -> None:
    server = Server(*[fail(httpx.ConnectError("refused"))] * 6)
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        with pytest.raises(httpx.ConnectError):
            await anext(thread.subscribe(["values"]))
    assert len(server.requests) == 6


async def test_a_refused_filter_is_not_retried() -> None:
    server = Server(httpx.Response(422, json={"detail": "unknown channels: ['nope']"}))
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        with pytest.raises(UnprocessableEntityError, match="unknown channels"):
            await anext(thread.subscribe(["nope"]))
    assert len(server.requests) == 1


async def test_commands_send_the_protocol_envelope() -> None:
    server = Server(
        httpx.Response(200, json={"type": "success", "id": 1, "result": {"run_id": "r1"}}),
        httpx.Response(200, json={"type": "success", "id": 2, "result": {"run_id": "r2"}}),
        httpx.Response(
            200, json={"type": "error", "id": 3, "error": "not_supported", "message": "no"}
        ),
    )
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a", headers={"x-tenant": "t1"})
        started = await thread.run.start(input={"n": 1}, config={"tags": ["x"]})
        await thread.run.respond({"ok": True}, interrupt_id="i9")
        with pytest.raises(ProtocolError) as refused:
            await thread.send_command("input.inject", {"namespace": ["child"]})
    assert started == {"run_id": "r1"}
    assert [json_body(r) for r in server.requests] == [
        {
            "id": 1,
            "method": "run.start",
            "params": {"assistant_id": "a", "input": {"n": 1}, "config": {"tags": ["x"]}},
        },
        {
            "id": 2,
            "method": "input.respond",
            "params": {"interrupt_id": "i9", "namespace": [], "response": {"ok": True}},
        },
        {"id": 3, "method": "input.inject", "params": {"namespace": ["child"]}},
    ]
    assert {r.url.path for r in server.requests} == {f"/threads/{THREAD}/commands"}
    assert all(r.headers["x-tenant"] == "t1" for r in server.requests)
    assert (refused.value.code, refused.value.message) == ("not_supported", "no")


async def test_respond_needs_one_pending_interrupt_or_an_id() -> None:
    async with client_for(Server()) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        with pytest.raises(RuntimeError, match="0 interrupts are pending"):
            await thread.run.respond("yes")


async def test_a_closed_session_refuses_new_work() -> None:
    async with client_for(Server()) as client:
        async with client.threads.stream(THREAD, assistant_id="a") as thread:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            thread.subscribe(["values"])
        with pytest.raises(RuntimeError, match="closed"):
            await thread.run.start(input={})


async def test_output_of_an_idle_thread_given_by_id_is_its_state() -> None:
    server = Server(httpx.Response(200, json={"values": {"n": 1}, "next": [], "tasks": []}))
    async with client_for(server) as client:
        thread = client.threads.stream(THREAD, assistant_id="a")
        assert await thread.output == {"n": 1}
    assert server.requests[0].url.path == f"/threads/{THREAD}/state"


async def test_a_transport_must_be_sse_or_websocket() -> None:
    async with client_for(Server()) as client:
        with pytest.raises(ValueError, match="'sse' or 'websocket'"):
            client.threads.stream(assistant_id="a", transport="grpc")  # type: ignore[arg-type]
