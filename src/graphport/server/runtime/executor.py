"""Execute one run with langgraph: build its input and config, stream the requested modes
with the real checkpointer and store, and publish every event. The only place a graph runs."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import Command, Send

from graphport.auth.types import normalize_user
from graphport.server.graphs import GraphRegistry
from graphport.server.runtime.events import EventMapper, langgraph_modes
from graphport.server.runtime.protocol import (
    MESSAGES_V2_KEY,
    PROTOCOL_MODES,
    ProtocolMapper,
    lifecycle,
    published,
)
from graphport.server.runtime.snapshots import summary
from graphport.server.serde import to_jsonable
from graphport.server.storage.database import Database
from graphport.server.storage.records import Run, Summary

logger = logging.getLogger("graphport.executor")

Publish = Callable[[str, Any], Awaitable[None]]


@dataclass
class Outcome:
    """What the worker needs to finalize a run."""

    last_values: Any = None
    interrupted: bool = False
    # The thread summary (values, interrupts, status) read at the end with the graph open.
    summary: Summary | None = None
    error: BaseException | None = None
    events: int = field(default=0)
    # A session's root `completed`/`interrupted` event, published by the worker once the
    # run's end is recorded: a client acting on it then finds the thread settled.
    closing: tuple[str, Any] | None = None


def _send(obj: Any) -> Any:
    if isinstance(obj, dict) and "node" in obj:
        return Send(obj["node"], obj.get("input"))
    return obj


# Stream modes that report checkpoints: a temporary run asking for them gets the
# checkpointer, and its checkpoints are deleted with its thread.
_CHECKPOINT_MODES = frozenset({"checkpoints", "debug"})


def uses_checkpointer(kwargs: Mapping[str, Any]) -> bool:
    """Persistent runs always; temporary (stateless, deleted) runs only when they stream
    checkpoints, since nothing of theirs outlives them (docs/api.md#stateless-runs)."""
    if not kwargs.get("temporary"):
        return True
    return bool(_CHECKPOINT_MODES & set(kwargs.get("stream_mode") or ()))


def build_input(kwargs: Mapping[str, Any]) -> Any:
    command = kwargs.get("command")
    if not command:
        return kwargs.get("input")
    goto = command.get("goto")
    if isinstance(goto, list):
        goto = [_send(g) for g in goto]
    elif goto is not None:
        goto = _send(goto)
    update = command.get("update")
    if isinstance(update, list):
        update = [tuple(pair) for pair in update]
    return Command(
        resume=command.get("resume"),
        update=update,
        goto=goto if goto is not None else (),
    )


def build_config(run: Run, user: Any = None) -> RunnableConfig:
    config = RunnableConfig(**(run["kwargs"].get("config") or {}))  # type: ignore[typeddict-item]  # a stored RunnableConfig
    configurable = dict(config.get("configurable") or {})
    if user is not None:
        configurable["langgraph_auth_user"] = user
    elif isinstance(configurable.get("langgraph_auth_user"), dict):
        # Stored as JSON with the run; graphs get attribute and mapping access back.
        with contextlib.suppress(ValueError):
            stored = configurable["langgraph_auth_user"]
            configurable["langgraph_auth_user"] = normalize_user(stored)
    config["configurable"] = configurable
    config["metadata"] = {**(config.get("metadata") or {}), "run_attempt": run["attempt"]}
    config.setdefault("run_id", run["run_id"])
    return config


_CONTEXT_KEYS: dict[Any, frozenset[str] | None] = {}


def _context_keys(graph: Any) -> frozenset[str] | None:
    """Field names of the graph's context schema; None when it has none (or it is opaque)."""
    schema = getattr(graph, "context_schema", None)
    if schema is None:
        return None
    if schema not in _CONTEXT_KEYS:
        try:
            props = (graph.get_context_jsonschema() or {}).get("properties")
        except Exception:
            props = None
        _CONTEXT_KEYS[schema] = frozenset(props) if props is not None else None
    return _CONTEXT_KEYS[schema]


def graph_context(graph: Any, context: dict[str, Any] | None) -> dict[str, Any] | None:
    """The run context minus keys the graph's context schema doesn't declare:
    configurable is mirrored into context, so unrelated keys must not break a typed context."""
    if not context:
        return None
    keys = _context_keys(graph)
    if keys is None:
        return context
    return {k: v for k, v in context.items() if k in keys}


async def _items(
    graph: Pregel,
    graph_input: Any,
    config: RunnableConfig,
    kwargs: Mapping[str, Any],
    modes: list[str],
) -> AsyncIterator[tuple[str, Any, Any]]:
    """Yields ("chunk", ns, (mode, data)) and, in events mode, ("event", None, event)."""
    common: dict[str, Any] = {
        "stream_mode": modes,
        "subgraphs": True,
        "interrupt_before": kwargs.get("interrupt_before"),
        "interrupt_after": kwargs.get("interrupt_after"),
    }
    if uses_checkpointer(kwargs):
        common["durability"] = kwargs.get("durability") or "async"
    context = graph_context(graph, kwargs.get("context"))
    if context is not None:
        common["context"] = context
    if kwargs.get("event_protocol"):
        # Content-block message events need langgraph's v2 stream parts; interrupts are
        # folded back into `values` as the classic path sees them.
        configurable = {**config["configurable"], MESSAGES_V2_KEY: True}
        v2_config = RunnableConfig(**{**config, "configurable": configurable})
        async for part in graph.astream(graph_input, v2_config, version="v2", **common):
            data: Any = part["data"]
            if part["type"] == "values" and part.get("interrupts"):
                data = {**data, "__interrupt__": list(part["interrupts"])}
            yield "chunk", part["ns"], (part["type"], data)
        return
    if "events" not in (kwargs.get("stream_mode") or []):
        async for ns, mode, data in graph.astream(graph_input, config, **common):
            yield "chunk", ns, (mode, data)
        return
    root_id: str | None = None
    async for ev in graph.astream_events(graph_input, config, version="v2", **common):
        if root_id is None:
            root_id = ev.get("run_id")
        if ev.get("event") == "on_chain_stream" and ev.get("run_id") == root_id:
            ns, mode, data = ev["data"]["chunk"]
            yield "chunk", ns, (mode, data)
        elif "langsmith:hidden" not in (ev.get("tags") or []):
            yield "event", None, ev


async def execute(
    registry: GraphRegistry, db: Database, run: Run, publish: Publish, user: Any = None
) -> Outcome:
    """Run the graph to completion, interrupt, or error; cancellation propagates out."""
    kwargs = run["kwargs"]
    requested = list(kwargs.get("stream_mode") or ["values"])
    protocol = bool(kwargs.get("event_protocol"))
    mapper: EventMapper | ProtocolMapper = (
        ProtocolMapper() if protocol else EventMapper(requested, bool(kwargs.get("subgraphs")))
    )
    modes = PROTOCOL_MODES if protocol else langgraph_modes(requested)
    outcome = Outcome()
    config = build_config(run, user)
    graph_id = config["configurable"]["graph_id"]
    checkpointer = db.checkpointer if uses_checkpointer(kwargs) else None
    await publish("metadata", {"run_id": run["run_id"], "attempt": run["attempt"]})
    async with registry.graph(graph_id, config, checkpointer=checkpointer, store=db.store) as graph:
        graph_input = build_input(kwargs)
        if run["attempt"] > 1 and checkpointer is not None and not kwargs.get("temporary"):
            if await _already_started(graph, config, run["run_id"]):
                # A retry of a run cut short: its input is in its checkpoints already, so
                # it resumes from the latest one instead of applying the input twice.
                graph_input = None
                config = {**config, "configurable": _state_config(config)["configurable"]}
        async for kind, ns, payload in _items(graph, graph_input, config, kwargs, modes):
            if kind == "event":
                await publish("events", payload)
                continue
            mode, data = payload
            if mode == "values" and not ns:
                outcome.last_values = data
                if isinstance(data, dict) and "__interrupt__" in data:
                    outcome.interrupted = True
            for name, body in mapper.map(tuple(ns), mode, data):
                await publish(name, body)
        if checkpointer is not None and not kwargs.get("temporary"):
            if outcome.last_values is not None and not _may_pause_unseen(graph, kwargs, outcome):
                # Finished without pausing: the last root `values` event is the state.
                outcome.summary = {
                    "values": to_jsonable(outcome.last_values),
                    "interrupts": {},
                    "status": "idle",
                }
            else:
                outcome.summary = summary(await graph.aget_state(_state_config(config)))
        if protocol:
            paused = outcome.interrupted or (
                outcome.summary is not None and outcome.summary["status"] == "interrupted"
            )
            outcome.closing = published(lifecycle("interrupted" if paused else "completed"))
    return outcome


async def _already_started(graph: Pregel, config: RunnableConfig, run_id: str) -> bool:
    """Whether the thread's latest checkpoint was written by this run (langgraph records
    the run id in each checkpoint's metadata)."""
    snap = await graph.aget_state(_state_config(config))
    return (snap.metadata or {}).get("run_id") == run_id


def _may_pause_unseen(graph: Pregel, kwargs: Mapping[str, Any], outcome: Outcome) -> bool:
    """Whether the run may have stopped with tasks pending although no `__interrupt__`
    reached its `values` stream: an interrupt() always shows there, a static interrupt
    (interrupt_before/after, on the run or compiled into any graph) does not."""
    if outcome.interrupted or kwargs.get("interrupt_before") or kwargs.get("interrupt_after"):
        return True
    return _static_interrupts(graph)


@functools.lru_cache(maxsize=64)
def _static_interrupts(graph: Pregel) -> bool:
    graphs = [graph, *(sub for _, sub in graph.get_subgraphs(recurse=True))]
    return any(
        getattr(g, "interrupt_before_nodes", None) or getattr(g, "interrupt_after_nodes", None)
        for g in graphs
    )


def _state_config(config: RunnableConfig) -> RunnableConfig:
    """The thread's latest checkpoint, whatever checkpoint the run started from."""
    configurable = {
        k: v
        for k, v in config["configurable"].items()
        if k not in ("checkpoint_id", "checkpoint_ns", "checkpoint_map")
    }
    return {"configurable": configurable}
