"""The OpenAPI document, amended to say what the server really does (docs/api.md#openapi):
every error is `{"detail": string}` under each status a route can answer, every JSON value
a body carries is one both databases can store, and graph ids are the loaded graphs.

FastAPI documents the request models; `install` rewrites the generated document once, by
rules that mirror the server's own mechanisms (authentication, the body limit, request
validation, path lookups), plus the statuses a route declares with `errors(...)`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI

from graphport.server.api.models import INT64_MAX, INT64_MIN
from graphport.server.auth import routes as registry

COMPONENTS = "#/components/schemas/"
ERROR = {"$ref": f"{COMPONENTS}Error"}
STORABLE = {"$ref": f"{COMPONENTS}StorableJSON"}
# What `SafeBody` enforces on every string and property name of a body.
NO_NUL = "^[^\\x00]*$"
DESCRIPTIONS = {
    400: "The body could not be parsed, or the graph cannot apply the request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state",
    413: "Request body over the size limit",
    422: "Invalid parameters or body",
    503: "The database or Redis cannot be reached now; retry after `Retry-After` seconds",
}
# Values and keys for the components added here.
_STORABLE_SCHEMA = {
    "description": "Any JSON value both databases can store: no NUL in strings or property"
    " names, integers within 64 bits.",
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "string", "pattern": NO_NUL},
        {"type": "array", "items": STORABLE},
        {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": STORABLE},
    ],
}
# One server-sent event of a stream route; `data` is JSON text.
_EVENT_SCHEMA = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in ("event", "data", "id")},
    "required": ["event", "data"],
}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "title": "Error",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route for error statuses beyond the ones every route of its
    kind gets (see `_rule_codes`)."""
    return {code: _error(code) for code in codes}


def _error(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": ERROR}},
    }
    if code == 503:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    return response


def install(app: FastAPI, graph_ids: Iterable[str]) -> None:
    """Replace `app.openapi` with the amended document (built once, then cached)."""
    generate = app.openapi
    graphs = sorted(graph_ids)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = amend(generate(), graphs)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def amend(schema: dict[str, Any], graph_ids: list[str]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for body in components.values():
        _storable(body)
    components["Error"] = _ERROR_SCHEMA
    components["StorableJSON"] = _STORABLE_SCHEMA
    components["GraphID"] = {"type": "string", "enum": graph_ids, "title": "GraphID"}
    components["AssistantRef"] = {
        "title": "AssistantRef",
        "description": "An assistant's ID, or a graph ID for the graph's default assistant",
        "anyOf": [{"type": "string", "format": "uuid"}, {"$ref": f"{COMPONENTS}GraphID"}],
    }
    _link(schema)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for code in _rule_codes(method.upper(), path, operation):
                responses[str(code)] = _error(code)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    response.update(_error(int(code)))
            for content in operation["responses"].get("200", {}).get("content", {}).values():
                if content.get("schema") == {"type": "string"}:  # `sse.EventStream`
                    content["schema"] = _EVENT_SCHEMA
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                _storable(body["schema"])
    return schema


def _rule_codes(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    # The body limit applies to every request; an outage of a dependency to every route
    # that reads or writes state (docs/architecture.md#faults-of-the-database-and-redis).
    codes = [413, 503]
    if registry.lookup(method, path) != registry.PUBLIC:
        codes += [401, 403]
    params = operation.get("parameters", [])
    if params or "requestBody" in operation:
        codes.append(422)
    if "requestBody" in operation:
        codes.append(400)  # FastAPI's answer to a body it cannot decode
    if any(p.get("in") == "path" for p in params):
        codes.append(404)
    return codes


def _link(node: Any) -> None:
    """Turn the `x-component` marks of the models into references."""
    if isinstance(node, list):
        for item in node:
            _link(item)
    elif isinstance(node, dict):
        name = node.pop("x-component", None)
        if name is not None:
            node.clear()
            node["$ref"] = COMPONENTS + name
        for value in node.values():
            _link(value)


def _storable(node: Any) -> None:
    """Constrain a request schema to what `SafeBody` accepts: free-form values become
    `StorableJSON`, strings and property names exclude NUL, integers fit in 64 bits."""
    if isinstance(node, list):
        for item in node:
            _storable(item)
        return
    if not isinstance(node, dict) or "$ref" in node:
        return
    if not ({"type", "anyOf", "oneOf", "allOf", "enum", "const", "not"} & node.keys()):
        node.update(STORABLE)
        return
    kind = node.get("type")
    if kind == "string" and not {"enum", "const", "format", "pattern"} & node.keys():
        node["pattern"] = NO_NUL
    elif kind == "integer":
        node.setdefault("minimum", INT64_MIN)
        node.setdefault("maximum", INT64_MAX)
    elif kind == "object":
        node.setdefault("propertyNames", {"pattern": NO_NUL})
        if node.get("additionalProperties", True) is True:
            node["additionalProperties"] = dict(STORABLE)
    for key in ("properties", "$defs"):
        for child in (node.get(key) or {}).values():
            _storable(child)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
        if key in node:
            _storable(node[key])
