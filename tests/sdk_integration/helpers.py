"""Shared by the acceptance tests: response shapes, bounded polling and stream collection.

`check(obj, SHAPE)` asserts that `obj` is a dict with at least the keys of `SHAPE`, each of the
given type(s); `TIMESTAMP` values must be ISO-8601 strings. Extra keys are allowed (servers send
more than the SDK's TypedDicts name).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from run_helpers import poll  # noqa: F401 - re-exported for these tests


class _Timestamp:
    """Marker: an ISO-8601 date-time string."""


TIMESTAMP = _Timestamp()
NONE = type(None)
JSON_OBJECT = dict
Shape = Mapping[str, Any]

ASSISTANT: Shape = {
    "assistant_id": str,
    "graph_id": str,
    "config": dict,
    "context": (dict, NONE),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "metadata": dict,
    "version": int,
    "name": str,
    "description": (str, NONE),
}
ASSISTANT_VERSION: Shape = {k: v for k, v in ASSISTANT.items() if k != "updated_at"}
GRAPH_SCHEMA: Shape = {
    "graph_id": str,
    "input_schema": (dict, NONE),
    "output_schema": (dict, NONE),
    "state_schema": (dict, NONE),
    "config_schema": (dict, NONE),
    "context_schema": (dict, NONE),
}
SUBGRAPH_SCHEMA: Shape = {k: v for k, v in GRAPH_SCHEMA.items() if k != "graph_id"}
THREAD: Shape = {
    "thread_id": str,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "metadata": dict,
    "status": str,
    "values": (dict, list, NONE),
    "interrupts": dict,
}
CHECKPOINT: Shape = {"thread_id": str, "checkpoint_ns": str, "checkpoint_id": str}
THREAD_STATE: Shape = {
    "values": (dict, list),
    "next": list,
    "checkpoint": dict,
    "metadata": dict,
    "created_at": (TIMESTAMP, NONE),
    "parent_checkpoint": (dict, NONE),
    "tasks": list,
    "interrupts": list,
}
RUN: Shape = {
    "run_id": str,
    "thread_id": str,
    "assistant_id": str,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "status": str,
    "metadata": dict,
    "multitask_strategy": (str, NONE),
    "kwargs": dict,
}
CRON: Shape = {
    "cron_id": str,
    "assistant_id": str,
    "thread_id": (str, NONE),
    "on_run_completed": (str, NONE),
    "end_time": (TIMESTAMP, NONE),
    "schedule": str,
    "timezone": (str, NONE),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "payload": dict,
    "user_id": (str, NONE),
    "next_run_date": (TIMESTAMP, NONE),
    "metadata": dict,
    "enabled": bool,
}
ITEM: Shape = {
    "namespace": list,
    "key": str,
    "value": dict,
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
RUN_STATUSES = {"pending", "running", "error", "success", "timeout", "interrupted"}
THREAD_STATUSES = {"idle", "busy", "interrupted", "error"}
FINAL_RUN_STATUSES = {"error", "success", "timeout", "interrupted"}


def _matches(value: Any, expected: Any) -> bool:
    options = expected if isinstance(expected, tuple) else (expected,)
    for option in options:
        if option is TIMESTAMP:
            if isinstance(value, str):
                try:
                    datetime.fromisoformat(value)
                    return True
                except ValueError:
                    pass
        elif isinstance(value, option) and not (option is int and isinstance(value, bool)):
            return True
    return False


def check(obj: Any, shape: Shape, what: str = "object") -> Any:
    """Assert `obj` has `shape`; return it (so calls can be chained)."""
    assert isinstance(obj, dict), f"{what}: expected a dict, got {type(obj).__name__}: {obj!r}"
    missing = sorted(set(shape) - obj.keys())
    assert not missing, f"{what}: missing keys {missing} in {sorted(obj)}"
    wrong = {k: obj[k] for k, t in shape.items() if not _matches(obj[k], t)}
    assert not wrong, f"{what}: wrong types {wrong}"
    return obj


def check_all(objs: Any, shape: Shape, what: str = "object") -> list[Any]:
    assert isinstance(objs, list), f"{what}s: expected a list, got {objs!r}"
    for obj in objs:
        check(obj, shape, what)
    return objs


async def collect(stream: Any, *, timeout: float = 20.0, limit: int = 10_000) -> list[Any]:
    """Every part of a stream that ends by itself, within `timeout` seconds."""
    parts: list[Any] = []
    async with asyncio.timeout(timeout):
        async for part in stream:
            parts.append(part)
            assert len(parts) <= limit, f"stream did not end after {limit} parts"
    return parts


async def system_assistant(client: Any, graph_id: str) -> str:
    """Id of the assistant the server made for `graph_id` (routes that take no graph id)."""
    found = await client.assistants.search(
        graph_id=graph_id, metadata={"created_by": "system"}, limit=1
    )
    assert found, f"no system assistant for graph {graph_id!r}"
    return str(found[0]["assistant_id"])
