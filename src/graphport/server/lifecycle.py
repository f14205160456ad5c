"""What a server process opens at start and closes at exit, shared by the API app and by
`graphport worker` (a process that only executes runs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.serde.base import SerializerProtocol

from graphport.server.core import Core
from graphport.server.graphs import GraphRegistry, LangGraphConfig, load_config
from graphport.server.graphs.persistence import serde_options, store_kwargs, thread_ttl_policy
from graphport.server.runtime.backends import open_engine
from graphport.server.settings import Settings
from graphport.server.storage.database import open_database
from graphport.server.storage.encryption import checkpoint_serde

logger = logging.getLogger("graphport")


@dataclass(frozen=True)
class Loaded:
    """The config with its graphs imported: done before serving, so a bad config fails
    at once rather than on the first run."""

    config: LangGraphConfig
    registry: GraphRegistry
    store_options: dict[str, Any]
    serde: SerializerProtocol  # checkpointer.serde, encrypted when a key is set


def load(settings: Settings) -> Loaded:
    config = load_config(settings.config_path)
    registry = GraphRegistry.load(config)
    options = store_kwargs(config, dialect="postgresql" if settings.database_url else "sqlite")
    thread_ttl_policy(config)  # validated now; the sweeper reads it again
    serde = checkpoint_serde(
        serde_options(config), key=settings.aes_key, previous_key=settings.aes_key_previous
    )
    return Loaded(config, registry, options, serde)


@contextlib.asynccontextmanager
async def open_core(settings: Settings, loaded: Loaded) -> AsyncIterator[Core]:
    """The database (migrated) and the run engine's backends; the engine is not started."""
    async with (
        open_database(
            sqlite_path=None if settings.database_url else settings.sqlite_path,
            postgres_url=settings.database_url,
            store_kwargs=loaded.store_options,
            serde=loaded.serde,
        ) as db,
        open_engine(settings) as engine,
    ):
        yield Core(
            settings=settings,
            config=loaded.config,
            registry=loaded.registry,
            db=db,
            engine=engine,
        )


async def run_worker(settings: Settings, loaded: Loaded, stop: asyncio.Event) -> None:
    """Execute runs from the shared queue until `stop` is set; runs cut short go back to
    the queue for another worker."""
    async with open_core(settings, loaded) as core:
        await core.engine.start(core)
        assert core.engine.worker is not None  # the CLI refuses max_concurrent_runs < 1
        logger.info("worker %s ready", core.engine.worker.owner)
        try:
            await stop.wait()
        finally:
            await core.engine.stop()
