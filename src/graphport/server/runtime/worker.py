"""The worker: claims pending runs, executes each in its own task (up to a concurrency
limit), honours cancel signals, and finalizes: run status, thread status/values, the end
of the event stream, webhooks. A crash in one run never touches another."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy.exc import IntegrityError

from graphport.server import logs, metrics, serde, tracing
from graphport.server.graphs import GraphRegistry
from graphport.server.lifecycle import Ended, RunLifecycle
from graphport.server.runtime import executor
from graphport.server.runtime.broker import Broker, BrokerUnavailable
from graphport.server.runtime.control import Control
from graphport.server.runtime.faults import is_transient
from graphport.server.runtime.outbox import RunEvents
from graphport.server.runtime.snapshots import latest_summary
from graphport.server.runtime.wakeup import Wakeup
from graphport.server.runtime.webhooks import WebhookSender
from graphport.server.storage import checkpoints
from graphport.server.storage import threads as thread_store
from graphport.server.storage.database import Database
from graphport.server.storage.records import Run, RunEnding

logger = logging.getLogger("graphport.worker")
T = TypeVar("T")

# How long a cancel for a run with no task here is kept (see `cancel_local`).
UNCLAIMED_CANCEL_SECONDS = 60.0
# Exception types whose message is safe to show clients (docs/api.md#errors); others are masked.
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



@dataclass(frozen=True)
class WorkerDeps:
    """What a worker uses, handed over at construction."""

    registry: GraphRegistry
    db: Database
    lifecycle: RunLifecycle
    broker: Broker
    wakeup: Wakeup
    control: Control
    webhooks: WebhookSender | None  # None: webhooks switched off (http.disable_webhooks)
    lease_seconds: float
    run_timeout_seconds: float
    stream_retention_seconds: float


class Worker:
    def __init__(self, deps: WorkerDeps, *, concurrency: int) -> None:
        self.deps = deps
        self.concurrency = concurrency
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel: dict[str, str] = {}
        self._unclaimed_cancels: dict[str, float] = {}  # run id -> when its cancel came
        # Runs past their graph, being finalized: a late cancel must not interrupt that.
        self._finalizing: set[str] = set()
        # Slots promised to runs being claimed at creation (see `reserve`).
        self._reserved = 0
        self._draining = False
        # Stream ends still on their way to the broker (see `_end_stream`).
        self._endings: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    # --- start and stop ------------------------------------------------------------------

    def start(self) -> None:
        self.deps.control.on_cancel(self.cancel_local)
        self._loop_task = asyncio.create_task(self._loop(), name="graphport-worker")

    def drain(self) -> None:
        """Take no more runs (claims stop, no slot is promised to a new run); the runs in
        flight go on."""
        self._draining = True
        if self._loop_task:
            self._loop_task.cancel()

    async def stop(self, grace: float = 0.0) -> None:
        """Drain, give the runs in flight `grace` seconds to finish, then cut the rest
        short: they go back to the queue (another worker, or the next start, resumes them
        from their checkpoint) instead of staying `running` or ending `error`."""
        self.drain()
        if self._tasks and grace > 0:
            logger.info("Waiting up to %.0f s for %d runs to finish", grace, len(self._tasks))
            await asyncio.wait(list(self._tasks.values()), timeout=grace)
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
            released = await self.deps.lifecycle.release(self.owner)
            if released:
                logger.info("Handed %d unfinished runs back to the queue", len(released))
                await self.deps.wakeup.notify()
        if self._endings:
            await asyncio.wait(list(self._endings), timeout=5)
        if self.deps.webhooks is not None:
            await self.deps.webhooks.close()

    async def _loop(self) -> None:
        while True:
            try:
                timeout = await self._claim_available()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Worker loop error; retrying")
                timeout = 1.0
            if timeout:
                await self.deps.wakeup.wait(timeout)

    async def _claim_available(self) -> float:
        """Start claimable runs up to the concurrency limit; returns how long to sleep:
        until the next delayed run is due (after_seconds), at most a second (the polling
        fallback; wake-ups come sooner)."""
        while len(self._tasks) + self._reserved < self.concurrency:
            try:
                claim = await self.deps.lifecycle.claim(self.owner)
            except IntegrityError:  # another worker started a run on that thread first
                continue
            if claim.run is not None:
                self._start(claim.run)
            if not claim.more:
                if claim.due is None:
                    return 1.0
                return min(1.0, max(0.005, (claim.due - serde.utcnow()).total_seconds()))
        return 1.0

    def _start(self, run: Run) -> None:
        if action := run.get("cancel_action"):  # cancelled while it waited to be reclaimed
            self._cancel[run["run_id"]] = action
        self._tasks[run["run_id"]] = asyncio.create_task(
            self._run(run), name=f"run-{run['run_id']}"
        )

    # --- claim at creation ---------------------------------------------------------------

    def reserve(self) -> str | None:
        """Promise a free slot to a run about to be created: returns the owner to create
        it claimed for (`RunLifecycle.create(claim_for=…)`), so it skips the queue's
        wake-up and claim round trip; None when every slot is busy. `adopt` must follow."""
        if self._draining or len(self._tasks) + self._reserved >= self.concurrency:
            return None
        self._reserved += 1
        return self.owner

    def adopt(self, run: Run | None) -> None:
        """Settle a reserved slot: start `run` if it was created claimed by this worker,
        otherwise (queued behind another run, or not created) free the slot."""
        self._reserved -= 1
        if run is not None and run["status"] == "running" and run.get("lease_owner") == self.owner:
            self._start(run)

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

    async def _run(self, run: Run) -> None:
        run_id = run["run_id"]
        events = RunEvents(self.deps.broker, run_id, run["thread_id"])
        started = time.monotonic()

        async def publish(event: str, data: Any) -> None:
            await events.publish(event, serde.dumps(data))

        status: RunEnding | Literal["retry"] = "success"
        error: BaseException | None = None
        outcome = executor.Outcome()
        heartbeat = asyncio.create_task(self._heartbeat(run_id))
        with tracing.run_span(run) as span:
            try:
                if run_id in self._cancel:  # cancelled between its claim and this start
                    raise asyncio.CancelledError
                async with asyncio.timeout(self.deps.run_timeout_seconds):
                    outcome = await executor.execute(
                        self.deps.registry, self.deps.db, run, publish
                    )
            except asyncio.CancelledError:
                action = self._cancel.pop(run_id, None)
                if action is None:  # shutdown: the stop hands the run back to the queue
                    heartbeat.cancel()
                    self._tasks.pop(run_id, None)
                    raise
                status = "rollback" if action == "rollback" else "interrupted"
            except TimeoutError as e:
                status, error = "timeout", e
            except Exception as e:
                error = e
                if is_transient(e):  # the database or the broker, not the graph
                    status = "retry"
                    logger.warning(
                        "Run %s cut short by %s: %s; retrying", run_id, type(e).__name__, e
                    )
                else:
                    status = "error"
                    logger.warning(
                        "Run %s failed: %s: %s", run_id, type(e).__name__, e, exc_info=True
                    )
            finally:
                heartbeat.cancel()
            tracing.outcome(span, status, error)
        # From here on cancels are ignored (cancel_local): the graph has stopped, and an
        # interrupted finalize would leave the run `running` and its stream open.
        self._finalizing.add(run_id)
        ended: Ended | None = None
        try:
            if status == "retry":
                assert error is not None
                ended = await self._requeue(run, error, events)
            else:
                if error is not None:
                    await publish("error", error_payload(error))
                ended = await self.finalize(run, status, error, outcome, events)
        except Exception as e:
            logger.exception("Finalizing run %s failed", run_id)
            ended = await self._fail_safe(run, e, events)
        finally:
            self._finalizing.discard(run_id)
            was_full = len(self._tasks) >= self.concurrency
            self._tasks.pop(run_id, None)
            self._cancel.pop(run_id, None)
            self._unclaimed_cancels.pop(run_id, None)
            # Something may be claimable now: the next run queued on this thread, or
            # anything that waited for this worker's free slot.
            if was_full or status == "retry" or (ended is not None and ended.queued_behind):
                await self.deps.wakeup.notify()
            ms = (time.monotonic() - started) * 1000
            fields = logs.run_fields(run, status, ms)
            logger.info("run %s %s in %.1f ms", run_id, status, ms, extra=fields)

    async def _durably(self, what: str, write: Callable[[], Awaitable[T]]) -> T | None:
        """A lifecycle write retried while the database is unreachable, for about a lease:
        None if it never went through (the run's lease then lapses, and the lease sweep
        requeues it to resume from its checkpoint: nothing is reported that did not
        happen). Other failures raise."""
        deadline = time.monotonic() + self.deps.lease_seconds
        delay = 0.1
        while True:
            try:
                return await write()
            except Exception as e:
                if not is_transient(e):
                    raise
                if time.monotonic() + delay > deadline:
                    logger.warning("Could not %s (%s); its lease will lapse", what, e)
                    return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _end_stream(self, events: RunEvents, epitaph: dict[str, Any] | None = None) -> None:
        """End the run's stream: at once when the broker is reachable (waiters return now),
        else off the worker's slot, once the broker is back (bounded by the retention)."""
        if events.caught_up:
            try:
                await self.deps.broker.end_run(events.run_id, events.thread_id, epitaph=epitaph)
                return
            except BrokerUnavailable:
                pass

        async def deliver() -> None:
            try:
                async with asyncio.timeout(self.deps.stream_retention_seconds):
                    await events.end(epitaph)
            except TimeoutError:
                logger.warning("Run %s: its stream end never reached the broker", events.run_id)

        task = asyncio.create_task(deliver(), name=f"end-{events.run_id}")
        self._endings.add(task)
        task.add_done_callback(self._endings.discard)

    async def _requeue(self, run: Run, exc: BaseException, events: RunEvents) -> Ended | None:
        """A run cut short by a lost connection goes back to the queue (its stream stays
        open for the next attempt), or ends `error` after its last attempt."""
        ended = await self._durably(
            f"requeue run {run['run_id']}",
            lambda: self.deps.lifecycle.retry(
                run, owner=run.get("lease_owner"), error=error_payload(exc)
            ),
        )
        if ended is not None:  # out of attempts
            await events.publish("error", serde.dumps(error_payload(exc)))
            await self._end_stream(events)
        return ended

    async def _fail_safe(self, run: Run, exc: Exception, events: RunEvents) -> Ended | None:
        """After finalize failed for a reason that is not a lost connection (a bug): end
        the run as `error` as far as still possible, so neither it nor its waiters stay
        stuck. Never raises."""
        ended = None
        try:
            ended = await self.deps.lifecycle.fail(run, error_payload(exc))
        except Exception:
            logger.exception("Marking run %s as failed failed too", run["run_id"])
        await self._end_stream(events)
        return ended

    async def _heartbeat(self, run_id: str) -> None:
        """Renew the run's lease, and pick up a cancel whose signal never arrived."""
        while True:
            await asyncio.sleep(self.deps.lease_seconds / 3)
            try:  # a failed renewal is retried next beat; a lapsed lease would rerun the run
                action = (await self.deps.lifecycle.renew(self.owner, [run_id])).get(run_id)
            except Exception:
                logger.warning("Heartbeat of run %s failed; retrying", run_id, exc_info=True)
                continue
            if action is not None and run_id not in self._cancel:
                await self.cancel_local(run_id, action)

    async def finalize(
        self,
        run: Run,
        status: RunEnding,
        error: BaseException | None,
        outcome: executor.Outcome,
        events: RunEvents,
    ) -> Ended | None:
        """Record the run's end (status, thread) first, then end its stream and send its
        webhook: once the graph's work is saved, what happens to the broker or a receiver
        cannot change what the run reports."""
        deps = self.deps
        run_id, thread_id = run["run_id"], run["thread_id"]
        kwargs = run["kwargs"]
        temporary = bool(kwargs.get("temporary"))
        if status == "rollback":
            await checkpoints.delete_for_runs(deps.db, thread_id, [run_id])
        summary = outcome.summary if status == "success" else None
        if summary is None and not temporary:
            try:
                async with deps.db.read() as conn:
                    thread = await thread_store.get(conn, thread_id)
                if thread is not None:
                    summary = await latest_summary(deps.registry, deps.db, thread)
            except Exception:
                logger.exception("Reading final state of thread %s failed", thread_id)
        ended = await self._durably(
            f"record the end of run {run_id}",
            lambda: deps.lifecycle.finish(
                run,
                status,
                owner=run.get("lease_owner"),
                error=error_payload(error) if error is not None else None,
                summary=summary,
            ),
        )
        if ended is None:
            logger.warning("Run %s: its end is not recorded by this worker", run_id)
            return None
        metrics.run_finished(run, status)
        if outcome.closing is not None and status == "success":
            await events.publish(outcome.closing[0], serde.dumps(outcome.closing[1]))
        if temporary and executor.uses_checkpointer(kwargs):
            await checkpoints.delete_thread(deps.db.checkpointer, thread_id)
        await self._end_stream(events, ended.epitaph)
        url = kwargs.get("webhook")
        if url and deps.webhooks is not None:
            # Rolled-back runs report "rollback" too.
            now = serde.utcnow()
            deps.webhooks.send(
                url,
                {
                    "run_id": run_id,
                    "thread_id": thread_id,
                    "assistant_id": run["assistant_id"],
                    "metadata": run["metadata"],
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
        return ended
