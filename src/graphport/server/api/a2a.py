"""A2A routes (docs/api.md#a2a): JSON-RPC at `/a2a/{assistant_id}` and the agent cards.

The official `a2a-sdk` dispatcher parses and frames JSON-RPC (A2A 1.0 methods, and the 0.3
names on the same endpoint); `services.a2a.A2AHandler` answers. The assistant is checked
(404) before any JSON-RPC is read, like every other route's path ids."""

from __future__ import annotations

from importlib import metadata

from a2a.server.context import ServerCallContext
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from a2a.server.routes import ServerCallContextBuilder
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types import AgentCard
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.openapi import errors
from graphport.server.api.responses import JSON
from graphport.server.core import Core
from graphport.server.services import a2a as service
from graphport.server.services.caller import Caller

router = APIRouter(tags=["a2a"])
Ctx = Depends(deps.core)
Who = Depends(deps.caller)
_CALL = "graphport.a2a"  # the request scope key carrying the `service.Call`


class _Context(ServerCallContextBuilder):
    """The SDK's call context, carrying our `Call` and the headers (`A2A-Version`)."""

    def build(self, request: Request) -> ServerCallContext:
        return ServerCallContext(
            state={"headers": dict(request.headers), service.STATE_KEY: request.scope[_CALL]}
        )


_dispatcher = JsonRpcDispatcher(
    service.A2AHandler(), context_builder=_Context(), enable_v0_3_compat=True
)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _card(card: AgentCard) -> JSON:
    return JSON(agent_card_to_dict(card))


@router.post("/a2a/{assistant_id}")
async def a2a(
    assistant_id: str, request: Request, core: Core = Ctx, caller: Caller = Who
) -> Response:
    """A2A JSON-RPC 2.0: `SendMessage`, `SendStreamingMessage` (SSE), `GetTask`,
    `CancelTask`, `ListTasks` (send `A2A-Version: 1.0`), and the 0.3 names `message/send`,
    `message/stream`, `tasks/get`, `tasks/cancel`."""
    assistant = await service.runnable_assistant(core, caller, assistant_id)
    request.scope[_CALL] = service.Call(core, caller, assistant)
    return await _dispatcher.handle_requests(request)


@router.get("/a2a/{assistant_id}/.well-known/agent-card.json", responses=errors(404))
async def assistant_card(
    assistant_id: str, request: Request, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    assistant = await service.runnable_assistant(core, caller, assistant_id)
    return _card(service.assistant_card(core, assistant, _base_url(request)))


@router.get("/.well-known/agent-card.json", responses=errors(404))
async def agent_card(
    request: Request, assistant_id: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    """With `?assistant_id=`, that assistant's card (as the official server serves it);
    without, the deployment's card: its assistants as skills."""
    base = _base_url(request)
    if assistant_id is not None:
        assistant = await service.runnable_assistant(core, caller, assistant_id)
        return _card(service.assistant_card(core, assistant, base))
    return _card(
        await service.deployment_card(core, caller, base, metadata.version("graphport"))
    )
