"""Thread state through the thread's graph and the real checkpointer: read, history,
update, and the thread-row summary (values, interrupts, status) derived from it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.pregel import Pregel
from langgraph.types import StateSnapshot

from graphport.server.core import Core
from graphport.server.errors import BadRequest
from graphport.server.serde import to_jsonable

EMPTY_STATE: dict[str, Any] = {
    "values": {},
    "next": [],
    "tasks": [],
    "metadata": None,
    "created_at": None,
    "checkpoint": None,
    "parent_checkpoint": None,
    "interrupts": [],
    "checkpoint_id": None,
    "parent_checkpoint_id": None,
}


def checkpoint_of(config: dict[str, Any] | None) -> dict[str, Any] | None:
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
        "metadata": to_jsonable(snap.metadata),
        "created_at": snap.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": to_jsonable(list(snap.interrupts)),
        "checkpoint_id": checkpoint["checkpoint_id"] if checkpoint else None,
        "parent_checkpoint_id": parent["checkpoint_id"] if parent else None,
    }


def summary(snap: StateSnapshot) -> dict[str, Any]:
    """What the thread row caches from its latest checkpoint."""
    interrupts = {t.id: to_jsonable(list(t.interrupts)) for t in snap.tasks if t.interrupts}
    return {
        "values": to_jsonable(snap.values),
        "interrupts": interrupts,
        "status": "interrupted" if snap.next else "idle",
    }


def thread_config(thread: dict[str, Any], checkpoint: dict[str, Any] | None = None) -> dict:
    configurable = {
        **(thread.get("config") or {}).get("configurable", {}),
        "thread_id": thread["thread_id"],
    }
    if checkpoint:
        configurable.update(
            {k: v for k, v in checkpoint.items() if v is not None and k != "thread_id"}
        )
        configurable.setdefault("checkpoint_ns", "")
    return {"configurable": configurable}


@asynccontextmanager
async def thread_graph(core: Core, thread: dict[str, Any]) -> AsyncIterator[Pregel | None]:
    graph_id = (thread.get("metadata") or {}).get("graph_id")
    if graph_id is None or graph_id not in core.registry.graph_ids:
        yield None
        return
    async with core.registry.graph(
        graph_id,
        thread_config(thread),
        checkpointer=core.db.checkpointer,
        store=core.db.store,
    ) as graph:
        yield graph


async def get_state(
    core: Core,
    thread: dict[str, Any],
    checkpoint: dict[str, Any] | None = None,
    *,
    subgraphs: bool = False,
) -> dict[str, Any]:
    async with thread_graph(core, thread) as graph:
        if graph is None:
            return dict(EMPTY_STATE)
        snap = await graph.aget_state(thread_config(thread, checkpoint), subgraphs=subgraphs)
        if not snap.config and not snap.values and not snap.next:
            return dict(EMPTY_STATE)
        return snapshot_dict(snap)


async def latest_summary(core: Core, thread: dict[str, Any]) -> dict[str, Any] | None:
    async with thread_graph(core, thread) as graph:
        if graph is None:
            return None
        snap = await graph.aget_state(thread_config(thread))
        return summary(snap)


async def history(
    core: Core,
    thread: dict[str, Any],
    *,
    limit: int,
    before: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    checkpoint: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    async with thread_graph(core, thread) as graph:
        if graph is None:
            return []
        out = []
        async for snap in graph.aget_state_history(
            thread_config(thread, checkpoint),
            limit=limit,
            before=thread_config(thread, before) if before else None,
            filter=metadata or None,
        ):
            out.append(snapshot_dict(snap))
        return out


async def update_state(
    core: Core,
    thread: dict[str, Any],
    values: Any,
    *,
    as_node: str | None,
    checkpoint: dict[str, Any] | None,
    extra_configurable: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply an update through the graph's reducers; returns (new checkpoint, summary)."""
    async with thread_graph(core, thread) as graph:
        if graph is None:
            raise BadRequest(
                f"Thread '{thread['thread_id']}' has no assigned graph ID. This usually means"
                " no runs have been made on this thread yet. Set metadata.graph_id to update"
                " its state."
            )
        config = thread_config(thread, checkpoint)
        config["configurable"].update(extra_configurable or {})
        try:
            new_config = await graph.aupdate_state(config, values, as_node=as_node)
        except (ValueError, KeyError, TypeError) as e:
            raise BadRequest(f"Invalid state update: {e}") from e
        snap = await graph.aget_state(thread_config(thread))
        return checkpoint_of(new_config) or {}, summary(snap)
