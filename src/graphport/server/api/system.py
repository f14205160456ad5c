"""Health and server information (docs/api.md#system-routes)."""

from __future__ import annotations

import functools
from importlib import metadata

from fastapi import APIRouter, Depends
from sqlalchemy import text

from graphport.server.api import deps
from graphport.server.api.params import truthy
from graphport.server.api.responses import JSON
from graphport.server.core import Core

router = APIRouter(tags=["system"])
# Installed versions don't change while the server runs; reading package metadata does I/O.
version = functools.cache(metadata.version)


@router.get("/ok")
async def ok(check_db: str | None = None, core: Core = Depends(deps.core)) -> JSON:
    if not truthy(check_db):
        return JSON({"ok": True, "services": {"database": "skipped"}})
    try:
        async with core.db.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return JSON({"ok": False, "services": {"database": "unhealthy"}}, status_code=500)
    return JSON({"ok": True, "services": {"database": "healthy"}})


@router.get("/info")
async def info(core: Core = Depends(deps.core)) -> JSON:
    return JSON(
        {
            "version": version("graphport"),
            "langgraph_py_version": version("langgraph"),
            "flags": {
                "assistants": True,
                "crons": True,
                "langsmith": False,
                "langsmith_tracing_replicas": False,
                "langsmith_tracing_session_on_runs": False,
                "resumable_streams": True,
            },
            "host": {
                "kind": "graphport",
                "backend": core.db.dialect,
                "project_id": None,
                "host_revision_id": None,
                "revision_id": None,
                "tenant_id": None,
            },
        }
    )
