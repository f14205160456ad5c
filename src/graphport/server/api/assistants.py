"""Assistants routes (docs/api.md#assistants)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.models import (
    AssistantCount,
    AssistantCreate,
    AssistantLatest,
    AssistantPatch,
    AssistantSearch,
    AssistantVersionsSearch,
)
from graphport.server.api.openapi import errors
from graphport.server.api.params import AssistantRefPath, UUIDPath, truthy, valid_uuid
from graphport.server.api.responses import JSON, page, select_fields
from graphport.server.core import Core
from graphport.server.errors import Unprocessable
from graphport.server.services import assistants as service
from graphport.server.services.caller import Caller

# Bodies are JSON even without a Content-Type header (as for the official server).
router = APIRouter(prefix="/assistants", tags=["assistants"], strict_content_type=False)
Ctx = Depends(deps.core)
Who = Depends(deps.caller)


@router.post("", responses=errors(400, 404, 409))
async def create_assistant(body: AssistantCreate, core: Core = Ctx, caller: Caller = Who) -> JSON:
    data = body.data()
    if data["assistant_id"] is not None:
        data["assistant_id"] = valid_uuid(data["assistant_id"], "assistant")
    return JSON(await service.create(core, caller, data))


@router.post("/search", responses=errors(404))
async def search_assistants(
    body: AssistantSearch | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    body = body or AssistantSearch()
    rows, offset, more = await service.search(core, caller, body.data())
    return page(select_fields(rows, body.select), offset, more, body.limit)


@router.post("/count", responses=errors(404))
async def count_assistants(
    body: AssistantCount | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    return JSON(await service.count(core, caller, (body or AssistantCount()).data()))


@router.get("/{assistant_id}")
async def get_assistant(assistant_id: UUIDPath, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON(await service.get(core, caller, valid_uuid(assistant_id, "assistant")))


@router.patch("/{assistant_id}", responses=errors(400))
async def patch_assistant(
    assistant_id: UUIDPath,
    body: AssistantPatch | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    data = (body or AssistantPatch()).data()
    return JSON(await service.patch(core, caller, assistant_id, data))


@router.delete("/{assistant_id}", status_code=204)
async def delete_assistant(
    assistant_id: UUIDPath,
    delete_threads: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    assistant_id = valid_uuid(assistant_id, "assistant")
    await service.delete(core, caller, assistant_id, delete_threads=truthy(delete_threads))
    return Response(status_code=204)


def _xray(raw: str | None) -> bool | int:
    if raw is None or raw in ("false", "False"):
        return False
    if raw in ("true", "True"):
        return True
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    raise Unprocessable("Invalid xray value")


@router.get("/{assistant_id}/graph")
async def get_assistant_graph(
    assistant_id: AssistantRefPath,
    xray: str | None = Query(None, pattern=r"^(true|True|false|False|[1-9][0-9]*)$"),
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    resolved = core.registry.resolve_assistant_id(assistant_id)
    resolved = valid_uuid(resolved, "assistant")
    return JSON(await service.graph(core, caller, resolved, _xray(xray)))


@router.get("/{assistant_id}/schemas")
async def get_assistant_schemas(
    assistant_id: UUIDPath, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    return JSON(await service.schemas(core, caller, valid_uuid(assistant_id, "assistant")))


@router.get("/{assistant_id}/subgraphs")
async def get_assistant_subgraphs(
    assistant_id: UUIDPath, recurse: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    return JSON(await service.subgraphs(core, caller, assistant_id, None, truthy(recurse)))


@router.get("/{assistant_id}/subgraphs/{namespace}")
async def get_assistant_subgraphs_ns(
    assistant_id: UUIDPath,
    namespace: str,
    recurse: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    return JSON(await service.subgraphs(core, caller, assistant_id, namespace, truthy(recurse)))


@router.post("/{assistant_id}/versions")
async def list_assistant_versions(
    assistant_id: UUIDPath,
    body: AssistantVersionsSearch | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    data = (body or AssistantVersionsSearch()).data()
    return JSON(await service.versions(core, caller, assistant_id, data))


@router.post("/{assistant_id}/latest")
async def set_latest_assistant_version(
    assistant_id: UUIDPath, body: AssistantLatest, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    return JSON(await service.set_latest(core, caller, assistant_id, body.version))
