"""The run engine facade the services use: broker, wake-ups, cancel signals and the local
worker, chosen once at start-up. Cancel lives here because it spans all of them."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from graphport.server import serde
from graphport.server.runtime.broker import Broker
from graphport.server.runtime.control import Control
from graphport.server.runtime.wakeup import Wakeup
from graphport.server.runtime.webhooks import WebhookSender
from graphport.server.runtime.worker import Worker
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store

if TYPE_CHECKING:
    from graphport.server.core import Core

logger = logging.getLogger("graphport.engine")
MAX_ATTEMPTS = 3


class RunEngine:
    def __init__(self, broker: Broker, wakeup: Wakeup, control: Control) -> None:
        self.broker = broker
        self.wakeup = wakeup
        self.control = control
        self.worker: Worker | None = None
        self._core: Core | None = None
        self._sweep_task: asyncio.Task[None] | None = None

    @property
    def core(self) -> Core:
        assert self._core is not None, "engine not started"
        return self._core

    async def start(self, core: Core) -> None:
        self._core = core
        await self.broker.start()
        await self._recover_orphans()
        self._sweep_task = asyncio.create_task(self._sweep_leases(), name="graphport-leases")
        settings = core.settings
        if settings.max_concurrent_runs > 0:
            self.worker = Worker(
                core,
                concurrency=settings.max_concurrent_runs,
                webhooks=WebhookSender(
                    settings.webhook_max_attempts,
                    settings.webhook_backoff_seconds,
                    core.config.webhooks,
                ),
            )
            self.worker.start()

    async def stop(self) -> None:
        if self._sweep_task is not None:
            self._sweep_task.cancel()
        if self.worker is not None:
            await self.worker.stop()
            await self.worker.webhooks.close()
        await self.broker.stop()

    async def _sweep_leases(self) -> None:
        """Recover runs of workers that died without stopping (their leases lapse)."""
        while True:
            await asyncio.sleep(self.core.settings.lease_seconds)
            try:
                await self._recover_orphans()
            except Exception:
                logger.exception("Lease sweep failed; retrying")

    async def _recover_orphans(self) -> None:
        """Runs left `running` by a crash whose lease expired go back to pending (or error
        after MAX_ATTEMPTS), so nothing stays stuck and threads stay consistent."""
        now = serde.utcnow()
        failed: list[dict[str, Any]] = []
        async with self.core.db.begin() as conn:
            for run in await run_store.expired_leases(conn, now):
                if run["attempt"] >= MAX_ATTEMPTS:
                    await run_store.set_fields(
                        conn, run["run_id"], status="error", updated_at=now, ended_at=now
                    )
                    await thread_store.set_fields(
                        conn,
                        run["thread_id"],
                        status="error",
                        error={"error": "RuntimeError", "message": "exceeded max attempts"},
                    )
                    failed.append(run)
                else:
                    await run_store.set_fields(
                        conn, run["run_id"], status="pending", lease_owner=None, updated_at=now
                    )
        for run in failed:  # its worker died: end the stream it left open for its waiters
            done = serde.dumps({"status": "run_done", "run_id": run["run_id"]})
            await self.broker.finish(run["run_id"], run["thread_id"], done)
        await self.wakeup.notify()

    # --- claim at creation (a run whose thread is idle skips the queue round trip) ---------

    def reserve_slot(self) -> bool:
        """A free slot of the local worker, promised to a run being created; follow with
        `start_claimed` (the run was inserted with `claimed_fields`) or `release_slot`."""
        return self.worker is not None and self.worker.reserve()

    def release_slot(self) -> None:
        assert self.worker is not None
        self.worker.release()

    def claimed_fields(self, now: Any) -> dict[str, Any]:
        assert self.worker is not None
        return self.worker.lease(now)

    def start_claimed(self, run: dict[str, Any]) -> None:
        assert self.worker is not None
        self.worker.adopt(run)

    # --- queries used by services -------------------------------------------------------

    async def has_inflight(self, thread_id: str) -> bool:
        async with self.core.db.read() as conn:
            return bool(await run_store.inflight(conn, thread_id))

    async def publish_state_update(self, thread_id: str) -> None:
        from graphport.server.runtime import state as state_service

        async with self.core.db.read() as conn:
            thread = await thread_store.get(conn, thread_id)
        if thread is None:
            return
        state = await state_service.get_state(self.core, thread)
        await self.broker.publish_thread(
            thread_id, "state_update", serde.dumps({"state": state, "thread_id": thread_id})
        )

    # --- cancel -------------------------------------------------------------------------

    async def cancel(
        self, runs: list[dict[str, Any]], action: str, *, reason: str | None = None
    ) -> None:
        """Cancel runs: pending ones directly in the database, running ones via their worker."""
        for run in runs:
            if run["status"] == "pending" and await self._cancel_pending(run, action, reason):
                continue
            # Running, or claimed by a worker since it was read: stop it where it runs.
            async with self.core.db.begin() as conn:
                await run_store.set_fields(conn, run["run_id"], cancel_reason=reason)
            await self.control.send_cancel(run["run_id"], action)

    async def _cancel_pending(
        self, run: dict[str, Any], action: str, reason: str | None
    ) -> bool:
        """Cancel a run still waiting in the table; False if a worker took it first."""
        now = serde.utcnow()
        async with self.core.db.begin() as conn:
            if action == "rollback":
                ok = await run_store.delete_if_status(conn, run["run_id"], ("pending",))
            else:
                ok = await run_store.set_status_if(
                    conn,
                    run["run_id"],
                    ("pending",),
                    status="interrupted",
                    updated_at=now,
                    ended_at=now,
                    cancel_reason=reason,
                )
            if ok and not await run_store.inflight(conn, run["thread_id"]):
                thread = await thread_store.get(conn, run["thread_id"])
                if thread is not None and thread["status"] == "busy":
                    status = "interrupted" if thread["interrupts"] else "idle"
                    await thread_store.set_fields(conn, run["thread_id"], status=status)
        if ok:
            epitaph = None
            if run["kwargs"].get("temporary"):
                async with self.core.db.begin() as conn:
                    epitaph = await self.drop_temporary_thread(conn, run, "interrupted", now)
            await self.broker.finish(
                run["run_id"],
                run["thread_id"],
                serde.dumps({"status": "run_done", "run_id": run["run_id"]}),
                epitaph=epitaph,
            )
        return ok

    async def drop_temporary_thread(
        self, conn: Any, run: dict[str, Any], status: str, now: Any
    ) -> dict[str, Any]:
        """Delete a finished temporary run's thread (its run rows cascade) and return the
        epitaph the broker keeps: the final run and the thread's metadata for auth."""
        thread = await thread_store.get(conn, run["thread_id"])
        await thread_store.delete_many(conn, [run["thread_id"]])
        final = {
            k: v
            for k, v in run.items()
            if k not in ("attempt", "started_at", "ended_at", "lease_owner", "lease_expires_at")
        }
        final.update(status=status, updated_at=now)
        return {"run": final, "thread_metadata": thread["metadata"] if thread else {}}

    async def wait_stopped(self, run_ids: list[str], timeout: float = 30.0) -> None:
        """Return once these runs are no longer in flight (bounded by `timeout`)."""
        try:
            async with asyncio.timeout(timeout):
                for run_id in run_ids:
                    async for _ in self.broker.subscribe_run(run_id, (0, 0)):
                        pass
        except TimeoutError:
            logger.warning("Runs %s still running after %.0f s", run_ids, timeout)

    async def cancel_thread_runs(self, thread_id: str, action: str = "interrupt") -> None:
        async with self.core.db.read() as conn:
            runs = await run_store.matching(conn, thread_id=thread_id)
        await self.cancel(runs, action, reason="thread deleted")
        await self.wait_stopped([r["run_id"] for r in runs], timeout=10)

    async def cancel_assistant_runs(self, assistant_id: str) -> None:
        async with self.core.db.read() as conn:
            runs = await run_store.matching(conn, assistant_id=assistant_id)
        await self.cancel(runs, "interrupt", reason="assistant deleted")
