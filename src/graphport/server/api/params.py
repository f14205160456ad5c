"""Path and query parameter parsing shared by the routers."""

from __future__ import annotations

import uuid

from graphport.server.errors import Unprocessable
from graphport.server.runtime.broker import InvalidEventId, parse_event_id


def valid_uuid(value: str, kind: str) -> str:
    """The id in canonical form (lower-case, hyphenated): `uuid.UUID` also accepts braces,
    `urn:uuid:` and missing hyphens, which would not match (or fit) the stored ids."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise Unprocessable(f"Invalid {kind} ID: must be a UUID") from None


def last_event_position(value: str | None) -> tuple[int, int] | None:
    """The `Last-Event-ID` header as a broker position; a malformed id is the client's 422."""
    try:
        return parse_event_id(value)
    except InvalidEventId as exc:
        raise Unprocessable(str(exc)) from None


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")
