"""Per-request observation as two plain ASGI middlewares (streams pass through untouched):
`RequestObserver`, outermost, gives each request an id (a valid `X-Request-ID` is kept,
else one is made; echoed in the response) that every log line of the request carries, and
counts the request by route template and status; `RouteCapture`, innermost, reports the
template the router matched, through scope copies made by the middlewares between them."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphport.server import metrics
from graphport.server.logs import REQUEST_ID

_KEY = "graphport.observed"
_VALID_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
UNMATCHED = "unmatched"


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or ():
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _VALID_ID.fullmatch(given):
                return given
    return str(uuid.uuid4())


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        observed: dict[str, Any] = {"route": None, "status": 500}
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                observed["status"] = message["status"]
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app({**scope, _KEY: observed}, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            route, method = observed["route"] or UNMATCHED, scope["method"]
            metrics.HTTP_REQUESTS.labels(method, route, str(observed["status"])).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


class RouteCapture:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            observed = scope.get(_KEY)
            route = getattr(scope.get("route"), "path", None)
            if observed is not None and isinstance(route, str):
                observed["route"] = route
