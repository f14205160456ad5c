"""The run lifecycle without HTTP: one test per transition of `lifecycle.machine.RULES`
(docs/run-lifecycle.md), the refused ones included, on a real SQLite database and on
PostgreSQL (whose hot transactions are pipelined: storage/pipelined.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from conftest import opened_database
from graphport.server.lifecycle import RULES, Draft, IllegalTransition, RunLifecycle
from graphport.server.lifecycle.manager import ThreadAppeared
from graphport.server.serde import utcnow
from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store
from graphport.server.storage.common import Conn
from graphport.server.storage.database import Database
from graphport.server.storage.records import NewRun, NewThread, Run, Thread
from graphport.server.storage.schema import runs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "run-lifecycle.md"
OWNER = "worker-test"


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    async with opened_database(request.param) as database:
        yield database


@pytest.fixture
def life(db: Database) -> RunLifecycle:
    return RunLifecycle(db, lease_seconds=30)


def new_thread(thread_id: str) -> NewThread:
    now = utcnow()
    return {
        "thread_id": thread_id,
        "created_at": now,
        "updated_at": now,
        "state_updated_at": now,
        "metadata": {},
        "config": {},
        "values": None,
        "interrupts": {},
        "error": None,
    }


def draft_run(thread_id: str, *, temporary: bool = False, after: float = 0) -> NewRun:
    now = utcnow()
    return {
        "run_id": str(uuid.uuid4()),
        "thread_id": thread_id,
        "assistant_id": str(uuid.uuid4()),
        "created_at": now + timedelta(seconds=after),
        "updated_at": now,
        "metadata": {},
        "kwargs": {"temporary": temporary},
        "multitask_strategy": "enqueue",
        "attempt": 0,
        "cancel_reason": None,
    }


async def create(
    life: RunLifecycle,
    thread_id: str,
    *,
    claim_for: str | None = None,
    temporary: bool = False,
    after: float = 0,
) -> Run:
    """A run as the runs service creates it: the thread made on first use."""

    async def prepare(conn: Conn) -> Draft:
        await thread_store.lock(conn, thread_id)
        thread = await thread_store.get(conn, thread_id)
        inflight = await run_store.inflight(conn, thread_id) if thread else []
        return Draft(
            draft_run(thread_id, temporary=temporary, after=after),
            {"metadata": {"graph_id": "g"}},
            None if thread else new_thread(thread_id),
            inflight,
        )

    return (await life.create(prepare, claim_for=claim_for)).run


async def run_row(db: Database, run_id: str) -> Run | None:
    async with db.read() as conn:
        return await run_store.get(conn, run_id)


async def thread_row(db: Database, thread_id: str) -> Thread:
    async with db.read() as conn:
        thread = await thread_store.get(conn, thread_id)
    assert thread is not None
    return thread


async def lapse(db: Database, run_id: str, attempt: int | None = None) -> None:
    values: dict[str, Any] = {"lease_expires_at": utcnow() - timedelta(seconds=1)}
    if attempt is not None:
        values["attempt"] = attempt
    async with db.begin() as conn:
        await conn.execute(update(runs).where(runs.c.run_id == run_id).values(**values))


def tid() -> str:
    return str(uuid.uuid4())


# --- the declared machine and its document ---------------------------------------------


def test_every_transition_is_documented() -> None:
    text = DOCS.read_text()
    for name in RULES:
        assert f"| **{name}** |" in text, f"docs/run-lifecycle.md has no row for {name}"


def test_targets_outside_a_rule_are_refused() -> None:
    from graphport.server.lifecycle.machine import check

    check("finish", "success")
    with pytest.raises(IllegalTransition):
        check("finish", "pending")
    with pytest.raises(IllegalTransition):
        check("claim", "success")


# --- create ------------------------------------------------------------------------------


async def test_create_queues_a_pending_run_and_makes_the_thread_busy(
    life: RunLifecycle, db: Database
) -> None:
    thread_id = tid()
    run = await create(life, thread_id)
    assert run["status"] == "pending"
    assert (await run_row(db, run["run_id"]))["status"] == "pending"
    assert (await thread_row(db, thread_id))["status"] == "busy"


async def test_create_claimed_for_a_free_worker_starts_running(
    life: RunLifecycle, db: Database
) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    stored = await run_row(db, run["run_id"])
    assert stored is not None
    assert (stored["status"], stored["lease_owner"], stored["attempt"]) == ("running", OWNER, 1)
    assert stored["lease_expires_at"] is not None


async def test_create_claimed_queues_behind_a_run_in_flight(life: RunLifecycle) -> None:
    thread_id = tid()
    first = await create(life, thread_id, claim_for=OWNER)
    second = await create(life, thread_id, claim_for=OWNER)
    assert (first["status"], second["status"]) == ("running", "pending")


async def test_create_refuses_a_thread_created_concurrently(
    life: RunLifecycle, db: Database
) -> None:
    thread_id = tid()
    async with db.begin() as conn:
        await life.insert_thread(conn, new_thread(thread_id))

    async def prepare(conn: Conn) -> Draft:  # read before the other create committed
        return Draft(draft_run(thread_id), {}, new_thread(thread_id), [])

    with pytest.raises(ThreadAppeared):
        await life.create(prepare)


# --- claim and renew ---------------------------------------------------------------------


async def test_claim_takes_the_oldest_runnable_run(life: RunLifecycle, db: Database) -> None:
    a, b = tid(), tid()
    first = await create(life, a)
    queued = await create(life, a)  # behind `first` on its thread
    other = await create(life, b)
    taken = [await life.claim(OWNER) for _ in range(3)]
    ids = [c.run["run_id"] if c.run else None for c in taken]
    assert ids == [first["run_id"], other["run_id"], None]
    assert taken[0].run["status"] == "running" and taken[0].run["attempt"] == 1
    assert (await run_row(db, queued["run_id"]))["status"] == "pending"


async def test_claim_reports_when_a_delayed_run_is_due(life: RunLifecycle) -> None:
    await create(life, tid(), after=60)
    claim = await life.claim(OWNER)
    assert claim.run is None and not claim.more
    assert claim.due is not None and claim.due > utcnow()


async def test_claim_never_takes_a_finished_run(life: RunLifecycle) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    assert await life.finish(run, "success", owner=OWNER) is not None
    assert (await life.claim(OWNER)).run is None


async def test_renew_extends_the_holders_lease_only(life: RunLifecycle, db: Database) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    before = (await run_row(db, run["run_id"]))["lease_expires_at"]
    await life.renew("someone-else", [run["run_id"]])
    assert (await run_row(db, run["run_id"]))["lease_expires_at"] == before
    await life.renew(OWNER, [run["run_id"]])
    assert (await run_row(db, run["run_id"]))["lease_expires_at"] > before


# --- finish and fail -----------------------------------------------------------------------


async def test_finish_success_leaves_the_thread_idle(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    summary = {"values": {"x": 1}, "interrupts": {}, "status": "idle"}
    ended = await life.finish(run, "success", owner=OWNER, summary=summary)
    assert ended is not None and not ended.queued_behind
    stored = await run_row(db, run["run_id"])
    assert stored is not None and stored["status"] == "success" and stored["ended_at"]
    thread = await thread_row(db, thread_id)
    assert (thread["status"], thread["values"]) == ("idle", {"x": 1})


async def test_finish_with_an_interrupt_pending_leaves_the_thread_interrupted(
    life: RunLifecycle, db: Database
) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    summary = {"values": {}, "interrupts": {"t": [{"value": "?"}]}, "status": "interrupted"}
    await life.finish(run, "success", owner=OWNER, summary=summary)
    assert (await thread_row(db, thread_id))["status"] == "interrupted"


async def test_finish_keeps_the_thread_busy_while_runs_wait(
    life: RunLifecycle, db: Database
) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    await create(life, thread_id)
    ended = await life.finish(run, "success", owner=OWNER)
    assert ended is not None and ended.queued_behind
    assert (await thread_row(db, thread_id))["status"] == "busy"


async def test_finish_counts_only_its_threads_runs_in_flight(
    life: RunLifecycle, db: Database
) -> None:
    """The status written after a run's end (one statement when the run's summary is
    known) looks at the runs of that thread alone."""
    summary = {"values": {"x": 1}, "interrupts": {}, "status": "idle"}
    elsewhere = await create(life, tid(), claim_for=OWNER)  # in flight on another thread
    alone, queued = tid(), tid()
    run = await create(life, alone, claim_for=OWNER)
    ended = await life.finish(run, "success", owner=OWNER, summary=summary)
    assert ended is not None and not ended.queued_behind
    assert (await thread_row(db, alone))["status"] == "idle"
    run = await create(life, queued, claim_for=OWNER)
    await create(life, queued)
    ended = await life.finish(run, "success", owner=OWNER, summary=summary)
    assert ended is not None and ended.queued_behind
    assert (await thread_row(db, queued))["status"] == "busy"
    assert (await run_row(db, elsewhere["run_id"]))["status"] == "running"  # type: ignore[index]


async def test_finish_error_marks_the_thread_errored(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    error = {"error": "ValueError", "message": "boom"}
    await life.finish(run, "error", owner=OWNER, error=error)
    thread = await thread_row(db, thread_id)
    assert (thread["status"], thread["error"]) == ("error", error)


async def test_finish_rollback_deletes_the_run(life: RunLifecycle, db: Database) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    assert await life.finish(run, "rollback", owner=OWNER) is not None
    assert await run_row(db, run["run_id"]) is None


async def test_finish_temporary_drops_the_thread_with_an_epitaph(
    life: RunLifecycle, db: Database
) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER, temporary=True)
    ended = await life.finish(run, "success", owner=OWNER)
    assert ended is not None and ended.epitaph is not None
    assert ended.epitaph["run"]["status"] == "success"
    assert "lease_owner" not in ended.epitaph["run"]
    assert ended.epitaph["thread_metadata"] == {"graph_id": "g"}
    async with db.read() as conn:
        assert await thread_store.get(conn, thread_id) is None


async def test_finish_refuses_a_run_this_worker_no_longer_holds(
    life: RunLifecycle, db: Database
) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    assert await life.finish(run, "success", owner="another-worker") is None
    assert (await run_row(db, run["run_id"]))["status"] == "running"


async def test_finish_keeps_a_temporary_thread_this_worker_no_longer_holds(
    life: RunLifecycle, db: Database
) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER, temporary=True)
    assert await life.finish(run, "success", owner="another-worker") is None
    assert (await run_row(db, run["run_id"]))["status"] == "running"
    assert (await thread_row(db, thread_id))["status"] == "busy"


async def test_finish_refuses_a_pending_run(life: RunLifecycle, db: Database) -> None:
    run = await create(life, tid())
    assert await life.finish(run, "success", owner=None) is None
    assert (await run_row(db, run["run_id"]))["status"] == "pending"


async def test_finish_refuses_a_non_terminal_status(life: RunLifecycle) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    with pytest.raises(IllegalTransition):
        await life.finish(run, "pending", owner=OWNER)


async def test_fail_ends_a_running_run_as_error(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    assert await life.fail(run, {"error": "X", "message": "y"}) is not None
    assert (await run_row(db, run["run_id"]))["status"] == "error"
    assert (await thread_row(db, thread_id))["status"] == "error"
    assert await life.fail(run, {"error": "X", "message": "y"}) is None  # already ended


# --- cancel while pending --------------------------------------------------------------------


async def test_cancel_pending_interrupts_a_queued_run(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id)
    ended = await life.cancel_pending(run, "interrupt", "test")
    assert ended is not None
    stored = await run_row(db, run["run_id"])
    assert stored is not None and (stored["status"], stored["cancel_reason"]) == (
        "interrupted",
        "test",
    )
    assert (await thread_row(db, thread_id))["status"] == "idle"


async def test_cancel_pending_rollback_deletes_it(life: RunLifecycle, db: Database) -> None:
    run = await create(life, tid())
    assert await life.cancel_pending(run, "rollback", None) is not None
    assert await run_row(db, run["run_id"]) is None


async def test_cancel_pending_refuses_a_running_run(life: RunLifecycle, db: Database) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    assert await life.cancel_pending(run, "interrupt", None) is None
    assert (await run_row(db, run["run_id"]))["status"] == "running"


# --- requeue and release ----------------------------------------------------------------------


async def test_requeue_returns_a_lapsed_run_to_the_queue(
    life: RunLifecycle, db: Database
) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    held = await create(life, tid(), claim_for=OWNER)
    await lapse(db, run["run_id"])
    assert await life.requeue_lapsed() == []
    stored = await run_row(db, run["run_id"])
    assert stored is not None and (stored["status"], stored["lease_owner"]) == ("pending", None)
    assert (await run_row(db, held["run_id"]))["status"] == "running"
    retried = await life.claim("worker-2")
    assert retried.run is not None and retried.run["attempt"] == 2


async def test_requeue_fails_a_run_out_of_attempts(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    await lapse(db, run["run_id"], attempt=life.max_attempts)
    [ended] = await life.requeue_lapsed()
    assert (ended.run["run_id"], ended.status) == (run["run_id"], "error")
    assert (await run_row(db, run["run_id"]))["status"] == "error"
    thread = await thread_row(db, thread_id)
    assert thread["status"] == "error" and thread["error"]["message"] == "exceeded max attempts"


async def test_release_hands_a_stopping_workers_runs_back(
    life: RunLifecycle, db: Database
) -> None:
    mine = await create(life, tid(), claim_for=OWNER)
    theirs = await create(life, tid(), claim_for="worker-2")
    released = await life.release(OWNER)
    assert [r["run_id"] for r in released] == [mine["run_id"]]
    assert (await run_row(db, mine["run_id"]))["status"] == "pending"
    assert (await run_row(db, theirs["run_id"]))["status"] == "running"
    # Its finish, arriving late, no longer applies.
    assert await life.finish(mine, "success", owner=OWNER) is None


# --- threads ---------------------------------------------------------------------------------


async def test_state_changed_follows_the_threads_state(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    async with db.begin() as conn:
        await life.insert_thread(conn, new_thread(thread_id))
    paused = {"values": {"a": 1}, "interrupts": {"t": [1]}, "status": "interrupted"}
    await life.state_changed(thread_id, paused)
    thread = await thread_row(db, thread_id)
    assert (thread["status"], thread["values"]) == ("interrupted", {"a": 1})


async def test_state_changed_can_keep_an_error(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    await life.finish(run, "error", owner=OWNER, error={"error": "E", "message": ""})
    idle = {"values": {}, "interrupts": {}, "status": "idle"}
    await life.state_changed(thread_id, idle, keep_error=True)
    assert (await thread_row(db, thread_id))["status"] == "error"
    await life.state_changed(thread_id, idle)
    assert (await thread_row(db, thread_id))["status"] == "idle"


async def test_a_copy_of_an_interrupted_thread_is_interrupted(
    life: RunLifecycle, db: Database
) -> None:
    source = {**new_thread(tid()), "status": "interrupted"}
    async with db.begin() as conn:
        copy = await life.insert_thread(conn, new_thread(tid()), copied_from=source)
        again = await life.insert_thread(conn, new_thread(copy["thread_id"]))
    assert copy is not None and copy["status"] == "interrupted"
    assert again is None


# --- retry after a lost connection ---------------------------------------------------------


async def test_retry_requeues_a_run_cut_short(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    assert await life.retry(run, owner=OWNER, error={"error": "E", "message": ""}) is None
    stored = await run_row(db, run["run_id"])
    assert stored is not None and (stored["status"], stored["lease_owner"]) == ("pending", None)
    assert (await thread_row(db, thread_id))["status"] == "busy"
    again = await life.claim(OWNER)
    assert again.run is not None and again.run["attempt"] == 2


async def test_retry_fails_a_run_out_of_attempts(life: RunLifecycle, db: Database) -> None:
    thread_id = tid()
    run = await create(life, thread_id, claim_for=OWNER)
    run = {**run, "attempt": life.max_attempts}
    error = {"error": "OperationalError", "message": "connection lost"}
    ended = await life.retry(run, owner=OWNER, error=error)
    assert ended is not None and ended.status == "error"
    assert (await run_row(db, run["run_id"]))["status"] == "error"
    assert (await thread_row(db, thread_id))["error"] == error


async def test_retry_refuses_a_run_held_by_another(life: RunLifecycle, db: Database) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    await life.retry(run, owner="another-worker", error={"error": "E", "message": ""})
    assert (await run_row(db, run["run_id"]))["status"] == "running"


# --- cancel requests kept in the row --------------------------------------------------------


async def test_a_cancel_request_reaches_the_holder_with_its_renewal(life: RunLifecycle) -> None:
    run = await create(life, tid(), claim_for=OWNER)
    assert await life.renew(OWNER, [run["run_id"]]) == {}
    await life.note_cancel(run["run_id"], "rollback", "test")
    assert await life.renew(OWNER, [run["run_id"]]) == {run["run_id"]: "rollback"}
    # Handed back before it stopped, the next claim carries the request.
    await life.release(OWNER)
    claim = await life.claim("worker-2")
    assert claim.run is not None and claim.run["cancel_action"] == "rollback"
