"""Thread state through the thread's graph and the real checkpointer: read, history,
update, and the thread-row summary (values, interrupts, status) derived from it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.errors import InvalidUpdateError
from langgraph.pregel import Pregel
from langgraph.types import Command, Send, StateSnapshot, StateUpdate

from graphport.server.core import Core
from graphport.server.errors import BadRequest, NotFound, Unprocessable
from graphport.server.serde import to_jsonable

_FILTER_KEY = re.compile(r"[A-Za-z0-9_-]+")

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


def _check_ids(checkpoint: dict[str, Any] | None, what: str = "checkpoint") -> None:
    """Checkpoint ids and namespaces are opaque strings, but never contain NUL (which
    PostgreSQL cannot even compare)."""
    for key in ("checkpoint_id", "checkpoint_ns"):
        value = (checkpoint or {}).get(key)
        if isinstance(value, str) and "\x00" in value:
            raise Unprocessable(f"Invalid {what}: {key} must not contain NUL (\\u0000)")


async def _require_checkpoint(
    core: Core, thread: dict[str, Any], checkpoint: dict[str, Any] | None
) -> None:
    """404 unless the checkpoint a request addresses by id exists on this thread."""
    _check_ids(checkpoint)
    if not checkpoint or not checkpoint.get("checkpoint_id"):
        return
    found = await core.db.checkpointer.aget_tuple(
        {
            "configurable": {
                "thread_id": thread["thread_id"],
                "checkpoint_ns": checkpoint.get("checkpoint_ns") or "",
                "checkpoint_id": checkpoint["checkpoint_id"],
            }
        }
    )
    if found is None:
        raise NotFound(
            f"Checkpoint {checkpoint['checkpoint_id']} not found on thread {thread['thread_id']}"
        )


async def get_state(
    core: Core,
    thread: dict[str, Any],
    checkpoint: dict[str, Any] | None = None,
    *,
    subgraphs: bool = False,
) -> dict[str, Any]:
    await _require_checkpoint(core, thread, checkpoint)
    async with thread_graph(core, thread) as graph:
        if graph is None:
            return dict(EMPTY_STATE)
        try:
            snap = await graph.aget_state(
                thread_config(thread, checkpoint), subgraphs=subgraphs
            )
        except ValueError as e:  # e.g. a checkpoint_ns naming no subgraph of this graph
            raise NotFound(str(e)) from e
        if snap.created_at is None and not snap.values and not snap.next:
            return dict(EMPTY_STATE)  # no checkpoint yet (e.g. only metadata.graph_id set)
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
    _check_ids(checkpoint)
    _check_ids(before, "before")
    for key in metadata or {}:
        # The SQLite saver refuses other keys and reads dots as paths; PostgreSQL would
        # take them literally. Only keys both read the same way are allowed.
        if not _FILTER_KEY.fullmatch(key):
            raise Unprocessable(
                f"metadata: invalid filter key '{key}' (letters, digits, '_' and '-' only)"
            )
    async with thread_graph(core, thread) as graph:
        if graph is None:
            return []
        out = []
        try:
            async for snap in graph.aget_state_history(
                thread_config(thread, checkpoint),
                limit=limit,
                before=thread_config(thread, before) if before else None,
                filter=metadata or None,
            ):
                out.append(snapshot_dict(snap))
        except ValueError as e:  # an unknown subgraph namespace, an unusable filter key
            raise BadRequest(f"Invalid history request: {e}") from e
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
    await _require_checkpoint(core, thread, checkpoint)
    async with _graph_for_update(core, thread) as graph:
        config = thread_config(thread, checkpoint)
        config["configurable"].update(extra_configurable or {})
        try:
            new_config = await graph.aupdate_state(config, values, as_node=as_node)
        except (InvalidUpdateError, ValueError, KeyError, TypeError) as e:
            raise BadRequest(f"Invalid state update: {e}") from e
        snap = await graph.aget_state(thread_config(thread))
        return checkpoint_of(new_config) or {}, summary(snap)


@asynccontextmanager
async def _graph_for_update(core: Core, thread: dict[str, Any]) -> AsyncIterator[Pregel]:
    async with thread_graph(core, thread) as graph:
        if graph is None:
            raise BadRequest(
                f"Thread '{thread['thread_id']}' has no assigned graph ID. This usually means"
                " no runs have been made on this thread yet. Set metadata.graph_id to update"
                " its state."
            )
        yield graph


def _command(raw: dict[str, Any]) -> Command:
    def send_or_node(goto: Any) -> Any:
        return Send(goto["node"], goto.get("input")) if isinstance(goto, dict) else goto

    goto = raw.get("goto")
    if isinstance(goto, list):
        goto = [send_or_node(g) for g in goto]
    elif goto is not None:
        goto = send_or_node(goto)
    return Command(update=raw.get("update"), resume=raw.get("resume"), goto=goto or ())


async def bulk_update(
    core: Core, thread: dict[str, Any], supersteps: list[dict[str, Any]]
) -> dict[str, Any]:
    """Apply supersteps (`[{updates: [{values?, command?, as_node}]}]`), each as one bulk
    update on top of the thread's latest checkpoint; returns the new summary."""
    steps = [
        [
            StateUpdate(
                _command(u["command"]) if u.get("command") else u.get("values"), u["as_node"]
            )
            for u in step["updates"]
        ]
        for step in supersteps
    ]
    async with _graph_for_update(core, thread) as graph:
        try:
            await graph.abulk_update_state(thread_config(thread), steps)
        except (InvalidUpdateError, ValueError, KeyError, TypeError) as e:
            raise BadRequest(f"Invalid supersteps: {e}") from e
        return summary(await graph.aget_state(thread_config(thread)))
