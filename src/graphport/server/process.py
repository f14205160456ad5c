"""What a server process opens at start and closes at exit, shared by the API app and by
`graphport worker` (a process that only executes runs): the wiring of `Core`, and the
runtime (broker, lease sweep, local worker) started on it. A service that cannot be opened
stops start-up with a `StartupError` that says which, where (password hidden) and why."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from alembic.util.exc import CommandError
from langgraph.checkpoint.serde.base import SerializerProtocol

from graphport.server import tracing
from graphport.server.core import Core
from graphport.server.graphs import GraphRegistry, LangGraphConfig, load_config
from graphport.server.graphs.persistence import serde_options, store_kwargs, thread_ttl_policy
from graphport.server.graphs.webhooks import load_webhooks
from graphport.server.jobs.leases import LeaseSweeper
from graphport.server.lifecycle import RunLifecycle
from graphport.server.redact import redact_url
from graphport.server.runtime.backends import BackendUnavailable, open_backends
from graphport.server.runtime.shutdown import Shutdown
from graphport.server.runtime.webhooks import WebhookSender
from graphport.server.runtime.worker import Worker, WorkerDeps
from graphport.server.settings import Settings
from graphport.server.storage.database import open_database
from graphport.server.storage.encryption import checkpoint_serde
from graphport.server.storage.revisions import SchemaBehind

logger = logging.getLogger("graphport")
T = TypeVar("T")


class StartupError(Exception):
    """A service this process needs could not be opened; the message is for the operator."""


def database_location(settings: Settings) -> str:
    """Where the database is, fit to print."""
    if settings.database_url:
        return f"PostgreSQL at {redact_url(settings.database_url)}"
    return f"SQLite at {settings.sqlite_path}"


def failure_reason(exc: BaseException) -> str:
    """The first line of what the driver said (SQLAlchemy wraps it with a long epilogue)."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    return lines[0] if lines else type(inner).__name__


async def _open(
    stack: contextlib.AsyncExitStack, what: str, opener: AbstractAsyncContextManager[T]
) -> T:
    """Enter `opener`, turning a failure into a `StartupError` about `what`."""
    try:
        return await stack.enter_async_context(opener)
    except ImportError as e:
        raise StartupError(
            f"{what}: the {e.name or 'driver'} package is missing; install graphport[postgres]"
        ) from e
    except BackendUnavailable as e:
        raise StartupError(str(e)) from e
    except SchemaBehind as e:
        raise StartupError(f"{what}: {e}") from e
    except CommandError as e:
        raise StartupError(f"{what}: migration failed: {e}") from e
    except Exception as e:
        logger.debug("opening %s failed", what, exc_info=True)
        raise StartupError(f"{what}: {type(e).__name__}: {failure_reason(e)}") from e


@contextlib.asynccontextmanager
async def opening(what: str, opener: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """`opener` entered as `_open` does, for a caller that opens just this."""
    async with contextlib.AsyncExitStack() as stack:
        yield await _open(stack, what, opener)


@dataclass(frozen=True)
class Loaded:
    """The config with its graphs imported: done before serving, so a bad config fails
    at once rather than on the first run."""

    config: LangGraphConfig
    registry: GraphRegistry
    store_options: dict[str, Any]
    serde: SerializerProtocol  # checkpointer.serde, encrypted when a key is set


def load(settings: Settings) -> Loaded:
    if tracing.wanted():
        tracing.configure()
    config = load_config(settings.config_path)
    registry = GraphRegistry.load(config)
    config.webhooks = load_webhooks(config.raw, dev=settings.dev)  # after the graphs' `env`
    options = store_kwargs(config, dialect="postgresql" if settings.database_url else "sqlite")
    thread_ttl_policy(config)  # validated now; the sweeper reads it again
    serde = checkpoint_serde(
        serde_options(config), key=settings.aes_key, previous_key=settings.aes_key_previous
    )
    return Loaded(config, registry, options, serde)


@contextlib.asynccontextmanager
async def open_core(settings: Settings, loaded: Loaded) -> AsyncIterator[Core]:
    """The database (migrated), the event/signal backends and the lifecycle, wired into
    one `Core`; nothing is started yet (see `running`)."""
    async with contextlib.AsyncExitStack() as stack:
        database = open_database(
            sqlite_path=None if settings.database_url else settings.sqlite_path,
            postgres_url=settings.database_url,
            store_kwargs=loaded.store_options,
            serde=loaded.serde,
            migrate=settings.migrate,
        )
        db = await _open(stack, database_location(settings), database)
        redis = f"Redis at {redact_url(settings.redis_url)}" if settings.redis_url else "events"
        backends = await _open(stack, redis, open_backends(settings))
        lifecycle = RunLifecycle(db, lease_seconds=settings.lease_seconds)
        worker = None
        if settings.max_concurrent_runs > 0:
            webhooks_on = not (loaded.config.http or {}).get("disable_webhooks")
            deps = WorkerDeps(
                registry=loaded.registry,
                db=db,
                lifecycle=lifecycle,
                broker=backends.broker,
                wakeup=backends.wakeup,
                control=backends.control,
                webhooks=WebhookSender(
                    settings.webhook_max_attempts,
                    settings.webhook_backoff_seconds,
                    loaded.config.webhooks,
                )
                if webhooks_on
                else None,
                lease_seconds=settings.lease_seconds,
                run_timeout_seconds=settings.run_timeout_seconds,
                stream_retention_seconds=settings.stream_retention_seconds,
            )
            worker = Worker(deps, concurrency=settings.max_concurrent_runs)
        yield Core(
            settings=settings,
            config=loaded.config,
            registry=loaded.registry,
            db=db,
            lifecycle=lifecycle,
            broker=backends.broker,
            wakeup=backends.wakeup,
            control=backends.control,
            worker=worker,
            shutdown=Shutdown(),
        )


@contextlib.asynccontextmanager
async def running(core: Core) -> AsyncIterator[None]:
    """The runtime on `core`: the broker, the lease sweep (which first requeues what a
    previous process left running) and the local worker; stopped in reverse order."""
    await core.broker.start()
    leases = LeaseSweeper(
        core.lifecycle, core.broker, core.wakeup, interval=core.settings.lease_seconds
    )
    try:
        await leases.sweep()
        leases.start()
        if core.worker is not None:
            core.worker.start()
            core.shutdown.on_begin(core.worker.drain)
        yield
    finally:
        core.shutdown.begin()
        await leases.stop()
        if core.worker is not None:
            grace = core.shutdown.remaining(core.settings.shutdown_grace_seconds)
            await core.worker.stop(grace=grace)
        await core.broker.stop()
