"""The official SDK's documented examples, run against Graphport through `graphport.sdk`.

Each block is the seed example with only the import changed; placeholder ids
("my_assistant_id", "thread_456", …) are replaced by real ones and the fake external
webhook by a local one, since those must exist for any server to answer them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from graphport.sdk import get_client


@pytest.fixture
async def client(server: Any) -> AsyncIterator[Any]:
    async with get_client(url=server.url, api_key=None) as c:
        yield c


async def test_assistants_examples(client: Any) -> None:
    assistant_id = str(uuid.uuid4())
    assistant = await client.assistants.create(
        graph_id="agent",
        config={"configurable": {"model_name": "openai"}},
        metadata={"number": 1},
        assistant_id=assistant_id,
        if_exists="do_nothing",
        name="my_name",
    )
    assert assistant["assistant_id"] == assistant_id and assistant["version"] == 1
    assistant = await client.assistants.get(assistant_id)
    assert assistant["name"] == "my_name"
    graph_info = await client.assistants.get_graph(assistant_id=assistant_id)
    assert {"nodes", "edges"} <= graph_info.keys()
    schema = await client.assistants.get_schemas(assistant_id=assistant_id)
    assert schema["graph_id"] == "agent"
    assistant = await client.assistants.update(
        assistant_id=assistant_id,
        graph_id="echo",
        config={"configurable": {"model_name": "anthropic"}},
        metadata={"number": 2},
    )
    assert assistant["version"] == 2 and assistant["graph_id"] == "echo"
    assistants = await client.assistants.search(
        metadata={"number": 2}, graph_id="echo", limit=5, offset=0
    )
    assert [a["assistant_id"] for a in assistants] == [assistant_id]
    assistant_versions = await client.assistants.get_versions(assistant_id=assistant_id)
    assert [v["version"] for v in assistant_versions] == [2, 1]
    new_version_assistant = await client.assistants.set_latest(
        assistant_id=assistant_id, version=1
    )
    assert new_version_assistant["graph_id"] == "agent"
    await client.assistants.delete(assistant_id=assistant_id)
    with pytest.raises(Exception) as err:
        await client.assistants.get(assistant_id)
    assert getattr(err.value, "status_code", None) == 404


async def test_threads_examples(client: Any) -> None:
    new_thread = await client.threads.create(metadata={"user_id": "123"})
    thread_id = new_thread["thread_id"]
    thread = await client.threads.get(thread_id=thread_id)
    assert thread["metadata"] == {"user_id": "123"}
    thread = await client.threads.update(thread_id=thread_id, metadata={"number": 1})
    assert thread["metadata"] == {"user_id": "123", "number": 1}
    threads = await client.threads.search(metadata={"number": 1}, status="idle", limit=5)
    assert thread_id in [t["thread_id"] for t in threads]
    await client.runs.wait(thread_id, "counter", input={"count": 1})
    thread_state = await client.threads.get_state(thread_id=thread_id)
    assert thread_state["values"]["count"] == 4
    response = await client.threads.update_state(
        thread_id=thread_id, values={"count": 10}, as_node="double"
    )
    assert response["checkpoint"]["checkpoint_id"]
    thread_state = await client.threads.get_history(thread_id=thread_id, limit=5)
    assert thread_state[0]["values"]["count"] == 10 and len(thread_state) == 5
    copied = await client.threads.copy(thread_id=thread_id)
    assert (await client.threads.get_state(copied["thread_id"]))["values"]["count"] == 10
    await client.threads.delete(thread_id=thread_id)


async def test_runs_examples(client: Any) -> None:
    parts = [
        chunk
        async for chunk in client.runs.stream(
            thread_id=None,
            assistant_id="agent",
            input={"messages": [{"role": "user", "content": "how are you?"}]},
            stream_mode=["values", "debug"],
            metadata={"name": "my_run"},
            config={"configurable": {"model_name": "anthropic"}},
            interrupt_before=[],
            interrupt_after=[],
            feedback_keys=["my_feedback_key_1", "my_feedback_key_2"],
            multitask_strategy="interrupt",
        )
    ]
    assert parts[0].event == "metadata"
    values = [p.data for p in parts if p.event == "values"]
    assert values[-1]["messages"][-1]["content"] == "You said: how are you?"
    assert any(p.event == "debug" for p in parts)

    thread = await client.threads.create()
    background_run = await client.runs.create(
        thread_id=thread["thread_id"],
        assistant_id="agent",
        input={"messages": [{"role": "user", "content": "hello!"}]},
        metadata={"name": "my_run"},
        config={"configurable": {"model_name": "openai"}},
        multitask_strategy="interrupt",
    )
    assert background_run["status"] in ("pending", "running")
    result = await client.runs.join(thread["thread_id"], background_run["run_id"])
    assert result["messages"][-1]["content"] == "You said: hello!"
    run = await client.runs.get(thread_id=thread["thread_id"], run_id=background_run["run_id"])
    assert run["status"] == "success" and run["metadata"]["name"] == "my_run"

    final_state_of_run = await client.runs.wait(
        thread_id=None,
        assistant_id="agent",
        input={"messages": [{"role": "user", "content": "how are you?"}]},
        metadata={"name": "my_run"},
        config={"configurable": {"model_name": "anthropic"}},
    )
    assert final_state_of_run["messages"][-1]["content"] == "You said: how are you?"

    slow = await client.runs.create(
        thread["thread_id"], "slow", input={"steps": 50, "delay": 0.1}
    )
    await client.runs.cancel(thread_id=thread["thread_id"], run_id=slow["run_id"], wait=True)
    run = await client.runs.get(thread["thread_id"], slow["run_id"])
    assert run["status"] == "interrupted"

    batch = await client.runs.create_batch(
        [
            {"assistant_id": "echo", "input": {"messages": [{"role": "user", "content": "a"}]}},
            {"assistant_id": "echo", "input": {"messages": [{"role": "user", "content": "b"}]}},
        ]
    )
    assert len(batch) == 2 and all(r["status"] in ("pending", "running") for r in batch)

    joined = [
        p.event
        async for p in client.runs.join_stream(
            thread["thread_id"], background_run["run_id"], last_event_id="-"
        )
    ]
    assert joined[0] == "metadata" and "values" in joined
    await client.runs.delete(thread_id=thread["thread_id"], run_id=background_run["run_id"])
    await asyncio.sleep(0)
