"""Threads: creation, search, copy, prune and their state, with auth filters applied."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import uuid_utils.compat as uuid7

from graphport.auth.types import Action
from graphport.server.core import Core
from graphport.server.errors import Conflict, NotFound, Unprocessable
from graphport.server.graphs.persistence import thread_ttl_policy
from graphport.server.serde import dumps, utcnow
from graphport.server.services import state as state_service
from graphport.server.services.caller import Caller
from graphport.server.services.cancellation import cancel_thread_runs
from graphport.server.services.hygiene import clean_metadata
from graphport.server.storage import checkpoints
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as store
from graphport.server.storage.records import NewThread, Thread

_HIDDEN = ("ttl_strategy", "ttl_minutes", "expires_at")


def new_thread_id() -> str:
    return str(uuid7.uuid7())


def public(row: Mapping[str, Any], include: list[str] | None = None) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in _HIDDEN}
    if out.get("error") is None:
        out.pop("error", None)
    if include and "ttl" in include and row.get("ttl_strategy"):
        out["ttl"] = {
            "strategy": row["ttl_strategy"],
            "ttl_minutes": row["ttl_minutes"],
            "expires_at": row["expires_at"],
        }
    return out


def ttl_fields(ttl: Any, now: Any) -> dict[str, Any]:
    if ttl is None:
        return {}
    if isinstance(ttl, (int, float)):
        ttl = {"ttl": ttl}
    minutes = float(ttl["ttl"])
    return {
        "ttl_strategy": ttl.get("strategy") or "delete",
        "ttl_minutes": minutes,
        "expires_at": now + timedelta(minutes=minutes),
    }


def default_ttl(core: Core) -> dict[str, Any] | None:
    """`checkpointer.ttl.default_ttl` of langgraph.json, for threads created without one."""
    return thread_ttl_policy(core.config).default_for_new_thread()


def new_row(thread_id: str, metadata: dict[str, Any], ttl: Any = None) -> NewThread:
    """A new thread's row, without state yet (the lifecycle gives it its status)."""
    now = utcnow()
    row: NewThread = {
        "thread_id": thread_id,
        "created_at": now,
        "updated_at": now,
        "state_updated_at": now,
        "metadata": metadata,
        "config": {},
        "values": None,
        "interrupts": {},
        "error": None,
    }
    row.update(ttl_fields(ttl, now))  # type: ignore[typeddict-item]  # the ttl_* columns
    return row


async def create(core: Core, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {
        "thread_id": body.get("thread_id") or new_thread_id(),
        "metadata": clean_metadata(body.get("metadata")),
        "if_exists": body.get("if_exists") or "raise",
        "ttl": body.get("ttl") or default_ttl(core),
    }
    flt = await caller.authorize("threads", "create", value)
    supersteps = body.get("supersteps")
    if supersteps:
        _check_superstep_graph(core, value["metadata"])
    async with core.db.begin() as conn:
        # Insert-if-absent, so concurrent creates of one id end in 409, not a key violation.
        new = new_row(value["thread_id"], value["metadata"], value["ttl"])
        row = await core.lifecycle.insert_thread(conn, new)
        if row is None:
            existing = await store.get(conn, value["thread_id"], flt)
            if value["if_exists"] == "do_nothing" and existing is not None:
                return public(existing)
            raise Conflict(f"Thread with ID {value['thread_id']} already exists")
    if supersteps:
        try:
            await _apply_supersteps(core, row, supersteps)
        except Exception:
            # All or nothing: a thread whose history could not be written is not created.
            await delete_many(core, [row["thread_id"]])
            raise
        row = await _reload(core, row["thread_id"])
    return public(row)


def _check_superstep_graph(core: Core, metadata: dict[str, Any]) -> None:
    graph_id = metadata.get("graph_id")
    if not graph_id:
        raise Unprocessable(
            "supersteps require metadata.graph_id (the SDK's graph_id=) to identify the graph"
        )
    if graph_id not in core.registry.graph_ids:
        raise NotFound(
            f"Graph '{graph_id}' not found. Expected one of: {sorted(core.registry.graph_ids)}"
        )


async def _apply_supersteps(core: Core, row: Thread, supersteps: list[Any]) -> None:
    """Each superstep is one bulk state update (all its updates land in one checkpoint)."""
    summary = await state_service.bulk_update(core, row, supersteps)
    await core.lifecycle.state_changed(row["thread_id"], summary)


async def _reload(core: Core, thread_id: str) -> Thread:
    async with core.db.read() as conn:
        row = await store.get(conn, thread_id)
    if row is None:
        raise NotFound(f"Thread with ID {thread_id} not found")
    return row


async def fetch(
    core: Core, caller: Caller, thread_id: str, op: Action = "read", **extra: Any
) -> Thread:
    """The thread row if it exists and the caller may perform `op` on it, else 404."""
    value = {"thread_id": thread_id, **extra}
    flt = await caller.authorize("threads", op, value)
    async with core.db.read() as conn:
        row = await store.get(conn, thread_id, flt)
    if row is None:
        raise NotFound(f"Thread with ID {thread_id} not found")
    return row


async def patch(
    core: Core, caller: Caller, thread_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    metadata = clean_metadata(body.get("metadata"))
    value: dict[str, Any] = {"thread_id": thread_id, "metadata": metadata, "ttl": body.get("ttl")}
    flt = await caller.authorize("threads", "update", value)
    now = utcnow()
    async with core.db.begin() as conn:
        row = await store.get(conn, thread_id, flt)
        if row is None:
            raise NotFound(f"Thread with ID {thread_id} not found")
        fields: dict[str, Any] = {
            "metadata": {**row["metadata"], **value["metadata"]},
            "updated_at": now,
            **ttl_fields(value["ttl"], now),
        }
        await store.set_fields(conn, thread_id, **fields)
    return public({**row, **fields})


async def delete_many(core: Core, thread_ids: list[str]) -> None:
    """Delete threads with their runs, crons (cascade) and checkpoints."""
    for thread_id in thread_ids:
        await cancel_thread_runs(core, thread_id)
    async with core.db.begin() as conn:
        await store.delete_many(conn, thread_ids)
    for thread_id in thread_ids:
        await checkpoints.delete_thread(core.db.checkpointer, thread_id)


async def delete(core: Core, caller: Caller, thread_id: str) -> None:
    await fetch(core, caller, thread_id, "delete")
    await delete_many(core, [thread_id])


async def search(
    core: Core, caller: Caller, body: dict[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    value = {
        "metadata": body.get("metadata"),
        "values": body.get("values"),
        "status": body.get("status"),
        "ids": body.get("ids"),
        "limit": body["limit"],
        "offset": body["offset"],
    }
    flt = await caller.authorize("threads", "search", value)
    async with core.db.read() as conn:
        rows, more = await store.search(
            conn,
            metadata=value["metadata"],
            values=value["values"],
            status=value["status"],
            ids=value["ids"],
            flt=flt,
            limit=value["limit"],
            offset=value["offset"],
            sort_by=body.get("sort_by") or "created_at",
            sort_order=body.get("sort_order") or "desc",
        )
    return [public(r) for r in rows], value["offset"], more


async def count(core: Core, caller: Caller, body: dict[str, Any]) -> int:
    value = {
        "metadata": body.get("metadata"),
        "values": body.get("values"),
        "status": body.get("status"),
    }
    flt = await caller.authorize("threads", "search", value)
    async with core.db.read() as conn:
        return await store.count(conn, **value, flt=flt)


async def copy(core: Core, caller: Caller, thread_id: str) -> dict[str, Any]:
    read_flt = await caller.authorize("threads", "read", {"thread_id": thread_id})
    async with core.db.read() as conn:
        source = await store.get(conn, thread_id, read_flt)
    if source is None:
        raise Conflict(f"Thread with ID {thread_id} not found")
    value: dict[str, Any] = {
        "thread_id": new_thread_id(),
        "metadata": dict(source["metadata"]),
        "if_exists": "raise",
        "ttl": None,
    }
    await caller.authorize("threads", "create", value)
    row = new_row(value["thread_id"], value["metadata"])
    config = dict(source["config"] or {})
    if isinstance(config.get("configurable"), dict):
        config["configurable"] = {**config["configurable"], "thread_id": row["thread_id"]}
    row.update(
        {
            "config": config,
            "values": source["values"],
            "interrupts": source["interrupts"],
        }
    )
    async with core.db.begin() as conn:
        copied = await core.lifecycle.insert_thread(conn, row, copied_from=source)
    if copied is None:  # a uuid7 collision: not in this universe
        raise Conflict(f"Thread with ID {row['thread_id']} already exists")
    await checkpoints.copy_thread(core.db, thread_id, copied["thread_id"])
    return public(copied)


async def prune(core: Core, caller: Caller, thread_ids: list[str], strategy: str) -> int:
    """Missing ids are skipped; under an auth filter every id must be visible, or nothing
    is pruned and the answer is a 404, as for any other route on someone else's thread."""
    flt = await caller.authorize("threads", "delete", {"thread_id": None})
    async with core.db.read() as conn:
        ids = await store.ids_matching(conn, thread_ids, flt) if thread_ids else []
    if flt and len(set(ids)) < len(set(thread_ids)):
        raise NotFound("At least one thread not found or not authorized")
    if strategy == "delete":
        await delete_many(core, ids)
    else:
        for thread_id in ids:
            await checkpoints.keep_latest(core.db, thread_id)
    return len(ids)


# --- state -------------------------------------------------------------------------------


async def get_state(
    core: Core,
    caller: Caller,
    thread_id: str,
    checkpoint: dict[str, Any] | None = None,
    *,
    subgraphs: bool = False,
) -> dict[str, Any]:
    thread = await fetch(core, caller, thread_id)
    return await state_service.get_state(core, thread, checkpoint, subgraphs=subgraphs)


async def history(
    core: Core, caller: Caller, thread_id: str, body: dict[str, Any]
) -> list[dict[str, Any]]:
    thread = await fetch(core, caller, thread_id)
    before = body.get("before")
    if isinstance(before, str):
        before = {"checkpoint_id": before}
    elif isinstance(before, dict) and "configurable" in before:
        before = before["configurable"]
    return await state_service.history(
        core,
        thread,
        limit=body.get("limit") or 10,
        before=before,
        metadata=body.get("metadata"),
        checkpoint=body.get("checkpoint"),
    )


async def update_state(
    core: Core,
    thread: Thread,
    body: dict[str, Any],
    *,
    checked: bool = False,
    caller: Caller | None = None,
) -> dict[str, Any]:
    """Apply a state update; 409 while runs are in flight on the thread."""
    if not checked and await _has_inflight(core, thread["thread_id"]):
        raise Conflict(
            f"Thread {thread['thread_id']} has in-flight runs; wait for them or cancel them"
        )
    checkpoint = body.get("checkpoint")
    if body.get("checkpoint_id"):
        checkpoint = {**(checkpoint or {}), "checkpoint_id": body["checkpoint_id"]}
    extra: dict[str, Any] = {}
    if caller is not None and caller.user is not None:
        display = getattr(caller.user, "display_name", None)
        if display:
            extra["user_id"] = display
    new_checkpoint, summary = await state_service.update_state(
        core,
        thread,
        body.get("values"),
        as_node=body.get("as_node"),
        checkpoint=checkpoint,
        extra_configurable=extra,
    )
    await core.lifecycle.state_changed(thread["thread_id"], summary)
    await _publish_state_update(core, thread["thread_id"])
    return {
        "checkpoint": new_checkpoint,
        "configurable": new_checkpoint,
        "checkpoint_id": new_checkpoint.get("checkpoint_id"),
    }


async def _has_inflight(core: Core, thread_id: str) -> bool:
    async with core.db.read() as conn:
        return await run_store.any_inflight(conn, thread_id)


async def _publish_state_update(core: Core, thread_id: str) -> None:
    """Tell the thread's stream subscribers its state changed outside a run."""
    async with core.db.read() as conn:
        thread = await store.get(conn, thread_id)
    if thread is None:
        return
    state = await state_service.get_state(core, thread)
    await core.broker.publish_thread(
        thread_id, "state_update", dumps({"state": state, "thread_id": thread_id})
    )
