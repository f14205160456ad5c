"""`RunLifecycle`: the one owner of every change of a run's status and of its thread's.

Each operation is one transaction whose compare-and-set follows `machine.RULES`; a run
that moved on concurrently (taken by another worker, cancelled, swept) makes the operation
return None instead of overwriting it. The thread's status is derived in one place,
`_settle`, from the runs still in flight and the thread's latest state.

Nothing here publishes events or talks to workers: callers do that with what an operation
returns, after its transaction committed (see docs/run-lifecycle.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.exc import IntegrityError

from graphport.server.lifecycle import machine, sql
from graphport.server.serde import utcnow
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store
from graphport.server.storage.common import Conn
from graphport.server.storage.database import Database
from graphport.server.storage.records import (
    RUN_INTERNAL_FIELDS,
    NewRun,
    NewThread,
    Run,
    RunEnding,
    Summary,
    Thread,
)
from graphport.types import CancelAction, RunStatus, ThreadStatus

MAX_ATTEMPTS = 3
_EXHAUSTED = {"error": "RuntimeError", "message": "exceeded max attempts"}


@dataclass
class Draft:
    """A run about to be created, prepared by the runs service inside the create
    transaction (under the thread's lock, with the multitask strategy applied)."""

    run: NewRun
    # The thread's fields the run sets (metadata, config), and the new thread's row when
    # the run creates it.
    thread_fields: dict[str, Any]
    new_thread: NewThread | None = None
    inflight: list[Run] = field(default_factory=list)


@dataclass(frozen=True)
class Created:
    run: Run
    inflight: list[Run]

    @property
    def claimed(self) -> bool:
        return self.run["status"] == "running"


@dataclass(frozen=True)
class Claim:
    run: Run | None
    # Whether another run may be claimable right now.
    more: bool
    # If not, when the next delayed run becomes due.
    due: datetime | None


@dataclass(frozen=True)
class Ended:
    """A run that reached its end: what its stream's last words need."""

    run: Run
    status: RunEnding
    # A temporary run's thread is gone: the final run and the thread's metadata (for
    # authorizing late readers of its retained stream).
    epitaph: dict[str, Any] | None = None
    # Whether other runs wait on the thread (a worker should look for them now).
    queued_behind: bool = False


class ThreadAppeared(Exception):
    """The thread a run was about to create was created concurrently (retry the create:
    the thread now exists and the multitask strategy decides)."""


class RunLifecycle:
    def __init__(
        self, db: Database, *, lease_seconds: float, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts

    def _lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease_seconds)

    # --- threads ---------------------------------------------------------------------

    @staticmethod
    async def insert_thread(
        conn: Conn, row: NewThread, *, copied_from: Thread | None = None
    ) -> Thread | None:
        """Insert a thread unless its id exists: the row inserted, or None. Runs in the
        caller's transaction. A new thread is idle; a copy keeps its source's pending
        interrupts, so it is interrupted when the source was."""
        interrupted = copied_from is not None and copied_from["status"] == "interrupted"
        thread: Thread = {**row, "status": "interrupted" if interrupted else "idle"}
        return thread if await sql.insert_thread(conn, thread) else None

    async def state_changed(
        self, thread_id: str, summary: Summary, *, keep_error: bool = False
    ) -> None:
        """The thread's checkpoints changed outside a run (a state update, a deleted run's
        checkpoints): its cached values and status follow, unless a run in flight will."""
        now = utcnow()

        async def transaction(conn: Conn) -> None:
            await _settle(conn, thread_id, now, summary=summary, keep_error=keep_error, touch=True)

        await self.db.transact(transaction)

    # --- runs --------------------------------------------------------------------------

    async def create(
        self,
        prepare: Callable[[Conn], Awaitable[Draft]],
        *,
        claim_for: str | None = None,
    ) -> Created:
        """Create a run (and its thread when needed) in one transaction: `prepare` reads
        and decides; the run is inserted `pending`, or `running` for `claim_for` (a worker
        with a slot promised to it) when nothing else is in flight on the thread."""
        machine.check("create", "running" if claim_for else "pending")

        inserts_thread = False

        async def transaction(conn: Conn) -> Created:
            nonlocal inserts_thread
            draft = await prepare(conn)
            now = draft.run["updated_at"]
            run: Run
            if claim_for is not None and not draft.inflight:
                run = {
                    **draft.run,
                    "status": "running",
                    "started_at": now,
                    "lease_owner": claim_for,
                    "lease_expires_at": self._lease_until(now),
                    "attempt": 1,
                }
            else:
                run = {**draft.run, "status": "pending"}
            if draft.new_thread is not None:
                row: Thread = {**draft.new_thread, "status": "busy"}
                row.update(draft.thread_fields)  # type: ignore[typeddict-item]  # Thread keys
                inserts_thread = True
                await sql.add_thread(conn, row)
            else:
                await sql.set_thread(conn, run["thread_id"], "busy", **draft.thread_fields)
            await sql.insert_run(conn, run)
            return Created(run, draft.inflight)

        # The new thread's insert is queued with the run's, not waited for: a thread
        # created concurrently under the same id shows as the unique violation.
        try:
            return await self.db.transact(transaction)
        except IntegrityError:
            if not inserts_thread:
                raise
            raise ThreadAppeared from None

    async def claim(self, owner: str) -> Claim:
        """Take the next runnable run for `owner`. Raises IntegrityError when another
        worker started a run on that thread first (try again)."""

        async def transaction(conn: Conn) -> Claim:
            now = utcnow()
            return Claim(*await sql.claim(conn, now, owner, self._lease_until(now)))

        # One statement on PostgreSQL (sql.claim): no BEGIN or COMMIT around it.
        return await self.db.transact_single(transaction)

    async def renew(self, owner: str, run_ids: list[str]) -> dict[str, CancelAction]:
        """Extend `owner`'s leases; returns the cancels asked for those runs (run id ->
        action), which reach the worker this way even when their signal was lost."""
        async with self.db.begin() as conn:
            found = await run_store.renew_leases(conn, owner, run_ids, self._lease_until(utcnow()))
        return {run_id: cast(CancelAction, action) for run_id, action in found.items()}

    async def finish(
        self,
        run: Run,
        status: RunEnding,
        *,
        owner: str | None,
        error: dict[str, Any] | None = None,
        summary: Summary | None = None,
    ) -> Ended | None:
        """End a run its worker holds: its terminal status (a rolled-back run's row is
        deleted instead; a temporary run's thread is dropped with its runs), and the
        thread's status. None when the run is no longer this worker's (its lease lapsed
        and it was requeued)."""
        machine.check("finish", None if status == "rollback" else status)
        now = utcnow()

        async def transaction(conn: Conn) -> Ended | None:
            expected = machine.sources("finish")
            if status == "rollback" or run["kwargs"].get("temporary"):
                # Ownership first: the row goes (rollback, or with its temporary thread).
                held = await sql.set_run_if(
                    conn,
                    run["run_id"],
                    expected,
                    "running",
                    owner=owner,
                    lock_thread=True,
                    updated_at=now,
                )
                if not held:
                    return None
                if run["kwargs"].get("temporary"):
                    final = status if status != "rollback" else "interrupted"
                    epitaph = await _drop_temporary(conn, run, final, now)
                    return Ended(run, status, epitaph=epitaph)
                await sql.delete_run_if(conn, run["run_id"], expected)
            else:
                done = await sql.set_run_if(
                    conn,
                    run["run_id"],
                    expected,
                    status,
                    owner=owner,
                    lock_thread=True,
                    updated_at=now,
                    ended_at=now,
                    lease_owner=None,
                )
                if not done:
                    return None
            behind = await _settle(
                conn,
                run["thread_id"],
                now,
                summary=summary,
                failed=error if status == "error" else None,
                touch=True,
                locked=True,
            )
            return Ended(run, status, queued_behind=behind)

        return await self.db.transact(transaction)

    async def fail(self, run: Run, error: dict[str, Any]) -> Ended | None:
        """The fail-safe after `finish` itself failed: `error`, as far as still possible."""
        now = utcnow()

        async def transaction(conn: Conn) -> Ended | None:
            done = await sql.set_run_if(
                conn,
                run["run_id"],
                machine.sources("fail"),
                "error",
                updated_at=now,
                ended_at=now,
                lease_owner=None,
            )
            if not done:
                return None
            await _settle(conn, run["thread_id"], now, failed=error, touch=True)
            return Ended(run, "error")

        return await self.db.transact(transaction)

    async def retry(self, run: Run, *, owner: str | None, error: dict[str, Any]) -> Ended | None:
        """A run cut short by a lost connection (not by its graph) goes back to the queue
        and resumes from its last checkpoint; after its last attempt it ends `error` (the
        returned `Ended`). None when requeued, or when no longer this worker's."""
        now = utcnow()
        expected = machine.sources("retry")

        async def transaction(conn: Conn) -> Ended | None:
            if run["attempt"] < self.max_attempts:
                await sql.set_run_if(
                    conn,
                    run["run_id"],
                    expected,
                    "pending",
                    owner=owner,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=now,
                )
                return None
            done = await sql.set_run_if(
                conn,
                run["run_id"],
                expected,
                "error",
                owner=owner,
                updated_at=now,
                ended_at=now,
                lease_owner=None,
            )
            if not done:
                return None
            behind = await _settle(conn, run["thread_id"], now, failed=error)
            return Ended(run, "error", queued_behind=behind)

        return await self.db.transact(transaction)

    async def cancel_pending(
        self, run: Run, action: CancelAction, reason: str | None
    ) -> Ended | None:
        """Cancel a run still waiting in the queue: `interrupted`, or deleted for a
        rollback. None when a worker took it first (cancel it where it runs instead)."""
        now = utcnow()
        expected = machine.sources("cancel_pending")

        async def transaction(conn: Conn) -> Ended | None:
            if action == "rollback":
                if not await sql.delete_run_if(conn, run["run_id"], expected):
                    return None
            elif not await sql.set_run_if(
                conn,
                run["run_id"],
                expected,
                "interrupted",
                updated_at=now,
                ended_at=now,
                cancel_reason=reason,
            ):
                return None
            status: RunEnding = "rollback" if action == "rollback" else "interrupted"
            if run["kwargs"].get("temporary"):
                epitaph = await _drop_temporary(conn, run, "interrupted", now)
                return Ended(run, status, epitaph=epitaph)
            behind = await _settle(conn, run["thread_id"], now)
            return Ended(run, status, queued_behind=behind)

        return await self.db.transact(transaction)

    async def note_cancel(self, run_id: str, action: CancelAction, reason: str | None) -> None:
        """Ask for a running run to be cancelled: kept in its row, so the worker holding it
        finds the request with its next lease renewal (or at its next claim) even if the
        signal never reached it; the worker then ends it through `finish`."""
        async with self.db.begin() as conn:
            await run_store.set_fields(conn, run_id, cancel_reason=reason, cancel_action=action)

    async def release(self, owner: str) -> list[Run]:
        """A stopping worker's runs go back to the queue for another worker (or the next
        start): retried from their last checkpoint, never left `running`."""
        now = utcnow()
        async with self.db.begin() as conn:
            return await sql.release(conn, owner, now)

    async def requeue_lapsed(self) -> list[Ended]:
        """Runs whose worker died (their lease lapsed) go back to the queue, or end as
        `error` after the last attempt; returns those that ended (their streams need an
        end)."""
        now = utcnow()

        async def transaction(conn: Conn) -> list[Ended]:
            failed: list[Ended] = []
            expected = machine.sources("requeue")
            for run in await run_store.expired_leases(conn, now):
                if run["attempt"] >= self.max_attempts:
                    done = await sql.set_run_if(
                        conn,
                        run["run_id"],
                        expected,
                        "error",
                        updated_at=now,
                        ended_at=now,
                        lease_owner=None,
                    )
                    if not done:
                        continue
                    await _settle(conn, run["thread_id"], now, failed=_EXHAUSTED)
                    failed.append(Ended(run, "error"))
                else:
                    await sql.set_run_if(
                        conn, run["run_id"], expected, "pending", lease_owner=None, updated_at=now
                    )
            return failed

        return await self.db.transact(transaction)


async def _settle(
    conn: Conn,
    thread_id: str,
    now: datetime,
    *,
    summary: Summary | None = None,
    failed: dict[str, Any] | None = None,
    keep_error: bool = False,
    touch: bool = False,
    locked: bool = False,
) -> bool:
    """The one rule for a thread's status once something changed: `busy` while runs are
    in flight on it, `error` when its run failed, else what its latest state says
    (`interrupted` with pending interrupts, `idle` otherwise). Returns whether runs are
    in flight. `summary` refreshes the cached values; `keep_error` leaves an errored
    thread errored; `touch` bumps its update times. On PostgreSQL the thread's row is
    locked first, so a concurrent run creation cannot slip between the in-flight check
    and the write (`locked`: the caller took it already). When the rule needs nothing of
    the thread's row (a failure, or a summary without `keep_error`: a run's end), the
    check and the write are one statement."""
    if not locked:
        await thread_store.lock(conn, thread_id)
    fields: dict[str, Any] = {}
    if touch:
        fields.update(updated_at=now, state_updated_at=now)
    if summary is not None:
        fields.update(values=summary["values"], interrupts=summary["interrupts"])
    decided: ThreadStatus | None = None
    if failed is not None:
        decided = "error"
    elif summary is not None and not keep_error:
        decided = summary["status"]
    if decided is not None:
        return await sql.settle_thread(conn, thread_id, decided, failed, **fields)
    others = await run_store.any_inflight(conn, thread_id)
    status: ThreadStatus
    if others:
        status = "busy"
    else:
        thread = None
        if keep_error or summary is None:
            thread = await thread_store.get(conn, thread_id)
            if thread is None:
                return False
        if keep_error and thread is not None and thread["status"] == "error":
            status = "error"
        else:
            if summary is not None:
                status = summary["status"]
            else:
                status = "interrupted" if thread and thread["interrupts"] else "idle"
            fields["error"] = None
    await sql.set_thread(conn, thread_id, status, **fields)
    return others


async def _drop_temporary(conn: Conn, run: Run, status: RunStatus, now: datetime) -> dict[str, Any]:
    """Delete a finished temporary run's thread (its run rows cascade) and return the
    epitaph the broker keeps: the final run and the thread's metadata for auth."""
    metadata = await thread_store.delete_one(conn, run["thread_id"])
    final = {k: v for k, v in run.items() if k not in RUN_INTERNAL_FIELDS}
    final.update(status=status, updated_at=now)
    return {"run": final, "thread_metadata": metadata or {}}
