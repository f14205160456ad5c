"""Assistants as tools, for agent protocols (MCP, docs/api.md#mcp): which assistants a caller
sees, named and described as tools, and a tool call as a stateless run awaited like
`/runs/wait`. Protocol framing stays in the api layer."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from graphport.server.core import Core
from graphport.server.errors import NotFound
from graphport.server.services import assistants as assistant_service
from graphport.server.services import runs as run_service
from graphport.server.services.caller import Caller

logger = logging.getLogger("graphport.tools")

# More assistants than this are not offered as tools (a warning says so).
MAX_TOOLS = 1000
# The characters and length MCP allows in a tool name.
_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
_ANY_OBJECT: dict[str, Any] = {"type": "object"}


class UnknownTool(NotFound):
    """No tool of that name among those the caller sees."""


@dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    input_schema: dict[str, Any]


async def _visible(core: Core, caller: Caller) -> dict[str, dict[str, Any]]:
    """Tool name -> assistant, for the assistants `POST /assistants/search` shows the caller.

    A tool is named after its assistant when that name is a valid tool name no other visible
    assistant has; otherwise after the assistant id, so every name is unique and a call finds
    the same assistant the listing showed.
    """
    body = {"limit": MAX_TOOLS, "offset": 0, "sort_by": "created_at", "sort_order": "asc"}
    rows, _, more = await assistant_service.search(core, caller, body)
    if more:
        logger.warning("Only the first %d assistants are offered as tools", MAX_TOOLS)
    taken = Counter(row["name"] for row in rows)
    return {
        row["name"]
        if taken[row["name"]] == 1 and _TOOL_NAME.fullmatch(row["name"] or "")
        else row["assistant_id"]: row
        for row in rows
    }


async def list_tools(core: Core, caller: Caller) -> list[Tool]:
    schemas: dict[str, dict[str, Any] | None] = {}  # per graph, unless built by a factory
    tools = []
    for name, assistant in (await _visible(core, caller)).items():
        graph_id = assistant["graph_id"]
        if graph_id in schemas:
            schema = schemas[graph_id]
        else:
            schema = await assistant_service.input_schema(core, assistant)
            if not core.registry.is_factory(graph_id):
                schemas[graph_id] = schema
        tools.append(
            Tool(
                name=name,
                title=assistant["name"] or graph_id,
                description=assistant["description"]
                or core.registry.description(graph_id)
                or f"Runs the '{graph_id}' graph on the arguments as its input.",
                # MCP tools take a JSON object; a graph whose input is not one takes any.
                input_schema=schema if schema and schema.get("type") == "object" else _ANY_OBJECT,
            )
        )
    return tools


async def call_tool(
    core: Core, caller: Caller, name: str, arguments: dict[str, Any] | None
) -> dict[str, Any]:
    """Run the tool's assistant statelessly on `arguments` and return what `/runs/wait` would
    (`{"__error__": …}` when the graph failed)."""
    assistant = (await _visible(core, caller)).get(name)
    if assistant is None:
        raise UnknownTool(f"Unknown tool: {name}")
    body = {"assistant_id": assistant["assistant_id"], "input": arguments or {}}
    run = await run_service.create_run(core, caller, body, thread_id=None)
    return await run_service.join_body(core, run)
