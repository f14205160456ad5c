"""Loading `auth.path` and applying it: the authenticator call (parameters injected by
name) and the authorizer every service calls through `Caller.authorize`.

`auth.path` may name a `graphport.Auth` or a `langgraph_sdk.Auth`; both are reduced to an
`AuthBackend` (authenticator, handler table, global handler, context factory)."""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from langgraph_sdk.auth import Auth as SdkAuth
from langgraph_sdk.auth import types as sdk_types
from langgraph_sdk.auth.exceptions import HTTPException as SdkHTTPException
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request

from graphport.auth import Auth
from graphport.auth import types as auth_types
from graphport.auth.exceptions import HTTPException
from graphport.auth.types import Action, AuthenticatedUser, Resource, normalize_user
from graphport.server.errors import Forbidden, http_error
from graphport.server.graphs.config import ConfigError, LangGraphConfig, parse_graph_spec
from graphport.server.graphs.registry import exec_file
from graphport.server.services.caller import Caller

logger = logging.getLogger("graphport.auth")

HTTP_EXCEPTIONS = (HTTPException, SdkHTTPException, StarletteHTTPException)

# Names an authenticator may declare; anything else without a default is a config error.
AUTHENTICATE_PARAMS = frozenset(
    {
        "request",
        "body",
        "user",
        "path",
        "method",
        "scopes",
        "path_params",
        "query_params",
        "headers",
        "authorization",
        "scope",
    }
)


class Anonymous:
    """`ctx.user` when no authenticator is registered."""

    identity = ""
    display_name = "anonymous"
    is_authenticated = False
    permissions: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        if key in ("identity", "display_name", "is_authenticated", "permissions"):
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in ("identity", "display_name", "is_authenticated", "permissions")

    def __iter__(self) -> Any:
        return iter(("identity", "display_name", "is_authenticated", "permissions"))


ANONYMOUS = Anonymous()


@dataclass
class AuthBackend:
    """A loaded `Auth` object reduced to what the server calls."""

    authenticate: Callable[..., Any] | None
    handlers: dict[tuple[str, str], Callable[..., Any]]
    global_handler: Callable[..., Any] | None
    make_context: Callable[[list[str], Any, Resource, Action], Any]
    source: str = "graphport"
    authenticate_params: tuple[str, ...] = field(default=())

    def handler_for(self, resource: str, action: str) -> Callable[..., Any] | None:
        for key in ((resource, action), (resource, "*"), ("*", action), ("*", "*")):
            found = self.handlers.get(key)
            if found is not None:
                return found
        return self.global_handler


# --- loading -------------------------------------------------------------------------


def _graphport_context(
    permissions: list[str], user: Any, resource: Resource, action: Action
) -> auth_types.AuthContext:
    return auth_types.AuthContext(
        permissions=permissions, user=user, resource=resource, action=action
    )


def _sdk_context(
    permissions: list[str], user: Any, resource: Resource, action: Action
) -> sdk_types.AuthContext:
    return sdk_types.AuthContext(
        permissions=permissions, user=user, resource=resource, action=action
    )


def adapt(obj: Any, where: str = "auth.path") -> AuthBackend:
    """Reduce a `graphport.Auth` or `langgraph_sdk.Auth` instance to an `AuthBackend`."""
    if isinstance(obj, Auth):
        backend = AuthBackend(
            authenticate=obj._authenticate_handler,
            handlers=dict(obj._handlers),
            global_handler=obj._global_handler,
            make_context=_graphport_context,
        )
    elif isinstance(obj, SdkAuth):
        handlers: dict[tuple[str, str], Callable[..., Any]] = {}
        for key, registered in obj._handlers.items():
            if registered:
                handlers[key] = registered[-1]
        globals_ = list(obj._global_handlers)
        if len(globals_) > 1:
            logger.warning(
                "%s registers %d global @auth.on handlers; the last one is used",
                where,
                len(globals_),
            )
        backend = AuthBackend(
            authenticate=obj._authenticate_handler,
            handlers=handlers,
            global_handler=globals_[-1] if globals_ else None,
            make_context=_sdk_context,
            source="langgraph_sdk",
        )
    else:
        raise ConfigError(
            f"{where} must point to a graphport.Auth or langgraph_sdk.Auth instance, "
            f"got {type(obj).__name__}"
        )
    if backend.authenticate is not None:
        backend.authenticate_params = _authenticate_params(backend.authenticate, where)
    return backend


def _authenticate_params(fn: Callable[..., Any], where: str) -> tuple[str, ...]:
    names = []
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in AUTHENTICATE_PARAMS:
            names.append(name)
        elif param.default is param.empty:
            raise ConfigError(
                f"{where}: the authenticator parameter '{name}' cannot be provided; "
                f"use any of {sorted(AUTHENTICATE_PARAMS)}"
            )
    return tuple(names)


def load_object(config: LangGraphConfig, spec: str, what: str) -> Any:
    """Import `./file.py:var` (relative to the config's folder) or `module:var`."""
    try:
        location, variable, is_file = parse_graph_spec(spec)
    except ValueError as e:
        raise ConfigError(f"{config.path}: {what}: {e}") from None
    try:
        module = (
            _import_file(config.base_dir / location)
            if is_file
            else (importlib.import_module(location))
        )
    except ConfigError:
        raise
    except Exception as e:
        raise ConfigError(
            f"{config.path}: {what}: cannot import {location}: {type(e).__name__}: {e}"
        ) from e
    try:
        return getattr(module, variable)
    except AttributeError:
        raise ConfigError(
            f"{config.path}: {what}: variable '{variable}' not found in {location}"
        ) from None


def _import_file(file: Path) -> ModuleType:
    file = file.resolve()
    if not file.is_file():
        raise ConfigError(f"file not found: {file}")
    return exec_file(file)


def load_backend(config: LangGraphConfig) -> AuthBackend | None:
    """The backend `auth.path` names, or None when custom auth is not configured."""
    auth = config.auth or {}
    spec = auth.get("path")
    if not spec:
        return None
    if not isinstance(spec, str):
        raise ConfigError(f"{config.path}: 'auth.path' must be a string 'file.py:variable'")
    return adapt(load_object(config, spec, "auth.path"), "auth.path")


# --- request time --------------------------------------------------------------------


class AuthRejected(Exception):
    """Authentication failed: answer `status` with `{"detail": detail}`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


Observer = Callable[[Caller, Resource, Action, dict[str, Any]], None]


class ServerAuth:
    """What the app holds: the backend (or None), and the optional shared API key."""

    def __init__(self, backend: AuthBackend | None, api_key: str | None = None) -> None:
        self.backend = backend
        self.api_key = api_key if backend is None else None
        # Test hook: sees every authorization request (caller, resource, action, value).
        self.observer: Observer | None = None

    def caller(self, user: Any, permissions: list[str], headers: dict[str, str]) -> Caller:
        authorizer = self.authorize if self.backend is not None else _allow_all
        return Caller(user, list(permissions), authorizer, headers)

    def caller_for(self, user: Mapping[str, Any] | None) -> Caller:
        """A caller acting as a stored user (e.g. a cron's creator)."""
        if not user:
            return self.caller(None, [], {})
        restored = normalize_user(dict(user))
        return self.caller(restored, restored.permissions, {})

    async def authenticate(
        self, conn: HTTPConnection, path_params: dict[str, Any]
    ) -> tuple[AuthenticatedUser | None, list[str]]:
        """Run the authenticator; raises `AuthRejected` (401 or 403)."""
        assert self.backend is not None
        fn = self.backend.authenticate
        if fn is None:
            return None, []
        kwargs = _inject(self.backend.authenticate_params, conn, path_params)
        try:
            result = fn(**kwargs)
            if inspect.isawaitable(result):
                result = await result
        except HTTP_EXCEPTIONS as e:
            status = 401 if e.status_code == 401 else 403
            headers = dict(e.headers) if e.headers else None
            raise AuthRejected(status, str(e.detail), headers) from None
        except AssertionError:
            raise AuthRejected(403, "Forbidden") from None
        except Exception:
            logger.exception("The authenticator raised")
            raise AuthRejected(403, "Forbidden") from None
        if result is None:
            raise AuthRejected(401, "Unauthorized")
        try:
            user = normalize_user(result)
        except ValueError as e:
            logger.error("The authenticator returned an unusable user: %s", e)
            raise AuthRejected(403, "Forbidden") from None
        return user, user.permissions

    async def authorize(
        self, caller: Caller, resource: Resource, action: Action, value: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Run the most specific handler; returns a metadata filter or None (allow)."""
        if self.observer is not None:
            self.observer(caller, resource, action, value)
        assert self.backend is not None
        handler = self.backend.handler_for(resource, action)
        if handler is None:
            return None
        if "metadata" in value and value["metadata"] is None:
            value["metadata"] = {}
        user = caller.user if caller.user is not None else ANONYMOUS
        ctx = self.backend.make_context(list(caller.permissions), user, resource, action)
        try:
            result = await handler(ctx=ctx, value=value)
        except HTTP_EXCEPTIONS as e:
            headers = dict(e.headers) if e.headers else None
            raise http_error(e.status_code, str(e.detail), headers) from None
        except AssertionError:
            raise Forbidden("Forbidden") from None
        if result is None or result is True:
            return None
        if result is False:
            raise Forbidden("Forbidden")
        if isinstance(result, dict):
            if resource != "store":
                check_filter(result)
            return result or None
        raise TypeError(
            f"Auth handler for {resource}.{action} returned {type(result).__name__}; "
            "expected None, a bool or a filter dict"
        )


async def _allow_all(
    caller: Caller, resource: Resource, action: Action, value: dict[str, Any]
) -> dict[str, Any] | None:
    return None


def check_filter(flt: Any, depth: int = 0) -> None:
    """Reject filter dicts the SQL compiler would not understand (a server-side bug)."""
    if not isinstance(flt, dict):
        raise TypeError(f"Auth filter must be a dict, got {type(flt).__name__}")
    for key, cond in flt.items():
        if key in ("$or", "$and"):
            if depth >= 2:
                raise TypeError("Auth filters may nest $or/$and at most two levels deep")
            if not isinstance(cond, list) or len(cond) < 2:
                raise TypeError(f"Auth filter {key} needs a list of at least two filters")
            for sub in cond:
                check_filter(sub, depth + 1)
        elif not isinstance(key, str) or key.startswith("$"):
            raise TypeError(f"Unsupported auth filter key {key!r}")
        elif isinstance(cond, dict) and len(cond) == 1 and next(iter(cond)).startswith("$"):
            op = next(iter(cond))
            if op not in ("$eq", "$contains"):
                raise TypeError(f"Unsupported auth filter operator {op!r} on {key!r}")


def _inject(
    names: tuple[str, ...], conn: HTTPConnection, path_params: dict[str, Any]
) -> dict[str, Any]:
    scope = conn.scope
    out: dict[str, Any] = {}
    for name in names:
        if name == "request":
            out[name] = conn if isinstance(conn, Request) else None
        elif name == "headers":
            out[name] = dict(scope.get("headers") or [])
        elif name == "authorization":
            out[name] = conn.headers.get("authorization")
        elif name == "path":
            out[name] = scope.get("path")
        elif name == "method":
            out[name] = scope.get("method") or "WEBSOCKET"
        elif name == "path_params":
            out[name] = dict(path_params)
        elif name == "query_params":
            out[name] = conn.query_params
        elif name == "scope":
            out[name] = scope
        elif name == "user":
            out[name] = scope.get("user")
        elif name == "scopes":
            creds = scope.get("auth")
            out[name] = list(getattr(creds, "scopes", []) or [])
        elif name == "body":
            out[name] = None
    return out
