"""Request-scoped accessors: the server core and the calling identity."""

from __future__ import annotations

from fastapi import Request

from graphport.server.core import Core
from graphport.server.services.caller import Caller


def core(request: Request) -> Core:
    return request.app.state.core  # type: ignore[no-any-return]


def caller(request: Request) -> Caller:
    found = request.scope.get("graphport.caller")
    return found if isinstance(found, Caller) else Caller()
