"""The client and its factory."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

import httpx

from graphport.sdk._async.assistants import AssistantsClient
from graphport.sdk._async.crons import CronClient
from graphport.sdk._async.http import HttpClient
from graphport.sdk._async.runs import RunsClient
from graphport.sdk._async.store import StoreClient
from graphport.sdk._async.threads import ThreadsClient
from graphport.sdk._shared.config import TimeoutTypes, client_options
from graphport.sdk._shared.retry import Backoff, RetryPolicy
from graphport.sdk._shared.sentinel import NOT_PROVIDED, NotProvided
from graphport.sdk._transports import ASGIApp, AsyncInProcessTransport


def get_client(
    *,
    url: str | None = None,
    api_key: str | NotProvided | None = NOT_PROVIDED,
    headers: Mapping[str, str] | None = None,
    timeout: TimeoutTypes = None,
    app: ASGIApp | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    max_retries: int = 3,
    retry_delay: float = 0.5,
    reconnect_delay: float = 1.0,
) -> LangGraphClient:
    """Create a client for a Graphport (or any LangGraph Platform) server.

    Args:
        url: Base URL of the server. Default: `http://localhost:2024`, where `graphport dev`
            listens (langgraph_sdk's async client instead looks for a server in-process).
        api_key: Sent as `x-api-key`. If not passed, the first of the env vars
            `LANGGRAPH_API_KEY`, `LANGSMITH_API_KEY`, `LANGCHAIN_API_KEY` that is set;
            `None` sends no key and reads no env var.
        headers: Extra headers for every request (`x-api-key` is reserved for `api_key`).
        timeout: An `httpx.Timeout`, seconds for every phase, `(connect, read)` or
            `(connect, read, write, pool)`. Default: 5 s to connect, 300 s to read or write.
        app: An ASGI app (e.g. a Graphport server app) to call in this process, without a
            socket; streams stay live (thread streaming sessions use SSE: a WebSocket needs
            the network).
            The app must already be started: its lifespan is the caller's to run.
        transport: An httpx transport to send requests through (tests use `MockTransport`).
        max_retries: Retries of requests that failed to connect, and of idempotent requests
            (GET, PUT, DELETE) that got 502/503/504 or lost their connection.
        retry_delay: First back-off of those retries in seconds (doubling, capped at 8 s).
        reconnect_delay: First back-off in seconds before resuming a dropped stream or wait
            (doubling, capped at 5 s).
    """
    if app is not None and transport is not None:
        raise ValueError("Pass either app or transport, not both")
    if app is not None:
        transport = AsyncInProcessTransport(app)
    transport = transport or httpx.AsyncHTTPTransport()
    client = httpx.AsyncClient(
        transport=transport,
        **client_options(
            url=url, api_key=api_key, headers=headers, timeout=timeout, in_process=app is not None
        ),
    )
    return LangGraphClient(
        client,
        retry=RetryPolicy(max_retries, Backoff(base=retry_delay, cap=8.0)),
        reconnect=Backoff(base=reconnect_delay, cap=5.0),
        network=isinstance(transport, httpx.AsyncHTTPTransport),
    )


class LangGraphClient:
    """Entry point: one sub-client per resource, sharing one connection pool.

    Attributes:
        http: The HTTP layer, for endpoints without a method (`client.http.get("/info")`).
        assistants: Versioned configurations of graphs.
        threads: Conversations and their state.
        runs: Invocations of assistants.
        crons: Scheduled runs.
        store: Long-term key-value documents.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        reconnect: Backoff | None = None,
        network: bool = True,
    ) -> None:
        self.http = HttpClient(client, retry=retry, reconnect=reconnect, network=network)
        self.assistants = AssistantsClient(self.http)
        self.threads = ThreadsClient(self.http)
        self.runs = RunsClient(self.http)
        self.crons = CronClient(self.http)
        self.store = StoreClient(self.http)

    async def __aenter__(self) -> LangGraphClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (and stop an in-process app the client started)."""
        await self.http.client.aclose()
