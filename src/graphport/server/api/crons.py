"""Cron routes (docs/api.md#crons)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import ConfigDict, Field
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.models import (
    AssistantRef,
    JSONObject,
    Limit,
    Offset,
    RunPayload,
    SafeBody,
    SortOrder,
    UUIDText,
)
from graphport.server.api.openapi import errors
from graphport.server.api.params import UUIDPath, valid_uuid
from graphport.server.api.responses import JSON, page, select_fields
from graphport.server.core import Core
from graphport.server.errors import BadRequest
from graphport.server.services import crons as service
from graphport.server.services.caller import Caller
from graphport.server.services.webhooks import check_webhook

router = APIRouter(tags=["crons"])
Ctx = Depends(deps.core)
Who = Depends(deps.caller)

CronSelect = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "on_run_completed",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "enabled",
]


class CronFields(RunPayload):
    """What create and patch share: the stored run-create fields and the schedule's knobs."""

    timezone: Annotated[str, Field(json_schema_extra={"enum": service.TIMEZONES})] | None = None
    end_time: datetime | None = None
    enabled: bool | None = None
    on_run_completed: Literal["delete", "keep"] | None = None


Schedule = Annotated[str, Field(json_schema_extra={"pattern": service.SCHEDULE_PATTERN})]


class CronCreate(CronFields):
    schedule: Schedule
    assistant_id: AssistantRef
    multitask_strategy: Literal["reject", "rollback", "interrupt", "enqueue"] | None = None


class CronPatch(CronFields):
    # At least one field to change (400 otherwise): not all of them absent.
    model_config = ConfigDict(
        json_schema_extra={"not": {"properties": dict.fromkeys(service.UPDATABLE, False)}}
    )

    schedule: Schedule | None = None


class CronCount(SafeBody):
    assistant_id: UUIDText | None = None
    thread_id: UUIDText | None = None
    metadata: JSONObject | None = None
    enabled: bool | None = None


class CronSearch(CronCount):
    limit: int = Limit
    offset: int = Offset
    sort_by: (
        Literal[
            "cron_id",
            "assistant_id",
            "thread_id",
            "next_run_date",
            "end_time",
            "created_at",
            "updated_at",
        ]
        | None
    ) = None
    sort_order: SortOrder | None = None
    select: list[CronSelect] | None = None


def _filters(body: CronCount) -> dict[str, Any]:
    """Search filters take real ids only: a graph id here is a 422."""
    data = body.data()
    if data["assistant_id"] is not None:
        valid_uuid(data["assistant_id"], "assistant")
    if data["thread_id"] is not None:
        valid_uuid(data["thread_id"], "thread")
    return data


@router.post("/runs/crons", responses=errors(404))
async def create_cron(body: CronCreate, core: Core = Ctx, caller: Caller = Who) -> JSON:
    await check_webhook(core, body.webhook)
    return JSON(await service.create(core, caller, body.data(), thread_id=None))


@router.post("/threads/{thread_id}/runs/crons")
async def create_thread_cron(
    thread_id: UUIDPath, body: CronCreate, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    thread_id = valid_uuid(thread_id, "thread")
    await check_webhook(core, body.webhook)
    return JSON(await service.create(core, caller, body.data(), thread_id=thread_id))


@router.post("/runs/crons/search")
async def search_crons(body: CronSearch, core: Core = Ctx, caller: Caller = Who) -> JSON:
    rows, offset, more = await service.search(core, caller, _filters(body))
    return page(select_fields(rows, body.select), offset, more, body.limit)


@router.post("/runs/crons/count")
async def count_crons(body: CronCount, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON(await service.count(core, caller, _filters(body)))


@router.get("/runs/crons/{cron_id}")
async def get_cron(cron_id: UUIDPath, core: Core = Ctx, caller: Caller = Who) -> JSON:
    return JSON(await service.fetch(core, caller, valid_uuid(cron_id, "cron")))


@router.patch("/runs/crons/{cron_id}", responses=errors(400))
async def patch_cron(
    cron_id: UUIDPath, body: CronPatch, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    valid_uuid(cron_id, "cron")
    if not body.sent() and not body.model_extra:
        raise BadRequest("Request body cannot be empty")
    await check_webhook(core, body.webhook)
    return JSON(await service.patch(core, caller, cron_id, body.data(), body.sent()))


@router.delete("/runs/crons/{cron_id}", status_code=204)
async def delete_cron(cron_id: UUIDPath, core: Core = Ctx, caller: Caller = Who) -> Response:
    await service.delete(core, caller, valid_uuid(cron_id, "cron"))
    return Response(status_code=204)
