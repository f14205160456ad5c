"""The worker: claims pending runs, executes each in its own task (up to a concurrency
limit), honours cancel signals, and finalizes: run status, thread status/values, the end
of the event stream, webhooks. A crash in one run never touches another."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from graphport.server import serde
from graphport.server.runtime import executor
from graphport.server.runtime import state as state_service
from graphport.server.runtime.webhooks import WebhookSender
from graphport.server.storage import checkpoints
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store
from graphport.server.storage.common import Conn

if TYPE_CHECKING:
    from graphport.server.core import Core

logger = logging.getLogger("graphport.worker")

# How long a cancel for a run with no task here is kept (see `cancel_local`).
UNCLAIMED_CANCEL_SECONDS = 60.0
# Exception types whose message is safe to show clients (spec 4.2); others are masked.
_SHOWN = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RuntimeError,
    RecursionError,
    TimeoutError,
    NotImplementedError,
    AssertionError,
    LookupError,
)


def error_payload(exc: BaseException) -> dict[str, str]:
    name = type(exc).__name__
    shown = isinstance(exc, _SHOWN) or type(exc).__module__.startswith("langgraph")
    return {"error": name, "message": str(exc) if shown else "An internal error occurred"}


class Worker:
    def __init__(self, core: Core, *, concurrency: int, webhooks: WebhookSender) -> None:
        self.core = core
        self.concurrency = concurrency
        self.webhooks = webhooks
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel: dict[str, str] = {}
        self._unclaimed_cancels: dict[str, float] = {}  # run id -> when its cancel came
        # Runs past their graph, being finalized: a late cancel must not interrupt that.
        self._finalizing: set[str] = set()
        self._queued_behind: dict[str, bool] = {}
        # Slots promised to runs being claimed at creation (see `reserve`).
        self._reserved = 0
        self._loop_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        self.core.engine.control.on_cancel(self.cancel_local)
        self._loop_task = asyncio.create_task(self._loop(), name="graphport-worker")

    async def stop(self) -> None:
        if self._loop_task:
            self._loop_task.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
            # Runs cut short by the stop: hand them back to the queue (the next start, or
            # another worker's lease sweep, retries them) instead of leaving them `running`.
            async with self.core.db.begin() as conn:
                await run_store.release_leases(conn, self.owner, serde.utcnow())

    async def _loop(self) -> None:
        engine = self.core.engine
        while True:
            try:
                timeout = await self._claim_available()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Worker loop error; retrying")
                timeout = 1.0
            if timeout:
                await engine.wakeup.wait(timeout)

    async def _claim_available(self) -> float:
        """Start claimable runs up to the concurrency limit; returns how long to sleep:
        until the next delayed run is due (after_seconds), at most a second (the polling
        fallback; wake-ups come sooner)."""
        while len(self._tasks) + self._reserved < self.concurrency:
            claim = functools.partial(self._claim, now=serde.utcnow())
            try:
                run, more, due = await self.core.db.transact(claim)
            except IntegrityError:  # another worker started a run on that thread first
                continue
            if run is not None:
                task = asyncio.create_task(self._run(run), name=f"run-{run['run_id']}")
                self._tasks[run["run_id"]] = task
            if not more:
                if due is None:
                    return 1.0
                return min(1.0, max(0.005, (due - serde.utcnow()).total_seconds()))
        return 1.0

    async def _claim(
        self, conn: Conn, now: datetime
    ) -> tuple[dict[str, Any] | None, bool, datetime | None]:
        """Claim the next runnable run: (it or None, whether another may be runnable now,
        and if not, when the next delayed run is due)."""
        lease_until = now + timedelta(seconds=self.core.settings.lease_seconds)
        run, more = await run_store.claim(conn, now, self.owner, lease_until)
        return run, more, None if more else await run_store.next_due(conn, now)

    # --- claim at creation ---------------------------------------------------------------

    def reserve(self) -> bool:
        """Promise a free slot to a run about to be inserted already claimed by this worker
        (its thread idle, nothing delayed): it skips the queue's wake-up and claim round
        trip. Exactly one of `adopt` or `release` must follow."""
        if len(self._tasks) + self._reserved >= self.concurrency:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        self._reserved -= 1

    def lease(self, now: datetime) -> dict[str, Any]:
        """The columns a claim sets (storage.runs.claim), for a run inserted claimed."""
        return {
            "status": "running",
            "started_at": now,
            "lease_owner": self.owner,
            "lease_expires_at": now + timedelta(seconds=self.core.settings.lease_seconds),
            "attempt": 1,
        }

    def adopt(self, run: dict[str, Any]) -> None:
        """Start a run inserted with `lease` (its reserved slot becomes its task)."""
        self._reserved -= 1
        self._tasks[run["run_id"]] = asyncio.create_task(
            self._run(run), name=f"run-{run['run_id']}"
        )

    # --- cancel -------------------------------------------------------------------------

    async def cancel_local(self, run_id: str, action: str) -> None:
        if run_id in self._finalizing:
            return  # the graph is done; the run ends with its own status
        task = self._tasks.get(run_id)
        self._cancel[run_id] = action
        if task is not None and not task.done():
            self._cancel_until_seen(run_id)
        elif task is None:
            # Claimed here a moment ago (its task starts next) or run by another worker:
            # keep the signal for `_run` to find, but not forever.
            now = time.monotonic()
            self._unclaimed_cancels[run_id] = now
            for other, at in list(self._unclaimed_cancels.items()):
                if now - at > UNCLAIMED_CANCEL_SECONDS and other not in self._tasks:
                    del self._unclaimed_cancels[other]
                    self._cancel.pop(other, None)

    def _cancel_until_seen(self, run_id: str) -> None:
        """Cancel the run's task, again every moment until `_run` has seen it: on Python
        3.11 `asyncio.wait_for` (in redis-py, among others) drops a cancel that arrives
        as its inner await completes."""
        task = self._tasks.get(run_id)
        if task is None or task.done() or run_id not in self._cancel:
            return  # ended, or `_run` took the cancel (it pops `_cancel`)
        if run_id in self._finalizing:
            return
        task.cancel()
        asyncio.get_running_loop().call_later(0.05, self._cancel_until_seen, run_id)

    async def wait_stopped(self, run_id: str, timeout: float) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.wait([task], timeout=timeout)

    # --- one run ------------------------------------------------------------------------

    async def _run(self, run: dict[str, Any]) -> None:
        run_id, thread_id = run["run_id"], run["thread_id"]
        broker = self.core.engine.broker
        started = time.monotonic()

        async def publish(event: str, data: Any) -> None:
            await broker.publish(run_id, thread_id, event, serde.dumps(data))

        status, error, outcome = "success", None, executor.Outcome()
        heartbeat = asyncio.create_task(self._heartbeat(run_id))
        try:
            if run_id in self._cancel:  # cancelled between its claim and this start
                raise asyncio.CancelledError
            async with asyncio.timeout(self.core.settings.run_timeout_seconds):
                outcome = await executor.execute(self.core, run, publish)
        except asyncio.CancelledError:
            action = self._cancel.pop(run_id, None)
            if action is None:  # shutdown: leave the run for the next start to requeue
                heartbeat.cancel()
                self._tasks.pop(run_id, None)
                raise
            status = "rollback" if action == "rollback" else "interrupted"
        except TimeoutError as e:
            status, error = "timeout", e
        except Exception as e:
            status, error = "error", e
            logger.warning("Run %s failed: %s: %s", run_id, type(e).__name__, e)
        finally:
            heartbeat.cancel()
        # From here on cancels are ignored (cancel_local): the graph has stopped, and an
        # interrupted finalize would leave the run `running` and its stream open.
        self._finalizing.add(run_id)
        try:
            if error is not None:
                await publish("error", error_payload(error))
            await self.finalize(run, status, error, outcome)
        except Exception as e:
            logger.exception("Finalizing run %s failed", run_id)
            await self._fail_safe(run, e)
        finally:
            self._finalizing.discard(run_id)
            was_full = len(self._tasks) >= self.concurrency
            self._tasks.pop(run_id, None)
            self._cancel.pop(run_id, None)
            self._unclaimed_cancels.pop(run_id, None)
            # Something may be claimable now: the next run queued on this thread, or
            # anything that waited for this worker's free slot.
            if was_full or self._queued_behind.pop(run_id, False):
                await self.core.engine.wakeup.notify()
            logger.info(
                "run %s %s in %.1f ms", run_id, status, (time.monotonic() - started) * 1000
            )

    async def _fail_safe(self, run: dict[str, Any], exc: Exception) -> None:
        """After a failed finalize: end the run as `error` as far as still possible, so
        neither it nor its waiters stay stuck."""
        run_id, thread_id = run["run_id"], run["thread_id"]
        now = serde.utcnow()
        try:
            async with self.core.db.begin() as conn:
                await run_store.set_status_if(
                    conn, run_id, ("running",), status="error", updated_at=now, ended_at=now
                )
                if not await run_store.inflight(conn, thread_id):
                    await thread_store.set_fields(
                        conn, thread_id, status="error", error=error_payload(exc), updated_at=now
                    )
        except Exception:
            logger.exception("Marking run %s as failed failed too", run_id)
        await self.core.engine.broker.finish(
            run_id, thread_id, serde.dumps({"status": "run_done", "run_id": run_id})
        )

    async def _heartbeat(self, run_id: str) -> None:
        """Renew the run's lease, and pick up a cancel whose signal never arrived."""
        control = self.core.engine.control
        while True:
            lease = self.core.settings.lease_seconds
            await asyncio.sleep(lease / 3)
            until = serde.utcnow() + timedelta(seconds=lease)
            try:  # a failed renewal is retried next beat; a lapsed lease would rerun the run
                async with self.core.db.begin() as conn:
                    await run_store.renew_leases(conn, self.owner, [run_id], until)
                action = (await control.requested([run_id])).get(run_id)
            except Exception:
                logger.warning("Heartbeat of run %s failed; retrying", run_id, exc_info=True)
                continue
            if action is not None and run_id not in self._cancel:
                await self.cancel_local(run_id, action)

    async def finalize(
        self,
        run: dict[str, Any],
        status: str,
        error: BaseException | None,
        outcome: executor.Outcome,
    ) -> None:
        """Write the terminal state, refresh the thread, end the stream, send the webhook."""
        core = self.core
        run_id, thread_id = run["run_id"], run["thread_id"]
        kwargs = run["kwargs"]
        now = serde.utcnow()
        temporary = bool(kwargs.get("temporary"))
        if status == "rollback":
            await checkpoints.delete_for_runs(core.db, thread_id, [run_id])
        summary = outcome.summary if status == "success" else None
        if summary is None and not temporary:
            try:
                async with core.db.read() as conn:
                    thread = await thread_store.get(conn, thread_id)
                if thread is not None:
                    summary = await state_service.latest_summary(core, thread)
            except Exception:
                logger.exception("Reading final state of thread %s failed", thread_id)

        async def transaction(conn: Conn) -> tuple[dict[str, Any] | None, bool]:
            """(the epitaph of a temporary run, whether other runs wait on the thread)"""
            if temporary:  # the thread goes, and its runs with it (cascade)
                return await core.engine.drop_temporary_thread(conn, run, status, now), False
            if status == "rollback":
                await run_store.delete_one(conn, run_id)
            else:
                await run_store.set_fields(
                    conn, run_id, status=status, updated_at=now, ended_at=now, lease_owner=None
                )
            return None, await _refresh_thread(conn, thread_id, status, error, summary, now)

        epitaph, self._queued_behind[run_id] = await core.db.transact(transaction)
        if temporary and executor.uses_checkpointer(kwargs):
            await checkpoints.delete_thread(core.db.checkpointer, thread_id)
        await core.engine.broker.finish(
            run_id,
            thread_id,
            serde.dumps({"status": "run_done", "run_id": run_id}),
            epitaph=epitaph,
        )
        webhooks_on = not (core.config.http or {}).get("disable_webhooks")  # spec 6.12
        if kwargs.get("webhook") and webhooks_on:  # rolled-back runs report "rollback" too
            self.webhooks.send(
                kwargs["webhook"],
                {
                    **{k: run[k] for k in ("run_id", "thread_id", "assistant_id", "metadata")},
                    "created_at": run["created_at"],
                    "updated_at": now,
                    "kwargs": kwargs,
                    "multitask_strategy": run["multitask_strategy"],
                    "status": status,
                    "run_started_at": run.get("started_at"),
                    "run_ended_at": now,
                    "values": summary["values"] if summary else outcome.last_values,
                    **({"error": error_payload(error)} if error is not None else {}),
                },
            )


async def _refresh_thread(
    conn: Conn,
    thread_id: str,
    status: str,
    error: BaseException | None,
    summary: dict[str, Any] | None,
    now: Any,
) -> bool:
    """The thread row after a run: its state summary, and a status that stays `busy` while
    other runs are queued on it (returned: whether any are)."""
    others = await run_store.inflight(conn, thread_id)
    fields: dict[str, Any] = {"updated_at": now, "state_updated_at": now}
    if summary is not None:
        fields.update(values=summary["values"], interrupts=summary["interrupts"])
    if others:
        fields["status"] = "busy"
    elif status == "error":
        fields["status"] = "error"
    else:
        fields["status"] = summary["status"] if summary else "idle"
    fields["error"] = error_payload(error) if status == "error" and error else None
    await thread_store.set_fields(conn, thread_id, **fields)
    return bool(others)
