"""Liveness, dependency health and metrics (docs/api.md#system-routes). The same router
serves a `graphport worker`'s metrics port, so every process answers them alike."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Depends
from sqlalchemy import text
from starlette.responses import PlainTextResponse, Response

from graphport.server import metrics
from graphport.server.api import deps
from graphport.server.api.params import truthy
from graphport.server.api.responses import JSON
from graphport.server.core import Core
from graphport.server.storage import runs as run_store

router = APIRouter(tags=["system"])
logger = logging.getLogger("graphport.health")
CHECK_TIMEOUT_SECONDS = 5.0
_PROMETHEUS = "Prometheus text exposition format"
_AS_JSON = 'With ?format=json: {name: [{"labels": {...}, "value": v}]}'


async def _database(core: Core) -> None:
    async with core.db.read() as conn:
        await conn.execute(text("SELECT 1"))


async def _healthy(name: str, check: Awaitable[None]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check
    except Exception as e:
        logger.warning("health check: %s unhealthy: %s: %s", name, type(e).__name__, e)
        return "unhealthy"
    return "healthy"


@router.get("/ok", responses={503: {"description": "The database or Redis is down"}})
async def ok(check_db: str | None = None, core: Core = Depends(deps.core)) -> JSON:
    """Liveness; with `check_db=1`, the database and Redis too (503 when one is down)."""
    if not truthy(check_db):
        return JSON({"ok": True, "services": {"database": "skipped"}})
    services = {"database": await _healthy("database", _database(core))}
    if core.settings.redis_url:
        services["redis"] = await _healthy("redis", core.broker.ping())
    up = all(v == "healthy" for v in services.values())
    return JSON({"ok": up, "services": services}, status_code=200 if up else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "content": {
                "text/plain": {"schema": {"type": "string", "description": _PROMETHEUS}},
                "application/json": {"schema": {"type": "object", "description": _AS_JSON}},
            }
        }
    },
)
async def metrics_(format: str | None = None, core: Core = Depends(deps.core)) -> Response:
    """Prometheus text (or `?format=json`); queue sizes read from the database now."""
    worker = core.worker
    async with core.db.read() as conn:
        by_status, in_use = await run_store.inflight_counts(conn, worker.owner if worker else None)
    metrics.set_queue(by_status, in_use, worker.concurrency if worker else 0)
    body, content_type = metrics.render(format)
    return Response(body, media_type=content_type)
