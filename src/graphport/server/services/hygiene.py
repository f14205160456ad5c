"""Input hygiene shared by every write: reserved keys stripped and the config/context
mirror (docs/api.md#conventions)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from graphport.server.errors import BadRequest

RESERVED_CONFIGURABLE = frozenset(
    {
        "langgraph_auth_user",
        "langgraph_auth_user_id",
        "langgraph_auth_permissions",
        "langgraph_request_id",
        "__langsmith_project__",
        "__langsmith_example_id__",
        "__request_start_time_ms__",
        "__after_seconds__",
        "__otel_traceparent__",
        "__otel_tracestate__",
        "__dd_trace_headers__",
        "__pregel_node_finished",
        "__context_provided__",
    }
)
RESERVED_METADATA = frozenset(
    {"thread_id", "assistant_id", "run_id", "cron_id", "counters_since_delta_snapshot"}
)


# Set for one run; the thread keeps none of them.
RUN_ONLY = frozenset({"run_id", "cron_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map"})


def thread_configurable(configurable: dict[str, Any], headers: Iterable[str]) -> dict[str, Any]:
    """What a run leaves in its thread's `config.configurable`: the assistant's and the
    request's own keys and the thread, graph and assistant ids; not what the server added for
    this run only (run and checkpoint ids, auth keys, the request id and copied headers)."""
    dropped = RESERVED_CONFIGURABLE | RUN_ONLY | set(headers)
    return {k: v for k, v in configurable.items() if k not in dropped and not k.startswith("__")}


def clean_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (metadata or {}).items() if k not in RESERVED_METADATA}


def clean_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """A deep copy of a client config without keys only the server may set."""
    cfg = copy.deepcopy(config) if config else {}
    if isinstance(cfg.get("configurable"), dict):
        cfg["configurable"] = {
            k: v for k, v in cfg["configurable"].items() if k not in RESERVED_CONFIGURABLE
        }
    if isinstance(cfg.get("metadata"), dict):
        cfg["metadata"] = clean_metadata(cfg["metadata"])
    return cfg


def clean_context(context: dict[str, Any] | None) -> dict[str, Any] | None:
    if context is None:
        return None
    return {k: v for k, v in context.items() if k not in RESERVED_CONFIGURABLE}


def mirror_config_context(
    config: dict[str, Any], context: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keep `config.configurable` and `context` in sync; both non-empty is a 400."""
    configurable = config.get("configurable") or {}
    if configurable and context:
        raise BadRequest(
            "Cannot specify both configurable and context. Prefer setting context alone."
            " Context was introduced in LangGraph 0.6.0 and is the long term planned"
            " replacement for configurable."
        )
    if context:
        config = {**config, "configurable": dict(context)}
        return config, dict(context)
    return config, dict(configurable)
