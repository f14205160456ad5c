"""A2A (docs/api.md#a2a) through the official `a2a-sdk` client against a running server:
agent cards, send, stream, get, cancel, list, interrupts as input-required, the 0.3 method
names, custom auth on and off, and `http.disable_a2a`."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from a2a.client import Client, ClientConfig, ClientFactory
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskState,
)
from google.protobuf import json_format, struct_pb2

from conftest import TestServer, running_server

ROOT = Path(__file__).parent
AUTH_CONFIG = ROOT / "auth" / "langgraph.json"


@asynccontextmanager
async def a2a_client(
    url: str, assistant: str, *, token: str | None = None, streaming: bool = False
) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        factory = ClientFactory(ClientConfig(httpx_client=http, streaming=streaming))
        client = await factory.create_from_url(f"{url}/a2a/{assistant}")
        try:
            yield client
        finally:
            await client.close()


def text_message(text: str, **ids: str) -> Message:
    return Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[Part(text=text)], **ids)


def data_message(data: dict[str, Any], **ids: str) -> Message:
    part = Part(data=json_format.ParseDict(data, struct_pb2.Value()))
    return Message(message_id=uuid.uuid4().hex, role=Role.ROLE_USER, parts=[part], **ids)


async def send(client: Client, message: Message, *, immediately: bool = False) -> Task:
    request = SendMessageRequest(
        message=message, configuration=SendMessageConfiguration(return_immediately=immediately)
    )
    events = [e async for e in client.send_message(request)]
    assert len(events) == 1 and events[0].HasField("task")
    return events[0].task


def data_of(part: Part) -> Any:
    return json_format.MessageToDict(part.data)


# --- agent cards --------------------------------------------------------------------------


async def test_agent_cards(server: TestServer, http: httpx.AsyncClient) -> None:
    assert (await http.get("/info")).json()["flags"]["a2a"] is True
    root = (await http.get("/.well-known/agent-card.json")).json()
    skills = {s["name"]: s for s in root["skills"]}
    assert {"agent", "slow", "hitl"} <= set(skills)
    agent_id = skills["agent"]["id"]
    urls = [i["url"] for i in root["supportedInterfaces"]]
    assert f"{server.url}/a2a/{agent_id}" in urls

    # The official form (?assistant_id=) and the path under the endpoint give one card,
    # by graph id or by assistant id.
    official = (await http.get("/.well-known/agent-card.json", params={"assistant_id": "agent"}))
    nested = await http.get(f"/a2a/{agent_id}/.well-known/agent-card.json")
    assert official.status_code == nested.status_code == 200
    card = nested.json()
    assert official.json() == card
    assert card["name"] == "agent" and card["capabilities"]["streaming"] is True
    interfaces = {(i["protocolBinding"], i["protocolVersion"]) for i in card["supportedInterfaces"]}
    assert interfaces == {("JSONRPC", "1.0"), ("JSONRPC", "0.3")}
    assert {i["url"] for i in card["supportedInterfaces"]} == {f"{server.url}/a2a/{agent_id}"}

    missing = str(uuid.uuid4())
    assert (await http.get(f"/a2a/{missing}/.well-known/agent-card.json")).status_code == 404
    assert (await http.get("/a2a/nope/.well-known/agent-card.json")).status_code == 404
    assert (await http.post(f"/a2a/{missing}", json={})).status_code == 404


# --- send, get, list ----------------------------------------------------------------------


async def test_send_message_runs_a_chat_graph_on_a_thread(server: TestServer, client: Any) -> None:
    async with a2a_client(server.url, "agent") as a2a:
        task = await send(a2a, text_message("hello there"))
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert [p.text for p in task.artifacts[0].parts] == ["You said: hello there"]

        # The task is a run, its context a thread: both readable through the REST API.
        run = await client.runs.get(task.context_id, task.id)
        assert run["status"] == "success"

        follow = await send(a2a, text_message("again", context_id=task.context_id))
        assert follow.context_id == task.context_id and follow.id != task.id
        state = await client.threads.get_state(task.context_id)
        assert [m["content"] for m in state["values"]["messages"]] == [
            "hello there", "You said: hello there", "again", "You said: again"
        ]

        got = await a2a.get_task(GetTaskRequest(id=task.id))
        assert got.status.state == TaskState.TASK_STATE_COMPLETED
        assert got.artifacts[0].parts[0].text == "You said: hello there"

        listed = await a2a.list_tasks(ListTasksRequest(context_id=task.context_id, page_size=1))
        assert [t.id for t in listed.tasks] == [follow.id] and listed.total_size == 2
        rest = await a2a.list_tasks(
            ListTasksRequest(context_id=task.context_id, page_token=listed.next_page_token)
        )
        assert [t.id for t in rest.tasks] == [task.id] and not rest.next_page_token

        with pytest.raises(TaskNotFoundError):
            await a2a.get_task(GetTaskRequest(id=str(uuid.uuid4())))
    # A task of another assistant is not found under this one.
    async with a2a_client(server.url, "echo") as other:
        with pytest.raises(TaskNotFoundError):
            await other.get_task(GetTaskRequest(id=task.id))


async def test_structured_graph_takes_data_parts(server: TestServer) -> None:
    async with a2a_client(server.url, "slow") as a2a:
        task = await send(a2a, data_message({"steps": 2, "delay": 0}))
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert data_of(task.artifacts[0].parts[0])["log"] == ["tick 1", "tick 2"]
        # Text for a graph without `messages` is refused, nothing runs.
        with pytest.raises(Exception, match="structured input"):
            await send(a2a, text_message("hi"))


async def test_interrupt_is_input_required_and_a_follow_up_resumes(server: TestServer) -> None:
    async with a2a_client(server.url, "hitl") as a2a:
        task = await send(a2a, data_message({"topic": "otters"}))
        assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
        asked = data_of(task.status.message.parts[0])
        assert asked["draft"] == "A short note about otters."

        done = await send(a2a, text_message("Otters hold hands.", task_id=task.id))
        assert done.status.state == TaskState.TASK_STATE_COMPLETED
        assert done.context_id == task.context_id
        assert data_of(done.artifacts[0].parts[0])["final"] == "Otters hold hands."
        with pytest.raises(Exception, match="not waiting for input"):
            await send(a2a, text_message("again", task_id=done.id))


# --- stream, cancel -----------------------------------------------------------------------


async def test_streaming_message(server: TestServer) -> None:
    async with a2a_client(server.url, "agent", streaming=True) as a2a:
        request = SendMessageRequest(message=text_message("stream me"))
        events: list[StreamResponse] = [e async for e in a2a.send_message(request)]
    assert events[0].HasField("task")
    task_id = events[0].task.id
    kinds = [e.WhichOneof("payload") for e in events]
    assert kinds[1] == "status_update"
    assert events[1].status_update.status.state == TaskState.TASK_STATE_WORKING
    chunks = [e.artifact_update for e in events if e.HasField("artifact_update")]
    streamed = [c for c in chunks if not c.last_chunk]
    assert len(streamed) > 1 and not streamed[0].append and all(c.append for c in streamed[1:])
    assert "".join(c.artifact.parts[0].text for c in streamed) == "You said: stream me"
    assert chunks[-1].last_chunk and chunks[-1].artifact.parts[0].text == "You said: stream me"
    final = events[-1].status_update
    assert final.task_id == task_id and final.status.state == TaskState.TASK_STATE_COMPLETED


async def test_cancel_task(server: TestServer) -> None:
    async with a2a_client(server.url, "slow") as a2a:
        task = await send(a2a, data_message({"steps": 50, "delay": 0.2}), immediately=True)
        assert task.status.state in (TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING)
        cancelled = await a2a.cancel_task(CancelTaskRequest(id=task.id))
        assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
        got = await a2a.get_task(GetTaskRequest(id=task.id))
        assert got.status.state == TaskState.TASK_STATE_CANCELED
        with pytest.raises(TaskNotCancelableError):
            await a2a.cancel_task(CancelTaskRequest(id=task.id))
        listed = await a2a.list_tasks(
            ListTasksRequest(context_id=task.context_id, status=TaskState.TASK_STATE_CANCELED)
        )
        assert [t.id for t in listed.tasks] == [task.id]


# --- the 0.3 method names -----------------------------------------------------------------


async def test_v03_method_names(server: TestServer, http: httpx.AsyncClient) -> None:
    message = {
        "kind": "message",
        "messageId": uuid.uuid4().hex,
        "role": "user",
        "parts": [{"kind": "text", "text": "old client"}],
    }
    body = {"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": message}}
    reply = (await http.post("/a2a/agent", json=body)).json()
    task = reply["result"]
    assert task["kind"] == "task" and task["status"]["state"] == "completed"
    assert task["artifacts"][0]["parts"][0] == {"kind": "text", "text": "You said: old client"}

    get = {"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"id": task["id"]}}
    got = (await http.post("/a2a/agent", json=get)).json()["result"]
    assert got["id"] == task["id"] and got["contextId"] == task["contextId"]

    streamed = {**body, "id": 3, "method": "message/stream"}
    async with http.stream("POST", "/a2a/agent", json=streamed) as r:
        lines = [line async for line in r.aiter_lines() if line.startswith("data:")]
    results = [json.loads(line[5:])["result"] for line in lines]
    assert results[0]["kind"] == "task"
    assert results[-1]["kind"] == "status-update" and results[-1]["status"]["state"] == "completed"


# --- custom auth ---------------------------------------------------------------------------


async def test_custom_auth(backend: str) -> None:
    with running_server(backend, AUTH_CONFIG) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as anonymous:
            assert (await anonymous.get("/.well-known/agent-card.json")).status_code == 401
            assert (await anonymous.post("/a2a/echo", json={})).status_code == 401
        async with a2a_client(srv.url, "echo", token="token-a") as a:
            task = await send(a, text_message("mine"))
            assert task.status.state == TaskState.TASK_STATE_COMPLETED
            assert task.artifacts[0].parts[0].text == "mine"
        async with a2a_client(srv.url, "echo", token="token-b") as b:
            with pytest.raises(TaskNotFoundError):
                await b.get_task(GetTaskRequest(id=task.id))
            with pytest.raises(TaskNotFoundError):
                await b.cancel_task(CancelTaskRequest(id=task.id))
            assert list((await b.list_tasks(ListTasksRequest())).tasks) == []
            # B cannot write into A's context (thread) either.
            with pytest.raises(Exception, match="not found"):
                await send(b, text_message("intrude", context_id=task.context_id))
        async with a2a_client(srv.url, "echo", token="token-a") as a:
            mine = await a.list_tasks(ListTasksRequest())
            assert [t.id for t in mine.tasks] == [task.id]


# --- switched off -------------------------------------------------------------------------


async def test_disable_a2a(backend: str, tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    graph = (ROOT.parent / "examples" / "echo.py").as_posix()
    config.write_text(
        json.dumps({"graphs": {"echo": f"{graph}:graph"}, "http": {"disable_a2a": True}})
    )
    with running_server(backend, config) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            assert (await http.get("/.well-known/agent-card.json")).status_code == 404
            assert (await http.get("/a2a/echo/.well-known/agent-card.json")).status_code == 404
            assert (await http.post("/a2a/echo", json={})).status_code == 404
            assert (await http.get("/info")).json()["flags"]["a2a"] is False
            paths = (await http.get("/openapi.json")).json()["paths"]
            assert not [p for p in paths if "a2a" in p or "agent-card" in p]
            assert "/threads" in paths
