"""The basic loop through the official client: create a thread, stream, wait, read state."""

from typing import Any


async def test_stream_wait_and_state(client: Any) -> None:
    thread = await client.threads.create()
    events = [
        p.event
        async for p in client.runs.stream(
            thread["thread_id"],
            "agent",
            input={"messages": [{"role": "user", "content": "hello there"}]},
            stream_mode=["messages", "values"],
        )
    ]
    assert events[0] == "metadata"
    assert "messages/partial" in events and events[-1] == "values"
    result = await client.runs.wait(
        thread["thread_id"], "agent", input={"messages": [{"role": "user", "content": "again"}]}
    )
    assert result["messages"][-1]["content"] == "You said: again"
    state = await client.threads.get_state(thread["thread_id"])
    assert len(state["values"]["messages"]) == 4
    assert (await client.threads.get(thread["thread_id"]))["status"] == "idle"
