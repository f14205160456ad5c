"""One place that turns every failure into `{"detail": "..."}` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphport.server.api import methods
from graphport.server.api.responses import JSON
from graphport.server.errors import GraphportError
from graphport.server.runtime.faults import is_broker_fault, is_overload, is_transient
from graphport.server.storage.filters import InvalidFilter

logger = logging.getLogger("graphport.api")


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_detail(exc: RequestValidationError) -> str:
    messages = []
    for err in exc.errors():
        kind = err.get("type")
        if kind == "json_invalid":
            return "Invalid JSON in request body"
        where = _loc(tuple(err.get("loc", ())))
        if kind == "missing" and where == "body":
            messages.append("Request body is required")
        elif where == "body" and kind in ("model_attributes_type", "dict_type", "model_type"):
            messages.append("Request body must be a JSON object")
        elif kind == "value_error" and where == "body":
            # A model-level check whose message already names the field.
            messages.append(str((err.get("ctx") or {}).get("error") or err.get("msg")))
        else:
            messages.append(f"{where}: {err.get('msg')}")
    return "; ".join(dict.fromkeys(messages)) or "Invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(GraphportError)
    async def _domain(_: Request, exc: GraphportError) -> JSON:
        return JSON({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(InvalidFilter)
    async def _filter(_: Request, exc: InvalidFilter) -> JSON:
        return JSON({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSON:
        return JSON({"detail": validation_detail(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSON:
        headers = exc.headers
        if exc.status_code == 405:
            # Starlette names only the methods of the first route on the path.
            headers = {**(headers or {}), "Allow": ", ".join(methods.allowed(app, request.scope))}
        return JSON({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    # Not `exception_handler(Exception)`: Starlette runs that one in its outermost
    # middleware and re-raises afterwards, so the server closes the connection under a
    # keep-alive client. Caught here, a 500 is an ordinary response.
    app.add_middleware(UnexpectedErrors)


# Seconds a client should wait before retrying while a dependency is down.
RETRY_AFTER = "5"


class UnexpectedErrors:
    """Unhandled exceptions become `500 {"detail": "Internal error: <type>"}` (logged with
    their traceback), unless the response had already started. A lost connection to the
    database or Redis is not our bug but an outage: `503` with `Retry-After`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise
            where = f"{scope.get('method')} {scope.get('path')}"
            if is_transient(exc):
                logger.warning("Unavailable on %s: %s: %s", where, type(exc).__name__, exc)
                response = JSON(
                    {"detail": f"Service unavailable ({unavailable(exc)}); retry shortly"},
                    status_code=503,
                    headers={"Retry-After": RETRY_AFTER},
                )
            else:
                logger.exception("Unhandled error on %s", where)
                response = JSON(
                    {"detail": f"Internal error: {type(exc).__name__}"}, status_code=500
                )
            await response(scope, receive, send)


def unavailable(exc: BaseException) -> str:
    """Which dependency an outage is about, for the client's message."""
    if is_broker_fault(exc):
        return "Redis is unreachable"
    if is_overload(exc):
        return "the database is busy"
    return "the database is unreachable"
