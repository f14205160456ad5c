"""Custom authentication and authorization for a Graphport deployment.

Point `langgraph.json` at an `Auth` object (`"auth": {"path": "./auth.py:auth"}`)::

    from graphport import Auth

    auth = Auth()

    @auth.authenticate
    async def who(authorization: str | None) -> str:
        if authorization != "Bearer secret":
            raise Auth.exceptions.HTTPException(status_code=401)
        return "alice"

    @auth.on
    async def owner_only(ctx: Auth.types.AuthContext, value: dict):
        value.setdefault("metadata", {})["owner"] = ctx.user.identity
        return {"owner": ctx.user.identity}

The surface matches `langgraph_sdk.Auth`, and the server accepts either. This module only
uses the standard library: it is imported by user code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphport.auth import exceptions, types
from graphport.auth.types import StudioUser

__all__ = ["Auth", "exceptions", "is_studio_user", "types"]

F = TypeVar("F", bound=Callable[..., Any])

RESOURCE_ACTIONS: dict[str, tuple[str, ...]] = {
    "threads": ("create", "read", "update", "delete", "search", "create_run"),
    "assistants": ("create", "read", "update", "delete", "search"),
    "crons": ("create", "read", "update", "delete", "search"),
    "store": ("put", "get", "search", "delete", "list_namespaces"),
}
ALL_ACTIONS = frozenset(a for actions in RESOURCE_ACTIONS.values() for a in actions)


def is_studio_user(user: Any) -> bool:
    """Whether the request came from LangGraph Studio."""
    return isinstance(user, StudioUser)


def _names(kind: str, given: str | Sequence[str] | None, allowed: frozenset[str]) -> list[str]:
    if given is None:
        return ["*"]
    items = [given] if isinstance(given, str) else list(given)
    if not items:
        raise ValueError(f"Auth handler: '{kind}' must not be empty")
    for item in items:
        if item != "*" and item not in allowed:
            raise ValueError(
                f"Auth handler: unknown {kind[:-1]} {item!r}; expected one of {sorted(allowed)}"
            )
    return items


def _check_handler(fn: Any) -> None:
    name = getattr(fn, "__name__", repr(fn))
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn).__call__
    if not inspect.iscoroutinefunction(target):
        raise ValueError(
            f"Auth handler '{name}' must be an async function (`async def {name}(ctx, value)`)"
        )
    params = inspect.signature(fn).parameters
    for required in ("ctx", "value"):
        if required not in params:
            raise ValueError(
                f"Auth handler '{name}' must take a parameter named '{required}'"
                " (`async def handler(ctx, value)`)"
            )


class _Target:
    """`@auth.on.<resource>.<action>`: registers for one (resource, action) pair."""

    __slots__ = ("_action", "_auth", "_resource")

    def __init__(self, auth: Auth, resource: str, action: str) -> None:
        self._auth, self._resource, self._action = auth, resource, action

    def __call__(self, fn: F) -> F:
        self._auth._register([self._resource], [self._action], fn)
        return fn


class _ResourceOn:
    """`@auth.on.<resource>` (all actions), `@auth.on.<resource>(actions=...)`, and
    `.<action>` attributes."""

    def __init__(self, auth: Auth, resource: str) -> None:
        self._auth = auth
        self._resource = resource
        for action in RESOURCE_ACTIONS[resource]:
            setattr(self, action, _Target(auth, resource, action))

    def __call__(
        self,
        fn: F | None = None,
        *,
        resources: str | Sequence[str] | None = None,
        actions: str | Sequence[str] | None = None,
    ) -> Any:
        if resources is not None:
            given = [resources] if isinstance(resources, str) else list(resources)
            if any(r != self._resource for r in given):
                raise ValueError(
                    f"@auth.on.{self._resource} only registers handlers for "
                    f"'{self._resource}'; use @auth.on(resources=...) for others"
                )
        allowed = frozenset(RESOURCE_ACTIONS[self._resource])
        chosen = _names("actions", actions, allowed)
        if fn is not None:
            self._auth._register([self._resource], chosen, fn)
            return fn

        def decorator(handler: F) -> F:
            self._auth._register([self._resource], chosen, handler)
            return handler

        return decorator


class _On:
    """`@auth.on` (global), `@auth.on(resources=..., actions=...)`, `@auth.on.<resource>…`."""

    def __init__(self, auth: Auth) -> None:
        self._auth = auth
        self.threads = _ResourceOn(auth, "threads")
        self.assistants = _ResourceOn(auth, "assistants")
        self.crons = _ResourceOn(auth, "crons")
        self.store = _ResourceOn(auth, "store")

    def __call__(
        self,
        fn: F | None = None,
        *,
        resources: str | Sequence[str] | None = None,
        actions: str | Sequence[str] | None = None,
    ) -> Any:
        if fn is not None:
            if resources is not None or actions is not None:
                raise ValueError("Use @auth.on(resources=..., actions=...) as a decorator")
            self._auth._register_global(fn)
            return fn
        chosen_resources = _names("resources", resources, frozenset(RESOURCE_ACTIONS))
        chosen_actions = _names("actions", actions, ALL_ACTIONS)

        def decorator(handler: F) -> F:
            self._auth._register(chosen_resources, chosen_actions, handler)
            return handler

        return decorator


class Auth:
    """Authentication (`@auth.authenticate`) and authorization (`@auth.on…`) for a server.

    At request time the single most specific handler runs: (resource, action), then
    (resource, "*"), ("*", action), ("*", "*"), then the global `@auth.on` handler. It
    returns None/True (allow), False (403), or a metadata filter dict; it may raise
    `Auth.exceptions.HTTPException`, and may modify `value` (e.g. stamp an owner).
    """

    __slots__ = ("_authenticate_handler", "_global_handler", "_handlers", "on")

    types = types
    exceptions = exceptions

    def __init__(self) -> None:
        self._authenticate_handler: Callable[..., Any] | None = None
        self._handlers: dict[tuple[str, str], Callable[..., Any]] = {}
        self._global_handler: Callable[..., Any] | None = None
        self.on = _On(self)

    def authenticate(self, fn: F) -> F:
        """Register the authenticator; its parameters are injected by name."""
        if self._authenticate_handler is not None:
            raise ValueError(
                "An authenticator is already registered "
                f"({getattr(self._authenticate_handler, '__name__', '?')}); only one is allowed"
            )
        if not callable(fn):
            raise ValueError("@auth.authenticate must decorate a function")
        self._authenticate_handler = fn
        return fn

    def _register_global(self, fn: Callable[..., Any]) -> None:
        _check_handler(fn)
        if self._global_handler is not None:
            raise ValueError("A global @auth.on handler is already registered; only one is allowed")
        self._global_handler = fn

    def _register(self, resources: list[str], actions: list[str], fn: Callable[..., Any]) -> None:
        _check_handler(fn)
        pairs = [(r, a) for r in resources for a in actions]
        for pair in pairs:
            if pair in self._handlers:
                raise ValueError(f"An auth handler is already registered for {pair[0]}.{pair[1]}")
        for pair in pairs:
            self._handlers[pair] = fn

    def _handler_for(self, resource: str, action: str) -> Callable[..., Any] | None:
        """The most specific handler for (resource, action), or None."""
        for key in ((resource, action), (resource, "*"), ("*", action), ("*", "*")):
            found = self._handlers.get(key)
            if found is not None:
                return found
        return self._global_handler

    def __repr__(self) -> str:
        keys = ", ".join(f"{r}.{a}" for r, a in self._handlers)
        return f"Auth(authenticate={self._authenticate_handler is not None}, handlers=[{keys}])"
