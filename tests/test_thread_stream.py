"""Thread streaming sessions (docs/api.md#thread-event-streaming) through the official
`langgraph_sdk` client, over SSE and WebSocket, on every backend."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from graphport.server.lifecycle import RunLifecycle
from thread_stream_helpers import LIMIT, protocol_transport, read_until, root_end

HELLO = {"messages": [{"role": "user", "content": "hello there"}]}


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
    return protocol_transport(client.http.client, thread_id, kind)


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
            before = await read_until(first, lambda e: e["method"] == "custom")
            await first.close()
            assert before[-1]["params"]["data"]["step"] < 6  # cut while the run goes on
            second = session.open_event_stream({**everything, "since": before[-1]["seq"]})
            after = await read_until(second, root_end)
            await second.close()
            whole = session.open_event_stream({**everything, "since": 0})
            reference = await read_until(whole, root_end)
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
            events = await read_until(stream, root_end)
            await stream.close()
            unknown = await session.send_command({"id": 2, "method": "state.rewind", "params": {}})
    finally:
        await session.close()
    assert [e["params"]["data"]["event"] for e in events] == ["running", "failed"]
    assert events[-1]["params"]["data"]["error"]
    assert unknown["type"] == "error" and unknown["error"] == "unknown_command"


class _Session:
    """A session on a new thread through the official SSE transport, its commands numbered
    in turn; leaving its `async with` closes it."""

    def __init__(self, client: Any) -> None:
        self.thread_id = str(uuid.uuid4())
        self.session = _transport(client, self.thread_id, "sse")
        self.sent = 0

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()

    async def __call__(self, method: str, **params: Any) -> dict[str, Any]:
        self.sent += 1
        return dict(
            await self.session.send_command({"id": self.sent, "method": method, "params": params})
        )

    async def ok(self, method: str, **params: Any) -> dict[str, Any]:
        answer = await self(method, **params)
        assert answer["type"] == "success", answer
        return dict(answer["result"])

    async def refused(self, method: str, **params: Any) -> str:
        answer = await self(method, **params)
        assert answer["type"] == "error", answer
        return str(answer["error"])

    async def runs_end(self, count: int) -> list[dict[str, Any]]:
        """The thread's root lifecycle events from its first, up to its `count`-th run end."""
        ended: list[dict[str, Any]] = []

        def stop(event: dict[str, Any]) -> bool:
            ended.extend([event] if root_end(event) else [])
            return len(ended) == count

        stream = self.session.open_event_stream({"channels": ["lifecycle"], "since": 0})
        events = await read_until(stream, stop)
        await stream.close()
        return [e for e in events if e["params"]["namespace"] == []]


async def test_state_commands_read_list_and_fork(client: Any) -> None:
    async with _Session(client) as command, asyncio.timeout(LIMIT):
        await command.ok("run.start", assistant_id="slow", input={"steps": 3, "delay": 0})
        await command.runs_end(1)
        state = await command.ok("state.get", namespace=[], keys=["step", "log"])
        page = await command.ok("state.listCheckpoints", limit=2)
        before = page["checkpoints"][0]["id"]
        older = await command.ok("state.listCheckpoints", limit=2, before=before)
        everything = (await command.ok("state.listCheckpoints", limit=50))["checkpoints"]
        first_tick = next(c for c in everything if c["step"] == 2)  # after "tick 1"
        fork = await command.ok("state.fork", checkpoint_id=first_tick["id"])
        lifecycle = await command.runs_end(2)
        errors = [
            await command.refused("state.get", namespace=["no_such_subgraph"]),
            await command.refused("state.fork", checkpoint_id=str(uuid.uuid4())),
            await command.refused("state.listCheckpoints", limit=0),
        ]
    assert state["values"] == {"step": 3, "log": ["tick 1", "tick 2", "tick 3"]}
    assert state["checkpoint"] == {"id": page["checkpoints"][0]["id"], "ns": ""}
    assert [c["id"] for c in page["checkpoints"]] == [c["id"] for c in everything[:2]]
    assert [c["id"] for c in older["checkpoints"]] == [c["id"] for c in everything[1:3]]
    assert [c["step"] for c in everything] == sorted((c["step"] for c in everything), reverse=True)
    assert fork["thread_id"] == command.thread_id
    assert lifecycle[-2]["params"]["data"] == {"event": "running", "run_id": fork["run_id"]}
    assert lifecycle[-1]["params"]["data"]["event"] == "completed"
    # The fork went on from after "tick 1": the thread's history branches there.
    history = await client.threads.get_history(command.thread_id, limit=50)
    by_id = {h["checkpoint_id"]: h for h in history}
    chain, parent = {history[0]["checkpoint_id"]}, history[0]["parent_checkpoint_id"]
    while parent is not None:
        chain.add(parent)
        parent = by_id[parent]["parent_checkpoint_id"]
    assert first_tick["id"] in chain and everything[0]["id"] not in chain
    assert history[0]["values"]["log"] == ["tick 1", "tick 2", "tick 3"]
    assert errors == ["no_such_namespace", "no_such_checkpoint", "invalid_argument"]


async def test_state_commands_address_a_subgraph_by_its_namespace(client: Any) -> None:
    async with _Session(client) as command, asyncio.timeout(LIMIT):
        await command.ok("run.start", assistant_id="subgraph", input={"text": " hi you "})
        stream = command.session.open_event_stream(
            {"channels": ["values", "lifecycle"], "since": 0}
        )
        events = await read_until(stream, root_end)
        await stream.close()
        [namespace] = {tuple(e["params"]["namespace"]) for e in events} - {()}
        child = await command.ok("state.get", namespace=list(namespace))
        listed = await command.ok("state.listCheckpoints", namespace=list(namespace))
        root = await command.ok("state.get", namespace=[])
    assert namespace[0].startswith("child:")
    assert child["values"] == {"text": "HI YOU!"}
    assert child["checkpoint"]["ns"] == namespace[0]
    assert listed["checkpoints"] and all(c["id"] for c in listed["checkpoints"])
    assert root["values"] == {"text": "HI YOU!", "words": 2}


async def test_input_inject_queues_a_message_for_the_graph(client: Any) -> None:
    message = {"role": "user", "content": "and more"}
    async with _Session(client) as command, asyncio.timeout(LIMIT):
        hello = {"messages": [{"role": "user", "content": "hello"}]}
        await command.ok("run.start", assistant_id="agent", input=hello)
        injected = await command.ok("input.inject", namespace=[], message=message)
        lifecycle = await command.runs_end(2)
        errors = [
            await command.refused("input.inject", namespace=["child"], message=message),
            await command.refused("input.inject", namespace=[], message={"role": "ai"}),
        ]
    async with _Session(client) as other, asyncio.timeout(LIMIT):
        await other.ok("run.start", assistant_id="slow", input={"steps": 1, "delay": 0})
        errors.append(await other.refused("input.inject", namespace=[], message=message))
    runs = [e["params"]["data"]["run_id"] for e in lifecycle if "run_id" in e["params"]["data"]]
    assert runs[-1] == injected["run_id"]
    state = await client.threads.get_state(command.thread_id)
    texts = [(m["type"], m["content"]) for m in state["values"]["messages"]]
    assert [(kind, content) for kind, content in texts if kind == "human"] == [
        ("human", "hello"),
        ("human", "and more"),
    ]
    assert "You said: and more" in str(texts[-1][1])
    assert errors == ["not_supported", "invalid_argument", "invalid_argument"]


async def test_a_run_reported_ended_has_its_end_recorded(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root `completed` event comes once the run's end is in the database: a client
    acting on it finds the thread idle and the run successful (recording is slowed here, so
    an event sent before it would be seen first)."""
    finish = RunLifecycle.finish

    async def slow_finish(self: RunLifecycle, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.5)
        return await finish(self, *args, **kwargs)

    monkeypatch.setattr(RunLifecycle, "finish", slow_finish)
    async with _Session(client) as session, asyncio.timeout(LIMIT):
        started = await session.ok("run.start", assistant_id="agent", input=HELLO)
        *_, ended = await session.runs_end(1)
        thread = await client.threads.get(session.thread_id)
        run = await client.runs.get(session.thread_id, started["run_id"])
    assert ended["params"]["data"]["event"] == "completed"
    assert (thread["status"], run["status"]) == ("idle", "success")
