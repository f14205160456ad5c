"""The thread-state service: read, history and updates of a thread's state through its
graph, with the request checks that come with them (ids, filters, a graph to update)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.errors import InvalidUpdateError
from langgraph.pregel import Pregel
from langgraph.types import Command, Send, StateUpdate

from graphport.server.core import Core
from graphport.server.errors import BadRequest, NotFound, Unprocessable
from graphport.server.runtime.snapshots import (
    checkpoint_of,
    snapshot_dict,
    summary,
    thread_config,
    thread_graph,
)
from graphport.server.storage.records import Summary, Thread

FILTER_KEY_PATTERN = r"^[A-Za-z0-9_-]+$"
_FILTER_KEY = re.compile(FILTER_KEY_PATTERN)

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



def _check_ids(checkpoint: dict[str, Any] | None, what: str = "checkpoint") -> None:
    """Checkpoint ids and namespaces are opaque strings, but never contain NUL (which
    PostgreSQL cannot even compare)."""
    for key in ("checkpoint_id", "checkpoint_ns"):
        value = (checkpoint or {}).get(key)
        if isinstance(value, str) and "\x00" in value:
            raise Unprocessable(f"Invalid {what}: {key} must not contain NUL (\\u0000)")


async def _require_checkpoint(
    core: Core, thread: Thread, checkpoint: dict[str, Any] | None
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
    thread: Thread,
    checkpoint: dict[str, Any] | None = None,
    *,
    subgraphs: bool = False,
) -> dict[str, Any]:
    await _require_checkpoint(core, thread, checkpoint)
    async with thread_graph(core.registry, core.db, thread) as graph:
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


async def history(
    core: Core,
    thread: Thread,
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
    async with thread_graph(core.registry, core.db, thread) as graph:
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
    thread: Thread,
    values: Any,
    *,
    as_node: str | None,
    checkpoint: dict[str, Any] | None,
    extra_configurable: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Summary]:
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
async def _graph_for_update(core: Core, thread: Thread) -> AsyncIterator[Pregel]:
    async with thread_graph(core.registry, core.db, thread) as graph:
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
    core: Core, thread: Thread, supersteps: list[dict[str, Any]]
) -> Summary:
    """Apply supersteps (`[{updates: [{values?, command?, as_node}]}]`), each as one bulk
    update on top of the thread's latest checkpoint; returns the new summary."""
    steps = [
        [
            StateUpdate(
                # langgraph applies a Command here too; its annotation says dict only.
                _command(u["command"]) if u.get("command") else u.get("values"),  # type: ignore[arg-type]
                u["as_node"],
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
