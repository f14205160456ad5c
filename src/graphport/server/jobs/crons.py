"""The cron scheduler: every `cron_tick_seconds` it fires the crons that are due, through the
same `create_run` every other run takes.

A tick is claimed before its run is created, by advancing `next_run_date` with a
compare-and-set on the value that was read. Any number of schedulers (replicas, or one
restarted mid-tick) may race; exactly one wins each tick, so a tick never fires twice. The
price is at-most-once: a process dying between the claim and the run insert loses that tick.
Ticks missed while no scheduler ran fire once, and the next one is counted from now."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphport.server.auth import ServerAuth
from graphport.server.core import Core
from graphport.server.jobs.periodic import Periodic
from graphport.server.serde import utcnow
from graphport.server.services import crons as cron_service
from graphport.server.services import runs as run_service
from graphport.server.services.caller import Caller
from graphport.server.storage import crons as store
from graphport.server.storage.records import Cron

logger = logging.getLogger("graphport.scheduler")
BATCH = 100


@dataclass(frozen=True)
class CronCreator:
    """The user a cron's runs execute as: its creator's identity."""

    identity: str
    permissions: list[str] = field(default_factory=list)
    is_authenticated: bool = True

    @property
    def display_name(self) -> str:
        return self.identity


def creator(cron: Cron, auth: ServerAuth | None = None) -> Caller:
    if cron["user_id"] is None:
        return Caller()
    if auth is not None:  # custom auth: create_run is authorized as the creator
        return auth.caller_for({"identity": cron["user_id"]})
    return Caller(user=CronCreator(cron["user_id"]))


class Scheduler(Periodic):
    task_name = "graphport-cron-scheduler"

    def __init__(self, core: Core, auth: ServerAuth | None = None) -> None:
        self.core = core
        self.auth = auth

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                logger.exception("cron scheduler tick failed")
            await asyncio.sleep(self.core.settings.cron_tick_seconds)

    async def tick(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Fire every cron due at `now` (default: the current time); returns the runs made.

        The clock is a parameter so tests and tools can drive the scheduler directly."""
        now = now or utcnow()
        async with self.core.db.read() as conn:
            due = await store.due(conn, now, BATCH)
        runs = []
        for cron in due:
            try:
                run = await self._fire(cron, now)
            except Exception:
                logger.exception("cron %s failed to fire", cron["cron_id"])
                continue
            if run is not None:
                runs.append(run)
        return runs

    async def _fire(self, cron: Cron, now: datetime) -> dict[str, Any] | None:
        expired = cron["end_time"] is not None and cron["end_time"] <= now
        fields: dict[str, Any] = {}
        if expired:
            fields["enabled"] = False
        else:
            try:
                fields["next_run_date"] = cron_service.next_run(
                    cron["schedule"], cron["timezone"], now
                )
            except Exception:
                logger.exception("cron %s has an unusable schedule; disabling it", cron["cron_id"])
                fields["enabled"] = False
        async with self.core.db.begin() as conn:
            won = await store.claim_tick(conn, cron["cron_id"], cron["next_run_date"], **fields)
        if not won or not fields.get("next_run_date"):
            return None
        return await run_service.create_run(
            self.core,
            creator(cron, self.auth),
            cron_service.run_body(cron),
            thread_id=cron["thread_id"],
        )
