"""Run routes (docs/api.md#runs): create, wait, stream, batch, list, get, delete, cancel, join,
join-stream and the thread stream. Handlers create rows and join the broker; workers run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import WithJsonSchema
from starlette.responses import Response

from graphport.server.api import deps
from graphport.server.api.models import (
    MaxOffset,
    RunCreateStateful,
    RunCreateStateless,
    RunsCancel,
    RunStatus,
)
from graphport.server.api.openapi import errors
from graphport.server.api.params import UUIDPath, last_event_position, truthy, valid_uuid
from graphport.server.api.responses import JSON, select_fields
from graphport.server.api.sse import EventStream, WaitResponse, sse_response
from graphport.server.core import Core
from graphport.server.errors import Unprocessable
from graphport.server.runtime.broker import Event
from graphport.server.services import runs as service
from graphport.server.services import threads as thread_service
from graphport.server.services.caller import Caller
from graphport.server.services.cancellation import wait_stopped
from graphport.server.services.webhooks import check_webhook
from graphport.server.storage.records import public_run

router = APIRouter(tags=["runs"])
Ctx = Depends(deps.core)
Who = Depends(deps.caller)
RunSelect = Literal[
    "run_id",
    "thread_id",
    "assistant_id",
    "created_at",
    "updated_at",
    "status",
    "metadata",
    "kwargs",
    "multitask_strategy",
    "langsmith_session_name",
    "cancel_reason",
]
# `Last-Event-ID`: an event id, or "-" / "-1" for the whole stream (`parse_event_id`).
LastEventID = Annotated[
    str | None,
    Header(),
    WithJsonSchema({"type": "string", "pattern": r"^(-|-1|[0-9]+(-([0-9]+|\*))?)?$"}),
]


def _paths(run: Mapping[str, Any], stateless: bool) -> tuple[str, str]:
    base = (
        f"/runs/{run['run_id']}"
        if stateless
        else f"/threads/{run['thread_id']}/runs/{run['run_id']}"
    )
    return base, f"{base}/stream"


def _body(body: RunCreateStateless) -> dict[str, Any]:
    data = body.data()
    if data.get("command"):
        data["command"] = {k: v for k, v in data["command"].items() if v is not None}
    return data


async def _on_disconnect(core: Core, run: Mapping[str, Any], policy: str | None) -> Any:
    async def close(finished: bool) -> None:
        if not finished and policy == "cancel":
            await service.cancel_if_inflight(core, run["run_id"], "client disconnected")

    return close


def _filtered(events: Any, modes: set[str] | None) -> Any:
    async def gen() -> Any:
        async for ev in events:
            if modes is None or _passes(ev, modes):
                yield ev

    return gen()


def _passes(ev: Event, modes: set[str]) -> bool:
    base = ev.event.split("|", 1)[0]
    if base in ("error", "metadata") or base in modes:
        return True
    return base.startswith("messages") and bool(modes & {"messages", "messages-tuple"})


# --- create ---------------------------------------------------------------------------


async def _create(
    core: Core, caller: Caller, body: RunCreateStateless, thread_id: str | None
) -> dict[str, Any]:
    await check_webhook(core, body.webhook)
    return await service.create_run(core, caller, _body(body), thread_id=thread_id)


@router.post("/threads/{thread_id}/runs", responses=errors(400, 409))
async def create_run(
    thread_id: UUIDPath, body: RunCreateStateful, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    run = await _create(core, caller, body, valid_uuid(thread_id, "thread"))
    return JSON(run, headers={"Content-Location": _paths(run, False)[0]})


@router.post("/runs", responses=errors(400, 404, 409))
async def create_stateless_run(
    body: RunCreateStateless, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    run = await _create(core, caller, body, None)
    return JSON(run, headers={"Content-Location": _paths(run, True)[0]})


@router.post("/runs/batch", responses=errors(404, 409))
async def create_batch(
    body: Annotated[list[RunCreateStateless], Body(json_schema_extra={"minItems": 1})],
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    if not body:
        raise Unprocessable("At least one run is required")
    for item in body:  # a refused webhook creates none of the batch (each is checked again)
        await check_webhook(core, item.webhook)
    return JSON([await _create(core, caller, item, None) for item in body])


async def _stream(
    core: Core, caller: Caller, body: RunCreateStateless, thread_id: str | None
) -> Response:
    run = await _create(core, caller, body, thread_id)
    base, stream = _paths(run, thread_id is None)
    return sse_response(
        core.broker.subscribe_run(run["run_id"], (0, 0)),
        heartbeat=core.settings.heartbeat_seconds,
        stop=core.shutdown,
        headers={"Location": stream, "Content-Location": base},
        on_close=await _on_disconnect(core, run, body.on_disconnect),
    )


@router.post(
    "/threads/{thread_id}/runs/stream",
    responses=errors(400, 409),
    response_class=EventStream,
)
async def stream_run(
    thread_id: UUIDPath, body: RunCreateStateful, core: Core = Ctx, caller: Caller = Who
) -> Response:
    return await _stream(core, caller, body, valid_uuid(thread_id, "thread"))


@router.post("/runs/stream", responses=errors(400, 404, 409), response_class=EventStream)
async def stream_stateless_run(
    body: RunCreateStateless, core: Core = Ctx, caller: Caller = Who
) -> Response:
    return await _stream(core, caller, body, None)


async def _wait(
    core: Core, caller: Caller, body: RunCreateStateless, thread_id: str | None
) -> Response:
    run = await _create(core, caller, body, thread_id)
    base = f"/threads/{run['thread_id']}/runs/{run['run_id']}"
    return WaitResponse(
        service.join_body(core, run),
        heartbeat=core.settings.heartbeat_seconds,
        stop=core.shutdown,
        headers={"Location": f"{base}/join", "Content-Location": base},
        on_close=await _on_disconnect(core, run, body.on_disconnect),
    )


@router.post("/threads/{thread_id}/runs/wait", responses=errors(400, 409))
async def wait_run(
    thread_id: UUIDPath, body: RunCreateStateful, core: Core = Ctx, caller: Caller = Who
) -> Response:
    return await _wait(core, caller, body, valid_uuid(thread_id, "thread"))


@router.post("/runs/wait", responses=errors(400, 404, 409))
async def wait_stateless_run(
    body: RunCreateStateless, core: Core = Ctx, caller: Caller = Who
) -> Response:
    return await _wait(core, caller, body, None)


# --- read / manage --------------------------------------------------------------------


@router.get("/threads/{thread_id}/runs")
async def list_runs(
    thread_id: UUIDPath,
    limit: int = Query(10, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MaxOffset),
    status: RunStatus | None = None,
    select: list[RunSelect] | None = Query(None),
    core: Core = Ctx,
    caller: Caller = Who,
) -> JSON:
    valid_uuid(thread_id, "thread")
    rows = await service.list_runs(
        core, caller, thread_id, limit=limit, offset=offset, status=status
    )
    return JSON(select_fields(rows, select))


def _ids(thread_id: str, run_id: str) -> tuple[str, str]:
    return valid_uuid(thread_id, "thread"), valid_uuid(run_id, "run")


@router.get("/threads/{thread_id}/runs/{run_id}")
async def get_run(
    thread_id: UUIDPath, run_id: UUIDPath, core: Core = Ctx, caller: Caller = Who
) -> JSON:
    run = await service.fetch(core, caller, *_ids(thread_id, run_id))
    return JSON(public_run(run))


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204)
async def delete_run(
    thread_id: UUIDPath, run_id: UUIDPath, core: Core = Ctx, caller: Caller = Who
) -> Response:
    await service.delete_run(core, caller, *_ids(thread_id, run_id))
    return Response(status_code=204)


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(
    thread_id: UUIDPath,
    run_id: UUIDPath,
    cancel_on_disconnect: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    run = await service.fetch(core, caller, *_ids(thread_id, run_id))
    policy = "cancel" if truthy(cancel_on_disconnect) else None
    return WaitResponse(
        service.join_body(core, run),
        heartbeat=core.settings.heartbeat_seconds,
        stop=core.shutdown,
        on_close=await _on_disconnect(core, run, policy),
    )


def _stream_modes(raw: list[str] | None) -> set[str] | None:
    values: list[str] = []
    for item in raw or []:
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):
            try:
                values.extend(json.loads(item))
            except ValueError:
                raise Unprocessable(f"stream_mode: invalid value {item!r}") from None
        else:
            values.extend(p for p in item.split(",") if p)
    return set(values) or None


async def _join_stream(
    core: Core,
    caller: Caller,
    thread_id: str | None,
    run_id: str,
    last_event_id: str | None,
    stream_mode: list[str] | None,
    cancel_on_disconnect: str | None,
) -> Response:
    after = last_event_position(last_event_id)
    if thread_id is None:
        run = await service.fetch_stateless(core, caller, valid_uuid(run_id, "run"))
    else:
        run = await service.fetch(core, caller, *_ids(thread_id, run_id))
    base, stream = _paths(run, thread_id is None)
    if run["status"] not in ("pending", "running") and not await core.broker.run_known(
        run_id
    ):
        return sse_response(_empty(), heartbeat=core.settings.heartbeat_seconds)
    policy = "cancel" if truthy(cancel_on_disconnect) else None
    return sse_response(
        _filtered(core.broker.subscribe_run(run_id, after), _stream_modes(stream_mode)),
        heartbeat=core.settings.heartbeat_seconds,
        stop=core.shutdown,
        headers={"Location": stream, "Content-Location": base},
        on_close=await _on_disconnect(core, run, policy),
    )


async def _empty() -> Any:
    return
    yield


@router.get("/threads/{thread_id}/runs/{run_id}/stream", response_class=EventStream)
async def join_run_stream(
    thread_id: UUIDPath,
    run_id: UUIDPath,
    stream_mode: list[str] | None = Query(None),
    cancel_on_disconnect: str | None = None,
    last_event_id: LastEventID = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    return await _join_stream(
        core, caller, thread_id, run_id, last_event_id, stream_mode, cancel_on_disconnect
    )


@router.get("/runs/{run_id}/stream", response_class=EventStream)
async def join_stateless_run_stream(
    run_id: UUIDPath,
    stream_mode: list[str] | None = Query(None),
    cancel_on_disconnect: str | None = None,
    last_event_id: LastEventID = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    """Where a stateless stream's `Location` points, so even those streams can resume."""
    return await _join_stream(
        core, caller, None, run_id, last_event_id, stream_mode, cancel_on_disconnect
    )


@router.get("/runs/{run_id}")
async def get_stateless_run(run_id: UUIDPath, core: Core = Ctx, caller: Caller = Who) -> JSON:
    run = await service.fetch_stateless(core, caller, valid_uuid(run_id, "run"))
    return JSON(public_run(run))


@router.post(
    "/threads/{thread_id}/runs/{run_id}/cancel",
    responses={202: {"description": "Cancellation requested (without `wait`)"}},
)
async def cancel_run(
    thread_id: UUIDPath,
    run_id: UUIDPath,
    wait: str | None = None,
    action: str | None = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    thread_id, run_id = _ids(thread_id, run_id)
    act = "rollback" if action == "rollback" else "interrupt"
    runs = await service.cancel(
        core, caller, thread_id=thread_id, run_ids=[run_id], status=None, action=act
    )
    if not truthy(wait):
        return Response(status_code=202)

    async def result() -> Any:
        await wait_stopped(core, [run_id])
        if act == "rollback":
            return {}
        return await service.join_body(core, runs[0])

    base = f"/threads/{thread_id}/runs/{run_id}"
    return WaitResponse(
        result(),
        heartbeat=core.settings.heartbeat_seconds,
        headers={"Location": f"{base}/join"},
        stop=core.shutdown,
    )


@router.post("/runs/cancel", status_code=204, responses=errors(404))
async def cancel_runs(
    body: RunsCancel, action: str | None = None, core: Core = Ctx, caller: Caller = Who
) -> Response:
    act = "rollback" if action == "rollback" else "interrupt"
    if body.status is not None:
        if body.thread_id is not None or body.run_ids is not None:
            raise Unprocessable("Provide either status, or thread_id with run_ids, not both")
        status = None if body.status == "all" else body.status
        await service.cancel(core, caller, thread_id=None, run_ids=None, status=status,
                             action=act)
    else:
        if body.thread_id is None or not body.run_ids:
            raise Unprocessable("Provide status, or thread_id with run_ids")
        valid_uuid(body.thread_id, "thread")
        for rid in body.run_ids:
            valid_uuid(rid, "run")
        await service.cancel(core, caller, thread_id=body.thread_id, run_ids=body.run_ids,
                             status=None, action=act)
    return Response(status_code=204)


@router.get("/threads/{thread_id}/stream", response_class=EventStream)
async def thread_stream(
    thread_id: UUIDPath,
    request: Request,
    last_event_id: LastEventID = None,
    core: Core = Ctx,
    caller: Caller = Who,
) -> Response:
    """Everything happening on a thread: run events, run ends, state updates."""
    valid_uuid(thread_id, "thread")
    raw = request.query_params.getlist("stream_modes") + request.query_params.getlist(
        "stream_mode"
    )
    modes = _stream_modes(raw) or {"run_modes"}
    bad = modes - {"run_modes", "lifecycle", "state_update"}
    if bad:
        raise Unprocessable(f"stream_modes: invalid value(s) {sorted(bad)}")
    after = last_event_position(last_event_id)
    await thread_service.fetch(core, caller, thread_id)

    async def events() -> Any:
        async for ev in core.broker.subscribe_thread(thread_id, after):
            if _thread_passes(ev, modes):
                yield ev

    return sse_response(
        events(), heartbeat=core.settings.heartbeat_seconds, stop=core.shutdown
    )


def _thread_passes(ev: Event, modes: set[str]) -> bool:
    if ev.event == "state_update":
        return "state_update" in modes
    if "run_modes" in modes:
        return True
    if "lifecycle" in modes and ev.event == "metadata":
        return True
    return False
