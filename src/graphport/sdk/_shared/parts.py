"""Typed (v2) stream parts, as `runs.stream(..., version="v2")` yields them."""

from __future__ import annotations

from typing import Any, cast

from graphport.sdk.schema import StreamPart, StreamPartV2


def to_v2(part: StreamPart) -> StreamPartV2 | None:
    """`event` `values|outer:1|inner:2` → `{"type": "values", "ns": ["outer:1", "inner:2"], …}`.

    A `values` part's `__interrupt__` moves from `data` to `interrupts`. `None` marks `end`.
    """
    if part.event == "end":
        return None
    kind, *ns = part.event.split("|")
    data = part.data
    interrupts: list[Any] = []
    if kind == "values" and isinstance(data, dict):
        data = dict(data)
        interrupts = data.pop("__interrupt__", [])
    return cast(StreamPartV2, {"type": kind, "ns": ns, "data": data, "interrupts": interrupts})
