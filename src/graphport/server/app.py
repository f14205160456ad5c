"""The ASGI application: routers, error handling, and a lifespan that opens the database,
creates system assistants and starts the run engine."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import version

from fastapi import FastAPI

from graphport.server.api import assistants, errors, runs, system, threads
from graphport.server.core import Core
from graphport.server.graphs import GraphRegistry, load_config
from graphport.server.runtime.control import LocalControl
from graphport.server.runtime.engine import RunEngine
from graphport.server.runtime.memory_broker import MemoryBroker
from graphport.server.runtime.wakeup import LocalWakeup
from graphport.server.services.assistants import ensure_system_assistants
from graphport.server.settings import Settings
from graphport.server.storage.database import open_database

logger = logging.getLogger("graphport")


def create_app(settings: Settings) -> FastAPI:
    """Build the app; graphs are imported here so a bad config fails before serving."""
    config = load_config(settings.config_path)
    registry = GraphRegistry.load(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_database(
            sqlite_path=None if settings.database_url else settings.sqlite_path,
            postgres_url=settings.database_url,
        ) as db:
            engine = RunEngine(
                MemoryBroker(settings.stream_retention_seconds), LocalWakeup(), LocalControl()
            )
            core = Core(settings=settings, config=config, registry=registry, db=db, engine=engine)
            app.state.core = core
            await ensure_system_assistants(core)
            await engine.start(core)
            try:
                yield
            finally:
                await engine.stop()

    app = FastAPI(
        title="Graphport",
        version=version("graphport"),
        description="Open agent server speaking the LangGraph Platform API.",
        lifespan=lifespan,
    )
    app.state.graph_ids = registry.graph_ids
    app.state.auth_configured = bool(config.auth)
    errors.install(app)
    for module in (system, assistants, threads, runs):
        app.include_router(module.router)
    return app
