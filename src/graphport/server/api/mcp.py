"""MCP at `/mcp` (docs/api.md#mcp): the Streamable HTTP transport of the official `mcp`
package, stateless with JSON responses, on the low-level `Server`: each assistant the caller
may see is a tool, and a tool call is a stateless run (`services/tools.py`).

The package's session manager owns the JSON-RPC framing, the initialize handshake and the
per-request envelope of the newest protocol, and version negotiation (2024-11-05 onwards).
Its task group lives in the app's lifespan (`serving`). The route is an ordinary FastAPI
route (so auth, `http.disable_mcp` and the API document treat it like any other) whose
response hands the request's own ASGI channels to the manager."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from importlib.metadata import version
from typing import Any

import mcp_types as types
import orjson
from fastapi import APIRouter, Request
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from graphport.server.api import deps
from graphport.server.core import Core
from graphport.server.errors import GraphportError
from graphport.server.services import tools as service

logger = logging.getLogger("graphport.mcp")
router = APIRouter(tags=["mcp"])

Context = ServerRequestContext[Any, Request]


@contextlib.asynccontextmanager
async def serving(core: Core) -> AsyncIterator[StreamableHTTPSessionManager]:
    """The transport for the app's lifetime (its task group runs the requests' handlers)."""
    limit = core.settings.max_body_bytes
    manager = StreamableHTTPSessionManager(
        _server(core),
        stateless=True,
        json_response=True,
        # The `HTTP_MAX_REQUEST_BODY_BYTES` limit applies already; 0 means none.
        max_request_body_size=limit if limit > 0 else sys.maxsize,
    )
    async with manager.run():
        yield manager


class _Handover(Response):
    """FastAPI calls a returned response with the request's receive and send: this one
    passes them to the MCP transport, which reads the body and answers itself."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__()
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@router.post(
    "/mcp",
    summary="MCP (Streamable HTTP)",
    description="Model Context Protocol, stateless Streamable HTTP with JSON responses: "
    "`initialize`, `tools/list` (one tool per assistant) and `tools/call` (a stateless run).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": "A JSON-RPC 2.0 message"}
                }
            },
        }
    },
    response_class=Response,
    responses={
        200: {"description": "The JSON-RPC response", "content": {"application/json": {}}},
        202: {"description": "A notification was accepted"},
    },
)
async def mcp_endpoint(request: Request) -> Response:
    manager: StreamableHTTPSessionManager = request.app.state.mcp
    return _Handover(manager.handle_request)


def _server(core: Core) -> Server[Any]:
    async def list_tools(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        caller = await deps.caller(_request(ctx))
        try:
            tools = await service.list_tools(core, caller)
        except GraphportError as e:
            raise _protocol_error(e) from e
        except Exception as e:
            raise _internal(e) from e
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=t.name,
                    title=t.title,
                    description=t.description,
                    input_schema=t.input_schema,
                )
                for t in tools
            ]
        )

    async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        caller = await deps.caller(_request(ctx))
        try:
            output = await service.call_tool(core, caller, params.name, params.arguments)
        except service.UnknownTool as e:
            raise MCPError(types.INVALID_PARAMS, e.detail) from e
        except GraphportError as e:  # the run could not be created: the caller's to fix
            return _failed(e.detail)
        except Exception as e:
            raise _internal(e) from e
        error = output.get("__error__")
        if isinstance(error, dict):  # already masked like every run's error event
            return _failed(f"{error.get('error')}: {error.get('message')}")
        return types.CallToolResult(
            content=[types.TextContent(text=orjson.dumps(output).decode())],
            structured_content=output,
        )

    return Server(
        "graphport",
        version=version("graphport"),
        description="Each assistant of this Graphport deployment as a tool.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        # Only for `Mcp-Param-*` headers (2026-07-28), which graph input schemas never
        # declare; without it every call would first build every tool's schema.
        get_tool_input_schema=lambda _name: None,
    )


def _request(ctx: Context) -> Request:
    if ctx.request is None:  # the HTTP transport always attaches it
        raise _internal(RuntimeError("MCP request without its HTTP request"))
    return ctx.request


def _failed(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _protocol_error(e: GraphportError) -> MCPError:
    code = types.INTERNAL_ERROR if e.status_code >= 500 else types.INVALID_REQUEST
    return MCPError(code, e.detail)


def _internal(e: Exception) -> MCPError:
    """As the REST API does: the type, never the message, and the traceback in the log."""
    logger.error("MCP request failed", exc_info=e)
    return MCPError(types.INTERNAL_ERROR, f"Internal error: {type(e).__name__}")
