"""Crons: a stored run-create body fired on a schedule (docs/api.md#crons).

Schedules are evaluated on the wall clock of the cron's time zone and stored as UTC, so
"every day at 09:00 Europe/Paris" keeps meaning 09:00 across DST changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import uuid_utils.compat as uuid7
from croniter import croniter
from croniter.croniter import CroniterError

from graphport.auth.types import Action
from graphport.server.core import Core
from graphport.server.errors import BadRequest, NotFound, Unprocessable
from graphport.server.serde import utcnow
from graphport.server.services import assistants as assistant_service
from graphport.server.services import threads as thread_service
from graphport.server.services.caller import SYSTEM, Caller
from graphport.server.services.hygiene import (
    clean_config,
    clean_context,
    clean_metadata,
    mirror_config_context,
)
from graphport.server.storage import crons as store

# Run-create fields a cron stores in its payload and may change on PATCH.
PATCHABLE_PAYLOAD = (
    "input",
    "metadata",
    "config",
    "context",
    "webhook",
    "interrupt_before",
    "interrupt_after",
    "stream_mode",
    "stream_subgraphs",
    "stream_resumable",
    "durability",
)
CREATE_PAYLOAD = (*PATCHABLE_PAYLOAD, "checkpoint_during", "multitask_strategy")
# What a patch may change: at least one of these must be sent.
UPDATABLE = (
    "schedule", "timezone", "end_time", "enabled", "on_run_completed", *PATCHABLE_PAYLOAD
)
# Enough to cross any run of non-existent or repeated wall-clock times.
_MAX_CANDIDATES = 1000


# --- schedules ----------------------------------------------------------------------------


def _any_case(name: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in name)


def _field(number: str, names: tuple[str, ...] = ()) -> str:
    value = "|".join([number, *map(_any_case, names)])
    item = f"(?:\\*|(?:{value})(?:-(?:{value}))?)(?:/0*[1-9][0-9]*)?"
    return f"{item}(?:,{item})*"


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# What a schedule may be, in the API document too: five fields (minute hour day-of-month
# month day-of-week) of values, ranges, lists and steps, or an alias such as `@daily`.
SCHEDULE_PATTERN = (
    "^(?:@(?:yearly|annually|monthly|weekly|daily|midnight|hourly)|"
    + " ".join(
        [
            _field("[0-5]?[0-9]"),
            _field("[01]?[0-9]|2[0-3]"),
            _field("0?[1-9]|[12][0-9]|3[01]"),
            _field("0?[1-9]|1[0-2]", _MONTHS),
            _field("[0-7]", _DAYS),
        ]
    )
    + ")$"
)
_SCHEDULE = re.compile(SCHEDULE_PATTERN)
# The IANA names this machine knows (what the document lists, too).
TIMEZONES = sorted(available_timezones())


def parse_schedule(schedule: str) -> croniter:
    """A validated 5-field schedule (aliases such as `@daily` allowed); 422 otherwise."""
    if not _SCHEDULE.match(schedule):
        raise Unprocessable(
            f"Invalid cron schedule {schedule!r}: expected 5 fields (minute hour day-of-month"
            " month day-of-week) or an alias such as @daily"
        )
    try:
        parsed = croniter(schedule)
    except (CroniterError, ValueError, TypeError) as exc:
        raise Unprocessable(f"Invalid cron schedule {schedule!r}: {exc}") from None
    if len(parsed.expanded) != 5:
        raise Unprocessable(
            f"Invalid cron schedule {schedule!r}: expected 5 fields"
            " (minute hour day-of-month month day-of-week)"
        )
    return parsed


def parse_timezone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    if name not in TIMEZONES:
        raise Unprocessable(f"Invalid timezone {name!r}: expected an IANA name")
    return ZoneInfo(name)


def _second_occurrence(local: datetime) -> bool:
    """Whether `local` is the repeat of a wall-clock time the DST fall-back shows twice."""
    wall = local.replace(tzinfo=None)
    first, second = (wall.replace(tzinfo=local.tzinfo, fold=f) for f in (0, 1))
    ambiguous = first.utcoffset() != second.utcoffset() and (
        first.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) == wall
    )
    return ambiguous and local.utcoffset() == second.utcoffset()


def next_run(schedule: str, timezone: str | None, after: datetime) -> datetime:
    """The first tick strictly after `after`, in UTC.

    Skipped wall times (spring forward) fire at the first instant after the gap, as croniter
    does. Repeated wall times (fall back) fire twice only for schedules with a wildcard hour
    (hourly and finer); a fixed-hour job fires once, like cron(8)."""
    parsed = parse_schedule(schedule)
    zone = parse_timezone(timezone) or UTC
    fixed_hour = parsed.expanded[1] != ["*"]
    ticks = croniter(schedule, after.astimezone(zone))
    try:
        for _ in range(_MAX_CANDIDATES):
            candidate: datetime = ticks.get_next(datetime)
            if not (fixed_hour and _second_occurrence(candidate)):
                return candidate.astimezone(UTC)
    except CroniterError:
        pass
    raise Unprocessable(f"Invalid cron schedule {schedule!r}: it never fires")


# --- payload ------------------------------------------------------------------------------


def _place_cron_id(payload: dict[str, Any], cron_id: str) -> dict[str, Any]:
    """Put `cron_id` where the run path will accept it: in `context` when the payload uses
    context (configurable and context may not both be set), else in `config.configurable`.
    The run path mirrors one into the other, so runs always see `configurable.cron_id`."""
    config = dict(payload.get("config") or {})
    configurable = {k: v for k, v in (config.get("configurable") or {}).items() if k != "cron_id"}
    context = {k: v for k, v in (payload.get("context") or {}).items() if k != "cron_id"}
    mirror_config_context({"configurable": configurable}, context)  # 400 if both are set
    if context:
        context["cron_id"] = cron_id
        if configurable:
            config["configurable"] = configurable
        else:
            config.pop("configurable", None)
        return {**payload, "config": config, "context": context}
    config["configurable"] = {**configurable, "cron_id": cron_id}
    return {**payload, "config": config}


def _clean_payload_field(key: str, value: Any) -> Any:
    if key == "config":
        return clean_config(value)
    if key == "context":
        return clean_context(value)
    if key == "metadata":
        return clean_metadata(value)
    return value


def _payload_fields(body: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: _clean_payload_field(k, body[k]) for k in keys if body.get(k) is not None}


def run_body(cron: Mapping[str, Any]) -> dict[str, Any]:
    """The run-create body a firing submits."""
    payload = cron["payload"]
    body = {**payload, "metadata": {**cron["metadata"], **(payload.get("metadata") or {})}}
    if cron["thread_id"] is None:
        body["on_completion"] = cron["on_run_completed"] or "delete"
    return body


# --- operations ---------------------------------------------------------------------------


def _utc(value: datetime | None) -> datetime | None:
    """Clients may send naive end times; they mean UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


async def create(
    core: Core, caller: Caller, body: dict[str, Any], *, thread_id: str | None
) -> dict[str, Any]:
    parse_schedule(body["schedule"])
    parse_timezone(body.get("timezone"))
    assistant_id = core.registry.resolve_assistant_id(body["assistant_id"])
    cron_id = str(uuid7.uuid7())
    metadata = clean_metadata(body.get("metadata"))
    value = {
        "cron_id": cron_id,
        "thread_id": thread_id,
        "user_id": caller.identity,
        "schedule": body["schedule"],
        "end_time": _utc(body.get("end_time")),
        "metadata": metadata,
        "payload": {
            "assistant_id": assistant_id,
            **_payload_fields(body, CREATE_PAYLOAD),
            "metadata": metadata,
        },
    }
    await caller.authorize("crons", "create", value)
    # As for runs (docs/api.md#auth-dsl), only non-system assistants go through assistants.read.
    system = core.registry.is_system_assistant(assistant_id)
    await assistant_service.get(core, SYSTEM if system else caller, assistant_id)
    if thread_id is not None:
        await thread_service.fetch(core, caller, thread_id)
    metadata = {**(value["payload"].get("metadata") or {}), **value["metadata"]}
    now = utcnow()
    row = {
        "cron_id": cron_id,
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "user_id": value["user_id"],
        "schedule": value["schedule"],
        "timezone": body.get("timezone"),
        "end_time": value["end_time"],
        "next_run_date": next_run(value["schedule"], body.get("timezone"), now),
        "payload": _place_cron_id({**value["payload"], "metadata": metadata}, cron_id),
        "metadata": metadata,
        "on_run_completed": None
        if thread_id is not None
        else (body.get("on_run_completed") or "delete"),
        "enabled": body.get("enabled") is not False,
        "created_at": now,
        "updated_at": now,
    }
    async with core.db.begin() as conn:
        return await store.insert_new(conn, row)


async def fetch(
    core: Core, caller: Caller, cron_id: str, action: Action = "read"
) -> dict[str, Any]:
    flt = await caller.authorize("crons", action, {"cron_id": cron_id})
    async with core.db.read() as conn:
        row = await store.get(conn, cron_id, flt)
    if row is None:
        raise NotFound(f"Cron with ID {cron_id} not found")
    return row


def _patched_payload(cron: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    changes = _payload_fields(body, PATCHABLE_PAYLOAD)
    payload = {**cron["payload"], **changes}
    if "metadata" in changes:
        payload["metadata"] = {**(cron["payload"].get("metadata") or {}), **changes["metadata"]}
    return _place_cron_id(payload, cron["cron_id"])


async def patch(
    core: Core, caller: Caller, cron_id: str, body: dict[str, Any], sent: set[str]
) -> dict[str, Any]:
    """Apply a CronPatch; `sent` tells an explicit `end_time: null` (clear) from omission."""
    if not sent & set(UPDATABLE):
        raise BadRequest("No fields to update")
    if body.get("schedule") is not None:
        parse_schedule(body["schedule"])
    parse_timezone(body.get("timezone"))
    value = {"cron_id": cron_id, "schedule": body.get("schedule"), "payload": body}
    flt = await caller.authorize("crons", "update", value)
    now = utcnow()
    async with core.db.begin() as conn:
        cron = await store.get(conn, cron_id, flt)
        if cron is None:
            raise NotFound(f"Cron with ID {cron_id} not found")
        fields: dict[str, Any] = {"payload": _patched_payload(cron, body), "updated_at": now}
        if body.get("metadata") is not None:
            fields["metadata"] = {**cron["metadata"], **clean_metadata(body["metadata"])}
        if "end_time" in sent:
            fields["end_time"] = _utc(body.get("end_time"))
        if body.get("enabled") is not None:
            fields["enabled"] = body["enabled"]
        if body.get("on_run_completed") is not None and cron["thread_id"] is None:
            fields["on_run_completed"] = body["on_run_completed"]
        for key in ("schedule", "timezone"):
            if body.get(key) is not None:
                fields[key] = body[key]
        # A new schedule, or waking a disabled cron, counts from now: no burst of stale ticks.
        if {"schedule", "timezone"} & fields.keys() or (
            fields.get("enabled") and not cron["enabled"]
        ):
            schedule = fields.get("schedule", cron["schedule"])
            timezone = fields.get("timezone", cron["timezone"])
            fields["next_run_date"] = next_run(schedule, timezone, now)
        await store.set_fields(conn, cron_id, **fields)
        cron.update(fields)
    return cron


async def delete(core: Core, caller: Caller, cron_id: str) -> None:
    flt = await caller.authorize("crons", "delete", {"cron_id": cron_id})
    async with core.db.begin() as conn:
        if await store.get(conn, cron_id, flt) is None:
            raise NotFound(f"Cron with ID {cron_id} not found")
        await store.delete_one(conn, cron_id)


def _filters(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "assistant_id": body.get("assistant_id"),
        "thread_id": body.get("thread_id"),
        "enabled": body.get("enabled"),
        "metadata": body.get("metadata"),
    }


async def search(
    core: Core, caller: Caller, body: dict[str, Any]
) -> tuple[list[dict[str, Any]], int, bool]:
    value = {**_filters(body), "limit": body["limit"], "offset": body["offset"]}
    flt = await caller.authorize("crons", "search", value)
    async with core.db.read() as conn:
        rows, more = await store.search(
            conn,
            **_filters(value),
            flt=flt,
            limit=value["limit"],
            offset=value["offset"],
            sort_by=body.get("sort_by") or "created_at",
            sort_order=body.get("sort_order") or "desc",
        )
    return rows, value["offset"], more


async def count(core: Core, caller: Caller, body: dict[str, Any]) -> int:
    value = _filters(body)
    flt = await caller.authorize("crons", "search", value)
    async with core.db.read() as conn:
        return await store.count(conn, **_filters(value), flt=flt)
