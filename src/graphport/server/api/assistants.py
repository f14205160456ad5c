"""Assistants routes (docs/api.md#assistants)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
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
from graphport.server.api.params import truthy, valid_uuid
from graphport.server.api.responses import JSON, page, select_fields
from graphport.server.core import Core
from graphport.server.errors import Unprocessable
from graphport.server.services import assistants as service
from graphport.server.services.caller import Caller

# Bodies are JSON even without a Content-Type header (as for the official server).
router = APIRouter(prefix="/assistants", tags=["assistants"], strict_content_type=False)
Ctx = Depends(deps.core)
Who = Depends(deps.caller)


@router.post("")
async def create_assistant(body: AssistantCreate, core: Core = Ctx, caller: Caller = Who) -> JSON:
    data = body.data()
    if data["assistant_id"] is not None:
        data["assistant_id"] = valid_uuid(data["assistant_id"], "assistant")
    return JSON(await service.create(core, caller, data))


@router.post("/search")
async def search_assistants(
    body: AssistantSearch | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    body = body or AssistantSearch()
    rows, offset, more = await service.search(core, caller, body.data())
    return page(select_fields(rows, body.select), offset, more, body.limit)


@router.post("/count")
async def count_assistants(
    body: AssistantCount | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    return JSON(await service.count(core, caller, (body or AssistantCount()).data()))


@router.get("/{assistant_id}")
async def get_assistant(assistant_id: str, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON(await service.get(core, caller, valid_uuid(assistant_id, "assistant")))


@router.patch("/{assistant_id}")
async def patch_assistant(
    assistant_id: str,
    body: AssistantPatch | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    data = (body or AssistantPatch()).data()
    return JSON(await service.patch(core, caller, assistant_id, data))


@router.delete("/{assistant_id}", status_code=204)
async def delete_assistant(
    assistant_id: str,
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
    assistant_id: str, xray: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    resolved = core.registry.resolve_assistant_id(assistant_id)
    resolved = valid_uuid(resolved, "assistant")
    return JSON(await service.graph(core, caller, resolved, _xray(xray)))


@router.get("/{assistant_id}/schemas")
async def get_assistant_schemas(assistant_id: str, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON(await service.schemas(core, caller, valid_uuid(assistant_id, "assistant")))


@router.get("/{assistant_id}/subgraphs")
async def get_assistant_subgraphs(
    assistant_id: str, recurse: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    return JSON(await service.subgraphs(core, caller, assistant_id, None, truthy(recurse)))


@router.get("/{assistant_id}/subgraphs/{namespace}")
async def get_assistant_subgraphs_ns(
    assistant_id: str,
    namespace: str,
    recurse: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    return JSON(await service.subgraphs(core, caller, assistant_id, namespace, truthy(recurse)))


@router.post("/{assistant_id}/versions")
async def list_assistant_versions(
    assistant_id: str,
    body: AssistantVersionsSearch | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    data = (body or AssistantVersionsSearch()).data()
    return JSON(await service.versions(core, caller, assistant_id, data))


@router.post("/{assistant_id}/latest")
async def set_latest_assistant_version(
    assistant_id: str, body: AssistantLatest, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    assistant_id = valid_uuid(assistant_id, "assistant")
    return JSON(await service.set_latest(core, caller, assistant_id, body.version))
