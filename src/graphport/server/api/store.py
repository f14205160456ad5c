"""Store routes (docs/api.md#store).

Namespace errors are 422 with a JSON `{"detail": ...}` body like every other error, where the
official server answers in plain text; clients that only look at the status see no change."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import Field
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.models import JSONObject, Offset, SafeBody
from graphport.server.api.params import truthy
from graphport.server.api.responses import JSON
from graphport.server.core import Core
from graphport.server.errors import BadRequest
from graphport.server.services import store as service
from graphport.server.services.caller import Caller

router = APIRouter(prefix="/store", tags=["store"])
Ctx = Depends(deps.core)
Who = Depends(deps.caller)


class StorePut(SafeBody):
    namespace: list[Any]
    key: str
    value: JSONObject
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(None, gt=0)


class StoreDelete(SafeBody):
    namespace: list[Any]
    key: str


class StoreSearch(SafeBody):
    namespace_prefix: list[Any] = Field(default_factory=list)
    filter: JSONObject | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Offset
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespaces(SafeBody):
    prefix: list[Any] | None = None
    suffix: list[Any] | None = None
    max_depth: int | None = Field(None, ge=1)
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Offset


@router.put("/items", status_code=204)
async def put_item(body: StorePut, core: Core = Ctx, caller: Caller = Who) -> Response:
    data = body.data()
    if "ttl" not in body.sent():
        del data["ttl"]  # absent = the configured default TTL; null = never expire
    await service.put(core, caller, data)
    return Response(status_code=204)


@router.get("/items")
async def get_item(
    key: str | None = None,
    namespace: str | None = None,
    refresh_ttl: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    if not key:
        raise BadRequest("Key is required")
    labels = namespace.split(".") if namespace else []
    refresh = truthy(refresh_ttl) if refresh_ttl is not None else None
    return JSON(await service.get(core, caller, labels, key, refresh))


@router.delete("/items", status_code=204)
async def delete_item(body: StoreDelete, core: Core = Ctx, caller: Caller = Who) -> Response:
    await service.delete(core, caller, body.namespace, body.key)
    return Response(status_code=204)


@router.post("/items/search")
async def search_items(body: StoreSearch, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON({"items": await service.search(core, caller, body.data())})


@router.post("/namespaces")
async def list_namespaces(body: StoreNamespaces, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON({"namespaces": await service.list_namespaces(core, caller, body.data())})
