"""Cancelling runs wherever they are: a run still in the queue is ended by the lifecycle
in the database; a running one is stopped by the worker running it, reached through the
cancel signal (in-process or Redis)."""

from __future__ import annotations

import asyncio
import logging

from graphport.server.core import Core
from graphport.server.runtime.broker import BrokerUnavailable
from graphport.server.storage import runs as run_store
from graphport.server.storage.records import Run
from graphport.types import CancelAction

logger = logging.getLogger("graphport.cancel")


async def cancel_runs(
    core: Core, runs: list[Run], action: CancelAction, *, reason: str | None = None
) -> None:
    for run in runs:
        if run["status"] == "pending":
            ended = await core.lifecycle.cancel_pending(run, action, reason)
            if ended is not None:
                await core.broker.end_run(run["run_id"], run["thread_id"], epitaph=ended.epitaph)
                if ended.queued_behind:
                    await core.wakeup.notify()
                continue
        # Running, or claimed by a worker since it was read: stop it where it runs. The
        # request is kept in the run's row first, so it lands even if the signal is lost.
        await core.lifecycle.note_cancel(run["run_id"], action, reason)
        try:
            await core.control.send_cancel(run["run_id"], action)
        except BrokerUnavailable as e:
            logger.warning("Cancel signal for run %s not sent (%s); its worker will find "
                           "the request with its next lease renewal", run["run_id"], e)


async def wait_stopped(core: Core, run_ids: list[str], timeout: float = 30.0) -> None:
    """Return once these runs are no longer in flight (bounded by `timeout`): their
    streams end when they do."""
    try:
        async with asyncio.timeout(timeout):
            for run_id in run_ids:
                async for _ in core.broker.subscribe_run(run_id, (0, 0)):
                    pass
    except TimeoutError:
        logger.warning("Runs %s still running after %.0f s", run_ids, timeout)


async def cancel_thread_runs(core: Core, thread_id: str) -> None:
    """Stop everything in flight on a thread about to be deleted."""
    async with core.db.read() as conn:
        runs = await run_store.matching(conn, thread_id=thread_id)
    await cancel_runs(core, runs, "interrupt", reason="thread deleted")
    await wait_stopped(core, [r["run_id"] for r in runs], timeout=10)


async def cancel_assistant_runs(core: Core, assistant_id: str) -> None:
    async with core.db.read() as conn:
        runs = await run_store.matching(conn, assistant_id=assistant_id)
    await cancel_runs(core, runs, "interrupt", reason="assistant deleted")
