"""A2A on the run engine (docs/api.md#a2a): a task is a run, a context is a thread.

`A2AHandler` is the official `a2a-sdk` request handler interface, so the SDK's JSON-RPC
dispatcher parses requests (the 1.0 methods and the 0.3 names) and frames answers; this
module only maps messages to run inputs and runs to tasks. Every run goes through
`runs.create_run`, waiting is `runs.join_body`, streaming reads the broker, and
authorization is the services' own."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, cast

import orjson
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.request_handler import RequestHandler
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    Artifact,
    CancelTaskRequest,
    DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest,
    GetTaskPushNotificationConfigRequest,
    GetTaskRequest,
    ListTaskPushNotificationConfigsRequest,
    ListTaskPushNotificationConfigsResponse,
    ListTasksRequest,
    ListTasksResponse,
    Message,
    Part,
    Role,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskArtifactUpdateEvent,
    TaskPushNotificationConfig,
    TaskState,
    TaskStatus,
    TaskStatusUpdateEvent,
)
from a2a.utils.errors import (
    A2AError,
    ContentTypeNotSupportedError,
    InternalError,
    InvalidParamsError,
    TaskNotCancelableError,
    TaskNotFoundError,
    UnsupportedOperationError,
)
from google.protobuf import json_format, struct_pb2

from graphport.server.core import Core
from graphport.server.errors import GraphportError, NotFound
from graphport.server.services import assistants as assistant_service
from graphport.server.services import runs
from graphport.server.services import threads as thread_service
from graphport.server.services.caller import Caller
from graphport.server.services.cancellation import wait_stopped
from graphport.server.storage import assistants as assistant_store
from graphport.server.storage import runs as run_store
from graphport.server.storage.records import Run
from graphport.types import RunStatus

logger = logging.getLogger("graphport.a2a")
PROTOCOL_VERSIONS = ("1.0", "0.3")
MODES = ["text/plain", "application/json"]
STATE_KEY = "graphport"  # where the api layer puts the `Call` in the SDK's call context
DEFAULT_PAGE, MAX_PAGE = 50, 100
# A2A task states and the run statuses a `ListTasks` status filter selects. A run that
# succeeded is `completed`, or `input-required` when it paused at an interrupt.
_STATUSES: dict[int, tuple[RunStatus, ...]] = {
    TaskState.TASK_STATE_SUBMITTED: ("pending",),
    TaskState.TASK_STATE_WORKING: ("running",),
    TaskState.TASK_STATE_COMPLETED: ("success",),
    TaskState.TASK_STATE_INPUT_REQUIRED: ("success",),
    TaskState.TASK_STATE_FAILED: ("error", "timeout"),
    TaskState.TASK_STATE_CANCELED: ("interrupted",),
}


@dataclass(frozen=True)
class Call:
    """One A2A request: the server, the caller, the assistant addressed."""

    core: Core
    caller: Caller
    assistant: dict[str, Any]

    @property
    def assistant_id(self) -> str:
        return str(self.assistant["assistant_id"])


async def runnable_assistant(core: Core, caller: Caller, assistant_id: str) -> dict[str, Any]:
    """The assistant addressed by an A2A path (an id or a graph id). System assistants
    need no `assistants.read`, as for run creation (docs/api.md#auth-dsl); 404 otherwise."""
    resolved = core.registry.resolve_assistant_id(assistant_id)
    try:
        uuid.UUID(resolved)
    except ValueError:
        raise NotFound(f"Assistant {assistant_id} not found") from None
    if not core.registry.is_system_assistant(resolved):
        return await assistant_service.get(core, caller, resolved)
    async with core.db.read() as conn:
        row = await assistant_store.get(conn, resolved)
    if row is None or row["graph_id"] not in core.registry.graph_ids:
        raise NotFound(f"Assistant {assistant_id} not found")
    return row


# --- agent cards -------------------------------------------------------------------------


def _describe(core: Core, assistant: dict[str, Any]) -> str:
    graph_id = assistant["graph_id"]
    return (
        assistant.get("description")
        or core.registry.description(graph_id)
        or f"Graphport assistant '{assistant['name']}' (graph {graph_id})"
    )


def _interfaces(url: str) -> list[AgentInterface]:
    return [
        AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version=v)
        for v in PROTOCOL_VERSIONS
    ]


def _skill(core: Core, assistant: dict[str, Any], skill_id: str) -> AgentSkill:
    return AgentSkill(
        id=skill_id,
        name=assistant["name"],
        description=_describe(core, assistant),
        tags=[assistant["graph_id"]],
        input_modes=MODES,
        output_modes=MODES,
    )


def _card(name: str, description: str, version: str, interfaces: list[AgentInterface],
          skills: list[AgentSkill]) -> AgentCard:
    return AgentCard(
        name=name,
        description=description,
        version=version,
        supported_interfaces=interfaces,
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=MODES,
        default_output_modes=MODES,
        skills=skills,
    )


def assistant_card(core: Core, assistant: dict[str, Any], base_url: str) -> AgentCard:
    """One assistant as an A2A agent at `/a2a/{assistant_id}` (JSON-RPC, 1.0 and 0.3)."""
    return _card(
        assistant["name"],
        _describe(core, assistant),
        str(assistant["version"]),
        _interfaces(f"{base_url}/a2a/{assistant['assistant_id']}"),
        [_skill(core, assistant, assistant["graph_id"])],
    )


async def deployment_card(core: Core, caller: Caller, base_url: str, version: str) -> AgentCard:
    """The deployment: each assistant the caller can search is a skill whose id is its
    assistant id, and its endpoint an interface, in the same order."""
    found, _, _ = await assistant_service.search(
        core, caller, {"limit": MAX_PAGE, "offset": 0, "sort_by": "created_at",
                       "sort_order": "asc"}
    )
    return _card(
        "Graphport",
        "The assistants of this deployment; each is an A2A agent at /a2a/{assistant_id} "
        "(the skill id).",
        version,
        [i for a in found for i in _interfaces(f"{base_url}/a2a/{a['assistant_id']}")],
        [_skill(core, a, a["assistant_id"]) for a in found],
    )


# --- messages in, tasks out ---------------------------------------------------------------


def _invalid(message: str) -> NoReturn:
    raise InvalidParamsError(message=message)


def _split_parts(message: Message) -> tuple[str, dict[str, Any]]:
    """The text parts joined by newlines, and the data parts merged (objects only)."""
    texts: list[str] = []
    data: dict[str, Any] = {}
    for part in message.parts:
        kind = part.WhichOneof("content")
        if kind == "text":
            texts.append(part.text)
        elif kind == "data":
            value = json_format.MessageToDict(part.data)
            if not isinstance(value, dict):
                _invalid("A data part must hold a JSON object")
            data.update(value)
        else:
            raise ContentTypeNotSupportedError(
                message="Only text and data parts are accepted (no files or URLs)"
            )
    return "\n".join(texts), data


def is_chat(schema: dict[str, Any] | None) -> bool:
    """A graph whose input has a `messages` key takes chat messages."""
    return "messages" in ((schema or {}).get("properties") or {})


def graph_input(message: Message, chat: bool) -> dict[str, Any]:
    """docs/api.md#a2a: a chat graph gets the text as one user message (data parts add
    other input keys); any other graph gets the data parts as its input."""
    text, data = _split_parts(message)
    if chat and text:
        return {**data, "messages": [{"role": "user", "content": text}]}
    if text:
        _invalid("This assistant takes structured input: send it as a data part")
    if not data:
        _invalid("The message has no text or data part")
    return data


def _resume_value(message: Message) -> Any:
    text, data = _split_parts(message)
    if data and text:
        return {**data, "text": text}
    return data or text


def _value(obj: Any) -> struct_pb2.Value:
    return json_format.ParseDict(orjson.loads(orjson.dumps(obj, default=str)), struct_pb2.Value())


def _part(value: Any) -> Part:
    return Part(text=value) if isinstance(value, str) else Part(data=_value(value))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b if isinstance(b, str) else str(b.get("text") or "")
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
        )
    return ""


def _last_ai_text(values: Any) -> str | None:
    messages = values.get("messages") if isinstance(values, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        last = messages[-1]
        if last.get("type") in ("ai", "AIMessageChunk"):
            return _text(last.get("content"))
    return None


def _agent_message(run: Run, parts: list[Part]) -> Message:
    return Message(
        message_id=str(uuid.uuid4()),
        context_id=run["thread_id"],
        task_id=run["run_id"],
        role=Role.ROLE_AGENT,
        parts=parts,
    )


def _artifact(run: Run, values: Any, chat: bool) -> Artifact:
    """The result: a chat graph's last AI message as text, else the values as data."""
    reply = _last_ai_text(values) if chat else None
    part = Part(text=reply) if reply is not None else Part(data=_value(values))
    return Artifact(artifact_id=f"{run['run_id']}-result", name="result", parts=[part])


def to_task(run: Run, body: dict[str, Any] | None, chat: bool) -> Task:
    """A run as a task; `body` is its join document once it has ended."""
    status = TaskStatus()
    status.timestamp.FromDatetime(run["updated_at"])
    task = Task(id=run["run_id"], context_id=run["thread_id"])
    state = run["status"]
    if state in ("pending", "running") or body is None:
        status.state = (
            TaskState.TASK_STATE_SUBMITTED if state == "pending" else TaskState.TASK_STATE_WORKING
        )
    elif state == "interrupted":
        status.state = TaskState.TASK_STATE_CANCELED
    elif "__error__" in body or state in ("error", "timeout"):
        status.state = TaskState.TASK_STATE_FAILED
        error = body.get("__error__") or {"error": state}
        status.message.CopyFrom(_agent_message(run, [_part(error)]))
    elif body.get("__interrupt__"):
        status.state = TaskState.TASK_STATE_INPUT_REQUIRED
        values = [i.get("value") if isinstance(i, dict) else i for i in body["__interrupt__"]]
        status.message.CopyFrom(_agent_message(run, [_part(v) for v in values]))
    else:
        status.state = TaskState.TASK_STATE_COMPLETED
        task.artifacts.append(_artifact(run, body, chat))
    task.status.CopyFrom(status)
    return task


# --- the handler ---------------------------------------------------------------------------


@contextlib.contextmanager
def _as_a2a_errors() -> Iterator[None]:
    """Domain errors as JSON-RPC errors (their detail and HTTP status in `data`);
    anything unexpected as an internal error naming only its type, as the API does."""
    try:
        yield
    except A2AError:
        raise
    except GraphportError as e:
        if e.status_code >= 500:
            raise InternalError(message=e.detail) from e
        raise InvalidParamsError(message=e.detail, data={"status": e.status_code}) from e
    except Exception as e:
        logger.exception("A2A request failed")
        raise InternalError(message=f"Internal error: {type(e).__name__}") from e


def _call(context: ServerCallContext) -> Call:
    return cast(Call, context.state[STATE_KEY])


async def _chat(call: Call) -> bool:
    return is_chat(await assistant_service.input_schema(call.core, call.assistant))


async def _task_run(call: Call, task_id: str) -> Run:
    """The run a task id names, if the caller may read it and it is this assistant's."""
    try:
        uuid.UUID(task_id)
        run = await runs.fetch_stateless(call.core, call.caller, task_id)
    except (ValueError, NotFound):
        raise TaskNotFoundError(message=f"Task {task_id} not found") from None
    if run["assistant_id"] != call.assistant_id:
        raise TaskNotFoundError(message=f"Task {task_id} not found")
    return run


async def _reload(call: Call, run: Run) -> Run:
    async with call.core.db.read() as conn:
        found = await run_store.get(conn, run["run_id"])
    return found or run


class A2AHandler(RequestHandler):
    """The A2A methods on Graphport's runs; push notifications are not offered."""

    async def _start(
        self, call: Call, params: SendMessageRequest, modes: list[str], chat: bool
    ) -> Run:
        message = params.message
        body: dict[str, Any] = {
            "assistant_id": call.assistant_id,
            "stream_mode": modes,
            "metadata": {"a2a_message_id": message.message_id} if message.message_id else {},
        }
        thread_id = message.context_id or None
        if message.task_id:  # a follow-up: answers the interrupt the task paused at
            run = await _task_run(call, message.task_id)
            if thread_id not in (None, run["thread_id"]):
                _invalid("The task belongs to another context")
            if run["status"] != "success" or not (await runs.join_body(call.core, run)).get(
                "__interrupt__"
            ):
                _invalid(f"Task {message.task_id} is not waiting for input")
            thread_id = run["thread_id"]
            body["command"] = {"resume": _resume_value(message)}
        else:
            body["input"] = graph_input(message, chat)
        if thread_id is None:
            thread_id = thread_service.new_thread_id()
        else:
            try:
                uuid.UUID(thread_id)
            except ValueError:
                _invalid("contextId must be a UUID (a thread id)")
        body["if_not_exists"] = "create"
        created = await runs.create_run(call.core, call.caller, body, thread_id=thread_id)
        return cast(Run, created)

    async def on_message_send(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> Task | Message:
        with _as_a2a_errors():
            call = _call(context)
            chat = await _chat(call)
            run = await self._start(call, params, ["values"], chat)
            if params.configuration.return_immediately:
                return to_task(run, None, chat)
            body = await runs.join_body(call.core, run)
            return to_task(await _reload(call, run), body, chat)

    async def on_message_send_stream(
        self, params: SendMessageRequest, context: ServerCallContext
    ) -> AsyncGenerator[Any]:
        with _as_a2a_errors():
            call = _call(context)
            chat = await _chat(call)
            run = await self._start(call, params, ["values", "messages-tuple"], chat)
            ids: dict[str, Any] = {"task_id": run["run_id"], "context_id": run["thread_id"]}
            yield to_task(run, None, chat)
            outcome = runs.RunOutcome()
            working, streamed = False, False
            async for ev in call.core.broker.subscribe_run(run["run_id"], (0, 0)):
                outcome.add(ev)
                if ev.event == "metadata" and not working:
                    working = True
                    yield TaskStatusUpdateEvent(
                        **ids, status=TaskStatus(state=TaskState.TASK_STATE_WORKING)
                    )
                elif ev.event == "messages" and chat:
                    chunk = orjson.loads(ev.data)[0]
                    text = _text(chunk.get("content")) if isinstance(chunk, dict) else ""
                    if text and chunk.get("type") in ("ai", "AIMessageChunk"):
                        part = Part(text=text)
                        artifact = Artifact(artifact_id=f"{run['run_id']}-result", parts=[part])
                        yield TaskArtifactUpdateEvent(**ids, artifact=artifact, append=streamed)
                        streamed = True
            run = await _reload(call, run)
            final = to_task(run, await runs.settled_body(call.core, run, outcome), chat)
            for artifact in final.artifacts:  # the whole result replaces what was streamed
                yield TaskArtifactUpdateEvent(
                    **ids, artifact=artifact, append=False, last_chunk=True
                )
            yield TaskStatusUpdateEvent(**ids, status=final.status)

    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task:
        with _as_a2a_errors():
            call = _call(context)
            run = await _task_run(call, params.id)
            body = None if run["status"] in ("pending", "running") else await runs.join_body(
                call.core, run
            )
            return to_task(run, body, await _chat(call))

    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task:
        with _as_a2a_errors():
            call = _call(context)
            run = await _task_run(call, params.id)
            try:
                await runs.cancel(
                    call.core,
                    call.caller,
                    thread_id=run["thread_id"],
                    run_ids=[run["run_id"]],
                    status=None,
                    action="interrupt",
                )
            except NotFound:
                raise TaskNotCancelableError(message=f"Task {params.id} has ended") from None
            await wait_stopped(call.core, [run["run_id"]])
            run = await _reload(call, run)
            return to_task(run, await runs.join_body(call.core, run), await _chat(call))

    async def on_list_tasks(
        self, params: ListTasksRequest, context: ServerCallContext
    ) -> ListTasksResponse:
        with _as_a2a_errors():
            call = _call(context)
            size = params.page_size or DEFAULT_PAGE
            if not 1 <= size <= MAX_PAGE:
                _invalid(f"pageSize must be between 1 and {MAX_PAGE}")
            try:
                offset = int(params.page_token or 0)
            except ValueError:
                _invalid("Invalid pageToken")
            if params.context_id:
                try:
                    uuid.UUID(params.context_id)
                except ValueError:
                    _invalid("contextId must be a UUID (a thread id)")
            flt = await call.caller.authorize(
                "threads", "search", {"metadata": {}, "assistant_id": call.assistant_id}
            )
            async with call.core.db.read() as conn:
                page, total = await run_store.page_for_assistant(
                    conn,
                    call.assistant_id,
                    thread_id=params.context_id or None,
                    statuses=_STATUSES.get(params.status, ()) if params.status else None,
                    flt=flt,
                    limit=size,
                    offset=max(offset, 0),
                )
            chat = await _chat(call)
            tasks = []
            for run in page:
                ended = run["status"] not in ("pending", "running")
                task = to_task(run, await runs.join_body(call.core, run) if ended else None, chat)
                if not params.status or task.status.state == params.status:
                    tasks.append(task)
            more = offset + len(page) < total
            return ListTasksResponse(
                tasks=tasks,
                next_page_token=str(offset + len(page)) if more else "",
                page_size=size,
                total_size=total,
            )

    # Push notifications, resubscription and extended cards are not offered.

    async def on_create_task_push_notification_config(
        self, params: TaskPushNotificationConfig, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise UnsupportedOperationError(message="Push notifications are not supported")

    async def on_get_task_push_notification_config(
        self, params: GetTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> TaskPushNotificationConfig:
        raise UnsupportedOperationError(message="Push notifications are not supported")

    async def on_list_task_push_notification_configs(
        self, params: ListTaskPushNotificationConfigsRequest, context: ServerCallContext
    ) -> ListTaskPushNotificationConfigsResponse:
        raise UnsupportedOperationError(message="Push notifications are not supported")

    async def on_delete_task_push_notification_config(
        self, params: DeleteTaskPushNotificationConfigRequest, context: ServerCallContext
    ) -> None:
        raise UnsupportedOperationError(message="Push notifications are not supported")

    async def on_subscribe_to_task(
        self, params: SubscribeToTaskRequest, context: ServerCallContext
    ) -> AsyncGenerator[Any]:
        raise UnsupportedOperationError(message="Resubscribing is not supported")
        yield  # an async generator, as the interface declares

    async def on_get_extended_agent_card(
        self, params: GetExtendedAgentCardRequest, context: ServerCallContext
    ) -> AgentCard:
        raise UnsupportedOperationError(message="There is no extended agent card")
