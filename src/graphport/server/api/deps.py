"""Request-scoped accessors: the server core and the calling identity. Async on purpose:
FastAPI runs a sync dependency in a worker thread, a hop per request for a dict lookup."""

from __future__ import annotations

from fastapi import Request

from graphport.server.core import Core
from graphport.server.services.caller import Caller


async def core(request: Request) -> Core:
    return request.app.state.core


async def caller(request: Request) -> Caller:
    found = request.scope.get("graphport.caller")
    return found if isinstance(found, Caller) else Caller()
