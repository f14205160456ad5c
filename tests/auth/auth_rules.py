"""Auth rules shared by the two test auth files: `build(Auth)` registers the same handlers
on a `graphport.Auth` or a `langgraph_sdk.Auth`, using that library's own exception class.

Tokens (`Authorization: Bearer <token>`) map to identities; a few identities exercise the
handler outcomes (False, assert, HTTPException) and the filter operators."""

from __future__ import annotations

from typing import Any

TOKENS = {
    "token-a": "user-a",
    "token-b": "user-b",
    "token-denied": "denied",
    "token-asserter": "asserter",
    "token-teapot": "teapot",
    "token-ops-eq": "ops-eq",
    "token-ops-contains": "ops-contains",
    "token-ops-subset": "ops-subset",
    "token-ops-or": "ops-or",
    "token-ops-and": "ops-and",
}
# Read filters per identity; everyone else sees only what they own.
FILTERS: dict[str, dict[str, Any]] = {
    "ops-eq": {"owner": {"$eq": "user-a"}},
    "ops-contains": {"members": {"$contains": "ops-contains"}},
    "ops-subset": {"members": {"$contains": ["ops-subset", "x"]}},
    "ops-or": {"$or": [{"owner": "ops-or"}, {"shared": True}]},
    "ops-and": {"$and": [{"shared": True}, {"$or": [{"level": 3}, {"level": 4}]}]},
}


def build(auth_cls: Any) -> Any:
    auth = auth_cls()
    http_exception = auth_cls.exceptions.HTTPException

    @auth.authenticate
    async def authenticate(authorization: str | None, path: str, method: str) -> Any:
        if not authorization:
            raise http_exception(status_code=401, detail="Missing credentials")
        scheme, _, token = authorization.partition(" ")
        if token == "forbidden-at-login":
            raise http_exception(status_code=403, detail="Account disabled")
        if token == "crash":
            raise RuntimeError("authenticator bug")
        if scheme.lower() != "bearer" or token not in TOKENS:
            raise http_exception(
                status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"}
            )
        identity = TOKENS[token]
        if identity == "user-b":  # the (permissions, user) form
            return (["runs:write"], {"identity": identity, "org": "globex"})
        return {"identity": identity, "permissions": ["runs:write", "me"], "org": "acme"}

    @auth.on
    async def owner_only(ctx: Any, value: dict[str, Any]) -> Any:
        me = ctx.user.identity
        if me == "denied":
            return False
        if me == "asserter":
            assert ctx.action == "never", "not allowed"
        if me == "teapot" and ctx.action == "create":
            raise http_exception(status_code=418, detail="I'm a teapot")
        if ctx.action in ("create", "create_run"):
            value.setdefault("metadata", {})["owner"] = me
        return FILTERS.get(me, {"owner": me})

    @auth.on.store
    async def own_namespace(ctx: Any, value: dict[str, Any]) -> None:
        # Every user gets a private root: ("docs",) becomes (identity, "docs").
        value["namespace"] = (ctx.user.identity, *(value.get("namespace") or ()))

    @auth.on.assistants.search
    async def assistants_search(ctx: Any, value: dict[str, Any]) -> Any:
        # A more specific handler wins over the global one: system assistants are listed.
        return {"$or": [{"owner": ctx.user.identity}, {"created_by": "system"}]}

    return auth
