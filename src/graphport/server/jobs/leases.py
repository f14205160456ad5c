"""The lease sweep: runs whose worker died without stopping (its lease lapsed) go back to
the queue, or end as `error` after their last attempt. Every process with a runtime sweeps;
the lifecycle's compare-and-set lets any number of them race safely."""

from __future__ import annotations

import asyncio
import logging

from graphport.server.jobs.periodic import Periodic
from graphport.server.lifecycle import RunLifecycle
from graphport.server.runtime.broker import Broker
from graphport.server.runtime.wakeup import Wakeup

logger = logging.getLogger("graphport.leases")


class LeaseSweeper(Periodic):
    task_name = "graphport-leases"

    def __init__(
        self, lifecycle: RunLifecycle, broker: Broker, wakeup: Wakeup, *, interval: float
    ) -> None:
        self.lifecycle = lifecycle
        self.broker = broker
        self.wakeup = wakeup
        self.interval = interval

    async def sweep(self) -> None:
        """Requeue lapsed runs and end the streams of those that failed for good."""
        for ended in await self.lifecycle.requeue_lapsed():
            await self.broker.end_run(ended.run["run_id"], ended.run["thread_id"])
        await self.wakeup.notify()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
            except Exception:
                logger.exception("Lease sweep failed; retrying")
