"""JSON schemas and the drawable graph served by the assistants routes (docs/api.md#assistants).

Pure functions of a graph, possibly CPU-bound: callers run them in a thread. A schema that cannot
be generated becomes None (Studio then shows a raw JSON editor) instead of failing the request.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from langgraph.channels.base import BaseChannel
from langgraph.pregel import Pregel
from pydantic import Field, TypeAdapter, create_model

__all__ = ["drawable_graph", "graph_schemas", "input_schema", "subgraph_schemas"]

logger = logging.getLogger(__name__)

#: Keys the server fills in itself; a config form must not offer them.
_SERVER_CONFIG_KEYS = frozenset({"thread_id", "checkpoint_id", "checkpoint_ns"})


def graph_schemas(graph: Pregel, graph_id: str) -> dict[str, Any]:
    """The GraphSchema object: `{graph_id, input_schema, ..., context_schema}`."""
    return {"graph_id": graph_id, **_schemas(graph)}


def input_schema(graph: Pregel) -> dict[str, Any] | None:
    """What the graph takes as input (a tool's arguments, for MCP); None if not describable."""
    return _safely(graph, "input", lambda: graph.get_input_jsonschema())


def subgraph_schemas(graph: Pregel, namespace: str | None, recurse: bool) -> dict[str, dict]:
    """Schemas keyed by subgraph namespace (node names joined by `|`, without task ids)."""
    return {
        ns: _schemas(subgraph)
        for ns, subgraph in graph.get_subgraphs(namespace=namespace, recurse=recurse)
    }


def drawable_graph(graph: Pregel, xray: bool | int) -> dict[str, Any]:
    """`{"nodes": [...], "edges": [...]}`; `xray` expands subgraphs (an int limits the depth)."""
    try:
        drawn = graph.get_graph(xray=xray).to_json()
    except Exception as exc:
        raise ValueError("The graph does not support visualization") from exc
    for node in drawn.get("nodes", []):
        data = node.get("data")
        if isinstance(data, dict):
            # the Python import path of each node's runnable: noise for clients
            data.pop("id", None)
    return drawn


def state_jsonschema(graph: Pregel) -> dict[str, Any]:
    """One property per state channel, typed by what the channel accepts as an update.

    A channel whose type pydantic cannot describe becomes `Any` so the rest stay useful.
    """
    fields: dict[str, Any] = {}
    for i, key in enumerate(graph.stream_channels_list):
        channel = graph.channels.get(key)
        if not isinstance(channel, BaseChannel):
            continue
        typ: Any = channel.UpdateType
        try:
            TypeAdapter(typ).json_schema()
        except Exception:
            typ = Any
        # aliased so channel names pydantic refuses as attributes ("__root__", "schema") work
        fields[f"f{i}"] = (typ, Field(default=None, alias=key))
    model = create_model(graph.get_name("State"), **fields)
    return model.model_json_schema(by_alias=True)


def configurable_jsonschema(graph: Pregel) -> dict[str, Any]:
    """The `configurable` part of the config, i.e. the context schema minus server-owned keys.

    `{}` (not None) when the graph declares nothing, matching the official server.
    """
    if graph.context_schema is None:
        return {}
    schema = copy.deepcopy(graph.get_context_jsonschema() or {})
    properties = schema.get("properties")
    if isinstance(properties, dict):
        hidden = {k for k in properties if k in _SERVER_CONFIG_KEYS or k.startswith("__pregel_")}
        for key in hidden:
            del properties[key]
        if isinstance(schema.get("required"), list):
            schema["required"] = [k for k in schema["required"] if k not in hidden]
    return schema


def _schemas(graph: Any) -> dict[str, Any]:
    # Any: subgraphs may be other PregelProtocol implementations lacking some methods
    return {
        "input_schema": input_schema(graph),
        "output_schema": _safely(graph, "output", lambda: graph.get_output_jsonschema()),
        "state_schema": _safely(graph, "state", lambda: state_jsonschema(graph)),
        "config_schema": _safely(graph, "config", lambda: configurable_jsonschema(graph)),
        "context_schema": _safely(graph, "context", lambda: graph.get_context_jsonschema()),
    }


def _safely(graph: Any, kind: str, build: Callable[[], dict[str, Any] | None]) -> dict | None:
    try:
        return build()
    except Exception as exc:
        logger.warning(
            "cannot generate the %s schema of graph %r: %s",
            kind,
            getattr(graph, "name", graph),
            exc,
        )
        return None
