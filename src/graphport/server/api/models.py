"""Request bodies. Unknown keys are accepted (official clients send extras); known keys
are typed so a bad value is a 422 naming the field. They also make the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Limit = Field(10, ge=1, le=1000)
Offset = Field(0, ge=0)
SortOrder = Literal["asc", "desc"]
JSONObject = dict[str, Any]


class Body(BaseModel):
    model_config = ConfigDict(extra="allow")

    def data(self) -> dict[str, Any]:
        """Only the declared fields, with their defaults."""
        fields = type(self).model_fields
        return {k: v for k, v in self.model_dump().items() if k in fields}

    def sent(self) -> set[str]:
        return set(self.model_fields_set)


class Checkpoint(Body):
    thread_id: str | None = None
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None
    checkpoint_map: JSONObject | None = None


# --- assistants ---------------------------------------------------------------------------

AssistantSelect = Literal[
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


class AssistantCreate(Body):
    graph_id: str
    assistant_id: str | None = None
    config: JSONObject | None = None
    context: JSONObject | None = None
    metadata: JSONObject | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    name: str | None = None
    description: str | None = None


class AssistantPatch(Body):
    graph_id: str | None = None
    config: JSONObject | None = None
    context: JSONObject | None = None
    metadata: JSONObject | None = None
    name: str | None = None
    description: str | None = None


class AssistantCount(Body):
    metadata: JSONObject | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantSearch(AssistantCount):
    limit: int = Limit
    offset: int = Offset
    sort_by: Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"] | None = None
    sort_order: SortOrder | None = None
    select: list[AssistantSelect] | None = None


class AssistantVersionsSearch(Body):
    metadata: JSONObject | None = None
    limit: int = Limit
    offset: int = Offset


class AssistantLatest(Body):
    version: int = Field(ge=1)


# --- threads ------------------------------------------------------------------------------

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadSelect = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "status",
    "values",
    "interrupts",
]


class ThreadTTL(Body):
    strategy: Literal["delete", "keep_latest"] = "delete"
    ttl: float = Field(gt=0)


class ThreadCreate(Body):
    thread_id: str | None = None
    metadata: JSONObject | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    ttl: ThreadTTL | float | None = None
    supersteps: list[JSONObject] | None = None


class ThreadPatch(Body):
    metadata: JSONObject | None = None
    ttl: ThreadTTL | float | None = None


class ThreadCount(Body):
    metadata: JSONObject | None = None
    values: JSONObject | None = None
    status: ThreadStatus | None = None


class ThreadSearch(ThreadCount):
    ids: list[str] | None = None
    limit: int = Limit
    offset: int = Offset
    sort_by: (
        Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None
    ) = None
    sort_order: SortOrder | None = None
    select: list[ThreadSelect] | None = None
    extract: dict[str, str] | None = None


class ThreadPrune(Body):
    thread_ids: list[str]
    strategy: Literal["delete", "keep_latest"] = "delete"


class StateAtCheckpoint(Body):
    checkpoint: Checkpoint
    subgraphs: bool = False


class ThreadStateUpdate(Body):
    values: JSONObject | list[Any] | None = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: Checkpoint | None = None


class ThreadStateSearch(Body):
    limit: int = Limit
    before: str | Checkpoint | JSONObject | None = None
    metadata: JSONObject | None = None
    checkpoint: Checkpoint | None = None


# --- runs ---------------------------------------------------------------------------------

StreamModeName = Literal[
    "values",
    "messages",
    "messages-tuple",
    "updates",
    "events",
    "debug",
    "tasks",
    "checkpoints",
    "custom",
]
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]


class Send(Body):
    node: str
    input: Any = None


class Command(Body):
    update: JSONObject | list[Any] | None = None
    resume: Any = None
    goto: Send | str | list[Send | str] | None = None


class RunCreateStateless(Body):
    assistant_id: str
    input: Any = None
    command: Command | None = None
    metadata: JSONObject | None = None
    config: JSONObject | None = None
    context: JSONObject | None = None
    webhook: str | None = Field(None, min_length=1, max_length=65536)
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    feedback_keys: list[str] | None = None
    after_seconds: float | None = Field(None, ge=0)
    checkpoint_during: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None


class RunCreateStateful(RunCreateStateless):
    checkpoint: Checkpoint | None = None
    checkpoint_id: str | None = None
    multitask_strategy: Literal["reject", "rollback", "interrupt", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None


class RunsCancel(Body):
    status: Literal["pending", "running", "all"] | None = None
    thread_id: str | None = None
    run_ids: list[str] | None = None
