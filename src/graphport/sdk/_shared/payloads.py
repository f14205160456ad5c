"""Request bodies and result checks of the resource clients.

Kept out of the async source so the generated sync client holds only calls, and so the wire
format is written once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

import httpx

from graphport.sdk._shared.sentinel import NOT_PROVIDED, NotProvided
from graphport.sdk._shared.urls import quote_path, run_created
from graphport.sdk.errors import RunError
from graphport.sdk.schema import RunCreateMetadata

_CHECKPOINT_DURING = "`checkpoint_during` is deprecated; use `durability` instead."


def not_none(**fields: Any) -> dict[str, Any]:
    """The fields whose value is not `None`."""
    return {k: v for k, v in fields.items() if v is not None}


def truthy(**fields: Any) -> dict[str, Any]:
    """The fields with a truthy value (the SDK omits empty filters and names)."""
    return {k: v for k, v in fields.items() if v}


def runs_path(thread_id: str | None, suffix: str = "") -> str:
    """`/threads/{id}/runs…` for a thread, `/runs…` for a stateless run."""
    if thread_id is None:
        return f"/runs{suffix}"
    return f"/threads/{quote_path(thread_id)}/runs{suffix}"


def run_path(thread_id: str, run_id: str, suffix: str = "") -> str:
    """Path of one run of a thread."""
    return f"/threads/{quote_path(thread_id)}/runs/{quote_path(run_id)}{suffix}"


def run_body(
    *,
    command: Mapping[str, Any] | None,
    langsmith_tracing: Mapping[str, Any] | None,
    checkpoint_during: bool | None,
    **fields: Any,
) -> dict[str, Any]:
    """Body of a run create/stream/wait: `None`s dropped, `langsmith_tracing` renamed."""
    _warn_checkpoint_during(checkpoint_during)
    return not_none(
        **fields,
        command=not_none(**command) if command else None,
        checkpoint_during=checkpoint_during,
        langsmith_tracer=langsmith_tracing,
    )


def run_created_hook(
    callback: Callable[[RunCreateMetadata], None] | None,
) -> Callable[[httpx.Response], None] | None:
    """Response hook that reports the new run's ids to `on_run_created`."""
    if callback is None:
        return None

    def on_response(response: httpx.Response) -> None:
        if metadata := run_created(response):
            callback(metadata)

    return on_response


WaitResult = list[dict[str, Any]] | dict[str, Any]
"""What a wait or join returns: the run's final state values (a list for list-valued state)."""


def check_run_result(result: WaitResult, raise_error: bool) -> WaitResult:
    """Raise `RunError` for a wait result that reports a failed run, when asked to."""
    error = result.get("__error__") if isinstance(result, dict) else None
    if raise_error and isinstance(error, dict):
        raise RunError(error.get("error"), error.get("message"))
    return result


def ttl_body(ttl: float | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A number of minutes means "delete after that long"; a mapping is sent as given."""
    if isinstance(ttl, int | float):
        return {"ttl": ttl, "strategy": "delete"}
    return ttl


def supersteps_body(
    supersteps: Sequence[Mapping[str, Sequence[Mapping[str, Any]]]] | None,
) -> list[dict[str, Any]] | None:
    """Supersteps to apply to a new thread; each update needs `values` and `as_node`."""
    if not supersteps:
        return None
    return [
        {
            "updates": [
                {"values": u["values"], "command": u.get("command"), "as_node": u["as_node"]}
                for u in step["updates"]
            ]
        }
        for step in supersteps
    ]


def check_namespace(namespace: Sequence[str]) -> Sequence[str]:
    """Store namespaces travel dot-joined, so a label must not contain a dot."""
    for label in namespace:
        if "." in label:
            raise ValueError(f"Invalid namespace label {label!r}: labels cannot contain '.'")
    return namespace


def cron_body(
    *,
    end_time: datetime | NotProvided | None,
    timezone: str | tzinfo | None,
    checkpoint_during: bool | None = None,
    multitask_strategy: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Body of a cron create or update; `None`s dropped.

    `end_time=None` is sent as `null` (clearing it on update); leave it `NOT_PROVIDED` to omit.
    """
    _warn_checkpoint_during(checkpoint_during)
    body = not_none(
        **fields,
        timezone=timezone_name(timezone),
        checkpoint_during=checkpoint_during,
        multitask_strategy=multitask_strategy or None,
    )
    if end_time is not NOT_PROVIDED:
        body["end_time"] = end_time.isoformat() if end_time else None
    return body


def timezone_name(tz: str | tzinfo | None) -> str | None:
    """IANA name of a timezone given as a name or a `tzinfo`."""
    if tz is None or isinstance(tz, str):
        return tz
    if isinstance(key := getattr(tz, "key", None), str):  # zoneinfo.ZoneInfo
        return key
    if name := tz.tzname(None):
        return name
    raise ValueError(f"Cannot name the timezone {tz!r}; pass a ZoneInfo or an IANA name.")


def _warn_checkpoint_during(checkpoint_during: bool | None) -> None:
    if checkpoint_during is not None:
        # Point at the caller of the resource method: here → builder → method → caller.
        warnings.warn(_CHECKPOINT_DURING, DeprecationWarning, stacklevel=4)
