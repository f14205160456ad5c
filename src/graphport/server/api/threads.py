"""Threads and thread-state routes (docs/api.md#threads,
docs/api.md#thread-state-and-history)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.models import (
    StateAtCheckpoint,
    ThreadCount,
    ThreadCreate,
    ThreadPatch,
    ThreadPrune,
    ThreadSearch,
    ThreadStateSearch,
    ThreadStateUpdate,
)
from graphport.server.api.openapi import errors
from graphport.server.api.params import NO_NUL, CheckpointPath, UUIDPath, truthy, valid_uuid
from graphport.server.api.responses import JSON, page, select_fields
from graphport.server.core import Core
from graphport.server.services import extract as extractor
from graphport.server.services import threads as service
from graphport.server.services.caller import Caller

# Bodies are JSON even without a Content-Type header (as for the official server).
router = APIRouter(prefix="/threads", tags=["threads"], strict_content_type=False)
Ctx = Depends(deps.core)
Who = Depends(deps.caller)


@router.post("", responses=errors(400, 404, 409))
async def create_thread(
    body: ThreadCreate | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    data = (body or ThreadCreate()).data()
    if data["thread_id"] is not None:
        data["thread_id"] = valid_uuid(data["thread_id"], "thread")
    return JSON(await service.create(core, caller, data))


@router.post("/search")
async def search_threads(
    body: ThreadSearch | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    body = body or ThreadSearch()
    paths = extractor.parse(body.extract) if body.extract else None
    data = body.data()
    if body.ids is not None:
        data["ids"] = [valid_uuid(thread_id, "thread") for thread_id in body.ids]
    rows, offset, more = await service.search(core, caller, data)
    if paths:
        for row in rows:
            row["extracted"] = extractor.apply(row, paths)
    select = [*body.select, "extracted"] if body.select and paths else body.select
    return page(select_fields(rows, select), offset, more, body.limit)


@router.post("/count")
async def count_threads(
    body: ThreadCount | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    return JSON(await service.count(core, caller, (body or ThreadCount()).data()))


@router.post("/prune")
async def prune_threads(body: ThreadPrune, core: Core = Ctx, caller: Caller = Who) -> JSON:
    thread_ids = [valid_uuid(thread_id, "thread") for thread_id in body.thread_ids]
    pruned = await service.prune(core, caller, thread_ids, body.strategy)
    return JSON({"pruned_count": pruned})


@router.get("/{thread_id}")
async def get_thread(
    thread_id: UUIDPath, include: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    row = await service.fetch(core, caller, valid_uuid(thread_id, "thread"))
    return JSON(service.public(row, (include or "").split(",")))


@router.patch("/{thread_id}")
async def patch_thread(
    thread_id: UUIDPath,
    body: ThreadPatch | None = None,
    prefer: str | None = Header(default=None),
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    thread_id = valid_uuid(thread_id, "thread")
    row = await service.patch(core, caller, thread_id, (body or ThreadPatch()).data())
    if prefer and "return=minimal" in prefer:
        return Response(status_code=204)
    return JSON(row)


@router.delete("/{thread_id}", status_code=204)
async def delete_thread(thread_id: UUIDPath, core: Core = Ctx, caller: Caller = Who) -> Response:
    await service.delete(core, caller, valid_uuid(thread_id, "thread"))
    return Response(status_code=204)


@router.post("/{thread_id}/copy", responses=errors(409))
async def copy_thread(thread_id: UUIDPath, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON(await service.copy(core, caller, valid_uuid(thread_id, "thread")))


@router.get("/{thread_id}/state")
async def get_thread_state(
    thread_id: UUIDPath, subgraphs: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    return JSON(await service.get_state(core, caller, thread_id, subgraphs=truthy(subgraphs)))


@router.get("/{thread_id}/state/{checkpoint_id}")
async def get_thread_state_at(
    thread_id: UUIDPath,
    checkpoint_id: CheckpointPath,
    subgraphs: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    checkpoint = {"checkpoint_id": checkpoint_id, "checkpoint_ns": ""}
    return JSON(
        await service.get_state(core, caller, thread_id, checkpoint, subgraphs=truthy(subgraphs))
    )


@router.post("/{thread_id}/state/checkpoint")
async def get_thread_state_at_checkpoint(
    thread_id: UUIDPath, body: StateAtCheckpoint, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    checkpoint = body.checkpoint.data()
    return JSON(
        await service.get_state(core, caller, thread_id, checkpoint, subgraphs=body.subgraphs)
    )


@router.post("/{thread_id}/state", responses=errors(400, 409))
async def update_thread_state(
    thread_id: UUIDPath,
    body: ThreadStateUpdate | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    data = (body or ThreadStateUpdate()).data()
    thread = await service.fetch(core, caller, thread_id, "update", metadata={})
    return JSON(await service.update_state(core, thread, data, caller=caller))


@router.get("/{thread_id}/history", responses=errors(400))
async def get_thread_history(
    thread_id: UUIDPath,
    # default 1, as the official server
    # (docs/api.md#where-graphport-differs-from-the-official-server)
    limit: int = Query(1, ge=1, le=1000),
    before: str | None = Query(None, json_schema_extra=NO_NUL),
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    body = {"limit": limit, "before": before}
    return JSON(await service.history(core, caller, thread_id, body))


@router.post("/{thread_id}/history", responses=errors(400))
async def search_thread_history(
    thread_id: UUIDPath,
    body: ThreadStateSearch | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    data = (body or ThreadStateSearch()).data()
    return JSON(await service.history(core, caller, thread_id, data))
