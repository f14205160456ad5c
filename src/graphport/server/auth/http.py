"""The `http` section of `langgraph.json` and the middleware stack around the API:
CORS, mount prefix, body size limit, a user's custom app (its routes first), route
families switched off, and authentication. All middleware here is pure ASGI."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphport.server.auth.backend import ServerAuth, load_backend, load_object
from graphport.server.auth.middleware import (
    INTERNAL_KEY,
    PUBLIC_PATHS,
    AuthMiddleware,
    HeaderPolicy,
    route_path,
    send_json,
)
from graphport.server.auth.routes import route_family
from graphport.server.graphs.config import ConfigError, LangGraphConfig
from graphport.server.settings import Settings

logger = logging.getLogger("graphport.http")

EXPOSE_HEADERS = ["x-pagination-total", "x-pagination-next", "content-location"]
CORS_KEYS = frozenset(
    {
        "allow_origins",
        "allow_methods",
        "allow_headers",
        "allow_credentials",
        "allow_origin_regex",
        "expose_headers",
        "max_age",
    }
)
FAMILIES = ("assistants", "threads", "runs", "store", "meta", "a2a", "mcp")


# --- middleware ----------------------------------------------------------------------


class EdgeMiddleware:
    """First stop of every request: marks in-process `/noauth` calls, strips the mount
    prefix, and enforces the request body limit (413 with a JSON detail)."""

    def __init__(self, app: ASGIApp, *, prefix: str = "", max_body: int = 0) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope.get("root_path") == "/noauth":
            # The SDK's in-process transport; a network client cannot set the root path.
            scope = {**scope, "root_path": "", INTERNAL_KEY: True}
        if self.prefix:
            path = route_path(scope)
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                await send_json(scope, send, 404, {"detail": "Not Found"})
                return
            scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix}
        if scope["type"] == "http" and self.max_body > 0:
            limit = self.max_body
            detail = f"Request body too large (limit: {limit} bytes)"
            for key, value in scope.get("headers") or []:
                if key == b"content-length":
                    try:
                        too_big = int(value) > limit
                    except ValueError:
                        too_big = False
                    if too_big:
                        await send_json(scope, send, 413, {"detail": detail})
                        return
            receive = _limited(receive, limit, detail)
        await self.app(scope, receive, send)


def _limited(receive: Receive, limit: int, detail: str) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise StarletteHTTPException(413, detail)
        return message

    return wrapped


class CustomRoutes:
    """Serve a user's app for the requests its routes match; everything else goes on."""

    def __init__(self, app: ASGIApp, *, user_app: Any, target: ASGIApp) -> None:
        self.app = app
        self.user_app = user_app
        self.target = target
        skip = {
            getattr(user_app, attr, None)
            for attr in ("openapi_url", "docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")
        }
        self.routes = [r for r in user_app.routes if getattr(r, "path", None) not in skip]

    def _matches(self, scope: Scope) -> bool:
        for route in self.routes:
            try:
                match, _ = route.matches(scope)
            except Exception:  # a foreign route type
                continue
            if match == Match.FULL:
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._matches(scope):
            await self.target(scope, receive, send)
            return
        await self.app(scope, receive, send)


# --- wiring --------------------------------------------------------------------------


def _cors_options(cors: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "allow_origins": ["*"],
        "allow_methods": ["*"],
        "allow_headers": ["*"],
        "expose_headers": list(EXPOSE_HEADERS),
    }
    if cors is None:
        return options
    if not isinstance(cors, dict):
        raise ConfigError("'http.cors' must be an object")
    unknown = set(cors) - CORS_KEYS
    if unknown:
        logger.warning("Ignoring unknown http.cors keys: %s", sorted(unknown))
    options.update({k: v for k, v in cors.items() if k in CORS_KEYS})
    return options


def _load_user_app(config: LangGraphConfig, spec: Any) -> Any:
    if not isinstance(spec, str):
        raise ConfigError(f"{config.path}: 'http.app' must be a string 'file.py:variable'")
    user_app = load_object(config, spec, "http.app")
    if not hasattr(user_app, "routes") or not callable(user_app):
        raise ConfigError(f"{config.path}: 'http.app' must be a Starlette or FastAPI application")
    return user_app


def _chain_lifespan(app: FastAPI, user_app: Any) -> None:
    ours = app.router.lifespan_context
    router = getattr(user_app, "router", None)
    theirs = getattr(router, "lifespan_context", None)
    if theirs is None:
        return

    @contextlib.asynccontextmanager
    async def both(a: Any) -> AsyncIterator[Any]:
        async with ours(a) as first, theirs(user_app) as second:
            merged = {**(first or {}), **(second or {})}
            yield merged or None

    app.router.lifespan_context = both


def _hide_from_openapi(app: FastAPI, disabled: set[str]) -> None:
    """Switched-off route families answer 404, so the API document leaves them out."""
    full = app.openapi

    def openapi() -> dict[str, Any]:
        schema = full()  # built once and cached by FastAPI; filtering again is a no-op
        paths = schema.get("paths", {})
        schema["paths"] = {p: v for p, v in paths.items() if route_family(p) not in disabled}
        return schema

    # Replacing the method is FastAPI's documented way to customise the schema.
    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, settings: Settings, config: LangGraphConfig) -> ServerAuth:
    """Apply `auth` and `http` from `langgraph.json` to `app`; call once all routers are in."""
    http = config.http or {}
    backend = load_backend(config)
    server_auth = ServerAuth(backend, settings.api_key)
    if backend is not None and settings.api_key:
        logger.warning("Custom auth (auth.path) is configured; the shared API key is ignored")
    if backend is not None:
        logger.info(
            "Custom auth enabled from %s (%s)", (config.auth or {}).get("path"), backend.source
        )
    elif settings.api_key:
        logger.info("Auth: a shared API key is required in the x-api-key header")
    else:
        logger.info("Auth: none - anyone who can reach this server can use the API")

    disabled = {f for f in FAMILIES if http.get(f"disable_{f}")}

    headers_cfg = http.get("configurable_headers")
    if headers_cfg is not None and not isinstance(headers_cfg, dict):
        raise ConfigError(f"{config.path}: 'http.configurable_headers' must be an object")
    policy = HeaderPolicy(headers_cfg)

    prefix = http.get("mount_prefix") or ""
    if prefix and (not isinstance(prefix, str) or not prefix.startswith("/")):
        raise ConfigError(f"{config.path}: 'http.mount_prefix' must start with '/'")

    # Added innermost first: auth -> custom app -> edge -> CORS.
    public = PUBLIC_PATHS if settings.metrics_public else PUBLIC_PATHS - {"/metrics"}
    app.add_middleware(
        AuthMiddleware,
        auth=server_auth,
        headers=policy,
        routes_app=app,
        disabled=disabled,
        public=public,
    )
    if http.get("app"):
        user_app = _load_user_app(config, http["app"])
        target: ASGIApp = user_app
        if http.get("enable_custom_route_auth"):
            target = AuthMiddleware(
                user_app,
                auth=server_auth,
                headers=policy,
                routes_app=user_app,
                check_registry=False,
            )
        app.add_middleware(CustomRoutes, user_app=user_app, target=target)
        _chain_lifespan(app, user_app)
    app.add_middleware(EdgeMiddleware, prefix=prefix, max_body=settings.max_body_bytes)
    if disabled:
        _hide_from_openapi(app, disabled)
    if http.get("cors") is not False:
        app.add_middleware(CORSMiddleware, **_cors_options(http.get("cors")))
    app.state.auth = server_auth
    return server_auth
