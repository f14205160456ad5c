"""Server information (docs/api.md#system-routes); health and metrics are in `monitoring`."""

from __future__ import annotations

import functools
from importlib import metadata

from fastapi import APIRouter, Depends

from graphport.server.api import deps
from graphport.server.api.responses import JSON
from graphport.server.core import Core
from graphport.server.graphs import LangGraphConfig
from graphport.server.graphs.persistence import thread_ttl_policy

router = APIRouter(tags=["system"])
# Installed versions don't change while the server runs; reading package metadata does I/O.
version = functools.cache(metadata.version)


def flags(config: LangGraphConfig) -> dict[str, bool]:
    """What this server has on, so clients can detect it: the official flags, then
    Graphport's (route families, webhooks, TTLs, semantic search, protocols)."""
    http = config.http or {}
    store = config.store or {}
    on = {f: not http.get(f"disable_{f}") for f in ("assistants", "threads", "runs", "store")}
    return {
        "assistants": on["assistants"],
        "crons": on["runs"],  # crons are served with the runs routes
        "langsmith": False,
        "langsmith_tracing_replicas": False,
        "langsmith_tracing_session_on_runs": False,
        "resumable_streams": True,
        **{f: on[f] for f in ("threads", "runs", "store")},
        "webhooks": not http.get("disable_webhooks"),
        "custom_auth": bool((config.auth or {}).get("path")),
        "thread_ttl": thread_ttl_policy(config).default_ttl is not None,
        "store_ttl": (store.get("ttl") or {}).get("default_ttl") is not None,
        "semantic_search": store.get("index") is not None,
        "thread_streaming": on["runs"],  # served with the runs routes
        "a2a": not http.get("disable_a2a"),
        "mcp": not http.get("disable_mcp"),
    }


@router.get("/info")
async def info(core: Core = Depends(deps.core)) -> JSON:
    return JSON(
        {
            "version": version("graphport"),
            "langgraph_py_version": version("langgraph"),
            "flags": flags(core.config),
            "host": {
                "kind": "graphport",
                "backend": core.db.dialect,
                "project_id": None,
                "host_revision_id": None,
                "revision_id": None,
                "tenant_id": None,
            },
        }
    )
