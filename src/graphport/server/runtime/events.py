"""Turn langgraph stream output into protocol events (docs/api.md#stream-modes): names, namespacing,
and the `messages/*` trio built from message chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.messages import BaseMessageChunk, message_chunk_to_message

from graphport.server.serde import to_jsonable

# Modes the client may ask for -> modes langgraph is asked to stream.
_LG_MODE = {
    "values": "values",
    "updates": "updates",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "checkpoints": "checkpoints",
    "messages": "messages",
    "messages-tuple": "messages",
}


def langgraph_modes(requested: list[str]) -> list[str]:
    modes = {_LG_MODE[m] for m in requested if m in _LG_MODE}
    # "values" is always streamed: wait/join bodies are built from it.
    modes.add("values")
    return sorted(modes)


def event_name(mode: str, ns: tuple[str, ...]) -> str:
    return "|".join((mode, *ns)) if ns else mode


class MessageTrio:
    """Accumulates chunks per message id into `messages/partial` (and metadata first).
    Both `messages/partial` and `messages/complete` carry finished messages (`type: "ai"`,
    not `"AIMessageChunk"`), as the official server sends them."""

    def __init__(self) -> None:
        self._seen: dict[str, BaseMessageChunk | None] = {}

    def events(self, message: Any, metadata: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        msg_id = getattr(message, "id", None) or ""
        if msg_id not in self._seen:
            self._seen[msg_id] = None
            yield "messages/metadata", {msg_id: {"metadata": to_jsonable(metadata)}}
        if isinstance(message, BaseMessageChunk):
            prev = self._seen[msg_id]
            acc = message if prev is None else prev + message
            self._seen[msg_id] = acc
            yield "messages/partial", [to_jsonable(message_chunk_to_message(acc))]
        else:
            yield "messages/complete", [to_jsonable(message)]


class EventMapper:
    """Maps one `(ns, mode, chunk)` item to the events the client asked for."""

    def __init__(self, requested: list[str], subgraphs: bool) -> None:
        self.requested = set(requested)
        self.subgraphs = subgraphs
        self.tuples = "messages-tuple" in self.requested
        self.trio = MessageTrio() if "messages" in self.requested and not self.tuples else None

    def map(self, ns: tuple[str, ...], mode: str, chunk: Any) -> Iterator[tuple[str, Any]]:
        if ns and not self.subgraphs:
            return
        if mode == "messages":
            message, metadata = chunk
            if self.tuples:
                yield event_name("messages", ns), [to_jsonable(message), to_jsonable(metadata)]
            elif self.trio is not None:
                yield from self.trio.events(message, metadata)
            return
        if mode == "values" and "values" not in self.requested:
            return
        if mode == "debug" and isinstance(chunk, dict) and chunk.get("type") == "checkpoint":
            chunk = {**chunk, "payload": debug_checkpoint(chunk.get("payload"))}
        if mode in self.requested:
            yield event_name(mode, ns), chunk


def _checkpoint(config: Any) -> dict[str, Any] | None:
    conf = (config or {}).get("configurable") or {}
    if not conf.get("checkpoint_id"):
        return None
    out = {
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf["checkpoint_id"],
    }
    if conf.get("checkpoint_map"):
        out["checkpoint_map"] = conf["checkpoint_map"]
    return out


def debug_checkpoint(payload: Any) -> Any:
    """Debug checkpoint payloads carry Checkpoint objects beside the configs, and subgraph
    tasks point at their `checkpoint` instead of a `state` config."""
    if not isinstance(payload, dict):
        return payload
    tasks = []
    for task in payload.get("tasks") or []:
        state = task.get("state") if isinstance(task, dict) else None
        if isinstance(state, dict) and state.get("configurable"):
            task = {k: v for k, v in task.items() if k != "state"}
            task["checkpoint"] = state["configurable"]
        tasks.append(task)
    return {
        **payload,
        "checkpoint": _checkpoint(payload.get("config")),
        "parent_checkpoint": _checkpoint(payload.get("parent_config")),
        "tasks": tasks,
    }
