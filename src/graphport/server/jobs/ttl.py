"""TTL sweeps, so databases do not grow forever (docs/architecture.md#periodic-jobs):
expired threads are deleted or pruned to their latest checkpoint, and expired store items
are deleted.

Each sweep is idempotent, so replicas may run it concurrently; a thread with a run in flight
is left for a later sweep rather than pulled from under its worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from graphport.server.core import Core
from graphport.server.graphs.persistence import store_sweep_minutes, thread_ttl_policy
from graphport.server.serde import utcnow
from graphport.server.services import threads as thread_service
from graphport.server.storage import checkpoints
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store

logger = logging.getLogger("graphport.sweeper")


class Sweeper:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.policy = thread_ttl_policy(core.config)
        self.store_minutes = store_sweep_minutes(core.config)
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(
                    _every(self.policy.sweep_interval_minutes, self.sweep_threads, "thread"),
                    name="graphport-thread-ttl-sweeper",
                ),
                asyncio.create_task(
                    _every(self.store_minutes, self.sweep_store, "store"),
                    name="graphport-store-ttl-sweeper",
                ),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def sweep_threads(self, now: datetime | None = None) -> int:
        """Apply every expired thread's strategy; returns how many threads were handled."""
        now = now or utcnow()
        async with self.core.db.read() as conn:
            expired = await thread_store.expired_ids(conn, now, self.policy.sweep_limit)
        to_delete: list[str] = []
        to_prune: list[str] = []
        for row in expired:
            async with self.core.db.read() as conn:
                if await run_store.any_inflight(conn, row["thread_id"]):
                    continue
            target = to_prune if row["ttl_strategy"] == "keep_latest" else to_delete
            target.append(row["thread_id"])
        if to_delete:
            await thread_service.delete_many(self.core, to_delete)
        for thread_id in to_prune:
            await checkpoints.keep_latest(self.core.db, thread_id)
            await self._extend(thread_id, now)
        return len(to_delete) + len(to_prune)

    async def _extend(self, thread_id: str, now: datetime) -> None:
        """A pruned thread lives on: its clock restarts, so it is pruned again only after
        another full TTL."""
        async with self.core.db.begin() as conn:
            row = await thread_store.get(conn, thread_id)
            if row is not None and row["ttl_minutes"]:
                expires_at = now + timedelta(minutes=row["ttl_minutes"])
                await thread_store.set_fields(conn, thread_id, expires_at=expires_at)

    async def sweep_store(self) -> int:
        """Delete expired store items; returns how many."""
        # Both langgraph stores we build have sweep_ttl; BaseStore does not declare it.
        return await self.core.db.store.sweep_ttl()  # type: ignore[attr-defined]


async def _every(minutes: float, sweep: Callable[[], Awaitable[int]], what: str) -> None:
    """Sweep now (a restart may have missed some), then every `minutes`."""
    while True:
        try:
            swept = await sweep()
            if swept:
                logger.info("%s TTL sweep removed or pruned %d", what, swept)
        except Exception:
            logger.exception("%s TTL sweep failed", what)
        await asyncio.sleep(minutes * 60)
