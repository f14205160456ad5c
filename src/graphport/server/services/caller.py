"""Who is calling, and the one hook through which every service asks for authorization.

With no auth configured the authorizer allows everything; the auth layer plugs in a real
one. Services call `authorize` before every storage operation and pass the returned
filter down to SQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphport.auth.types import Action, Resource

# (caller, resource, action, value) -> metadata filter or None; may mutate value or raise.
Authorizer = Callable[
    ["Caller", Resource, Action, dict[str, Any]], Awaitable[dict[str, Any] | None]
]


async def allow_all(
    caller: Caller, resource: Resource, action: Action, value: dict[str, Any]
) -> dict[str, Any] | None:
    return None


@dataclass
class Caller:
    user: Any = None
    permissions: list[str] = field(default_factory=list)
    authorizer: Authorizer = allow_all
    # Request headers copied into run configs, set by the api layer.
    configurable_headers: dict[str, str] = field(default_factory=dict)

    @property
    def identity(self) -> str | None:
        if self.user is None:
            return None
        return getattr(self.user, "identity", None)

    async def authorize(
        self, resource: Resource, action: Action, value: dict[str, Any]
    ) -> dict[str, Any] | None:
        return await self.authorizer(self, resource, action, value)

    def user_json(self) -> dict[str, Any] | None:
        """The user as JSON (stored with a run, rebuilt as `langgraph_auth_user`)."""
        if self.user is None:
            return None
        dump = getattr(self.user, "to_dict", None)
        if callable(dump):
            return dict(dump())
        return {
            "identity": self.identity,
            "display_name": getattr(self.user, "display_name", self.identity),
            "is_authenticated": bool(getattr(self.user, "is_authenticated", True)),
            "permissions": list(self.permissions),
        }


SYSTEM = Caller()
