"""The rows Graphport stores, as typed records.

They are `TypedDict`s: the hot path keeps the plain dicts SQLAlchemy rows become (no copy,
no validation) while every layer above storage sees their keys and types. The statuses are
the shared literals of `graphport.types`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from graphport.types import CancelAction, MultitaskStrategy, RunStatus, ThreadStatus

# The run columns only the engine uses (attempts and leases): never shown to clients.
RUN_INTERNAL_FIELDS = frozenset(
    {"attempt", "started_at", "ended_at", "lease_owner", "lease_expires_at", "cancel_action"}
)
INFLIGHT: tuple[RunStatus, ...] = ("pending", "running")
# What a finished run may end as; "rollback" deletes the run (and its checkpoints) instead.
RunEnding = Literal["success", "error", "timeout", "interrupted", "rollback"]


class RunKwargs(TypedDict, total=False):
    """The stored execution request of a run (built by the runs service at creation)."""

    input: Any
    command: dict[str, Any] | None
    config: dict[str, Any]
    context: dict[str, Any]
    stream_mode: list[str]
    interrupt_before: Any
    interrupt_after: Any
    webhook: str | None
    feedback_keys: list[str] | None
    temporary: bool
    subgraphs: bool
    resumable: bool
    durability: str
    on_disconnect: str
    trace_context: dict[str, str]  # W3C trace headers of the creating request (tracing on)
    event_protocol: bool  # created by a thread-stream session: publishes protocol events


class NewRun(TypedDict):
    """A run before the lifecycle gives it its status."""

    run_id: str
    thread_id: str
    assistant_id: str
    created_at: datetime
    updated_at: datetime
    metadata: dict[str, Any]
    kwargs: RunKwargs
    multitask_strategy: MultitaskStrategy
    attempt: int
    cancel_reason: str | None
    started_at: NotRequired[datetime | None]
    ended_at: NotRequired[datetime | None]
    lease_owner: NotRequired[str | None]
    lease_expires_at: NotRequired[datetime | None]
    cancel_action: NotRequired[CancelAction | None]


class Run(NewRun):
    status: RunStatus


class NewThread(TypedDict):
    """A thread before the lifecycle gives it its status."""

    thread_id: str
    created_at: datetime
    updated_at: datetime
    state_updated_at: datetime
    metadata: dict[str, Any]
    config: dict[str, Any]
    values: Any
    interrupts: dict[str, Any]
    error: dict[str, Any] | None
    ttl_strategy: NotRequired[str | None]
    ttl_minutes: NotRequired[float | None]
    expires_at: NotRequired[datetime | None]


class Thread(NewThread):
    status: ThreadStatus


class Assistant(TypedDict):
    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    name: str
    description: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class Cron(TypedDict):
    cron_id: str
    assistant_id: str
    thread_id: str | None
    user_id: str | None
    schedule: str
    timezone: str | None
    end_time: datetime | None
    next_run_date: datetime | None
    payload: dict[str, Any]
    metadata: dict[str, Any]
    on_run_completed: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class Summary(TypedDict):
    """What a thread row caches from its latest checkpoint."""

    values: Any
    interrupts: dict[str, Any]
    status: ThreadStatus


def public_run(run: Run) -> dict[str, Any]:
    """A run as clients see it."""
    return {k: v for k, v in run.items() if k not in RUN_INTERNAL_FIELDS}
