"""Authentication as a pure ASGI middleware (responses, including SSE streams, pass through
untouched): resolves the route, authenticates unless it is public, and leaves the `Caller`
in `scope["graphport.caller"]` for the api layer."""

from __future__ import annotations

import fnmatch
import functools
import hmac
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from starlette.authentication import AuthCredentials
from starlette.requests import HTTPConnection, Request
from starlette.routing import WebSocketRoute, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from graphport.server.auth import routes as registry
from graphport.server.auth.backend import AuthRejected, ServerAuth
from graphport.server.auth.routes import route_family
from graphport.server.logs import REQUEST_ID
from graphport.server.services.caller import Caller

CALLER_KEY = "graphport.caller"
INTERNAL_KEY = "graphport.internal"

PUBLIC_PATHS = frozenset(p for (_, p), v in registry.ROUTES.items() if v == registry.PUBLIC)

# Headers copied into run configs (docs/api.md#conventions).
DEFAULT_INCLUDES = ("x-*", "user-agent")
DEFAULT_EXCLUDES = ("x-api-key", "x-tenant-id", "x-service-key")
ALWAYS = frozenset({"langsmith-trace"})
BAGGAGE_KEYS = frozenset({"langsmith-metadata", "langsmith-tags", "langsmith-project"})


def _compile(patterns: Iterable[str]) -> re.Pattern[str] | None:
    parts = [fnmatch.translate(p.lower()) for p in patterns if isinstance(p, str) and p]
    return re.compile("|".join(parts)) if parts else None


class HeaderPolicy:
    """Which request headers go into `config.configurable` (`http.configurable_headers`)."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or {}
        self._includes = _compile(config.get("includes") or ())
        self._excludes = _compile(config.get("excludes") or ())
        self._default_in = _compile(DEFAULT_INCLUDES)
        self._default_out = _compile(DEFAULT_EXCLUDES)
        self.allowed = functools.lru_cache(maxsize=2048)(self._allowed)

    def _allowed(self, name: str) -> bool:
        if name in ALWAYS:
            return True
        if self._excludes is not None and self._excludes.fullmatch(name):
            return False
        if self._includes is not None and self._includes.fullmatch(name):
            return True
        assert self._default_in is not None and self._default_out is not None
        return bool(self._default_in.fullmatch(name)) and not self._default_out.fullmatch(name)

    def extract(self, raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in raw:
            name = key.decode("latin-1").lower()
            if name == "baggage":
                kept = [
                    item.strip()
                    for item in value.decode("latin-1").split(",")
                    if item.split("=", 1)[0].strip() in BAGGAGE_KEYS
                ]
                if kept:
                    out["baggage"] = ",".join(kept)
            elif self.allowed(name):
                out[name] = value.decode("latin-1")
        return out


def route_path(scope: Scope) -> str:
    """The path the router matches on (without the root path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


async def send_json(
    scope: Scope,
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with a JSON body (or refuse a websocket handshake)."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": str(body.get("detail"))})
        return
    payload = orjson.dumps(body)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def iter_app_routes(app: Any) -> Iterator[tuple[str, frozenset[str], bool]]:
    """(path template, methods, is_websocket) of every route, through included routers."""
    routes = list(getattr(app, "routes", None) or [])
    try:  # FastAPI >= 0.16x keeps included routers lazily; this flattens them
        from fastapi.routing import iter_route_contexts

        flat: Iterable[Any] = list(iter_route_contexts(routes))
    except ImportError:
        flat = routes
    for route in flat:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        original = getattr(route, "original_route", route)
        websocket = isinstance(original, WebSocketRoute) or type(original).__name__.endswith(
            "WebSocketRoute"
        )
        methods = frozenset(getattr(route, "methods", None) or ())
        yield path, methods, websocket


class RouteTable:
    """Matches a request to a route template of an app, independent of how the app
    nests its routers. Built on first use, when every route is in."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._entries: list[tuple[re.Pattern[str], str, frozenset[str], bool, Any]] | None = None

    def _build(self) -> list[tuple[re.Pattern[str], str, frozenset[str], bool, Any]]:
        entries = []
        for path, methods, websocket in iter_app_routes(self.app):
            regex, _, convertors = compile_path(path)
            entries.append((regex, path, methods, websocket, convertors))
        return entries

    def match(self, scope: Scope, path: str) -> tuple[str | None, bool, dict[str, Any]]:
        """(template, full match?, path params); a path match with another method is
        partial, the first full match wins."""
        if self._entries is None:
            self._entries = self._build()
        websocket = scope["type"] == "websocket"
        method = scope.get("method", "")
        partial: str | None = None
        for regex, template, methods, is_ws, convertors in self._entries:
            found = regex.match(path)
            if found is None or is_ws != websocket:
                continue
            if websocket or not methods or method in methods:
                params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                return template, True, params
            if partial is None:
                partial = template
        return partial, False, {}


class AuthMiddleware:
    """Authenticate every non-public request and attach its `Caller`.

    `routes_app` is the app whose routes are matched against the route registry; with
    `check_registry` (our own app under custom auth) a route missing from the registry is
    refused with 403 rather than served without authorization. `public` are the paths
    served without authentication (`/metrics` leaves them when it is to be protected).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: ServerAuth,
        headers: HeaderPolicy,
        routes_app: Any = None,
        check_registry: bool = True,
        disabled: Iterable[str] = (),
        public: frozenset[str] = PUBLIC_PATHS,
    ) -> None:
        self.app = app
        self.auth = auth
        self.headers = headers
        self.table = RouteTable(routes_app)
        self.check_registry = check_registry
        self.disabled = frozenset(disabled)
        self.public = public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        configurable = self.headers.extract(scope.get("headers") or [])
        if path.startswith(("/runs", "/threads", "/a2a/")):
            request_id = configurable.get("x-request-id") or REQUEST_ID.get() or str(uuid.uuid4())
            configurable["langgraph_request_id"] = request_id
        if not self.disabled and self.auth.backend is None and self.auth.api_key is None:
            # Nothing to decide by route: the template is not looked up (a scan of every
            # route, ~1.5% of a run's CPU).
            scope[CALLER_KEY] = Caller(configurable_headers=configurable)
            await self.app(scope, receive, send)
            return
        template, full, params = self.table.match(scope, path)
        if template is not None and self.disabled and route_family(template) in self.disabled:
            await send_json(scope, send, 404, {"detail": "Not Found"})
            return
        public = (template or path) in self.public
        caller: Caller
        if public or scope.get(INTERNAL_KEY):
            caller = Caller(configurable_headers=configurable)
        elif self.auth.backend is not None:
            conn = Request(scope) if scope["type"] == "http" else HTTPConnection(scope)
            try:
                user, permissions = await self.auth.authenticate(conn, params)
            except AuthRejected as e:
                await send_json(scope, send, e.status, {"detail": e.detail}, e.headers)
                return
            if (
                self.check_registry
                and full
                and template is not None
                and registry.lookup(scope.get("method", "GET"), template) is None
            ):
                await send_json(
                    scope,
                    send,
                    403,
                    {"detail": f"Route {template} is not mapped for authorization"},
                )
                return
            caller = self.auth.caller(user, permissions, configurable)
            if user is not None:
                scope["user"] = user
                scope["auth"] = AuthCredentials(list(permissions))
        elif self.auth.api_key is not None:
            given = HTTPConnection(scope).headers.get("x-api-key") or ""
            if not hmac.compare_digest(given.encode(), self.auth.api_key.encode()):
                await send_json(scope, send, 401, {"detail": "Missing or invalid API key"})
                return
            caller = Caller(configurable_headers=configurable)
        else:
            caller = Caller(configurable_headers=configurable)
        scope[CALLER_KEY] = caller
        await self.app(scope, receive, send)
