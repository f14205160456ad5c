"""JSON responses encoded with the server's serde (messages, datetimes, interrupts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import Response

from graphport.server import serde


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return serde.dumps(content)


def page(items: list[Any], offset: int, has_more: bool, limit: int) -> JSON:
    """A search page with X-Pagination-* headers (docs/api.md#conventions)."""
    headers = {}
    if has_more:
        headers["X-Pagination-Next"] = str(offset + limit)
        headers["X-Pagination-Total"] = str(offset + limit + 1)
    else:
        headers["X-Pagination-Total"] = str(offset + len(items))
    return JSON(items, headers=headers)


def select_fields(
    rows: list[dict[str, Any]], select: Sequence[str] | None
) -> list[dict[str, Any]]:
    if not select:
        return rows
    return [{k: r.get(k) for k in select} for r in rows]
