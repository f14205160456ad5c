"""Fake servers for the client tests: canned responses behind `httpx.MockTransport`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import httpx
import orjson

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


def sse(event: str, data: Any, id: str | None = None) -> bytes:
    """One event as our server frames it (CRLF lines, data before id)."""
    frame = f"event: {event}\r\ndata: {orjson.dumps(data).decode()}\r\n"
    if id is not None:
        frame += f"id: {id}\r\n"
    return (frame + "\r\n").encode()


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in `chunks`, then cut by `error` if given (a dropped connection)."""

    def __init__(self, chunks: Sequence[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.error:
            raise self.error


Responder = Callable[[httpx.Request], httpx.Response]


class Server:
    """Answers each request with the next responder in turn; records the requests it saw."""

    def __init__(self, *responders: Responder | httpx.Response) -> None:
        self.responders = list(responders)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        request.read()
        responder = self.responders.pop(0)
        if isinstance(responder, httpx.Response):
            return responder
        return responder(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def fail(error: Exception) -> Responder:
    """A responder that raises `error`, as a transport does when it cannot connect."""

    def respond(request: httpx.Request) -> httpx.Response:
        raise error

    return respond


def stream_response(
    *chunks: bytes, error: Exception | None = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    """An SSE response made of `chunks`, optionally cut off by `error`."""
    return httpx.Response(
        200, headers={**SSE_HEADERS, **(headers or {})}, stream=Body(chunks, error)
    )


def json_body(request: httpx.Request) -> Any:
    return orjson.loads(request.content) if request.content else None
