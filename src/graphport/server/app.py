"""The ASGI application: routers, error handling, and a lifespan that opens the process's
core, creates system assistants and starts the runtime, the MCP transport and the API's
periodic jobs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import version

from fastapi import FastAPI

from graphport.server import process, tracing
from graphport.server.api import (
    a2a,
    assistants,
    console,
    errors,
    mcp,
    methods,
    monitoring,
    openapi,
    runs,
    system,
    thread_stream,
    threads,
)
from graphport.server.api import crons as cron_routes
from graphport.server.api import store as store_routes
from graphport.server.api.observe import RequestObserver, RouteCapture
from graphport.server.auth import install as install_auth_and_http
from graphport.server.jobs.crons import Scheduler
from graphport.server.jobs.ttl import Sweeper
from graphport.server.services.assistants import ensure_system_assistants
from graphport.server.settings import Settings

logger = logging.getLogger("graphport")


def create_app(settings: Settings) -> FastAPI:
    """Build the app; graphs are imported here so a bad config fails before serving."""
    loaded = process.load(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with process.open_core(settings, loaded) as core:
            app.state.core = core
            await ensure_system_assistants(core)
            # MCP's transport: its handlers run in its task group, closed before the core.
            async with process.running(core), mcp.serving(core) as app.state.mcp:
                # Crons (run as their creator, hence the auth) and TTL sweeps: background
                # tasks; tests drive `app.state.scheduler.tick()` directly.
                scheduler, sweeper = Scheduler(core, server_auth), Sweeper(core)
                app.state.scheduler, app.state.sweeper = scheduler, sweeper
                scheduler.start()
                sweeper.start()
                try:
                    yield
                finally:
                    await scheduler.stop()
                    await sweeper.stop()

    app = FastAPI(
        title="Graphport",
        version=version("graphport"),
        description="Open agent server speaking the LangGraph Platform API.",
        lifespan=lifespan,
    )
    app.state.graph_ids = loaded.registry.graph_ids
    errors.install(app)
    # Crons before runs: `/runs/crons…` must not fall into `/runs/{run_id}…` routes.
    routers = (system, assistants, threads, cron_routes, runs, thread_stream, store_routes)
    # Each router's routes go into the app's own list, in order, rather than through
    # `include_router`: FastAPI 0.165 matches an included router lazily, walking its route
    # list again on every request (0.6 ms of a checkpointed run's 9 ms of server CPU,
    # py-spy). Our routers set their prefix and tags themselves, so the routes are the same.
    for module in (monitoring, *routers, a2a, mcp):
        app.router.routes.extend(module.router.routes)
    http = loaded.config.http or {}
    app.state.console_path = None  # where the console is served, for the CLI's banner
    if settings.console and not http.get("disable_console"):
        app.include_router(console.router())
        app.state.console_path = f"{(http.get('mount_prefix') or '').rstrip('/')}/console/"
    # Middleware is added innermost first: the matched route template is noted next to
    # the router; `auth` and `http` of langgraph.json wrap every route; the request id
    # and HTTP metrics wrap all of it, so refusals are counted and logged with an id.
    app.add_middleware(RouteCapture)
    methods.install(app)
    openapi.install(app, loaded.registry.graph_ids)
    server_auth = install_auth_and_http(app, settings, loaded.config)
    app.add_middleware(RequestObserver)
    tracing.instrument(app)
    return app
