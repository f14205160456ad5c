"""Types for writing auth handlers: users, the handler context, filters and the `value`
dicts each (resource, action) receives. Field lists follow the LangGraph Platform API so
handlers written for `langgraph_sdk.Auth` type-check unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import (
    Any,
    Literal,
    NotRequired,
    Protocol,
    Required,
    TypeAlias,
    TypedDict,
    runtime_checkable,
)

from graphport.auth._user import AuthenticatedUser, normalize_user

__all__ = [
    "AssistantsCreate",
    "AssistantsDelete",
    "AssistantsRead",
    "AssistantsSearch",
    "AssistantsUpdate",
    "AuthContext",
    "AuthenticatedUser",
    "Authenticator",
    "BaseAuthContext",
    "BaseUser",
    "CronsCreate",
    "CronsDelete",
    "CronsRead",
    "CronsSearch",
    "CronsUpdate",
    "FilterType",
    "Handler",
    "HandlerResult",
    "MinimalUser",
    "MinimalUserDict",
    "RunsCreate",
    "StoreDelete",
    "StoreGet",
    "StoreListNamespaces",
    "StorePut",
    "StoreSearch",
    "StudioUser",
    "ThreadTTL",
    "ThreadsCreate",
    "ThreadsDelete",
    "ThreadsRead",
    "ThreadsSearch",
    "ThreadsUpdate",
    "normalize_user",
    "on",
]

Resource = Literal["runs", "threads", "crons", "assistants", "store"]
Action = Literal[
    "create",
    "read",
    "update",
    "delete",
    "search",
    "create_run",
    "put",
    "get",
    "list_namespaces",
]
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
OnConflictBehavior = Literal["raise", "do_nothing"]
IfNotExists = Literal["create", "reject"]
MetadataInput = dict[str, Any]

FilterType: TypeAlias = dict[str, Any]
"""A metadata filter: `{key: value}` (exact), `{key: {"$eq": v}}`, `{key: {"$contains": v}}`
(list membership, or subset when `v` is a list), and top-level `$or` / `$and` lists."""

HandlerResult: TypeAlias = "bool | FilterType | None"


# --- users ----------------------------------------------------------------------------


@runtime_checkable
class MinimalUser(Protocol):
    """Anything with an `identity` is accepted as a user."""

    @property
    def identity(self) -> str: ...


class MinimalUserDict(TypedDict, total=False):
    """A user as a dict: `identity` is required, every other key is optional."""

    identity: Required[str]
    display_name: str
    is_authenticated: bool
    permissions: Sequence[str]


@runtime_checkable
class BaseUser(Protocol):
    """What handlers see as `ctx.user`: these attributes plus mapping-style access."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def display_name(self) -> str: ...

    @property
    def identity(self) -> str: ...

    @property
    def permissions(self) -> Sequence[str]: ...

    def __getitem__(self, key: str) -> Any: ...

    def __contains__(self, key: str) -> bool: ...

    def __iter__(self) -> Any: ...


class StudioUser:
    """A user coming from LangGraph Studio (identity = the Studio username)."""

    __slots__ = ("_is_authenticated", "_permissions", "username")

    def __init__(self, username: str, is_authenticated: bool = False) -> None:
        self.username = username
        self._is_authenticated = is_authenticated
        self._permissions = ["authenticated"] if is_authenticated else []

    @property
    def is_authenticated(self) -> bool:
        return self._is_authenticated

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def identity(self) -> str:
        return self.username

    @property
    def permissions(self) -> Sequence[str]:
        return self._permissions

    def __getitem__(self, key: str) -> Any:
        if key in ("identity", "display_name", "is_authenticated", "permissions"):
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in ("identity", "display_name", "is_authenticated", "permissions")

    def __iter__(self) -> Any:
        return iter(("identity", "display_name", "is_authenticated", "permissions"))


Authenticator: TypeAlias = Callable[
    ..., Awaitable["str | MinimalUser | MinimalUserDict | Mapping[str, Any] | tuple[Any, Any]"]
]
"""`@auth.authenticate` functions: parameters are injected by name (request, headers,
authorization, path, method, path_params, query_params, scope, user, scopes, body)."""


# --- handler context ----------------------------------------------------------------


@dataclass(frozen=True)
class BaseAuthContext:
    """The authenticated caller."""

    permissions: Sequence[str]
    user: BaseUser


@dataclass(frozen=True)
class AuthContext(BaseAuthContext):
    """The caller plus the resource and action being authorized."""

    resource: Resource
    action: Action


Handler: TypeAlias = Callable[..., Awaitable[HandlerResult]]
"""`async def handler(ctx: AuthContext, value: dict) -> None | bool | FilterType`."""


# --- values -----------------------------------------------------------------------------


class ThreadTTL(TypedDict, total=False):
    strategy: Literal["delete", "keep_latest"]
    ttl: float


class ThreadsCreate(TypedDict, total=False):
    thread_id: str
    metadata: MetadataInput
    if_exists: OnConflictBehavior
    ttl: ThreadTTL


class ThreadsRead(TypedDict, total=False):
    thread_id: str
    run_id: str | None


class ThreadsUpdate(TypedDict, total=False):
    thread_id: str
    metadata: MetadataInput
    action: Literal["interrupt", "rollback"] | None


class ThreadsDelete(TypedDict, total=False):
    thread_id: str
    run_id: str | None


class ThreadsSearch(TypedDict, total=False):
    metadata: MetadataInput
    values: MetadataInput
    status: ThreadStatus | None
    limit: int
    offset: int
    ids: Sequence[str] | None
    thread_id: str | None


class RunsCreate(TypedDict, total=False):
    assistant_id: str | None
    thread_id: str | None
    run_id: str | None
    status: RunStatus | None
    metadata: MetadataInput
    prevent_insert_if_inflight: bool
    multitask_strategy: MultitaskStrategy
    if_not_exists: IfNotExists
    after_seconds: float
    kwargs: dict[str, Any]
    action: Literal["interrupt", "rollback"] | None


class AssistantsCreate(TypedDict, total=False):
    assistant_id: str
    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: MetadataInput
    if_exists: OnConflictBehavior
    name: str
    description: str | None


class AssistantsRead(TypedDict, total=False):
    assistant_id: str
    metadata: MetadataInput


class AssistantsUpdate(TypedDict, total=False):
    assistant_id: str
    graph_id: str | None
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: MetadataInput
    name: str | None
    description: str | None
    version: int | None


class AssistantsDelete(TypedDict):
    assistant_id: str


class AssistantsSearch(TypedDict, total=False):
    graph_id: str | None
    metadata: MetadataInput
    limit: int
    offset: int


class CronsCreate(TypedDict, total=False):
    payload: dict[str, Any]
    schedule: str
    cron_id: str | None
    thread_id: str | None
    user_id: str | None
    end_time: datetime | None


class CronsRead(TypedDict):
    cron_id: str


class CronsDelete(TypedDict):
    cron_id: str


class CronsUpdate(TypedDict, total=False):
    cron_id: str
    payload: dict[str, Any] | None
    schedule: str | None


class CronsSearch(TypedDict, total=False):
    assistant_id: str | None
    thread_id: str | None
    limit: int
    offset: int


class StorePut(TypedDict, total=False):
    namespace: Required[tuple[str, ...]]
    key: Required[str]
    value: Required[dict[str, Any] | None]
    index: NotRequired[Literal[False] | list[str] | None]
    ttl: NotRequired[float | None]


class StoreGet(TypedDict, total=False):
    namespace: Required[tuple[str, ...]]
    key: Required[str]
    refresh_ttl: NotRequired[bool | None]


class StoreSearch(TypedDict, total=False):
    namespace: tuple[str, ...]
    filter: dict[str, Any] | None
    limit: int
    offset: int
    query: str | None
    refresh_ttl: bool | None


class StoreListNamespaces(TypedDict, total=False):
    namespace: tuple[str, ...] | None
    suffix: tuple[str, ...] | None
    max_depth: int | None
    limit: int
    offset: int


class StoreDelete(TypedDict):
    namespace: tuple[str, ...]
    key: str


# --- `Auth.types.on.<resource>.<action>.value` aliases for annotating handlers -------


class on:
    """Value types by decorator path, e.g. `value: Auth.types.on.threads.create.value`."""

    value = dict[str, Any]

    class threads:
        value = ThreadsCreate | ThreadsRead | ThreadsUpdate | ThreadsDelete | ThreadsSearch

        class create:
            value = ThreadsCreate

        class create_run:
            value = RunsCreate

        class read:
            value = ThreadsRead

        class update:
            value = ThreadsUpdate

        class delete:
            value = ThreadsDelete

        class search:
            value = ThreadsSearch

    class assistants:
        value = (
            AssistantsCreate
            | AssistantsRead
            | AssistantsUpdate
            | AssistantsDelete
            | AssistantsSearch
        )

        class create:
            value = AssistantsCreate

        class read:
            value = AssistantsRead

        class update:
            value = AssistantsUpdate

        class delete:
            value = AssistantsDelete

        class search:
            value = AssistantsSearch

    class crons:
        value = CronsCreate | CronsRead | CronsUpdate | CronsDelete | CronsSearch

        class create:
            value = CronsCreate

        class read:
            value = CronsRead

        class update:
            value = CronsUpdate

        class delete:
            value = CronsDelete

        class search:
            value = CronsSearch

    class store:
        value = StorePut | StoreGet | StoreSearch | StoreDelete | StoreListNamespaces

        class put:
            value = StorePut

        class get:
            value = StoreGet

        class search:
            value = StoreSearch

        class delete:
            value = StoreDelete

        class list_namespaces:
            value = StoreListNamespaces
