"""Assistants: versioned configurations of a registered graph."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig

from graphport.server.core import Core
from graphport.server.errors import Conflict, NotFound, Unprocessable
from graphport.server.graphs import schemas as graph_schemas
from graphport.server.serde import utcnow
from graphport.server.services.caller import Caller
from graphport.server.services.cancellation import cancel_assistant_runs
from graphport.server.services.hygiene import (
    clean_config,
    clean_context,
    clean_metadata,
    mirror_config_context,
)
from graphport.server.storage import assistants as store
from graphport.server.storage import crons as cron_store
from graphport.server.storage import threads as thread_store

FIELDS = (
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
    "name",
    "description",
)


def _check_graph(core: Core, graph_id: str) -> None:
    if graph_id not in core.registry.graph_ids:
        raise NotFound(
            f"Graph '{graph_id}' not found. Expected one of: {sorted(core.registry.graph_ids)}"
        )


async def ensure_system_assistants(core: Core) -> None:
    """One assistant per registered graph, with the uuid5 id clients may address by graph id."""
    now = utcnow()
    async with core.db.begin() as conn:
        for graph_id in core.registry.graph_ids:
            assistant_id = core.registry.system_assistant_id(graph_id)
            name = core.registry.default_assistant_name(graph_id)
            existing = await store.get(conn, assistant_id)
            if existing is None:
                # absent-tolerant: replicas starting together may both try
                await store.insert_new(
                    conn,
                    {
                        "assistant_id": assistant_id,
                        "graph_id": graph_id,
                        "config": {},
                        "context": {},
                        "metadata": {"created_by": "system"},
                        "name": name,
                        "description": None,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    },
                )


async def create(core: Core, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    assistant_id = body.get("assistant_id") or str(uuid.uuid4())
    value = {
        "assistant_id": assistant_id,
        "graph_id": body["graph_id"],
        "config": clean_config(body.get("config")),
        "context": clean_context(body.get("context")),
        "metadata": clean_metadata(body.get("metadata")),
        "if_exists": body.get("if_exists") or "raise",
        "name": body.get("name") or "Untitled",
        "description": body.get("description"),
    }
    flt = await caller.authorize("assistants", "create", value)
    _check_graph(core, value["graph_id"])
    config, context = mirror_config_context(value["config"], value["context"])
    now = utcnow()
    async with core.db.begin() as conn:
        # Insert-if-absent, so concurrent creates of one id end in 409, not a key violation.
        row = await store.insert_new(
            conn,
            {
                "assistant_id": value["assistant_id"],
                "graph_id": value["graph_id"],
                "config": config,
                "context": context,
                "metadata": value["metadata"],
                "name": value["name"],
                "description": value["description"],
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
        if row is not None:
            return row
        existing = await store.get(conn, value["assistant_id"], flt)
        if value["if_exists"] == "do_nothing" and existing is not None:
            return existing
        raise Conflict(f"Assistant {value['assistant_id']} already exists")


async def get(core: Core, caller: Caller, assistant_id: str) -> dict[str, Any]:
    flt = await caller.authorize(
        "assistants", "read", {"assistant_id": assistant_id, "metadata": {}}
    )
    async with core.db.read() as conn:
        row = await store.get(conn, assistant_id, flt)
    if row is None or row["graph_id"] not in core.registry.graph_ids:
        raise NotFound(f"Assistant {assistant_id} not found")
    return row


async def patch(
    core: Core, caller: Caller, assistant_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "assistant_id": assistant_id,
        "graph_id": body.get("graph_id"),
        "config": clean_config(body["config"]) if body.get("config") is not None else None,
        "context": clean_context(body.get("context")),
        "metadata": clean_metadata(body["metadata"]) if body.get("metadata") else None,
        "name": body.get("name"),
        "description": body.get("description"),
    }
    flt = await caller.authorize("assistants", "update", value)
    if value["graph_id"] is not None:
        _check_graph(core, value["graph_id"])
    # The patch's own config and context mirror each other (both non-empty is a 400);
    # what it leaves empty keeps the current version's value.
    config, context = mirror_config_context(value["config"] or {}, value["context"])
    context_given = bool(value["config"]) or value["context"] is not None
    now = utcnow()
    async with core.db.begin() as conn:
        current = await store.get(conn, assistant_id, flt)
        if current is None:
            raise NotFound(f"Assistant {assistant_id} not found")
        fields = {
            "graph_id": value["graph_id"] or current["graph_id"],
            "config": config or current["config"],
            "context": context if context_given else current["context"],
            "metadata": {**current["metadata"], **(value["metadata"] or {})},
            "name": value["name"] if value["name"] is not None else current["name"],
            "description": value["description"]
            if value["description"] is not None
            else current["description"],
        }
        return await store.add_version(conn, assistant_id, fields, now)


async def delete(
    core: Core, caller: Caller, assistant_id: str, *, delete_threads: bool = False
) -> None:
    flt = await caller.authorize("assistants", "delete", {"assistant_id": assistant_id})
    async with core.db.begin() as conn:
        if await store.get(conn, assistant_id, flt) is None:
            raise NotFound(f"Assistant {assistant_id} not found")
        await store.delete_one(conn, assistant_id)
        await cron_store.delete_for_assistant(conn, assistant_id)
    await cancel_assistant_runs(core, assistant_id)
    if delete_threads:
        thread_flt = await caller.authorize("threads", "delete", {"thread_id": None})
        async with core.db.read() as conn:
            ids = await thread_store.ids_by_metadata(
                conn, {"assistant_id": assistant_id}, thread_flt
            )
        from graphport.server.services import threads as thread_service

        await thread_service.delete_many(core, ids)


async def search(
    core: Core, caller: Caller, body: dict[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    value = {
        "graph_id": body.get("graph_id"),
        "metadata": body.get("metadata"),
        "limit": body["limit"],
        "offset": body["offset"],
    }
    flt = await caller.authorize("assistants", "search", value)
    if value["graph_id"] is not None:
        _check_graph(core, value["graph_id"])
    async with core.db.read() as conn:
        rows, more = await store.search(
            conn,
            metadata=value["metadata"],
            graph_id=value["graph_id"],
            name=body.get("name"),
            graph_ids=core.registry.graph_ids,
            flt=flt,
            limit=value["limit"],
            offset=value["offset"],
            sort_by=body.get("sort_by") or "created_at",
            sort_order=body.get("sort_order") or "desc",
        )
    return rows, value["offset"], more


async def count(core: Core, caller: Caller, body: dict[str, Any]) -> int:
    value = {"graph_id": body.get("graph_id"), "metadata": body.get("metadata")}
    flt = await caller.authorize("assistants", "search", value)
    async with core.db.read() as conn:
        return await store.count(
            conn,
            metadata=value["metadata"],
            graph_id=value["graph_id"],
            name=body.get("name"),
            graph_ids=core.registry.graph_ids,
            flt=flt,
        )


async def versions(
    core: Core, caller: Caller, assistant_id: str, body: dict[str, Any]
) -> list[dict[str, Any]]:
    flt = await caller.authorize(
        "assistants", "read", {"assistant_id": assistant_id, "metadata": body.get("metadata")}
    )
    async with core.db.read() as conn:
        if await store.get(conn, assistant_id, flt) is None:
            raise NotFound(f"Assistant {assistant_id} not found")
        rows = await store.versions(
            conn,
            assistant_id,
            metadata=body.get("metadata"),
            limit=body["limit"],
            offset=body["offset"],
        )
    if not rows:
        raise NotFound(f"No versions found for assistant {assistant_id}")
    return rows


async def set_latest(
    core: Core, caller: Caller, assistant_id: str, version: int
) -> dict[str, Any]:
    flt = await caller.authorize(
        "assistants", "update", {"assistant_id": assistant_id, "version": version}
    )
    async with core.db.begin() as conn:
        if await store.get(conn, assistant_id, flt) is None:
            raise NotFound(f"Assistant {assistant_id} not found")
        row = await store.set_version(conn, assistant_id, version, utcnow())
    if row is None:
        raise NotFound(f"Version {version} of assistant {assistant_id} not found")
    return row


async def _graph_call(core: Core, assistant: dict[str, Any], fn: Any, *args: Any) -> Any:
    config: RunnableConfig = {**assistant["config"]}
    async with core.registry.graph(assistant["graph_id"], config) as graph:
        return await asyncio.to_thread(fn, graph, *args)


async def graph(core: Core, caller: Caller, assistant_id: str, xray: bool | int) -> Any:
    assistant = await get(core, caller, core.registry.resolve_assistant_id(assistant_id))
    try:
        return await _graph_call(core, assistant, graph_schemas.drawable_graph, xray)
    except ValueError as e:
        raise Unprocessable(str(e)) from e


async def schemas(core: Core, caller: Caller, assistant_id: str) -> dict[str, Any]:
    assistant = await get(core, caller, assistant_id)
    return await _graph_call(
        core, assistant, graph_schemas.graph_schemas, assistant["graph_id"]
    )


async def input_schema(core: Core, assistant: dict[str, Any]) -> dict[str, Any] | None:
    """The input schema of an assistant row the caller was already allowed to see."""
    return await _graph_call(core, assistant, graph_schemas.input_schema)


async def subgraphs(
    core: Core, caller: Caller, assistant_id: str, namespace: str | None, recurse: bool
) -> dict[str, Any]:
    assistant = await get(core, caller, assistant_id)
    return await _graph_call(
        core, assistant, graph_schemas.subgraph_schemas, namespace, recurse
    )
