"""Types of everything the API sends and accepts.

All records are `TypedDict`s: responses stay plain dicts (no runtime validation), the types only
tell an editor and a type checker what to expect. Names and fields follow `langgraph_sdk.schema`
so annotations written for it keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import Field
from typing import (
    Any,
    ClassVar,
    Literal,
    NamedTuple,
    NotRequired,
    Protocol,
    TypeAlias,
    TypedDict,
)

Json: TypeAlias = dict[str, Any] | None
"""A JSON object, or nothing."""

PrimitiveData: TypeAlias = str | int | float | bool | None

QueryParamTypes: TypeAlias = (
    Mapping[str, PrimitiveData | Sequence[PrimitiveData]]
    | list[tuple[str, PrimitiveData]]
    | tuple[tuple[str, PrimitiveData], ...]
    | str
    | bytes
)
"""Query parameters in any shape httpx accepts."""

# --- Literals --------------------------------------------------------------------------------

RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadStreamMode = Literal["run_modes", "lifecycle", "state_update"]
StreamMode = Literal[
    "values",
    "messages",
    "updates",
    "events",
    "tasks",
    "checkpoints",
    "debug",
    "custom",
    "messages-tuple",
    "tools",
    "lifecycle",
]
"""Run stream modes; `tools` and `lifecycle` exist only for protocol-v2 runs."""
DisconnectMode = Literal["cancel", "continue"]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
OnConflictBehavior = Literal["raise", "do_nothing"]
OnCompletionBehavior = Literal["delete", "keep"]
Durability = Literal["sync", "async", "exit"]
All = Literal["*"]
IfNotExists = Literal["create", "reject"]
PruneStrategy = Literal["delete", "keep_latest"]
CancelAction = Literal["interrupt", "rollback"]
BulkCancelRunsStatus = Literal["pending", "running", "all"]
SortOrder = Literal["asc", "desc"]
StreamVersion = Literal["v1", "v2"]

AssistantSortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]
ThreadSortBy = Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"]
CronSortBy = Literal[
    "cron_id", "assistant_id", "thread_id", "created_at", "updated_at", "next_run_date", "end_time"
]

AssistantSelectField = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]
ThreadSelectField = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "metadata",
    "config",
    "context",
    "status",
    "values",
    "interrupts",
]
ThreadStateSelectField = (
    Literal[
        "values",
        "next",
        "tasks",
        "checkpoint",
        "metadata",
        "created_at",
        "parent_checkpoint",
        "interrupts",
    ]
    | str
)
"""A state field, or `values.<key>` for a single state key."""
RunSelectField = Literal[
    "run_id",
    "thread_id",
    "assistant_id",
    "created_at",
    "updated_at",
    "status",
    "metadata",
    "kwargs",
    "multitask_strategy",
    "cancel_reason",
]
CronSelectField = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "now",
    "on_run_completed",
    "enabled",
]


# --- Inputs: anything that serializes to a JSON object ---------------------------------------


class _TypedDictLike(Protocol):
    __required_keys__: ClassVar[frozenset[str]]


class _DataclassLike(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]


class _ModelLike(Protocol):
    def model_dump(self) -> dict[str, Any]: ...


_JSONMap: TypeAlias = Mapping[str, Any]

Input: TypeAlias = _TypedDictLike | _DataclassLike | _ModelLike | _JSONMap
"""Graph input: a mapping, TypedDict, dataclass or pydantic model instance."""
Context: TypeAlias = _TypedDictLike | _DataclassLike | _ModelLike | _JSONMap
"""Static run context, in the same shapes as `Input`."""


# --- Records ---------------------------------------------------------------------------------


class Config(TypedDict, total=False):
    """Run configuration."""

    tags: list[str]
    recursion_limit: int
    configurable: dict[str, Any]


class Checkpoint(TypedDict):
    """Points at one checkpoint of a thread."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: str | None
    checkpoint_map: dict[str, Any] | None


class GraphSchema(TypedDict):
    """JSON schemas of a graph's input, output, state, config and context."""

    graph_id: str
    input_schema: dict[str, Any] | None
    output_schema: dict[str, Any] | None
    state_schema: dict[str, Any] | None
    config_schema: dict[str, Any] | None
    context_schema: dict[str, Any] | None


Subgraphs: TypeAlias = dict[str, GraphSchema]


class AssistantBase(TypedDict):
    """Fields shared by an assistant and each of its versions."""

    assistant_id: str
    graph_id: str
    config: Config
    context: Context
    created_at: str
    metadata: Json
    version: int
    name: str
    description: str | None


class AssistantVersion(AssistantBase):
    """One saved version of an assistant."""


class Assistant(AssistantBase):
    """A graph with a configuration."""

    updated_at: str


class AssistantsSearchResponse(TypedDict):
    """A page of assistants and the offset of the next page, if any."""

    assistants: list[Assistant]
    next: str | None


class Interrupt(TypedDict):
    """A pause requested by a graph, waiting for a resume value."""

    value: Any
    id: str
    response_schema: NotRequired[dict[str, Any] | None]


class Thread(TypedDict):
    """A conversation: the state accumulated by runs of one graph."""

    thread_id: str
    created_at: str
    updated_at: str
    metadata: Json
    status: ThreadStatus
    values: Json
    interrupts: dict[str, list[Interrupt]]
    extracted: NotRequired[dict[str, Any]]


class ThreadTask(TypedDict):
    """A task of a thread's current step."""

    id: str
    name: str
    error: str | None
    interrupts: list[Interrupt]
    checkpoint: Checkpoint | None
    state: ThreadState | None
    result: dict[str, Any] | None


class ThreadState(TypedDict):
    """A thread's state at one checkpoint."""

    values: list[dict[str, Any]] | dict[str, Any]
    next: Sequence[str]
    checkpoint: Checkpoint
    metadata: Json
    created_at: str | None
    parent_checkpoint: Checkpoint | None
    tasks: Sequence[ThreadTask]
    interrupts: list[Interrupt]


class ThreadUpdateStateResponse(TypedDict):
    """The checkpoint written by a state update."""

    checkpoint: Checkpoint


class Run(TypedDict):
    """One invocation of an assistant."""

    run_id: str
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: RunStatus
    metadata: Json
    multitask_strategy: MultitaskStrategy
    cancel_reason: NotRequired[str | None]


class Cron(TypedDict):
    """A schedule that creates runs."""

    cron_id: str
    assistant_id: str
    thread_id: str | None
    on_run_completed: OnCompletionBehavior | None
    end_time: str | None
    schedule: str
    timezone: str | None
    created_at: str
    updated_at: str
    payload: dict[str, Any]
    user_id: str | None
    next_run_date: str | None
    metadata: dict[str, Any]
    enabled: bool


class CronUpdate(TypedDict, total=False):
    """Fields a cron update may change."""

    schedule: str
    timezone: str
    end_time: str | None
    input: Input
    metadata: dict[str, Any]
    config: Config
    context: Context
    webhook: str
    interrupt_before: All | list[str]
    interrupt_after: All | list[str]
    on_run_completed: OnCompletionBehavior
    enabled: bool
    stream_mode: StreamMode | list[StreamMode]
    stream_subgraphs: bool
    stream_resumable: bool
    durability: Durability


class RunCreate(TypedDict):
    """One item of `runs.create_batch` (always stateless; `thread_id` is ignored)."""

    thread_id: str | None
    assistant_id: str
    input: Input | None
    metadata: Json
    config: Config | None
    context: Context | None
    checkpoint_id: str | None
    interrupt_before: All | list[str] | None
    interrupt_after: All | list[str] | None
    webhook: str | None
    multitask_strategy: MultitaskStrategy | None


class Item(TypedDict):
    """A stored document."""

    namespace: list[str]
    key: str
    value: dict[str, Any]
    created_at: str
    updated_at: str


class SearchItem(Item):
    """A stored document found by a search, with its relevance when the search was semantic."""

    score: NotRequired[float | None]


class SearchItemsResponse(TypedDict):
    """Result of `store.search_items`."""

    items: list[SearchItem]


class ListNamespaceResponse(TypedDict):
    """Result of `store.list_namespaces`."""

    namespaces: list[list[str]]


class Send(TypedDict):
    """Sends `input` to `node`, as a step of its own."""

    node: str
    input: dict[str, Any] | None


class Command(TypedDict, total=False):
    """Steers a graph: where to go next, what to write, and the value that resumes an interrupt."""

    goto: Send | str | Sequence[Send | str]
    update: dict[str, Any] | Sequence[tuple[str, Any]]
    resume: Any


class RunCreateMetadata(TypedDict):
    """Ids of a created run, passed to `on_run_created`."""

    run_id: str
    thread_id: str | None


class LangSmithTracing(TypedDict, total=False):
    """Where to send an extra LangSmith trace of a run."""

    project_name: str
    example_id: str


class StreamPart(NamedTuple):
    """One server-sent event of a run stream."""

    event: str
    data: Any
    id: str | None = None


# --- Stream payloads (v2 parts) --------------------------------------------------------------


class TaskPayload(TypedDict):
    """A task starting."""

    id: str
    name: str
    input: Any
    triggers: list[str]


class TaskResultPayload(TypedDict):
    """A task finishing."""

    id: str
    name: str
    error: str | None
    interrupts: list[dict[str, Any]]
    result: list[tuple[str, Any]]


class CheckpointTaskPayload(TypedDict):
    """A task as recorded in a checkpoint."""

    id: str
    name: str
    error: NotRequired[str | None]
    result: NotRequired[Any]
    interrupts: NotRequired[list[dict[str, Any]]]
    state: NotRequired[dict[str, Any] | None]


class CheckpointPayload(TypedDict):
    """A checkpoint as streamed."""

    config: dict[str, Any] | None
    metadata: dict[str, Any]
    values: dict[str, Any]
    next: list[str]
    parent_config: dict[str, Any] | None
    tasks: list[CheckpointTaskPayload]


class _DebugBase(TypedDict):
    step: int
    timestamp: str


class _DebugCheckpoint(_DebugBase):
    type: Literal["checkpoint"]
    payload: CheckpointPayload


class _DebugTask(_DebugBase):
    type: Literal["task"]
    payload: TaskPayload


class _DebugTaskResult(_DebugBase):
    type: Literal["task_result"]
    payload: TaskResultPayload


DebugPayload: TypeAlias = _DebugCheckpoint | _DebugTask | _DebugTaskResult


class RunMetadataPayload(TypedDict):
    """First event of every run attempt."""

    run_id: str


class _PartBase(TypedDict):
    ns: list[str]


class ValuesStreamPart(_PartBase):
    """Full state after a step; interrupts are moved out of `data`."""

    type: Literal["values"]
    data: dict[str, Any]
    interrupts: list[Interrupt]


class UpdatesStreamPart(_PartBase):
    """What each node wrote."""

    type: Literal["updates"]
    data: dict[str, Any]


class MessagesPartialStreamPart(_PartBase):
    """A message being generated, accumulated so far."""

    type: Literal["messages/partial"]
    data: list[dict[str, Any]]


class MessagesCompleteStreamPart(_PartBase):
    """A finished message."""

    type: Literal["messages/complete"]
    data: list[dict[str, Any]]


class MessagesMetadataStreamPart(_PartBase):
    """Metadata of new messages."""

    type: Literal["messages/metadata"]
    data: dict[str, Any]


class MessagesTupleStreamPart(_PartBase):
    """A message chunk and its metadata."""

    type: Literal["messages"]
    data: tuple[dict[str, Any], dict[str, Any]]


class CustomStreamPart(_PartBase):
    """Whatever a node wrote to its stream writer."""

    type: Literal["custom"]
    data: Any


class CheckpointsStreamPart(_PartBase):
    """A checkpoint written."""

    type: Literal["checkpoints"]
    data: CheckpointPayload


class TasksStreamPart(_PartBase):
    """A task starting or finishing."""

    type: Literal["tasks"]
    data: TaskPayload | TaskResultPayload


class DebugStreamPart(_PartBase):
    """Debug event."""

    type: Literal["debug"]
    data: DebugPayload


class MetadataStreamPart(_PartBase):
    """Run metadata."""

    type: Literal["metadata"]
    data: RunMetadataPayload


StreamPartV2: TypeAlias = (
    ValuesStreamPart
    | UpdatesStreamPart
    | MessagesPartialStreamPart
    | MessagesCompleteStreamPart
    | MessagesMetadataStreamPart
    | MessagesTupleStreamPart
    | CustomStreamPart
    | CheckpointsStreamPart
    | TasksStreamPart
    | DebugStreamPart
    | MetadataStreamPart
)
"""A typed stream part (`runs.stream(..., version="v2")`); discriminate on `type`."""
