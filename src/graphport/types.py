"""Leaf module of shared literal types: every layer may import it; it imports nothing of ours."""

from typing import Literal

RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
MultitaskStrategy = Literal["reject", "rollback", "interrupt", "enqueue"]
CancelAction = Literal["interrupt", "rollback"]
IfExists = Literal["raise", "do_nothing"]
IfNotExists = Literal["create", "reject"]
OnCompletion = Literal["delete", "keep"]
OnDisconnect = Literal["cancel", "continue"]
Durability = Literal["sync", "async", "exit"]
SortOrder = Literal["asc", "desc"]
StreamMode = Literal[
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

TERMINAL_RUN_STATUSES: frozenset[str] = frozenset(
    {"error", "success", "timeout", "interrupted"}
)
INFLIGHT_RUN_STATUSES: frozenset[str] = frozenset({"pending", "running"})
