"""Store routes (docs/api.md#store).

Namespace errors are 422 with a JSON `{"detail": ...}` body like every other error, where the
official server answers in plain text; clients that only look at the status see no change."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field, WithJsonSchema
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.models import JSONObject, MaxTTLMinutes, Offset, SafeBody
from graphport.server.api.openapi import errors
from graphport.server.api.params import truthy
from graphport.server.api.responses import JSON
from graphport.server.core import Core
from graphport.server.errors import BadRequest
from graphport.server.services import store as service
from graphport.server.services.caller import Caller

router = APIRouter(prefix="/store", tags=["store"])
Ctx = Depends(deps.core)
Who = Depends(deps.caller)


# Namespaces are lists of labels, checked by the service (422 otherwise); documented here.
LABEL = {"type": "string", "minLength": 1, "pattern": "^[^.\\x00]*$"}
Namespace = Annotated[list[Any], WithJsonSchema({"type": "array", "items": LABEL})]
# Where an item is written: not empty, and the root label "langgraph" is reserved.
ItemNamespace = Annotated[
    list[Any],
    WithJsonSchema(
        {
            "type": "array",
            "items": LABEL,
            "minItems": 1,
            "not": {"prefixItems": [{"const": "langgraph"}]},
        }
    ),
]
# The store's filter keys (langgraph's SQLite store: 400 for others).
Filter = Annotated[
    JSONObject,
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": "^[a-zA-Z0-9_.-]+$"},
            "additionalProperties": True,
        }
    ),
]


class StorePut(SafeBody):
    namespace: ItemNamespace
    key: str
    value: JSONObject
    index: Literal[False] | list[str] | None = None
    ttl: float | None = Field(None, gt=0, le=MaxTTLMinutes)


class StoreDelete(SafeBody):
    namespace: Namespace
    key: str


class StoreSearch(SafeBody):
    namespace_prefix: Namespace = Field(default_factory=list)
    filter: Filter | None = None
    limit: int = Field(10, ge=1, le=1000)
    offset: int = Offset
    query: str | None = None
    refresh_ttl: bool | None = None


class StoreNamespaces(SafeBody):
    prefix: Namespace | None = None
    suffix: Namespace | None = None
    max_depth: int | None = Field(None, ge=1)
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Offset


@router.put("/items", status_code=204, responses=errors(400))
async def put_item(body: StorePut, core: Core = Ctx, caller: Caller = Who) -> Response:
    data = body.data()
    if "ttl" not in body.sent():
        del data["ttl"]  # absent = the configured default TTL; null = never expire
    await service.put(core, caller, data)
    return Response(status_code=204)


# `key` is read by hand: a missing key is a 400 (as for the official server), not FastAPI's
# 422, and the document still says the parameter is required.
KEY_PARAMETER = {
    "name": "key",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
}


@router.get(
    "/items", responses=errors(400, 404), openapi_extra={"parameters": [KEY_PARAMETER]}
)
async def get_item(
    request: Request,
    namespace: str | None = None,
    refresh_ttl: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    key = request.query_params.get("key")
    if not key:
        raise BadRequest("Key is required")
    labels = namespace.split(".") if namespace else []
    refresh = truthy(refresh_ttl) if refresh_ttl is not None else None
    return JSON(await service.get(core, caller, labels, key, refresh))


@router.delete("/items", status_code=204)
async def delete_item(body: StoreDelete, core: Core = Ctx, caller: Caller = Who) -> Response:
    await service.delete(core, caller, body.namespace, body.key)
    return Response(status_code=204)


@router.post("/items/search", responses=errors(400))
async def search_items(body: StoreSearch, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON({"items": await service.search(core, caller, body.data())})


@router.post("/namespaces", responses=errors(400))
async def list_namespaces(body: StoreNamespaces, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON({"namespaces": await service.list_namespaces(core, caller, body.data())})
