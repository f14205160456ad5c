"""Types of thread streaming sessions (`client.threads.stream`), importable as from
`langgraph_sdk.stream`.

Events are the protocol's envelopes as plain dicts, `{"type": "event", "event_id", "seq",
"method", "params": {"namespace", "timestamp", "data"}}`. `Event` is a union discriminated
by `method`, so checking `event["method"]` narrows `event["params"]["data"]` to that
channel's payload (`langchain-protocol`'s `LifecycleData`, `MessagesData`, `ToolsData`, …):

    async for event in thread.subscribe(["lifecycle", "messages"]):
        if event["method"] == "lifecycle":
            print(event["params"]["data"]["event"])  # "running", "completed", …
"""

from __future__ import annotations

from typing import Any, Generic, Literal, NotRequired, TypeAlias, TypedDict, TypeVar

from langchain_protocol import (
    Channel,
    InputRequestedData,
    MessagesData,
    Namespace,
    SubscribeParams,
    ToolsData,
)
from langchain_protocol import LifecycleData as _LifecycleData

__all__ = [
    "Channel",
    "CheckpointsEvent",
    "CustomEvent",
    "Event",
    "EventParams",
    "InputRequestedData",
    "InputRequestedEvent",
    "InterruptPayload",
    "LifecycleData",
    "LifecycleEvent",
    "MessagesData",
    "MessagesEvent",
    "Namespace",
    "SubscribeParams",
    "TasksEvent",
    "ToolsData",
    "ToolsEvent",
    "UpdatesEvent",
    "ValuesEvent",
]

DataT = TypeVar("DataT")


class EventParams(TypedDict, Generic[DataT]):
    """Where and when an event happened, and its payload."""

    namespace: Namespace
    """`[]` for the root graph; `["child:<task id>", …]` inside subgraphs."""
    timestamp: int
    """Milliseconds since the epoch."""
    data: DataT


class _Envelope(TypedDict):
    type: Literal["event"]
    event_id: NotRequired[str]
    """Unique per thread; the resume point a reconnection continues after."""
    seq: NotRequired[int]
    """Increasing per thread; a stream opened with `since: seq` resumes after it."""


class LifecycleData(_LifecycleData):
    """`running` (with the run's id), `completed`, `interrupted` or `failed` (with `error`)."""

    run_id: NotRequired[str]


class LifecycleEvent(_Envelope):
    method: Literal["lifecycle"]
    params: EventParams[LifecycleData]


class MessagesEvent(_Envelope):
    """A message streamed as content blocks: `message-start`, `content-block-start`,
    `content-block-delta`…, `content-block-finish`, `message-finish`."""

    method: Literal["messages"]
    params: EventParams[MessagesData]


class ToolsEvent(_Envelope):
    method: Literal["tools"]
    params: EventParams[ToolsData]


class InputRequestedEvent(_Envelope):
    """An interrupt waiting for `thread.run.respond(...)` (channel `input`)."""

    method: Literal["input.requested"]
    params: EventParams[InputRequestedData]


class ValuesEvent(_Envelope):
    """The graph's whole state after a step."""

    method: Literal["values"]
    params: EventParams[dict[str, Any]]


class UpdatesEvent(_Envelope):
    """What the nodes of a step wrote."""

    method: Literal["updates"]
    params: EventParams[dict[str, Any]]


class CheckpointsEvent(_Envelope):
    method: Literal["checkpoints"]
    params: EventParams[dict[str, Any]]


class TasksEvent(_Envelope):
    method: Literal["tasks"]
    params: EventParams[dict[str, Any]]


class CustomEvent(_Envelope):
    """What a node wrote with `get_stream_writer()` (channels `custom`, `custom:<name>`)."""

    method: Literal["custom"]
    params: EventParams[Any]


Event: TypeAlias = (
    LifecycleEvent
    | MessagesEvent
    | ToolsEvent
    | InputRequestedEvent
    | ValuesEvent
    | UpdatesEvent
    | CheckpointsEvent
    | TasksEvent
    | CustomEvent
)
"""One protocol event of a thread."""


class InterruptPayload(TypedDict):
    """An interrupt the session has seen and not yet answered (`thread.interrupts`)."""

    interrupt_id: str
    value: Any
    namespace: list[str]
