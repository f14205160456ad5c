"""Turn langgraph stream output into the thread streaming protocol's events
(docs/api.md#thread-event-streaming): one broker event per protocol event, named by its
`method`, with `{namespace, timestamp, data}` as data. Runs created by a thread-stream
session (`run.start`, `input.respond`) publish these instead of the classic stream modes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models._compat_bridge import (  # langgraph's own converter
    message_to_events,
)
from langchain_core.messages import AIMessageChunk, BaseMessage, ToolMessage

from graphport.server.serde import to_jsonable

# Every channel a session may subscribe to is streamed: subscriptions come after the run
# starts, and a reconnect may widen them, so the run cannot know which will be read.
PROTOCOL_MODES = ["values", "updates", "messages", "tools", "custom", "tasks", "checkpoints"]

# langgraph's config switch for content-block message events on the `messages` mode, the
# one `astream_events(version="v3")` sets (langgraph/_internal/_constants.py).
MESSAGES_V2_KEY = "__pregel_stream_messages_v2"

INPUT_REQUESTED = "input.requested"
# Broker event names are the method under this prefix, apart from the classic modes.
PREFIX = "protocol/"


def _params(ns: tuple[str, ...], data: Any) -> dict[str, Any]:
    return {"namespace": list(ns), "timestamp": int(time.time() * 1000), "data": data}


def lifecycle(event: str, **extra: Any) -> tuple[str, dict[str, Any]]:
    """A root lifecycle event (`running`, `completed`, `interrupted`, `failed`)."""
    return "lifecycle", _params((), {"event": event, **extra})


def published(event: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The broker event name and data of a protocol event."""
    return PREFIX + event[0], event[1]


class ProtocolMapper:
    """Maps one `(ns, mode, chunk)` item to the broker events of its protocol events."""

    def map(self, ns: tuple[str, ...], mode: str, chunk: Any) -> Iterator[tuple[str, Any]]:
        for event in self._events(ns, mode, chunk):
            yield published(event)

    def _events(self, ns: tuple[str, ...], mode: str, chunk: Any) -> Iterator[tuple[str, Any]]:
        if mode == "messages":
            yield from self._messages(ns, *chunk)
            return
        if mode == "values" and isinstance(chunk, dict) and "__interrupt__" in chunk:
            values = {k: v for k, v in chunk.items() if k != "__interrupt__"}
            yield "values", _params(ns, to_jsonable(values))
            for interrupt in chunk["__interrupt__"]:
                value = to_jsonable(getattr(interrupt, "value", None))
                # `payload` is the protocol's field; the Python SDK reads `value`.
                data = {"interrupt_id": interrupt.id, "payload": value, "value": value}
                yield INPUT_REQUESTED, _params(ns, data)
            return
        yield mode, _params(ns, to_jsonable(chunk))

    def _messages(
        self, ns: tuple[str, ...], payload: Any, metadata: dict[str, Any]
    ) -> Iterator[tuple[str, Any]]:
        node = (metadata or {}).get("langgraph_node")
        if isinstance(payload, dict) and "event" in payload:
            events: list[dict[str, Any]] = [payload]
        elif isinstance(payload, BaseMessage) and not isinstance(
            payload, AIMessageChunk | ToolMessage
        ):
            # A node returned a whole message that did not stream: replayed as one.
            events = [dict(e) for e in message_to_events(payload, message_id=payload.id)]
        else:
            return
        for event in events:
            data = to_jsonable(event)
            if data.get("event") == "message-start" and node:
                data["metadata"] = {**(data.get("metadata") or {}), "langgraph_node": node}
            yield "messages", _params(ns, data)
