"""Path and query parameter parsing shared by the routers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

from graphport.server.errors import Unprocessable
from graphport.server.runtime.broker import InvalidEventId, parse_event_id

# Path ids: handlers check them with `valid_uuid` (422 otherwise), the document says so.
UUIDPath = Annotated[str, Path(json_schema_extra={"format": "uuid"})]
# An assistant id, or a graph id for its default assistant.
# Checkpoint ids are opaque strings without NUL (checked by the service, 422 otherwise).
NO_NUL = {"pattern": r"^[^\x00]*$"}
CheckpointPath = Annotated[str, Path(json_schema_extra=NO_NUL)]
AssistantRefPath = Annotated[str, Path(json_schema_extra={"x-component": "AssistantRef"})]


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
