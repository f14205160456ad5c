"""The ASGI application: routers, error handling, and a lifespan that opens the database,
creates system assistants and starts the run engine."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import version

from fastapi import FastAPI

from graphport.server.api import assistants, errors, runs, system, threads
from graphport.server.api import crons as cron_routes
from graphport.server.api import store as store_routes
from graphport.server.auth import install as install_auth_and_http
from graphport.server.core import Core
from graphport.server.graphs import GraphRegistry, load_config
from graphport.server.graphs.persistence import store_kwargs, thread_ttl_policy
from graphport.server.runtime.control import LocalControl
from graphport.server.runtime.engine import RunEngine
from graphport.server.runtime.memory_broker import MemoryBroker
from graphport.server.runtime.scheduler import Scheduler
from graphport.server.runtime.sweeper import Sweeper
from graphport.server.runtime.wakeup import LocalWakeup
from graphport.server.services.assistants import ensure_system_assistants
from graphport.server.settings import Settings
from graphport.server.storage.database import open_database

logger = logging.getLogger("graphport")


def create_app(settings: Settings) -> FastAPI:
    """Build the app; graphs are imported here so a bad config fails before serving."""
    config = load_config(settings.config_path)
    registry = GraphRegistry.load(config)
    # Store index/TTL and thread TTL policy: resolved (embeddings imported) before serving.
    store_options = store_kwargs(
        config, dialect="postgresql" if settings.database_url else "sqlite"
    )
    thread_ttl_policy(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_database(
            sqlite_path=None if settings.database_url else settings.sqlite_path,
            postgres_url=settings.database_url,
            store_kwargs=store_options,
        ) as db:
            engine = RunEngine(
                MemoryBroker(settings.stream_retention_seconds), LocalWakeup(), LocalControl()
            )
            core = Core(settings=settings, config=config, registry=registry, db=db, engine=engine)
            app.state.core = core
            core.auth = app.state.auth  # custom auth, for runs created off-request
            await ensure_system_assistants(core)
            await engine.start(core)
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
                await engine.stop()

    app = FastAPI(
        title="Graphport",
        version=version("graphport"),
        description="Open agent server speaking the LangGraph Platform API.",
        lifespan=lifespan,
    )
    app.state.graph_ids = registry.graph_ids
    errors.install(app)
    # Crons before runs: `/runs/crons…` must not fall into `/runs/{run_id}…` routes.
    for module in (system, assistants, threads, cron_routes, runs, store_routes):
        app.include_router(module.router)
    # `auth` and `http` of langgraph.json: middleware around every route (keep this last).
    install_auth_and_http(app, settings, config)
    return app
