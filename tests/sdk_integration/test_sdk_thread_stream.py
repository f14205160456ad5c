"""Thread streaming sessions through our SDK (`client.threads.stream`): async and sync, over
SSE and WebSocket, against a real server; in process over SSE only.

The official SDK's view of the same thread is the reference where one is needed
(`thread_stream_helpers.thread_log`)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from graphport.sdk.errors import NotFoundError, ProtocolError, RunError
from thread_stream_helpers import LIMIT, thread_log

from .proxy import CutProxy

pytestmark = pytest.mark.timeout(90)

HELLO = {"messages": [{"role": "user", "content": "hello there"}]}


def _over_network(client: Any) -> bool:
    return bool(getattr(client, "sync", client).http.network)


@pytest.fixture
def session_transport(client: Any, transport: str) -> str:
    """`transport`, for the clients that can open it: a WebSocket needs the network (the
    other combinations are deselected in conftest.py)."""
    assert transport == "sse" or _over_network(client)
    return transport


def _text(events: list[dict[str, Any]]) -> str:
    """The text of the root messages, from their content-block deltas."""
    return "".join(
        e["params"]["data"]["delta"]["text"]
        for e in events
        if e["method"] == "messages" and e["params"]["data"]["event"] == "content-block-delta"
    )


async def test_chat_streams_messages_and_values(client: Any, session_transport: str) -> None:
    async with asyncio.timeout(LIMIT):
        session = client.threads.stream(assistant_id="agent", transport=session_transport)
        async with session as thread:
            started = await thread.run.start(input=HELLO)
            events = [e async for e in thread.subscribe(["messages", "values"])]
            output = await thread.output
    assert started["run_id"]
    assert {e["method"] for e in events} == {"messages", "values"}
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert _text(events) == "You said: hello there"
    snapshots = [e["params"]["data"] for e in events if e["method"] == "values"]
    assert snapshots[-1] == output
    assert [m["type"] for m in output["messages"]] == ["human", "ai"]


async def test_an_interrupt_is_answered_with_input_respond(
    client: Any, session_transport: str
) -> None:
    async with asyncio.timeout(LIMIT):
        session = client.threads.stream(assistant_id="hitl", transport=session_transport)
        async with session as thread:
            await thread.run.start(input={"topic": "otters"})
            snapshots = [snapshot async for snapshot in thread.values]  # until it pauses
            assert thread.interrupted
            [pending] = thread.interrupts
            await thread.run.respond("A better note.")
            assert not thread.interrupted
            output = await thread.output
    assert snapshots[-1] == {"topic": "otters", "draft": "A short note about otters."}
    assert pending["value"]["draft"] == "A short note about otters."
    assert pending["namespace"] == []
    assert output["final"] == "A better note."
    state = await client.threads.get_state(thread.thread_id)
    assert state["next"] == [] and state["values"]["review"] == "A better note."


async def test_a_cut_subscription_resumes_without_loss_or_repeat(
    proxied: tuple[Any, CutProxy], server: Any, transport: str
) -> None:
    """Every connection is cut twice mid-run; the subscription reconnects from its last
    event by itself and yields exactly the thread's events, in order."""
    client, proxy = proxied
    channels = ["custom", "values", "lifecycle"]
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(LIMIT):
        async with client.threads.stream(assistant_id="slow", transport=transport) as thread:
            await thread.run.start(input={"steps": 8, "delay": 0.1})
            async for event in thread.subscribe(channels):
                seen.append(event)
                if len(seen) in (4, 9):
                    proxy.cut()
        reference = await thread_log(server.url, thread.thread_id, channels)
    assert proxy.cuts == 2 and proxy.accepted >= 3, "a reconnection per cut"
    steps = [e["params"]["data"]["step"] for e in seen[:4] if e["method"] == "custom"]
    assert max(steps, default=0) < 8, "the first cut came after the run ended"
    assert [e["event_id"] for e in seen] == [e["event_id"] for e in reference]
    assert [e["params"]["data"]["step"] for e in seen if e["method"] == "custom"] == list(
        range(1, 9)
    )


async def test_events_follow_the_thread_across_runs(client: Any, session_transport: str) -> None:
    async with asyncio.timeout(LIMIT):
        session = client.threads.stream(assistant_id="slow", transport=session_transport)
        async with session as thread:
            runs = [await thread.run.start(input={"steps": 2, "delay": 0})]
            events = thread.events
            lifecycle = []
            async for event in events:
                if event["method"] == "lifecycle" and event["params"]["namespace"] == []:
                    lifecycle.append(event["params"]["data"])
                    if len(lifecycle) == 1:  # the first run is under way: start another
                        runs.append(await thread.run.start(input={"steps": 1, "delay": 0}))
                    if len(lifecycle) == 4:
                        break
            await events.aclose()
    assert lifecycle == [
        {"event": "running", "run_id": runs[0]["run_id"]},
        {"event": "completed"},
        {"event": "running", "run_id": runs[1]["run_id"]},
        {"event": "completed"},
    ]


async def test_commands_answer_through_the_session(client: Any, session_transport: str) -> None:
    async with asyncio.timeout(LIMIT):
        session = client.threads.stream(assistant_id="hitl", transport=session_transport)
        async with session as thread:
            await thread.run.start(input={"topic": "owls"})
            last = None
            async for event in thread.subscribe(["lifecycle"], namespaces=[[]], depth=0):
                last = event
            graph = await thread.agent.get_tree()
            tree = await thread.send_command("agent.getTree")
            state = await thread.send_command("state.get", {"namespace": [], "keys": ["topic"]})
            with pytest.raises(ProtocolError) as refused:
                await thread.send_command("state.fork", {"checkpoint_id": str(uuid.uuid4())})
    assert last is not None and last["params"]["data"]["event"] == "interrupted"
    assert {n["id"] for n in graph["nodes"]} >= {"write_draft", "ask_human", "finalize"}
    # (Its status may still be "running": the run reports its pause before it is recorded.)
    assert (tree["tree"]["graph_name"], tree["tree"]["namespace"]) == ("hitl", [])
    assert state["values"] == {"topic": "owls"}
    assert refused.value.code == "no_such_checkpoint"
    assert isinstance(refused.value, RuntimeError)


async def test_a_failed_run_fails_output(client: Any, session_transport: str) -> None:
    async with asyncio.timeout(LIMIT):
        session = client.threads.stream(assistant_id="failing", transport=session_transport)
        async with session as thread:
            await thread.run.start(input={})
            with pytest.raises(RunError):
                await thread.output


async def test_a_subscription_before_run_start_waits_for_the_thread(
    client: Any, session_transport: str
) -> None:
    """A made-up thread id names no thread until `run.start` creates it: a subscription
    opened earlier waits for it (within `run_start_timeout`) instead of failing."""
    async with asyncio.timeout(LIMIT):
        session = client.threads.stream(
            assistant_id="slow", transport=session_transport, run_start_timeout=LIMIT
        )
        async with session as thread:
            events = thread.subscribe(["lifecycle"])
            first = asyncio.ensure_future(anext(events))
            await asyncio.sleep(0.2)  # lets it be refused once before the thread exists
            started = await thread.run.start(input={"steps": 1, "delay": 0})
            running = await first
            await events.aclose()
        never = client.threads.stream(assistant_id="slow", run_start_timeout=0.2)
        async with never as thread:
            with pytest.raises(TimeoutError):
                await anext(thread.subscribe(["lifecycle"]))
        unknown = client.threads.stream(str(uuid.uuid4()), assistant_id="slow")
        async with unknown as thread:
            with pytest.raises(NotFoundError):  # a thread given by id is not waited for
                await anext(thread.subscribe(["lifecycle"]))
    assert running["params"]["data"] == {"event": "running", "run_id": started["run_id"]}


async def test_websocket_needs_the_network(client: Any) -> None:
    assert not _over_network(client)  # in process only (conftest.py)
    with pytest.raises(ValueError, match="transport='sse'"):
        client.threads.stream(assistant_id="agent", transport="websocket")
