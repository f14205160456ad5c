"""Incremental Server-Sent Events decoder.

Follows the WHATWG event-stream rules: lines end in CR, LF or CRLF (a CRLF may be split across
chunks), a leading UTF-8 BOM is dropped, `:` lines are comments (heartbeats), several `data`
lines join with LF, the last `id` persists until changed, and a pending event is flushed at
EOF. Each event's data is decoded as JSON. Feeding bytes and reading events are separate from
any I/O, so the async and sync clients share this one decoder.
"""

from __future__ import annotations

from typing import Any

import orjson

from graphport.sdk.schema import StreamPart

__all__ = ["SSEDecoder"]

_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Turns chunks of an event stream into `StreamPart`s.

    `feed()` takes bytes as they arrive and returns the events they complete; `flush()` ends
    the stream. `last_event_id` starts from the value a resumed stream continues after.
    """

    def __init__(self, *, last_event_id: str | None = None) -> None:
        self.last_event_id = last_event_id
        self.retry: int | None = None
        """Reconnection time the server asked for, in milliseconds."""
        self._partial: list[bytes] = []
        self._at_start = True
        self._skip_lf = False
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[StreamPart]:
        """Decode `chunk`; return the events it completes."""
        if self._at_start:
            chunk = b"".join(self._partial) + chunk
            self._partial.clear()
            if _BOM.startswith(chunk):  # all of it could still be the start of a BOM
                self._partial.append(chunk)
                return []
            self._at_start = False
            chunk = chunk.removeprefix(_BOM)
        if self._skip_lf and chunk:
            self._skip_lf = False
            chunk = chunk.removeprefix(b"\n")
        if b"\n" not in chunk and b"\r" not in chunk:
            self._partial.append(chunk)
            return []
        lines = (b"".join(self._partial) + chunk).splitlines(keepends=True)
        self._partial.clear()
        if not lines[-1].endswith((b"\n", b"\r")):
            self._partial.append(lines.pop())
        # A CR ending this chunk may be the first half of a CRLF.
        self._skip_lf = lines[-1].endswith(b"\r")
        return [part for line in lines if (part := self._line(line.rstrip(b"\r\n")))]

    def flush(self) -> list[StreamPart]:
        """End of stream: complete the last line and event, even without a blank line."""
        parts = []
        if self._partial and (part := self._line(b"".join(self._partial))):
            parts.append(part)
        self._partial.clear()
        if part := self._dispatch():
            parts.append(part)
        return parts

    def _line(self, line: bytes) -> StreamPart | None:
        if not line:
            return self._dispatch()
        if line.startswith(b":"):
            return None
        name, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode(errors="replace")
        elif name == b"id":
            if b"\0" not in value:
                self.last_event_id = value.decode(errors="replace")
        elif name == b"retry" and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self) -> StreamPart | None:
        """Emit the buffered event; an event with neither name nor data is dropped."""
        event, data = self._event, self._data
        self._event, self._data = "", []
        if not event and not data:
            return None
        return StreamPart(event, _decode_data(b"\n".join(data)), self.last_event_id or None)


def _decode_data(data: bytes) -> Any:
    """JSON payload of an event: `None` when blank, the raw text when it is not JSON."""
    if not data or data.isspace():
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode(errors="replace")
