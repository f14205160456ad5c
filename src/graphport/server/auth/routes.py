"""The route registry: every route of the app, mapped to the (resource, action) pairs its
service authorizes, or explicitly public.

The authentication middleware refuses (403) a request to a route missing from this table
when custom auth is configured, and `tests/test_auth.py` fails if any route of the app is
missing, so a new endpoint cannot silently skip authorization. Adding a route means adding
its line here (and calling `caller.authorize(...)` in its service)."""

from __future__ import annotations

import re
from typing import Final

Pair = tuple[str, str]

PUBLIC: Final = "public"
"""Never authenticated (docs/api.md#system-routes): health, info, metrics, docs, console."""

_READ: Final = (("threads", "read"),)
_RUN: Final = (("threads", "create_run"), ("assistants", "read"))
_SESSION: Final = (*_RUN, ("threads", "update"), *_READ)
# One JSON-RPC endpoint on an assistant (read first, system assistants excepted, as for
# runs): send creates runs, get reads them, cancel updates, list searches.
_A2A: Final = (
    ("assistants", "read"),
    ("threads", "create_run"),
    ("threads", "read"),
    ("threads", "update"),
    ("threads", "search"),
)

ROUTES: Final[dict[tuple[str, str], tuple[Pair, ...] | str]] = {
    # --- system (public) --------------------------------------------------------------
    ("GET", "/"): PUBLIC,
    ("GET", "/ok"): PUBLIC,
    ("GET", "/info"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    # The web console's files (docs/console.md); its API calls are authenticated as usual.
    ("GET", "/console"): PUBLIC,
    ("GET", "/console/{path:path}"): PUBLIC,
    # --- assistants -------------------------------------------------------------------
    ("POST", "/assistants"): (("assistants", "create"),),
    ("POST", "/assistants/search"): (("assistants", "search"),),
    ("POST", "/assistants/count"): (("assistants", "search"),),
    ("GET", "/assistants/{assistant_id}"): (("assistants", "read"),),
    ("PATCH", "/assistants/{assistant_id}"): (("assistants", "update"),),
    ("DELETE", "/assistants/{assistant_id}"): (("assistants", "delete"),),
    ("GET", "/assistants/{assistant_id}/graph"): (("assistants", "read"),),
    ("GET", "/assistants/{assistant_id}/schemas"): (("assistants", "read"),),
    ("GET", "/assistants/{assistant_id}/subgraphs"): (("assistants", "read"),),
    ("GET", "/assistants/{assistant_id}/subgraphs/{namespace}"): (("assistants", "read"),),
    ("POST", "/assistants/{assistant_id}/versions"): (("assistants", "read"),),
    ("POST", "/assistants/{assistant_id}/latest"): (("assistants", "update"),),
    # --- threads ----------------------------------------------------------------------
    ("POST", "/threads"): (("threads", "create"),),
    ("POST", "/threads/search"): (("threads", "search"),),
    ("POST", "/threads/count"): (("threads", "search"),),
    ("POST", "/threads/prune"): (("threads", "delete"),),
    ("GET", "/threads/{thread_id}"): _READ,
    ("PATCH", "/threads/{thread_id}"): (("threads", "update"),),
    ("DELETE", "/threads/{thread_id}"): (("threads", "delete"),),
    ("POST", "/threads/{thread_id}/copy"): (("threads", "read"), ("threads", "create")),
    ("GET", "/threads/{thread_id}/storage"): _READ,
    ("GET", "/threads/{thread_id}/state"): _READ,
    ("POST", "/threads/{thread_id}/state"): (("threads", "update"),),
    ("GET", "/threads/{thread_id}/state/{checkpoint_id}"): _READ,
    ("POST", "/threads/{thread_id}/state/checkpoint"): _READ,
    ("GET", "/threads/{thread_id}/history"): _READ,
    ("POST", "/threads/{thread_id}/history"): _READ,
    ("GET", "/threads/{thread_id}/stream"): _READ,
    # thread streaming sessions: run.start creates runs, input.respond resumes (update)
    ("POST", "/threads/{thread_id}/commands"): _SESSION,
    ("POST", "/threads/{thread_id}/stream/events"): _READ,
    ("GET", "/threads/{thread_id}/stream/events"): _SESSION,  # the WebSocket
    # --- runs -------------------------------------------------------------------------
    ("POST", "/threads/{thread_id}/runs"): _RUN,
    ("POST", "/threads/{thread_id}/runs/stream"): _RUN,
    ("POST", "/threads/{thread_id}/runs/wait"): _RUN,
    ("POST", "/runs"): _RUN,
    ("POST", "/runs/stream"): _RUN,
    ("POST", "/runs/wait"): _RUN,
    ("POST", "/runs/batch"): _RUN,
    ("GET", "/threads/{thread_id}/runs"): (("threads", "search"),),
    ("GET", "/threads/{thread_id}/runs/{run_id}"): _READ,
    ("DELETE", "/threads/{thread_id}/runs/{run_id}"): (("threads", "delete"),),
    ("GET", "/threads/{thread_id}/runs/{run_id}/join"): _READ,
    ("GET", "/threads/{thread_id}/runs/{run_id}/stream"): _READ,
    ("POST", "/threads/{thread_id}/runs/{run_id}/cancel"): (("threads", "update"),),
    ("GET", "/runs/{run_id}"): _READ,
    ("GET", "/runs/{run_id}/stream"): _READ,
    ("POST", "/runs/cancel"): (("threads", "update"),),
    # --- crons ------------------------------------------------------------------------
    ("POST", "/runs/crons"): (("crons", "create"),),
    ("POST", "/threads/{thread_id}/runs/crons"): (("crons", "create"),),
    ("POST", "/runs/crons/search"): (("crons", "search"),),
    ("POST", "/runs/crons/count"): (("crons", "search"),),
    ("GET", "/runs/crons/{cron_id}"): (("crons", "read"),),
    ("PATCH", "/runs/crons/{cron_id}"): (("crons", "update"),),
    ("DELETE", "/runs/crons/{cron_id}"): (("crons", "delete"),),
    # --- store ------------------------------------------------------------------------
    ("PUT", "/store/items"): (("store", "put"),),
    ("GET", "/store/items"): (("store", "get"),),
    ("DELETE", "/store/items"): (("store", "delete"),),
    ("POST", "/store/items/search"): (("store", "search"),),
    ("POST", "/store/namespaces"): (("store", "list_namespaces"),),
    # --- protocols ----------------------------------------------------------------------
    # MCP: every message lists the tools the caller may see; tools/call then runs one.
    ("POST", "/mcp"): (("assistants", "search"), *_RUN),
    # --- A2A (docs/api.md#a2a) ----------------------------------------------------------
    ("POST", "/a2a/{assistant_id}"): _A2A,
    ("GET", "/a2a/{assistant_id}/.well-known/agent-card.json"): (("assistants", "read"),),
    ("GET", "/.well-known/agent-card.json"): (("assistants", "search"), ("assistants", "read")),
}


def lookup(method: str, path: str) -> tuple[Pair, ...] | str | None:
    """The entry for a route template (HEAD is treated as GET); None when unmapped."""
    if method == "HEAD":
        method = "GET"
    return ROUTES.get((method, path))


def is_public(method: str, path: str) -> bool:
    return lookup(method, path) == PUBLIC


def unmapped(routes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (method, path) pairs of `routes` that have no entry."""
    return [(m, p) for m, p in routes if lookup(m, p) is None]


_THREAD_RUNS = re.compile(r"^/threads/\{[^}/]+\}/(runs|stream|commands)(/|$)")


def route_family(path: str) -> str | None:
    """Which `http.disable_*` flag switches a route off (crons belong to runs)."""
    if path.startswith("/a2a/") or path == "/.well-known/agent-card.json":
        return "a2a"
    if path.startswith("/assistants"):
        return "assistants"
    if path.startswith("/store"):
        return "store"
    if path.startswith("/runs") or _THREAD_RUNS.match(path):
        return "runs"
    if path.startswith("/threads"):
        return "threads"
    if path == "/mcp":
        return "mcp"
    if path in ("/info", "/metrics"):
        return "meta"
    return None
