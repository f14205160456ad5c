"""The long-term store (docs/api.md#store): the langgraph store behind an authorization check.

Items live in the langgraph store's own tables (`core.db.store`); this layer validates
namespaces, lets auth handlers rewrite them, and ANDs an auth filter into searches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langgraph.store.base import NOT_PROVIDED, InvalidNamespaceError, Item

from graphport.server import metrics
from graphport.server.core import Core
from graphport.server.errors import BadRequest, Unprocessable
from graphport.server.graphs.persistence import whole_minutes
from graphport.server.services.caller import Caller

_BOUNDS = {"$gt": max, "$gte": max, "$lt": min, "$lte": min}


def check_namespace(namespace: Sequence[Any], what: str = "namespace") -> tuple[str, ...]:
    """Labels must be non-empty strings without '.' (GET joins them with dots)."""
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label:
            raise Unprocessable(
                f"Invalid {what} {list(namespace)!r}: labels must be non-empty strings without '.'"
            )
    return tuple(namespace)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def public(item: Item) -> dict[str, Any]:
    out = {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": _aware(item.created_at),
        "updated_at": _aware(item.updated_at),
    }
    if hasattr(item, "score"):
        out["score"] = item.score
    return out


def _store_error(exc: ValueError) -> Exception:
    """The store's own validation (reserved root label, filter keys, ops) as a client error."""
    if isinstance(exc, InvalidNamespaceError):
        return Unprocessable(str(exc))
    return BadRequest(str(exc))


async def put(core: Core, caller: Caller, body: dict[str, Any]) -> None:
    """Store an item; a `ttl` key absent from `body` means the configured default TTL,
    an explicit null means never expire."""
    value = {
        "namespace": check_namespace(body["namespace"]),
        "key": body["key"],
        "value": body["value"],
        "index": body.get("index"),
        "ttl": body.get("ttl"),
    }
    await caller.authorize("store", "put", value)
    metrics.store_operation("put")
    ttl = value["ttl"]
    if ttl is None and "ttl" not in body:
        ttl = NOT_PROVIDED
    elif ttl is not None:
        ttl = whole_minutes(core.db.dialect, ttl)
    try:
        await core.db.store.aput(
            check_namespace(value["namespace"]),
            value["key"],
            value["value"],
            index=value["index"],
            ttl=ttl,
        )
    except ValueError as exc:
        raise _store_error(exc) from exc


async def get(
    core: Core, caller: Caller, namespace: Sequence[str], key: str, refresh_ttl: bool | None
) -> dict[str, Any] | None:
    value: dict[str, Any] = {"namespace": check_namespace(namespace), "key": key}
    await caller.authorize("store", "get", value)
    metrics.store_operation("get")
    item = await core.db.store.aget(
        check_namespace(value["namespace"]), value["key"], refresh_ttl=refresh_ttl
    )
    return public(item) if item is not None else None


async def delete(core: Core, caller: Caller, namespace: Sequence[str], key: str) -> None:
    value: dict[str, Any] = {"namespace": check_namespace(namespace), "key": key}
    await caller.authorize("store", "delete", value)
    metrics.store_operation("delete")
    await core.db.store.adelete(check_namespace(value["namespace"]), value["key"])


def _ops(cond: Any) -> dict[str, Any]:
    if isinstance(cond, dict) and cond and all(str(k).startswith("$") for k in cond):
        return dict(cond)
    return {"$eq": cond}


def and_filters(user: dict[str, Any] | None, auth: dict[str, Any] | None) -> dict[str, Any] | None:
    """`user AND auth` in the store's filter language, which has no `$and`: conditions on
    one key become one operator map. Returns None when no item can match both."""
    merged = {key: _ops(cond) for key, cond in (user or {}).items()}
    for key, cond in (auth or {}).items():
        ops = merged.setdefault(key, {})
        for op, operand in _ops(cond).items():
            if op not in ops or ops[op] == operand:
                ops[op] = operand
            elif op in _BOUNDS:
                ops[op] = _BOUNDS[op](ops[op], operand)
            elif op == "$eq":
                return None
            else:  # two different `$ne` on one key: the auth one must hold, keep it
                ops[op] = operand
    return merged or None


async def search(core: Core, caller: Caller, body: dict[str, Any]) -> list[dict[str, Any]]:
    value = {
        "namespace": check_namespace(body.get("namespace_prefix") or [], "namespace_prefix"),
        "filter": body.get("filter"),
        "limit": body["limit"],
        "offset": body["offset"],
        "query": body.get("query"),
    }
    auth = await caller.authorize("store", "search", value)
    metrics.store_operation("search")
    flt = and_filters(value["filter"], auth)
    if flt is None and (value["filter"] or auth):
        return []
    try:
        items = await core.db.store.asearch(
            check_namespace(value["namespace"]),
            query=value["query"],
            filter=flt,
            limit=value["limit"],
            offset=value["offset"],
            refresh_ttl=body.get("refresh_ttl"),
        )
    except ValueError as exc:
        raise _store_error(exc) from exc
    return [public(item) for item in items]


async def list_namespaces(core: Core, caller: Caller, body: dict[str, Any]) -> list[list[str]]:
    prefix, suffix = body.get("prefix"), body.get("suffix")
    value = {
        "namespace": check_namespace(prefix, "prefix") if prefix else None,
        "suffix": check_namespace(suffix, "suffix") if suffix else None,
        "max_depth": body.get("max_depth"),
        "limit": body["limit"],
        "offset": body["offset"],
    }
    await caller.authorize("store", "list_namespaces", value)
    metrics.store_operation("list_namespaces")
    namespaces = await core.db.store.alist_namespaces(
        prefix=value["namespace"],
        suffix=value["suffix"],
        max_depth=value["max_depth"],
        limit=value["limit"],
        offset=value["offset"],
    )
    return [list(ns) for ns in namespaces]
