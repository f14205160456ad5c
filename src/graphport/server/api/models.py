"""Request bodies. Unknown keys are accepted and ignored (official clients send extras),
though like every value of a body they must be storable; known keys are typed so a bad
value is a 422 naming the field. They also make the OpenAPI document (`api/openapi.py`)."""

from __future__ import annotations

import math
from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from graphport.server.services import extract, state
from graphport.types import StreamMode

Limit = Field(10, ge=1, le=1000)
Offset = Field(0, ge=0)
SortOrder = Literal["asc", "desc"]
JSONObject = dict[str, Any]
# Ids checked with `params.valid_uuid` by the handler; documented as such.
UUIDText = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
# A loaded graph's id, or an assistant id or graph id: the document lists the graphs.
# (`x-component` marks become references to components the document adds.)
GraphID = Annotated[str, WithJsonSchema({"type": "string", "x-component": "GraphID"})]
AssistantRef = Annotated[str, WithJsonSchema({"type": "string", "x-component": "AssistantRef"})]


def _json_types(annotation: Any) -> set[str] | None:
    """The scalar JSON types an annotation accepts (None: any value, as for `Any`)."""
    if get_origin(annotation) is Annotated:
        return _json_types(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        kinds = [_json_types(arg) for arg in get_args(annotation) if arg is not type(None)]
        return None if None in kinds else set().union(*kinds)  # type: ignore[arg-type]
    if annotation is Any:
        return None
    if get_origin(annotation) is Literal:
        return set().union(*(_JSON_TYPES[type(value)] for value in get_args(annotation)))
    # Containers (lists, objects, models) take no scalar at all.
    return _JSON_TYPES.get(annotation, set())


_JSON_TYPES: dict[Any, set[str]] = {
    bool: {"boolean"},
    int: {"integer"},
    float: {"integer", "number"},
    str: {"string"},
    datetime: {"string"},
}


def _json_type(value: Any) -> set[str]:
    """JSON Schema's view of a value: `5.0` is an integer too."""
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer"}
    if isinstance(value, float):
        return {"number", "integer"} if value.is_integer() else {"number"}
    return {"string"} if isinstance(value, str) else {"other"}


class Body(BaseModel):
    model_config = ConfigDict(extra="allow")

    @field_validator("*", mode="before")
    @classmethod
    def _strict_json_type(cls, value: Any, info: ValidationInfo) -> Any:
        """A scalar must have the JSON type the document states: pydantic alone would take
        `0` for `false`, `true` for `1` and `"5"` for `5`."""
        if value is None or info.field_name is None:
            return value
        kinds = _json_types(cls.model_fields[info.field_name].annotation)
        scalar = isinstance(value, (bool, int, float, str))
        if scalar and kinds is not None and not _json_type(value) & kinds:
            raise ValueError(f"Input should be of JSON type {' or '.join(sorted(kinds))}")
        return value

    def data(self) -> dict[str, Any]:
        """Only the declared fields, with their defaults."""
        fields = type(self).model_fields
        return {k: v for k, v in self.model_dump().items() if k in fields}

    def sent(self) -> set[str]:
        return set(self.model_fields_set)


class Checkpoint(Body):
    thread_id: str | None = None
    checkpoint_ns: str = ""
    checkpoint_id: str | None = None
    checkpoint_map: JSONObject | None = None


# --- assistants and threads: shared ------------------------------------------------------

# Beyond these, offsets and versions overflow the databases' 64/32-bit integers.
MaxOffset = 2**62
MaxVersion = 2**31 - 1
# TTLs are minutes from now; a datetime cannot go past year 9999 (about 4e9 minutes).
MaxTTLMinutes = 1_000_000_000
TTLMinutes = Annotated[float, Field(gt=0, le=MaxTTLMinutes)]
PageOffset = Field(0, ge=0, le=MaxOffset)
# A run's delay, within the same bound (in seconds).
MaxDelaySeconds = MaxTTLMinutes * 60


def _one_of(expected: str) -> WrapValidator:
    """One readable error for a union ("values: Input should be …") instead of one per
    member of the union."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("union_type", f"Input should be {expected}") from None

    return WrapValidator(check)


def _ttl_object(value: Any) -> Any:
    """A bare number of minutes means `{"strategy": "delete", "ttl": minutes}`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"strategy": "delete", "ttl": value}
    return value


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INT64 = range(INT64_MIN, INT64_MAX + 1)


def _unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """Where a JSON document holds something neither database can store, and what: NUL in
    a key or string (PostgreSQL text/JSONB), integers beyond 64 bits, NaN or infinities
    (the JSON encoder)."""
    here = path or "body"
    if isinstance(value, str):
        return (here, "NUL") if "\x00" in value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if value in _INT64 else (here, "int")
    if isinstance(value, float):
        return None if math.isfinite(value) else (here, "float")
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return inner, "NUL"
            found = _unstorable(item, inner)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _unstorable(item, f"{path}[{i}]")
            if found:
                return found
    return None


_UNSTORABLE = {
    "NUL": "strings and property names must not contain NUL (\\u0000)",
    "int": "integers must fit in 64 bits",
    "float": "numbers must be finite (no NaN or Infinity)",
}


class SafeBody(Body):
    """A body both backends can store as given (PostgreSQL cannot hold NUL anywhere),
    rejected the same way up front on both (docs/api.md#conventions)."""

    @model_validator(mode="before")
    @classmethod
    def _reject_unstorable(cls, data: Any) -> Any:
        found = _unstorable(data)
        if found:
            where, kind = found
            where = where.replace("\x00", "\\u0000")
            raise ValueError(f"{where}: {_UNSTORABLE[kind]}")
        return data


# --- assistants ---------------------------------------------------------------------------

AssistantSelect = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]


# The width of the name column.
AssistantName = Annotated[str, Field(max_length=255)]


class AssistantCreate(SafeBody):
    graph_id: GraphID
    assistant_id: UUIDText | None = None
    config: JSONObject | None = None
    context: JSONObject | None = None
    metadata: JSONObject | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    name: AssistantName | None = None
    description: str | None = None


class AssistantPatch(SafeBody):
    graph_id: GraphID | None = None
    config: JSONObject | None = None
    context: JSONObject | None = None
    metadata: JSONObject | None = None
    name: AssistantName | None = None
    description: str | None = None


class AssistantCount(SafeBody):
    metadata: JSONObject | None = None
    graph_id: str | None = None  # any id: an unknown graph counts 0 (search: 404)
    name: str | None = None


class AssistantSearch(AssistantCount):
    limit: int = Limit
    offset: int = PageOffset
    sort_by: Literal["assistant_id", "created_at", "updated_at", "name", "graph_id"] | None = None
    sort_order: SortOrder | None = None
    select: list[AssistantSelect] | None = None


class AssistantVersionsSearch(SafeBody):
    metadata: JSONObject | None = None
    limit: int = Limit
    offset: int = PageOffset


class AssistantLatest(SafeBody):
    version: int = Field(ge=1, le=MaxVersion)


# --- threads ------------------------------------------------------------------------------

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
ThreadSelect = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "status",
    "values",
    "interrupts",
]


class ThreadTTL(SafeBody):
    strategy: Literal["delete", "keep_latest"] = "delete"
    ttl: TTLMinutes


class SuperstepUpdate(SafeBody):
    values: Any = None
    command: Command | None = None
    as_node: str


class Superstep(SafeBody):
    updates: list[SuperstepUpdate] = Field(min_length=1)


# `{strategy, ttl}`, or a bare number of minutes with the "delete" strategy.
TTL = Annotated[ThreadTTL | None, BeforeValidator(_ttl_object)]


class ThreadCreate(SafeBody):
    # Supersteps need the graph they apply to (422 without, 404 for an unknown graph).
    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "required": ["supersteps"],
                "properties": {"supersteps": {"type": "array", "minItems": 1}},
            },
            "then": {
                "required": ["metadata"],
                "properties": {
                    "metadata": {
                        "type": "object",
                        "required": ["graph_id"],
                        "properties": {"graph_id": {"x-component": "GraphID"}},
                    }
                },
            },
        }
    )

    thread_id: UUIDText | None = None
    metadata: JSONObject | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    ttl: TTL = None
    supersteps: list[Superstep] | None = None


class ThreadPatch(SafeBody):
    metadata: JSONObject | None = None
    ttl: TTL = None


class ThreadCount(SafeBody):
    metadata: JSONObject | None = None
    values: JSONObject | None = None
    status: ThreadStatus | None = None


Extract = Annotated[
    dict[str, str],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": extract.MAX_EXTRACT,
            "propertyNames": {
                "pattern": extract.ALIAS_PATTERN,
                "not": {"enum": sorted(extract.RESERVED)},
            },
            "additionalProperties": {"type": "string", "pattern": extract.PATH_PATTERN},
        }
    ),
]


class ThreadSearch(ThreadCount):
    ids: list[UUIDText] | None = None
    limit: int = Limit
    offset: int = PageOffset
    sort_by: (
        Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None
    ) = None
    sort_order: SortOrder | None = None
    select: list[ThreadSelect] | None = None
    extract: Extract | None = None


class ThreadPrune(SafeBody):
    thread_ids: list[UUIDText]
    strategy: Literal["delete", "keep_latest"] = "delete"


class StateAtCheckpoint(SafeBody):
    checkpoint: Checkpoint
    subgraphs: bool = False


class ThreadStateUpdate(SafeBody):
    values: Annotated[
        JSONObject | list[Any] | None, _one_of("an object, an array of updates, or null")
    ] = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: Checkpoint | None = None


# History filters: keys both checkpointers read the same way (422 otherwise).
HistoryFilter = Annotated[
    JSONObject,
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": state.FILTER_KEY_PATTERN},
            "additionalProperties": True,
        }
    ),
]


class ThreadStateSearch(SafeBody):
    # The official handler's default when `limit` is omitted (the SDK always sends one).
    limit: int = Field(default=1, ge=1, le=1000)
    before: Annotated[
        str | Checkpoint | JSONObject | None,
        _one_of("a checkpoint id or a checkpoint object"),
    ] = None
    metadata: HistoryFilter | None = None
    checkpoint: Checkpoint | None = None


# --- runs ---------------------------------------------------------------------------------

StreamModeName = StreamMode
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]


class Send(SafeBody):
    node: str
    input: Any = None


class Command(SafeBody):
    update: JSONObject | list[Any] | None = None
    resume: Any = None
    goto: Send | str | list[Send | str] | None = None


class RunPayload(SafeBody):
    """The execution fields a run stores, shared by run creation and cron payloads."""

    input: Any = None
    metadata: JSONObject | None = None
    config: JSONObject | None = None
    context: JSONObject | None = None
    webhook: str | None = Field(None, min_length=1, max_length=65536)
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    checkpoint_during: bool | None = None
    durability: Literal["sync", "async", "exit"] | None = None


class RunCreateStateless(RunPayload):
    # Resuming needs a thread (400 otherwise).
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["command"],
                "properties": {
                    "command": {
                        "type": "object",
                        "required": ["resume"],
                        "properties": {"resume": {"not": {"type": "null"}}},
                    }
                },
            }
        }
    )

    assistant_id: AssistantRef
    command: Command | None = None
    feedback_keys: list[str] | None = None
    after_seconds: float | None = Field(None, ge=0, le=MaxDelaySeconds)
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None


class RunCreateStateful(RunCreateStateless):
    model_config = ConfigDict(json_schema_extra=None)

    checkpoint: Checkpoint | None = None
    checkpoint_id: UUIDText | None = None
    multitask_strategy: Literal["reject", "rollback", "interrupt", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None


class RunsCancel(SafeBody):
    """Either a `status`, or a `thread_id` with `run_ids` (422 otherwise)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["status"],
                    "properties": {
                        "status": {"type": "string"},
                        "thread_id": {"type": "null"},
                        "run_ids": {"type": "null"},
                    },
                },
                {
                    "required": ["thread_id", "run_ids"],
                    "properties": {
                        "status": {"type": "null"},
                        "thread_id": {"type": "string"},
                        "run_ids": {"type": "array", "minItems": 1},
                    },
                },
            ]
        }
    )

    status: Literal["pending", "running", "all"] | None = None
    thread_id: UUIDText | None = None
    run_ids: list[UUIDText] | None = None
