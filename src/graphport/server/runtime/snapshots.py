"""A thread's state as langgraph keeps it: its graph bound to the real checkpointer and
store, state snapshots as JSON, and the summary (values, interrupts, status) the thread
row caches. Read by the worker as a run ends and by the state service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import StateSnapshot

from graphport.server.graphs import GraphRegistry
from graphport.server.serde import to_jsonable
from graphport.server.storage.database import Database
from graphport.server.storage.records import Summary, Thread


def checkpoint_of(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    if "checkpoint_id" not in conf and "thread_id" not in conf:
        return None
    out = {
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
    }
    if conf.get("checkpoint_map"):
        out["checkpoint_map"] = conf["checkpoint_map"]
    return out


# Set per request (docs/api.md#conventions); a checkpoint outlives the request.
REQUEST_SCOPED = frozenset(
    {
        "langgraph_request_id",
        "langgraph_auth_user",
        "langgraph_auth_user_id",
        "langgraph_auth_permissions",
    }
)


def checkpoint_metadata(snap: StateSnapshot) -> dict[str, Any] | None:
    """A checkpoint's metadata as the official server shows it: with its `thread_id` (which
    langgraph's savers leave out of what they store), without request-scoped keys."""
    if snap.metadata is None:
        return None
    metadata = {k: v for k, v in snap.metadata.items() if k not in REQUEST_SCOPED}
    thread_id = ((snap.config or {}).get("configurable") or {}).get("thread_id")
    if thread_id is not None:
        metadata["thread_id"] = thread_id
    return to_jsonable(metadata)


def snapshot_dict(snap: StateSnapshot) -> dict[str, Any]:
    tasks = []
    for t in snap.tasks:
        state = t.state
        tasks.append(
            {
                "id": t.id,
                "name": t.name,
                "path": list(t.path) if t.path else [],
                "error": repr(t.error) if t.error else None,
                "interrupts": to_jsonable(list(t.interrupts)),
                "checkpoint": checkpoint_of(state) if isinstance(state, dict) else None,
                "state": snapshot_dict(state) if isinstance(state, StateSnapshot) else None,
                "result": to_jsonable(t.result) if t.result is not None else None,
            }
        )
    checkpoint = checkpoint_of(snap.config)
    parent = checkpoint_of(snap.parent_config)
    return {
        "values": to_jsonable(snap.values),
        "next": list(snap.next),
        "tasks": tasks,
        "metadata": checkpoint_metadata(snap),
        "created_at": snap.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": to_jsonable(list(snap.interrupts)),
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def summary(snap: StateSnapshot) -> Summary:
    """What the thread row caches from its latest checkpoint."""
    interrupts = {t.id: to_jsonable(list(t.interrupts)) for t in snap.tasks if t.interrupts}
    return {
        "values": to_jsonable(snap.values),
        "interrupts": interrupts,
        "status": "interrupted" if snap.next else "idle",
    }


def thread_config(thread: Thread, checkpoint: Mapping[str, Any] | None = None) -> RunnableConfig:
    configurable = {
        **(thread.get("config") or {}).get("configurable", {}),
        "thread_id": thread["thread_id"],
    }
    if checkpoint:
        configurable.update(
            {k: v for k, v in checkpoint.items() if v is not None and k != "thread_id"}
        )
        configurable.setdefault("checkpoint_ns", "")
    return RunnableConfig(configurable=configurable)


@asynccontextmanager
async def thread_graph(
    registry: GraphRegistry, db: Database, thread: Thread
) -> AsyncIterator[Pregel | None]:
    """The thread's graph (from its metadata's graph_id), or None when it has none."""
    graph_id = (thread.get("metadata") or {}).get("graph_id")
    if graph_id is None or graph_id not in registry.graph_ids:
        yield None
        return
    async with registry.graph(
        graph_id,
        thread_config(thread),
        checkpointer=db.checkpointer,
        store=db.store,
    ) as graph:
        yield graph


async def latest_summary(registry: GraphRegistry, db: Database, thread: Thread) -> Summary | None:
    async with thread_graph(registry, db, thread) as graph:
        if graph is None:
            return None
        snap = await graph.aget_state(thread_config(thread))
        return summary(snap)
