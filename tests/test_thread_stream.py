"""Thread streaming sessions (docs/api.md#thread-event-streaming) through the official
`langgraph_sdk` client, over SSE and WebSocket, on every backend."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from langgraph_sdk.stream.transport import ProtocolSseTransport, ProtocolWebSocketTransport

TRANSPORTS = ["sse", "websocket"]
LIMIT = 30.0  # every wait is bounded


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_chat_streams_messages_and_values(client: Any, transport: str) -> None:
    async with asyncio.timeout(LIMIT):
        async with client.threads.stream(assistant_id="agent", transport=transport) as thread:
            started = await thread.run.start(
                input={"messages": [{"role": "user", "content": "hello there"}]}
            )
            streams: list[Any] = []
            snapshots: list[Any] = []
            # One subscription for both: a second one opened after a fast run has ended
            # would wait for events that are over.
            async for channel, item in thread.interleave_projections(["messages", "values"]):
                (streams if channel == "messages" else snapshots).append(item)
            # The SDK feeds a message's tokens as it reads on: collect, then read them.
            texts = [await message.text for message in streams]
            output = await thread.output
    assert started["run_id"]
    assert texts == ["You said: hello there"]
    assert [m["type"] for m in output["messages"]] == ["human", "ai"]
    assert snapshots[-1] == output


async def test_an_interrupt_is_answered_with_input_respond(client: Any, transport: str) -> None:
    async with asyncio.timeout(LIMIT):
        async with client.threads.stream(assistant_id="hitl", transport=transport) as thread:
            await thread.run.start(input={"topic": "otters"})
            while not thread.interrupted:  # noqa: ASYNC110 - the SDK exposes no event for it
                await asyncio.sleep(0.02)
            [pending] = thread.interrupts
            assert pending["value"]["draft"] == "A short note about otters."
            assert pending["namespace"] == []
            await thread.run.respond("A better note.")
            output = await thread.output
    assert output["final"] == "A better note."
    state = await client.threads.get_state(thread.thread_id)
    assert state["next"] == [] and state["values"]["review"] == "A better note."


def _transport(client: Any, thread_id: str, kind: str) -> Any:
    cls = ProtocolWebSocketTransport if kind == "websocket" else ProtocolSseTransport
    return cls(client=client.http.client, thread_id=thread_id)


async def _read_until(handle: Any, stop: Any) -> list[dict[str, Any]]:
    seen = []
    async for event in handle.events:
        if "method" not in event:  # the WebSocket's answer to its subscribe
            continue
        seen.append(event)
        if stop(event):
            break
    return seen


def _root_end(event: dict[str, Any]) -> bool:
    params = event["params"]
    return (
        event["method"] == "lifecycle"
        and params["namespace"] == []
        and params["data"]["event"] in ("completed", "failed")
    )


async def test_a_dropped_stream_resumes_from_its_last_seq(client: Any, transport: str) -> None:
    """Cut mid-run and reopened with `since`, the stream neither loses nor repeats."""
    thread_id = str(uuid.uuid4())
    session = _transport(client, thread_id, transport)
    everything = {"channels": ["custom", "values", "lifecycle"]}
    try:
        async with asyncio.timeout(LIMIT):
            reply = await session.send_command(
                {
                    "id": 1,
                    "method": "run.start",
                    "params": {"assistant_id": "slow", "input": {"steps": 6, "delay": 0.1}},
                }
            )
            assert reply["type"] == "success" and reply["result"]["run_id"]
            first = session.open_event_stream(everything)
            before = await _read_until(first, lambda e: e["method"] == "custom")
            await first.close()
            assert before[-1]["params"]["data"]["step"] < 6  # cut while the run goes on
            second = session.open_event_stream({**everything, "since": before[-1]["seq"]})
            after = await _read_until(second, _root_end)
            await second.close()
            whole = session.open_event_stream({**everything, "since": 0})
            reference = await _read_until(whole, _root_end)
            await whole.close()
    finally:
        await session.close()
    ids = [e["event_id"] for e in before + after]
    assert ids == [e["event_id"] for e in reference]
    assert [e["params"]["data"]["step"] for e in reference if e["method"] == "custom"] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]


async def test_a_failing_run_ends_with_a_failed_lifecycle(client: Any) -> None:
    session = _transport(client, str(uuid.uuid4()), "sse")
    try:
        async with asyncio.timeout(LIMIT):
            await session.send_command(
                {"id": 1, "method": "run.start", "params": {"assistant_id": "failing", "input": {}}}
            )
            stream = session.open_event_stream({"channels": ["lifecycle"]})
            events = await _read_until(stream, _root_end)
            await stream.close()
            unknown = await session.send_command({"id": 2, "method": "state.fork", "params": {}})
    finally:
        await session.close()
    assert [e["params"]["data"]["event"] for e in events] == ["running", "failed"]
    assert events[-1]["params"]["data"]["error"]
    assert unknown["type"] == "error" and unknown["error"] == "unknown_command"
