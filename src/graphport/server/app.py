"""The ASGI application: routers, error handling, and a lifespan that opens the database,
creates system assistants and starts the run engine."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import version

from fastapi import FastAPI

from graphport.server import lifecycle
from graphport.server.api import assistants, errors, runs, system, threads
from graphport.server.api import crons as cron_routes
from graphport.server.api import store as store_routes
from graphport.server.auth import install as install_auth_and_http
from graphport.server.runtime.scheduler import Scheduler
from graphport.server.runtime.sweeper import Sweeper
from graphport.server.services.assistants import ensure_system_assistants
from graphport.server.settings import Settings

logger = logging.getLogger("graphport")


def create_app(settings: Settings) -> FastAPI:
    """Build the app; graphs are imported here so a bad config fails before serving."""
    loaded = lifecycle.load(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with lifecycle.open_core(settings, loaded) as core:
            app.state.core = core
            core.auth = app.state.auth  # custom auth, for runs created off-request
            await ensure_system_assistants(core)
            await core.engine.start(core)
            # Crons and TTL sweeps (background tasks; `app.state.scheduler.tick()` for tests).
            scheduler, sweeper = Scheduler(core), Sweeper(core)
            app.state.scheduler, app.state.sweeper = scheduler, sweeper
            scheduler.start()
            sweeper.start()
            try:
                yield
            finally:
                await scheduler.stop()
                await sweeper.stop()
                await core.engine.stop()

    app = FastAPI(
        title="Graphport",
        version=version("graphport"),
        description="Open agent server speaking the LangGraph Platform API.",
        lifespan=lifespan,
    )
    app.state.graph_ids = loaded.registry.graph_ids
    errors.install(app)
    # Crons before runs: `/runs/crons…` must not fall into `/runs/{run_id}…` routes.
    for module in (system, assistants, threads, cron_routes, runs, store_routes):
        app.include_router(module.router)
    # `auth` and `http` of langgraph.json: middleware around every route (keep this last).
    install_auth_and_http(app, settings, loaded.config)
    return app
