"""Runs: the one path every execution takes. Creating a run writes a pending row (with the
multitask strategy applied atomically on the thread); a worker executes it; waiting and
streaming are joins on the broker. Nothing here executes a graph."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

import orjson
import uuid_utils.compat as uuid7

from graphport.auth.types import Action
from graphport.server import metrics, tracing
from graphport.server.core import Core
from graphport.server.errors import BadRequest, Conflict, NotFound, Unprocessable
from graphport.server.lifecycle import Draft, ThreadAppeared
from graphport.server.runtime.broker import BrokerUnavailable, Event
from graphport.server.runtime.snapshots import latest_summary
from graphport.server.serde import utcnow
from graphport.server.services import threads as thread_service
from graphport.server.services.caller import Caller
from graphport.server.services.cancellation import cancel_runs, wait_stopped
from graphport.server.services.hygiene import (
    clean_config,
    clean_context,
    clean_metadata,
    mirror_config_context,
    thread_configurable,
)
from graphport.server.storage import assistants as assistant_store
from graphport.server.storage import checkpoints, run_inputs
from graphport.server.storage import runs as store
from graphport.server.storage import threads as thread_store
from graphport.server.storage.common import Conn
from graphport.server.storage.records import INFLIGHT, NewRun, NewThread, Run, RunKwargs, public_run
from graphport.types import CancelAction, MultitaskStrategy, RunStatus

logger = logging.getLogger("graphport.runs")
REJECT_DETAIL = (
    "Thread is already running a task. Wait for it to finish or choose a different "
    "multitask strategy."
)


def _resolve_assistant(core: Core, assistant_id: str) -> str:
    resolved = core.registry.resolve_assistant_id(assistant_id)
    try:
        uuid.UUID(resolved)
    except ValueError:
        raise Unprocessable(
            f"Invalid assistant ID '{assistant_id}': must be a UUID or one of the registered"
            f" graphs: {sorted(core.registry.graph_ids)}"
        ) from None
    return resolved


def _checkpoint_configurable(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    checkpoint = body.get("checkpoint") or {}
    for key in ("checkpoint_id", "checkpoint_ns", "checkpoint_map"):
        if checkpoint.get(key) is not None:
            out[key] = checkpoint[key]
    if body.get("checkpoint_id") is not None:
        try:
            uuid.UUID(body["checkpoint_id"])
        except ValueError:
            raise Unprocessable("Invalid checkpoint ID") from None
        out["checkpoint_id"] = body["checkpoint_id"]
    return out


def _durability(body: dict[str, Any]) -> str:
    if body.get("durability"):
        return str(body["durability"])
    if body.get("checkpoint_during") is False:
        return "exit"
    return "async"


def _stream_modes(body: dict[str, Any]) -> list[str]:
    mode = body.get("stream_mode") or ["values"]
    return [mode] if isinstance(mode, str) else list(mode)


def build_kwargs(
    core: Core,
    caller: Caller,
    body: dict[str, Any],
    assistant: dict[str, Any],
    *,
    run_id: str,
    thread_id: str,
    metadata: dict[str, Any],
    temporary: bool,
) -> RunKwargs:
    """The stored execution request: merged config (docs/api.md#runs) and options."""
    run_config = clean_config(body.get("config"))
    run_config, run_context = mirror_config_context(run_config, clean_context(body.get("context")))
    # Assistant rows are cleaned on write; cleaned again here for rows written before that.
    a_config = clean_config(assistant["config"])
    configurable = {
        **(a_config.get("configurable") or {}),
        **caller.configurable_headers,
        **(run_config.get("configurable") or {}),
        **_checkpoint_configurable(body),
        "run_id": run_id,
        "thread_id": thread_id,
        "graph_id": assistant["graph_id"],
        "assistant_id": assistant["assistant_id"],
    }
    if caller.identity is not None:
        configurable.update(
            langgraph_auth_user=caller.user_json(),
            langgraph_auth_user_id=caller.identity,
            langgraph_auth_permissions=list(caller.permissions),
            user_id=caller.identity,
        )
    config = {**a_config, **run_config, "configurable": configurable, "metadata": metadata}
    context = {**(clean_context(assistant.get("context")) or {}), **(run_context or {})}
    return {
        "input": body.get("input"),
        "command": body.get("command"),
        "config": config,
        "context": context,
        "stream_mode": _stream_modes(body),
        "interrupt_before": body.get("interrupt_before"),
        "interrupt_after": body.get("interrupt_after"),
        "webhook": body.get("webhook"),
        "feedback_keys": body.get("feedback_keys"),
        "temporary": temporary,
        "subgraphs": bool(body.get("stream_subgraphs")),
        "resumable": True,
        "durability": _durability(body),
        "on_disconnect": body.get("on_disconnect") or "continue",
    }


async def create_run(
    core: Core,
    caller: Caller,
    body: dict[str, Any],
    *,
    thread_id: str | None,
    event_protocol: bool = False,
) -> dict[str, Any]:
    """Insert a run (creating the thread when needed): claimed by the local worker and
    started at once when it has a free slot and the thread nothing in flight, else pending
    for the queue (a worker is woken). `event_protocol` runs publish the thread streaming
    protocol's events instead of the classic stream modes."""
    stateless = thread_id is None
    if stateless and (body.get("command") or {}).get("resume") is not None:
        raise BadRequest("You must provide a thread_id when resuming.")
    assistant_id = _resolve_assistant(core, body["assistant_id"])
    on_completion = body.get("on_completion") or "delete"
    temporary = stateless and on_completion == "delete"
    thread_id = thread_id or thread_service.new_thread_id()
    if_not_exists = "create" if stateless else (body.get("if_not_exists") or "reject")
    strategy = "enqueue" if stateless else (body.get("multitask_strategy") or "enqueue")
    run_id = str(uuid7.uuid7())
    value = {
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "run_id": run_id,
        "status": "pending",
        "metadata": clean_metadata(body.get("metadata")),
        "prevent_insert_if_inflight": strategy == "reject",
        "multitask_strategy": strategy,
        "if_not_exists": if_not_exists,
        "after_seconds": body.get("after_seconds") or 0,
        "kwargs": body,
        # Read here: the create transaction may run on a database thread.
        "trace_context": tracing.carrier(),
    }
    flt = await caller.authorize("threads", "create_run", value)
    # docs/api.md#auth-dsl: the assistants.read check applies to non-system assistants only.
    a_flt = None
    if not core.registry.is_system_assistant(assistant_id):
        a_flt = await caller.authorize(
            "assistants", "read", {"assistant_id": assistant_id, "metadata": {}}
        )
    # With a free local slot, a run whose thread has nothing in flight is created already
    # claimed and started right away: no wake-up, no claim transaction. Same row, same worker.
    worker = core.worker
    owner = worker.reserve() if worker is not None and not value["after_seconds"] else None
    prepare = functools.partial(
        _prepare,
        core,
        caller,
        body,
        value,
        (flt, a_flt),
        stateless=stateless,
        temporary=temporary,
        event_protocol=event_protocol,
    )
    created = None
    try:
        try:
            created = await core.lifecycle.create(prepare, claim_for=owner)
        except ThreadAppeared:
            # Another request created this run's thread (if_not_exists=create) first:
            # now it exists, and the multitask strategy decides as for any thread.
            created = await core.lifecycle.create(prepare, claim_for=owner)
    finally:
        if owner is not None and worker is not None:
            worker.adopt(created.run if created is not None else None)
    if created.inflight and strategy in ("interrupt", "rollback"):
        try:
            await cancel_runs(
                core,
                created.inflight,
                cast(CancelAction, strategy),
                reason=f"superseded by run {run_id} (multitask_strategy={strategy})",
            )
        except BrokerUnavailable as e:
            # The run is created (committed): it waits behind the runs it was to stop.
            logger.warning("Run %s: could not stop the runs it supersedes: %s", run_id, e)
    if not created.claimed:
        await core.wakeup.notify()
    metrics.run_created()
    return public_run(created.run)


async def _prepare(
    core: Core,
    caller: Caller,
    body: dict[str, Any],
    value: dict[str, Any],
    filters: tuple[Any, Any],
    conn: Conn,
    *,
    stateless: bool,
    temporary: bool,
    event_protocol: bool,
) -> Draft:
    """The reading half of the create transaction (the lifecycle writes): the thread,
    found (and locked) or to be created, the multitask check, the run's row."""
    assistant_id, thread_id, run_id = value["assistant_id"], value["thread_id"], value["run_id"]
    strategy: MultitaskStrategy = value["multitask_strategy"]
    if_not_exists = value["if_not_exists"]
    flt, a_flt = filters
    # A stateless run's thread id was just minted: nothing to read, nothing in flight.
    if stateless:
        assistant, found = await assistant_store.get(conn, assistant_id, a_flt), None
    else:
        assistant, found = await run_inputs.assistant_and_thread(
            conn, assistant_id, thread_id, assistant_filter=a_flt, thread_filter=flt
        )
    if assistant is None or assistant["graph_id"] not in core.registry.graph_ids:
        raise NotFound("Thread or assistant not found.")
    config_metadata = (body.get("config") or {}).get("metadata") or {}
    # Taken under the thread's lock: created_at order is the order creates on one
    # thread were serialized in, which the queue's FIFO follows.
    now = utcnow()
    created = found is None
    thread: NewThread
    if found is None:
        # Without an auth filter, "not found" already means "doesn't exist".
        if if_not_exists != "create" or (
            not stateless and flt is not None and await thread_store.get(conn, thread_id)
        ):
            raise NotFound("Thread or assistant not found.")
        # Created by the run: the thread starts with the run's metadata.
        thread = thread_service.new_row(
            thread_id,
            {**clean_metadata(config_metadata), **value["metadata"]},
            None if temporary else thread_service.default_ttl(core),
        )
    else:
        thread = found
    inflight = [] if created else await store.inflight(conn, thread_id)
    if inflight and strategy == "reject":
        raise Conflict(REJECT_DETAIL)
    metadata = {
        **assistant["metadata"],
        **thread["metadata"],
        **clean_metadata(config_metadata),
        **value["metadata"],
        "assistant_id": assistant_id,
    }
    kwargs = build_kwargs(
        core,
        caller,
        body,
        assistant,
        run_id=run_id,
        thread_id=thread_id,
        metadata=metadata,
        temporary=temporary,
    )
    if value["trace_context"]:  # the worker's span joins the creating request's trace
        kwargs["trace_context"] = value["trace_context"]
    if event_protocol:
        kwargs["event_protocol"] = True
    run: NewRun = {
        "run_id": run_id,
        "thread_id": thread_id,
        "assistant_id": assistant_id,
        "created_at": now + timedelta(seconds=float(value["after_seconds"])),
        "updated_at": now,
        "metadata": metadata,
        "kwargs": kwargs,
        "multitask_strategy": strategy,
        "attempt": 0,
        "cancel_reason": None,
    }
    thread_fields = {
        "updated_at": now,
        "metadata": {
            **thread["metadata"],
            "graph_id": assistant["graph_id"],
            "assistant_id": assistant_id,
        },
        "config": {
            "configurable": thread_configurable(
                kwargs["config"]["configurable"], caller.configurable_headers
            )
        },
    }
    return Draft(run, thread_fields, thread if created else None, inflight)


# --- reading and managing runs ---------------------------------------------------------


async def fetch(
    core: Core, caller: Caller, thread_id: str, run_id: str, action: Action = "read"
) -> Run:
    """A run of a thread the caller may see; 404 otherwise (runs inherit thread access)."""
    await thread_service.fetch(core, caller, thread_id, action, run_id=run_id)
    async with core.db.read() as conn:
        run = await store.get(conn, run_id, thread_id)
    if run is None:
        raise NotFound(f"Run {run_id} not found")
    return run


async def list_runs(
    core: Core, caller: Caller, thread_id: str, *, limit: int, offset: int, status: str | None
) -> list[dict[str, Any]]:
    await thread_service.fetch(core, caller, thread_id, "search")  # runs inherit thread access
    async with core.db.read() as conn:
        rows = await store.list_for_thread(
            conn, thread_id, limit=limit, offset=offset, status=status
        )
    return [public_run(r) for r in rows]


async def delete_run(core: Core, caller: Caller, thread_id: str, run_id: str) -> None:
    run = await fetch(core, caller, thread_id, run_id, "delete")
    if run["status"] in ("pending", "running"):
        await cancel_runs(core, [run], "interrupt", reason="run deleted")
        await wait_stopped(core, [run_id], timeout=10)
    async with core.db.begin() as conn:
        await store.delete_one(conn, run_id)
    await checkpoints.delete_for_runs(core.db, thread_id, [run_id])
    # The thread's cached values, interrupts and status follow its state back.
    async with core.db.read() as conn:
        thread = await thread_store.get(conn, thread_id)
    if thread is None:
        return
    summary = await latest_summary(core.registry, core.db, thread)
    if summary is not None:
        summary["values"] = summary["values"] or None
        await core.lifecycle.state_changed(thread_id, summary, keep_error=run["status"] != "error")


async def cancel(
    core: Core,
    caller: Caller,
    *,
    thread_id: str | None,
    run_ids: list[str] | None,
    status: str | None,
    action: str,
) -> list[Run]:
    """Cancel matching in-flight runs; 404 when none matches."""
    statuses: tuple[RunStatus, ...] = INFLIGHT
    if status in ("pending", "running"):
        statuses = (cast(RunStatus, status),)
    if thread_id is not None:
        await thread_service.fetch(core, caller, thread_id, "update", action=action)
        runs_filter_thread = thread_id
    else:
        await caller.authorize("threads", "update", {"thread_id": None, "action": action})
        runs_filter_thread = None
    async with core.db.read() as conn:
        runs = await store.matching(
            conn, thread_id=runs_filter_thread, run_ids=run_ids, statuses=statuses
        )
    if thread_id is None and run_ids is None:
        visible = []
        for run in runs:
            try:
                await thread_service.fetch(core, caller, run["thread_id"], "update")
                visible.append(run)
            except NotFound:
                continue
        runs = visible
    if not runs:
        raise NotFound("No matching runs to cancel. The runs may have already finished.")
    await cancel_runs(core, runs, cast(CancelAction, action), reason="cancelled by user")
    return runs


async def cancel_if_inflight(core: Core, run_id: str, reason: str) -> None:
    """Interrupt a run if it is still pending or running (a client went away): a pending
    run is cancelled where it waits, a running one where it runs."""
    async with core.db.read() as conn:
        run = await store.get(conn, run_id)
    if run is not None and run["status"] in ("pending", "running"):
        await cancel_runs(core, [run], "interrupt", reason=reason)


# --- joining ---------------------------------------------------------------------------


class RunOutcome:
    """What a run's events say about how it ended: its last values, the interrupts it
    paused at, or its error. Fed event by event by whoever reads the run's stream."""

    def __init__(self) -> None:
        self.values: Any = None
        self.interrupts: list[Any] = []
        self.error: Any = None

    def add(self, ev: Event) -> None:
        if ev.event == "values":
            self.values = orjson.loads(ev.data)
            if isinstance(self.values, dict) and "__interrupt__" in self.values:
                self.interrupts.extend(self.values["__interrupt__"])
        elif ev.event == "error":
            self.error = orjson.loads(ev.data)

    def body(self) -> dict[str, Any] | None:
        """The wait/join document, or None when the events said nothing."""
        if self.error is not None:
            return {"__error__": self.error}
        if self.interrupts and isinstance(self.values, dict):
            return {**self.values, "__interrupt__": self.interrupts}
        return cast(dict[str, Any] | None, self.values)


async def join_body(core: Core, run: Mapping[str, Any]) -> dict[str, Any]:
    """The final document of wait/join (docs/api.md#wait-and-join), once the run has ended."""
    outcome = RunOutcome()
    if run["status"] in ("pending", "running") or await core.broker.run_known(run["run_id"]):
        async for ev in core.broker.subscribe_run(run["run_id"], (0, 0)):
            outcome.add(ev)
    return await settled_body(core, run, outcome)


async def settled_body(core: Core, run: Mapping[str, Any], outcome: RunOutcome) -> dict[str, Any]:
    """The join document of an ended run whose stream was read into `outcome`; the
    thread's cached result when the events said nothing."""
    body = outcome.body()
    return body if body is not None else await _thread_result(core, run)


async def _thread_result(core: Core, run: Mapping[str, Any]) -> dict[str, Any]:
    async with core.db.read() as conn:
        thread = await thread_store.get(conn, run["thread_id"])
    if thread is None:
        return {}
    if thread["status"] == "error" and thread.get("error"):
        return {"__error__": thread["error"]}
    if thread["status"] == "interrupted" and thread["interrupts"]:
        flat = [i for group in thread["interrupts"].values() for i in group]
        return {**(thread["values"] or {}), "__interrupt__": flat}
    return thread["values"] or {}


async def fetch_stateless(core: Core, caller: Caller, run_id: str) -> Run:
    """A run addressed without its thread (stateless Location URLs); thread access applies."""
    async with core.db.read() as conn:
        run = await store.get(conn, run_id)
    if run is not None:
        try:
            await thread_service.fetch(core, caller, run["thread_id"], "read", run_id=run_id)
            return run
        except NotFound:
            if not run["kwargs"].get("temporary"):
                raise
            # Its thread was deleted as it ended, just now: fall through to the epitaph.
    return await _ended_temporary(core, caller, run_id)


async def _ended_temporary(core: Core, caller: Caller, run_id: str) -> Run:
    """A temporary run whose rows went with its thread, while its events are retained:
    authorized against the thread's last metadata, so a cut stream can still resume."""
    broker = core.broker
    epitaph = await broker.epitaph(run_id)
    if epitaph is None and await broker.run_known(run_id):
        # Ending right now: its rows are gone and its epitaph comes with its stream's end.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                async for _ in broker.subscribe_run(run_id, None):
                    pass
        epitaph = await broker.epitaph(run_id)
    if epitaph is None:
        raise NotFound(f"Run {run_id} not found")
    run = epitaph["run"]
    flt = await caller.authorize(
        "threads", "read", {"thread_id": run["thread_id"], "run_id": run_id}
    )
    async with core.db.read() as conn:
        if not await thread_store.metadata_matches(conn, epitaph["thread_metadata"], flt):
            raise NotFound(f"Run {run_id} not found")
    return cast(Run, dict(run))
