"""Thread streaming sessions (docs/api.md#thread-event-streaming): the commands a session
sends (`run.start`, `input.respond`, `agent.getTree`, subscriptions) and the thread's
events as the protocol's envelopes, filtered per subscription.

Every run a session starts goes through `runs.create_run`; events come from the broker's
thread channel, so an envelope's `event_id` is the broker id and its `seq` an integer
made from it: a stream reopened with `since` resumes right after the last event seen,
whichever replica serves it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args, get_origin

import orjson
from langchain_protocol import (
    AgentTreeNode,
    CheckpointSummary,
    CommandResponse,
    ErrorCode,
    ErrorResponse,
)
from langchain_protocol.protocol import Channel

from graphport.server.core import Core
from graphport.server.errors import BadRequest, NotFound
from graphport.server.runtime.broker import FROM_START, Event, event_key
from graphport.server.runtime.protocol import INPUT_REQUESTED, PREFIX, lifecycle
from graphport.server.services import assistants as assistant_service
from graphport.server.services import runs as run_service
from graphport.server.services import state as state_service
from graphport.server.services import threads as thread_service
from graphport.server.services.caller import Caller
from graphport.server.storage import runs as run_store
from graphport.server.storage.records import Thread
from graphport.types import RunStatus

# A seq is `ms * _SPAN + sequence`: below 2**53 (JavaScript's exact integers) for
# centuries. Sequences past the span saturate: a resume may then repeat events within that
# millisecond, which clients drop by `event_id`, but never skips one.
_SPAN = 1000

# The protocol's named channels (its `Channel` type, less the `custom:<name>` pattern).
CHANNELS = frozenset(get_args(c)[0] for c in get_args(Channel) if get_origin(c) is Literal)
_INFLIGHT: frozenset[RunStatus] = frozenset({"pending", "running"})
_STATUS = {"busy": "running", "interrupted": "interrupted", "error": "failed", "idle": "completed"}


class ProtocolError(Exception):
    """A command the protocol answers with an error envelope (`{"type": "error"}`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def seq_of(event_id: str) -> int:
    ms, seq = event_key(event_id)
    return ms * _SPAN + min(seq, _SPAN - 1)


def position_of(since: int) -> tuple[int, int]:
    """The broker position right after the event whose seq is `since`."""
    return divmod(since, _SPAN)


# --- filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    channels: frozenset[str]
    namespaces: tuple[tuple[str, ...], ...] | None
    depth: int | None

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> Filter:
        channels = params.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise ProtocolError("invalid_argument", "channels must be a list of channel names")
        unknown = [c for c in channels if c not in CHANNELS and not c.startswith("custom:")]
        if unknown:
            raise ProtocolError("invalid_argument", f"unknown channels: {unknown}")
        namespaces = params.get("namespaces")
        if namespaces is not None and not (
            isinstance(namespaces, list)
            and all(
                isinstance(ns, list) and all(isinstance(s, str) for s in ns) for ns in namespaces
            )
        ):
            raise ProtocolError("invalid_argument", "namespaces must be lists of strings")
        depth = params.get("depth")
        if depth is not None and (not isinstance(depth, int) or depth < 0):
            raise ProtocolError("invalid_argument", "depth must be a non-negative integer")
        return cls(
            frozenset(channels),
            None if namespaces is None else tuple(tuple(ns) for ns in namespaces),
            depth,
        )

    def matches(self, envelope: Mapping[str, Any]) -> bool:
        params = envelope["params"]
        if not self._channel_matches(envelope["method"], params.get("data")):
            return False
        if not self.namespaces:
            return True
        ns = tuple(params.get("namespace") or ())
        return any(
            _prefix(ns, prefix) and (self.depth is None or len(ns) - len(prefix) <= self.depth)
            for prefix in self.namespaces
        )

    def _channel_matches(self, method: str, data: Any) -> bool:
        if method == INPUT_REQUESTED:
            return "input" in self.channels
        if method == "custom":
            name = data.get("name") if isinstance(data, dict) else None
            return "custom" in self.channels or (bool(name) and f"custom:{name}" in self.channels)
        return method in self.channels


def _prefix(ns: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    """Segments compare literally, or without their `:<task id>` suffix when the prefix's
    segment has none (`agent` matches `agent:1f2e…`)."""
    if len(prefix) > len(ns):
        return False
    return all(
        seg == want or (":" not in want and seg.partition(":")[0] == want)
        for seg, want in zip(ns, prefix, strict=False)
    )


# --- events ----------------------------------------------------------------------------


def _envelope(ev: Event, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "event",
        "event_id": ev.id,
        "seq": seq_of(ev.id),
        "method": method,
        "params": params,
    }


async def envelope(core: Core, ev: Event) -> dict[str, Any] | None:
    """The protocol event for a broker event of the thread channel, if it has one."""
    if ev.event.startswith(PREFIX):
        return _envelope(ev, ev.event[len(PREFIX) :], orjson.loads(ev.data))
    if ev.event not in ("metadata", "error"):
        return None  # classic stream modes of runs not started by a session
    data = orjson.loads(ev.data)
    if ev.event == "error":
        message = data.get("message") if isinstance(data, dict) else None
        return _envelope(ev, *lifecycle("failed", error=str(message or "Run failed")))
    if not isinstance(data, dict) or "run_id" not in data:
        return None
    if "attempt" in data:
        return _envelope(ev, *lifecycle("running", run_id=data["run_id"]))
    # Shielded: a stream closed meanwhile must not cut the read (see `open_events`).
    if data.get("status") == "run_done" and await asyncio.shield(_cancelled(core, data["run_id"])):
        # Runs that end on their own report it before this marker; a cancelled one can't.
        return _envelope(ev, *lifecycle("failed", error="Run was cancelled"))
    return None


async def _cancelled(core: Core, run_id: str) -> bool:
    async with core.db.read() as conn:
        run = await run_store.get(conn, run_id)
    return run is None or run["status"] == "interrupted"  # rolled back, or cancelled


async def _replay_start(core: Core, thread_id: str, latest: str | None) -> AsyncIterator[Event]:
    """A stream opened without `since` starts with the thread's latest run (in flight, or
    ended and still retained), so a client subscribing just after `run.start` misses
    nothing, then follows the thread."""
    last: str | None = None
    if latest is not None:
        async for ev in core.broker.subscribe_run(latest, event_key(FROM_START)):
            last = ev.id
            yield ev
    async for ev in core.broker.subscribe_thread(
        thread_id, event_key(last) if last is not None else None
    ):
        yield ev


async def _latest_run(core: Core, thread_id: str) -> str | None:
    """The thread's latest run if its events are still to be had."""
    async with core.db.read() as conn:
        latest = await run_store.list_for_thread(conn, thread_id, limit=1, offset=0, status=None)
    if not latest:
        return None
    run = latest[0]
    if run["status"] in _INFLIGHT or await core.broker.run_known(run["run_id"]):
        return run["run_id"]
    return None


async def open_events(
    core: Core,
    caller: Caller,
    thread_id: str,
    *,
    since: int | None = None,
    after: tuple[int, int] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Checks access now (a refused or unknown thread is a 404 before any byte is sent),
    then yields every protocol event of the thread: after the event whose seq is `since`
    (or at broker position `after`), or from its latest run."""
    thread_id = (await thread_service.fetch(core, caller, _thread_uuid(thread_id)))["thread_id"]
    if after is None and since is not None:
        after = position_of(since)
    # Database reads happen here, before the stream: a client closing its stream cancels
    # the stream's reads, which must not cut a pooled connection mid-query.
    if after is not None:
        return _events(core, core.broker.subscribe_thread(thread_id, after))
    return _events(core, _replay_start(core, thread_id, await _latest_run(core, thread_id)))


async def _events(core: Core, source: AsyncIterator[Event]) -> AsyncIterator[dict[str, Any]]:
    async for ev in source:
        out = await envelope(core, ev)
        if out is not None:
            yield out


async def filtered(
    events: AsyncIterator[dict[str, Any]], flt: Filter
) -> AsyncIterator[dict[str, Any]]:
    async for out in events:
        if flt.matches(out):
            yield out


# --- commands --------------------------------------------------------------------------


def success(command_id: Any, result: dict[str, Any]) -> CommandResponse:
    return {"type": "success", "id": command_id, "result": cast(Any, result)}


def failure(command_id: Any, code: str, message: str) -> ErrorResponse:
    return {"type": "error", "id": command_id, "error": cast(ErrorCode, code), "message": message}


async def command(
    core: Core, caller: Caller, thread_id: str, cmd: Any
) -> CommandResponse | ErrorResponse:
    """Run one command; protocol failures come back as error envelopes, while a thread
    the caller may not see raises as on every route (404)."""
    if not isinstance(cmd, dict) or not isinstance(cmd.get("method"), str):
        return failure(None, "invalid_argument", "a command is {id, method, params}")
    command_id = cmd.get("id")
    params = cmd.get("params") or {}
    handler = _HANDLERS.get(cmd["method"])
    if handler is None:
        return failure(command_id, "unknown_command", f"unknown command {cmd['method']!r}")
    if not isinstance(params, dict):
        return failure(command_id, "invalid_argument", "params must be an object")
    try:
        return success(command_id, await handler(core, caller, thread_id, params))
    except ProtocolError as e:
        return failure(command_id, e.code, e.message)


async def _run_start(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    if not isinstance(params.get("assistant_id"), str):
        raise ProtocolError("invalid_argument", "run.start needs an assistant_id")
    body: dict[str, Any] = {
        "assistant_id": params["assistant_id"],
        "input": params.get("input"),
        "if_not_exists": "create",  # clients mint the thread id of a new session
    }
    return await _start(core, caller, _thread_uuid(thread_id), body, params)


async def _start(
    core: Core, caller: Caller, thread_id: str, body: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """A run of the session's kind on the thread, with the command's `config` and
    `metadata`; queued behind a run in flight (the default multitask strategy)."""
    for key in ("config", "metadata"):
        if params.get(key) is not None:
            body[key] = params[key]
    run = await run_service.create_run(core, caller, body, thread_id=thread_id, event_protocol=True)
    return {"run_id": run["run_id"]}


def _thread_uuid(thread_id: str) -> str:
    try:
        return str(uuid.UUID(thread_id))
    except ValueError:
        raise NotFound(f"Thread with ID {thread_id} not found") from None


def _last_assistant(thread: Thread) -> str:
    """The assistant the thread last ran: what a command that runs it again runs."""
    assistant_id = thread["metadata"].get("assistant_id")
    if not assistant_id:
        raise ProtocolError("no_such_run", "the thread has never run")
    return str(assistant_id)


def _namespace(params: dict[str, Any]) -> list[str]:
    namespace = params.get("namespace") or []
    if not isinstance(namespace, list) or not all(isinstance(s, str) for s in namespace):
        raise ProtocolError("invalid_argument", "namespace must be a list of strings")
    return namespace


async def _input_respond(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Resumes the thread's interrupts: a run with `command.resume` mapping each answered
    interrupt id to its response, on the assistant the thread last ran."""
    entries = params.get("responses") if "responses" in params else [params]
    if not isinstance(entries, list) or not entries:
        raise ProtocolError("invalid_argument", "input.respond needs responses")
    thread = await thread_service.fetch(core, caller, _thread_uuid(thread_id), "update")
    pending = {
        i.get("id")
        for group in (thread.get("interrupts") or {}).values()
        for i in cast(list[dict[str, Any]], group)
    }
    resume: dict[str, Any] = {}
    for entry in entries:
        interrupt_id = entry.get("interrupt_id") if isinstance(entry, dict) else None
        if not isinstance(interrupt_id, str) or "response" not in entry:
            raise ProtocolError("invalid_argument", "each response needs interrupt_id, response")
        # While the run that paused is still finishing, its interrupts are announced but
        # not yet cached on the thread: the resume queues behind it.
        if thread["status"] != "busy" and interrupt_id not in pending:
            raise ProtocolError("no_such_interrupt", f"no pending interrupt {interrupt_id!r}")
        resume[interrupt_id] = entry["response"]
    body: dict[str, Any] = {
        "assistant_id": _last_assistant(thread),
        "command": {
            "resume": resume,
            **{k: params[k] for k in ("update", "goto") if params.get(k) is not None},
        },
    }
    return await _start(core, caller, thread["thread_id"], body, params)


async def _input_inject(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """A message for the thread's graph: the input (`{"messages": [message]}`) of a run on
    the assistant the thread last ran, queued behind a run in flight. LangGraph takes input
    between runs only, and at the root: a subgraph's namespace is `not_supported`."""
    if _namespace(params):
        raise ProtocolError("not_supported", "input can be injected at the root namespace only")
    message = params.get("message")
    if not (
        isinstance(message, dict)
        and message.get("role") in ("user", "system")
        and isinstance(message.get("content"), str)
    ):
        raise ProtocolError("invalid_argument", "message must be {role: user|system, content}")
    thread = await thread_service.fetch(core, caller, _thread_uuid(thread_id), "update")
    assistant = await assistant_service.get(core, caller, _last_assistant(thread))
    schema = await assistant_service.input_schema(core, assistant)
    if schema is not None and "messages" not in (schema.get("properties") or {}):
        raise ProtocolError(
            "invalid_argument", f"graph {assistant['graph_id']!r} takes no messages as input"
        )
    body = {"assistant_id": assistant["assistant_id"], "input": {"messages": [message]}}
    return await _start(core, caller, thread["thread_id"], body, params)


async def _get_tree(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The thread's graph and its subgraphs (from the assistant the thread last ran), with
    the thread's status at the root."""
    thread = await thread_service.fetch(core, caller, _thread_uuid(thread_id))
    assistant_id = _last_assistant(thread)
    graph_id = thread["metadata"].get("graph_id") or assistant_id
    subgraphs = await assistant_service.subgraphs(core, caller, assistant_id, None, True)
    root: AgentTreeNode = {
        "namespace": [],
        "status": cast(Any, _STATUS.get(thread["status"], "completed")),
        "graph_name": graph_id,
        "children": [],
    }
    nodes: dict[tuple[str, ...], AgentTreeNode] = {(): root}
    for name in sorted(subgraphs, key=lambda n: n.count("|")):
        path = tuple(name.split("|"))
        node: AgentTreeNode = {
            "namespace": list(path),
            "status": "started",
            "graph_name": path[-1],
            "children": [],
        }
        nodes[path] = node
        nodes.get(path[:-1], root).setdefault("children", []).append(node)
    return {"tree": root}


async def _state_get(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The thread's current state at a namespace (`[]`: the root graph; a subgraph's
    namespace as its events carry it), only `keys` if given."""
    keys = params.get("keys")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        raise ProtocolError("invalid_argument", "keys must be a list of strings")
    thread = await thread_service.fetch(core, caller, _thread_uuid(thread_id))
    checkpoint_ns = "|".join(_namespace(params))
    try:
        state = await state_service.get_state(
            core, thread, {"checkpoint_ns": checkpoint_ns} if checkpoint_ns else None
        )
    except NotFound as e:
        raise ProtocolError("no_such_namespace", str(e)) from None
    if checkpoint_ns and not state["checkpoint"]:  # no subgraph has run there
        raise ProtocolError("no_such_namespace", f"no state at namespace {checkpoint_ns!r}")
    values = state["values"]
    if keys is not None and isinstance(values, dict):
        values = {k: v for k, v in values.items() if k in keys}
    result: dict[str, Any] = {"values": values}
    if state["checkpoint"]:
        result["checkpoint"] = {"id": state["checkpoint_id"], "ns": checkpoint_ns}
    return result


async def _list_checkpoints(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """The thread's checkpoints at a namespace, newest first: `limit` (10) of them, older
    than the checkpoint id `before` if given."""
    limit = params.get("limit", 10)
    before = params.get("before")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ProtocolError("invalid_argument", "limit must be a positive integer")
    if before is not None and not isinstance(before, str):
        raise ProtocolError("invalid_argument", "before must be a checkpoint id")
    thread = await thread_service.fetch(core, caller, _thread_uuid(thread_id))
    try:
        states = await state_service.history(
            core,
            thread,
            limit=limit,
            before={"checkpoint_id": before} if before else None,
            metadata=None,
            checkpoint={"checkpoint_ns": "|".join(_namespace(params))},
        )
    except BadRequest as e:
        raise ProtocolError("no_such_namespace", str(e)) from None
    summaries: list[CheckpointSummary] = [
        {
            "id": state["checkpoint_id"],
            "timestamp": state["created_at"],
            "step": (state["metadata"] or {}).get("step", -1),
            "metadata": state["metadata"] or {},
        }
        for state in states
    ]
    return {"checkpoints": summaries}


async def _state_fork(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """A run from one of the thread's (root) checkpoints, with `input` if given: the
    thread branches there, as with a run created with `checkpoint_id`."""
    checkpoint_id = params.get("checkpoint_id")
    if not isinstance(checkpoint_id, str) or not checkpoint_id:
        raise ProtocolError("invalid_argument", "state.fork needs a checkpoint_id")
    thread = await thread_service.fetch(core, caller, _thread_uuid(thread_id))
    try:
        await state_service.get_state(core, thread, {"checkpoint_id": checkpoint_id})
    except NotFound as e:
        raise ProtocolError("no_such_checkpoint", str(e)) from None
    body = {
        "assistant_id": _last_assistant(thread),
        "input": params.get("input"),
        "checkpoint": {"checkpoint_id": checkpoint_id},
    }
    started = await _start(core, caller, thread["thread_id"], body, params)
    return {**started, "thread_id": thread["thread_id"]}


async def _subscription_elsewhere(
    core: Core, caller: Caller, thread_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    raise ProtocolError(
        "not_supported",
        "subscriptions belong to an event stream: the body of POST "
        f"/threads/{thread_id}/stream/events, or commands on its WebSocket",
    )


_HANDLERS = {
    "run.start": _run_start,
    "input.respond": _input_respond,
    "input.inject": _input_inject,
    "agent.getTree": _get_tree,
    "state.get": _state_get,
    "state.listCheckpoints": _list_checkpoints,
    "state.fork": _state_fork,
    "subscription.subscribe": _subscription_elsewhere,
    "subscription.unsubscribe": _subscription_elsewhere,
    "subscription.reconnect": _subscription_elsewhere,
}
