"""Bookkeeping that lets a cut-off stream or wait continue where it stopped.

The I/O loops in `_async/http.py` (and its generated sync twin) ask these objects what to send
next; the decisions (which URL, which headers, how long to wait, when to give up) live here once.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from graphport.sdk._shared.retry import Backoff
from graphport.sdk._shared.urls import run_url_of_stream, same_origin
from graphport.sdk.errors import InternalServerError, RateLimitError
from graphport.sdk.schema import StreamPart

MAX_RECONNECTS = 5
ACTIVE_RUN_STATUSES = ("pending", "running")
TERMINAL_EVENTS = ("end", "error")

RECONNECTABLE = (httpx.TransportError, RateLimitError, InternalServerError)
"""Failures a restart or deploy produces, worth reconnecting through; others won't go away."""

_BODY_HEADERS = frozenset({"content-type", "content-length", "last-event-id"})


class StreamCursor:
    """Where an SSE stream can be resumed from, and how often resuming has failed in a row.

    The reconnect URL is the first response's `Location`, or the request URL of a GET stream
    (a join stream is its own resume point, query included). `failures` resets whenever an
    event arrives.
    """

    def __init__(self, backoff: Backoff, request_headers: Mapping[str, str]) -> None:
        self.backoff = backoff
        self.headers = {k: v for k, v in request_headers.items() if k.lower() not in _BODY_HEADERS}
        self.last_event_id = header(request_headers, "last-event-id")
        self.location: str | None = None
        self.ended = False
        self.failures = 0

    def adopt(self, base_url: httpx.URL, response: httpx.Response) -> None:
        """Learn the reconnect URL from a successful stream response.

        A create-stream (POST) resumes at its `Location`. A GET stream (a join) resumes by
        repeating itself: servers send join streams a `Location` too, but without the query,
        and following it would drop the join's `stream_mode` filter and `cancel_on_disconnect`.
        """
        if self.location is not None:
            return  # known since the first response; resumed streams keep resuming there
        if response.request.method == "GET":
            self.location = str(response.request.url)
        elif location := response.headers.get("location"):
            self.location = same_origin(base_url, location)

    def observe(self, part: StreamPart) -> None:
        """Record an event: its id is the resume point, and progress earns fresh attempts."""
        if part.id is not None:
            self.last_event_id = part.id
        self.failures = 0
        self.ended = self.ended or part.event in TERMINAL_EVENTS

    def needs_run_check(self) -> bool:
        """A clean close without `end`/`error` may be a proxy timeout: ask the run."""
        return self.location is not None and not self.ended

    def run_url(self) -> str | None:
        """URL of the run behind the stream, if the reconnect URL names one."""
        return run_url_of_stream(self.location) if self.location else None

    def next_delay(self, cause: Exception) -> float:
        """Count a failed (re)connection; seconds to wait before the next one."""
        self.failures += 1
        if self.failures > MAX_RECONNECTS:
            raise httpx.TransportError("Exceeded maximum SSE reconnection attempts") from cause
        return self.backoff.delay(self.failures - 1)

    def reconnect_headers(self) -> dict[str, str]:
        """Headers of the resuming GET: the original ones, minus the body's, plus the last id."""
        if self.last_event_id is None:
            warnings.warn(
                "Reconnecting without a Last-Event-ID: events sent while disconnected are lost.",
                stacklevel=2,
            )
            return dict(self.headers)
        return {**self.headers, "Last-Event-ID": self.last_event_id}

    def run_check_headers(self) -> dict[str, str]:
        """Headers for reading the run's status as JSON."""
        return {
            **{k: v for k, v in self.headers.items() if k.lower() != "accept"},
            "Accept": "application/json",
        }


def run_check_outcome(response: httpx.Response) -> Exception | None:
    """Reason to reconnect, judging by the run's status; `None` means the stream really ended."""
    if response.status_code == 429 or response.status_code >= 500:
        return httpx.TransportError(f"Run status check failed with {response.status_code}")
    if not response.is_success:
        return None
    try:
        run = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if isinstance(run, dict) and run.get("status") in ACTIVE_RUN_STATUSES:
        return httpx.TransportError("Stream closed while the run was still pending or running")
    return None


def require_event_stream(response: httpx.Response) -> None:
    """Anything but an event stream (say, a proxy's HTML page) cannot be decoded as one."""
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type:
        raise httpx.TransportError(f"Expected Content-Type text/event-stream, got {content_type!r}")


def decode_complete(body: bytes) -> Any:
    """Parse a wait/join body; a blank or truncated one was cut off and raises `ReadError`.

    The server writes whitespace keep-alives before the document, so a body that stopped
    early is either blank or not valid JSON.
    """
    if not body or body.isspace():
        raise httpx.ReadError("The response ended before its JSON body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise httpx.ReadError("The response's JSON body was cut off") from exc


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup in a plain mapping."""
    return next((v for k, v in headers.items() if k.lower() == name), None)
