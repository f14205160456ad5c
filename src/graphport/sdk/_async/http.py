"""HTTP layer: JSON requests with retries, waits that survive a cut, SSE streams that resume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx

from graphport.sdk._shared.encoding import decode_json, encode_json
from graphport.sdk._shared.resume import (
    RECONNECTABLE,
    StreamCursor,
    decode_complete,
    require_event_stream,
    run_check_outcome,
)
from graphport.sdk._shared.retry import Backoff, RetryPolicy
from graphport.sdk._shared.urls import same_origin
from graphport.sdk.errors import raise_for_status
from graphport.sdk.schema import QueryParamTypes, StreamPart
from graphport.sdk.sse import SSEDecoder

ResponseHook = Callable[[httpx.Response], None]


class HttpClient:
    """Sends the resource clients' requests and maps error statuses to typed errors.

    Bodies come back as decoded JSON (`Any`): the resource clients `cast` them to the
    `TypedDict` the API documents for the route; nothing is validated at run time.

    Attributes:
        client: The underlying httpx client (base URL, default headers, transport).
        retry: When ordinary requests are retried (see `RetryPolicy`).
        reconnect: Back-off between reconnections of streams and waits.
        network: Whether requests reach `client.base_url` over the network, so that a
            WebSocket can be opened beside them; not when an app in this process or a
            custom transport serves them.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        reconnect: Backoff | None = None,
        network: bool = True,
    ) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self.reconnect = reconnect or Backoff()
        self.network = network

    async def get(
        self,
        path: str,
        *,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> Any:
        """Send a GET; return the decoded JSON body."""
        return await self._json("GET", path, None, params, headers, on_response)

    async def post(
        self,
        path: str,
        *,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> Any:
        """Send a POST (no body when `json` is None); return the decoded JSON body."""
        return await self._json("POST", path, json, params, headers, on_response)

    async def put(
        self,
        path: str,
        *,
        json: Any,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> Any:
        """Send a PUT; return the decoded JSON body."""
        return await self._json("PUT", path, json, params, headers, on_response)

    async def patch(
        self,
        path: str,
        *,
        json: Any,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> Any:
        """Send a PATCH; return the decoded JSON body."""
        return await self._json("PATCH", path, json, params, headers, on_response)

    async def delete(
        self,
        path: str,
        *,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        """Send a DELETE, with a JSON body if given (the store's delete needs one)."""
        await self._json("DELETE", path, json, params, headers, on_response)

    async def request_reconnect(
        self,
        path: str,
        method: str,
        *,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
        reconnect_limit: int = 5,
    ) -> Any:
        """Send a request whose JSON answer comes when a run ends (wait, join, cancel+wait).

        The server sends whitespace keep-alives until the document. If the body is cut off,
        the response's `Location` (a GET: its own URL) is fetched again, with back-off, up to
        `reconnect_limit` times, through restarts (refused connections, 429, 5xx).
        """
        request = self._build(method, path, json, params, headers)
        response = await self._send(request, stream=True)
        try:
            if on_response:
                on_response(response)
            await self._raise_for_status(response)
            # A GET (join) is fetched again as it was: a `Location` would drop its query.
            location = response.headers.get("location")
            if method == "GET":
                location = str(request.url)
            elif location:
                location = same_origin(self.client.base_url, location)
            if not location or reconnect_limit <= 0:
                return decode_json(await response.aread())
            try:
                return decode_complete(await response.aread())
            except httpx.TransportError as exc:
                cause: Exception = exc
        finally:
            await response.aclose()
        for attempt in range(reconnect_limit):
            await asyncio.sleep(self.reconnect.delay(attempt))
            try:
                rejoined = await self.client.send(
                    self.client.build_request("GET", location, headers=headers)
                )
                raise_for_status(rejoined)
                return decode_complete(rejoined.content)
            except RECONNECTABLE as exc:
                cause = exc
        raise cause

    def stream(
        self,
        path: str,
        method: str,
        *,
        json: Any = None,
        params: QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        on_response: ResponseHook | None = None,
    ) -> AsyncIterator[StreamPart]:
        """Open an SSE stream; yield its events, resuming it through dropped connections.

        After a drop the stream is re-requested (GET `Location`, or the URL of a GET stream)
        with `Last-Event-ID`, so each event is seen once. A clean close without an `end` or
        `error` event resumes too if the run is still pending or running. Up to five failed
        reconnections in a row are tried; an event resets the count.
        """
        stream_headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        stream_headers.update(headers or {})
        request = self._build(method, path, json, params, stream_headers)
        return self._events(request, StreamCursor(self.reconnect, stream_headers), on_response)

    async def open_event_stream(
        self, path: str, *, json: Any, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST `json` and return the SSE response, open for reading (the caller closes it).

        Sent once: the caller decides whether and where a failed stream resumes.
        """
        stream_headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        request = self._build("POST", path, json, None, {**stream_headers, **(headers or {})})
        response = await self._send(request, stream=True, retries=False)
        try:
            await self._raise_for_status(response)
            require_event_stream(response)
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _events(
        self, request: httpx.Request, cursor: StreamCursor, on_response: ResponseHook | None
    ) -> AsyncIterator[StreamPart]:
        first = True
        while True:
            cause: Exception | None = None
            try:
                response = await self._send(request, stream=True, retries=first)
                try:
                    if first and on_response:
                        on_response(response)
                    await self._raise_for_status(response)
                    require_event_stream(response)
                    cursor.adopt(self.client.base_url, response)
                    decoder = SSEDecoder(last_event_id=cursor.last_event_id)
                    async for part in _decode(response, decoder):
                        cursor.observe(part)
                        yield part
                finally:
                    await response.aclose()
            except RECONNECTABLE as exc:
                if cursor.location is None:
                    raise
                cause = exc
            first = False
            if cause is None and cursor.needs_run_check():
                cause = await self._run_still_active(cursor)
            if cause is None:
                return
            await asyncio.sleep(cursor.next_delay(cause))
            assert cursor.location is not None
            request = self.client.build_request(
                "GET", cursor.location, headers=cursor.reconnect_headers()
            )

    async def _run_still_active(self, cursor: StreamCursor) -> Exception | None:
        """Reason to resume a cleanly closed stream, judging by its run's status."""
        url = cursor.run_url()
        if url is None:
            return None
        try:
            response = await self.client.get(url, headers=cursor.run_check_headers())
        except httpx.TransportError as exc:
            return exc
        return run_check_outcome(response)

    async def _json(
        self,
        method: str,
        path: str,
        json: Any,
        params: QueryParamTypes | None,
        headers: Mapping[str, str] | None,
        on_response: ResponseHook | None,
    ) -> Any:
        response = await self._send(self._build(method, path, json, params, headers), stream=False)
        if on_response:
            on_response(response)
        raise_for_status(response)
        return decode_json(response.content)

    def _build(
        self,
        method: str,
        path: str,
        json: Any,
        params: QueryParamTypes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        if json is None:
            return self.client.build_request(method, path, params=params, headers=headers)
        return self.client.build_request(
            method,
            path,
            content=encode_json(json),
            params=params,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    async def _send(
        self, request: httpx.Request, *, stream: bool, retries: bool = True
    ) -> httpx.Response:
        """Send `request`, retrying transient failures as far as `self.retry` allows."""
        attempt = 0
        while True:
            try:
                response = await self.client.send(request, stream=stream)
            except httpx.TransportError as exc:
                if not (retries and self.retry.retries_error(request.method, attempt, exc)):
                    raise
                delay = self.retry.delay(attempt)
            else:
                status = response.status_code
                if not (retries and self.retry.retries_status(request.method, attempt, status)):
                    return response
                await response.aclose()
                delay = self.retry.delay(attempt, response.headers.get("retry-after"))
            await asyncio.sleep(delay)
            attempt += 1

    async def _raise_for_status(self, response: httpx.Response) -> None:
        """`raise_for_status` for a streamed response: read the error body first."""
        if response.is_error:
            with contextlib.suppress(httpx.TransportError):
                await response.aread()
            raise_for_status(response)


async def _decode(response: httpx.Response, decoder: SSEDecoder) -> AsyncIterator[StreamPart]:
    async for chunk in response.aiter_bytes():
        for part in decoder.feed(chunk):
            yield part
    for part in decoder.flush():
        yield part
