"""Thread streaming sessions: `client.threads.stream(...)` (docs/api.md#thread-event-streaming).

A session is bound to one thread. Commands (`run.start`, `input.respond`, …) are HTTP
requests. Every subscription is a connection of its own, filtered by the server: an SSE
stream, or a WebSocket that subscribes once. A dropped connection is reopened from right
after the last event the subscription saw (`since`), after a back-off, up to five times in a
row, so it yields every event once, in order. Nothing runs in the background: a
subscription reads when it is iterated, and the session learns of interrupts and of its
runs' ends from what its subscriptions read.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedOK, WebSocketException

from graphport.sdk._async.http import HttpClient
from graphport.sdk._shared import thread_stream as plan
from graphport.sdk._shared.encoding import encode_json
from graphport.sdk._shared.urls import merge_params, quote_path
from graphport.sdk.errors import RunError
from graphport.sdk.schema import LangSmithTracing, QueryParamTypes, StreamPart
from graphport.sdk.sse import SSEDecoder
from graphport.sdk.stream import Channel, Event, InterruptPayload, SubscribeParams

StreamTransport = Literal["sse", "websocket"]
_SUBSCRIBE_ID = 1  # the id of a WebSocket's one `subscription.subscribe` command


class AsyncThreadStream:
    """One thread's streaming session, made by `client.threads.stream(...)`.

        async with client.threads.stream(assistant_id="agent") as thread:
            await thread.run.start(input={"messages": [{"role": "user", "content": "hi"}]})
            async for event in thread.subscribe(["messages", "values"]):
                ...  # typed protocol events, until the run ends or pauses
            print(await thread.output)

    Attributes:
        thread_id: The session's thread; one made up here (a UUID) when none was given,
            which `run.start` creates.
        assistant_id: What `run.start` runs.
        transport: `"sse"` or `"websocket"`: what each subscription connects with.
        run: `run.start(...)` and `run.respond(...)`.
        agent: `agent.get_tree()`: the assistant's graph.
        values: `async for` the state now, then after every step of the run.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        thread_id: str | None,
        assistant_id: str,
        headers: Mapping[str, str] | None = None,
        run_start_timeout: float | None = None,
        transport: StreamTransport = "sse",
    ) -> None:
        if transport not in ("sse", "websocket"):
            raise ValueError("transport must be 'sse' or 'websocket'")
        if transport == "websocket" and not http.network:
            raise ValueError(
                "transport='websocket' needs a network connection, and this client's requests "
                "are served in this process or by a custom transport; use transport='sse'"
            )
        self.thread_id = thread_id or str(uuid.uuid4())
        self.assistant_id = assistant_id
        self.transport: StreamTransport = transport
        self.run = RunModule(self)
        self.agent = AgentModule(self)
        self.values = ValuesProjection(self)
        self._http = http
        self._headers = dict(headers or {})
        self._minted = thread_id is None
        self._run_start_timeout = run_start_timeout
        self._run_started = False
        self._closed = False
        self._log = plan.SessionLog()
        self._open: set[Subscription] = set()
        self._path = f"/threads/{quote_path(self.thread_id)}"
        self._next_command_id = 1

    async def __aenter__(self) -> AsyncThreadStream:
        if self._closed:
            raise RuntimeError("This thread stream is closed and cannot be entered again.")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def interrupted(self) -> bool:
        """Whether interrupts are pending (see `interrupts`)."""
        return self._log.interrupted

    @property
    def interrupts(self) -> list[InterruptPayload]:
        """The interrupts pending, as read by this session's subscriptions (iterate one,
        `values`, or await `output` to learn of them; nothing reads in the background)."""
        return list(self._log.interrupts)

    @property
    def events(self) -> Subscription:
        """A new subscription to every channel; it follows the thread until closed."""
        return self._subscribe({"channels": list(plan.ALL_CHANNELS)}, None, plan.NEVER)

    @property
    def output(self) -> Awaitable[Any]:
        """The thread's state values once its run has finished: `await thread.output`.

        Waits through interrupts (answer them from elsewhere); raises `RunError` if the
        run failed. With no run started by the session, a thread given by id that is not
        running or paused answers at once.
        """
        return self._output()

    def subscribe(
        self,
        channels: Sequence[Channel],
        *,
        namespaces: list[list[str]] | None = None,
        depth: int | None = None,
        since: int | None = None,
    ) -> Subscription:
        """A subscription to the thread's events on `channels`: iterate it for them.

        It ends after the run ends (`lifecycle` `completed` or `failed` at the root) or
        pauses (`interrupted`); close it, or leave its `async with`, to end it sooner.

        Args:
            channels: `values`, `updates`, `messages`, `tools`, `lifecycle`, `input`,
                `checkpoints`, `tasks`, `custom`, `custom:<name>`.
            namespaces: Only events under these namespace prefixes (`[]` is the root).
            depth: With `namespaces`, at most this many levels below a prefix.
            since: Start right after the event with this `seq` (a subscription's `seq`
                attribute); by default with the thread's latest run, from its start.
        """
        params: SubscribeParams = {"channels": list(channels)}
        if namespaces is not None:
            params["namespaces"] = namespaces
        if depth is not None:
            params["depth"] = depth
        return self._subscribe(params, since, plan.PAUSED)

    async def send_command(
        self, method: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one protocol command (e.g. `agent.getTree`, `state.get`); return its
        `result`. An error answer raises `ProtocolError` with the protocol's code."""
        self._check_open()
        command = {"id": self._next_command_id, "method": method, "params": dict(params or {})}
        self._next_command_id += 1
        answer = await self._http.post(
            f"{self._path}/commands", json=command, headers=self._headers or None
        )
        return plan.command_result(method, answer)

    async def close(self) -> None:
        """Close every subscription of the session; idempotent."""
        self._closed = True
        for subscription in list(self._open):
            await subscription.aclose()

    def _subscribe(
        self, params: SubscribeParams, since: int | None, until: frozenset[str]
    ) -> Subscription:
        self._check_open()
        subscription = Subscription(self, params, since=since, until=until)
        self._open.add(subscription)
        return subscription

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("This thread stream is closed.")

    async def _output(self) -> Any:
        if not self._run_started:
            if self._minted:
                raise RuntimeError(
                    "thread.output: no run was started; call thread.run.start() first"
                )
            state = await self._state()
            if not state.get("next") and not state.get("tasks"):
                return state["values"]
        end: Event | None = None
        async with self._subscribe({"channels": ["lifecycle"]}, None, plan.FINISHED) as events:
            async for event in events:
                if plan.root_lifecycle(event) in plan.FINISHED:
                    end = event
        if end is None:
            raise RuntimeError("thread.output: the thread stream was closed")
        data: Mapping[str, Any] = end["params"]["data"]
        if data["event"] == "failed":
            raise RunError(None, str(data.get("error") or "the run failed"))
        return (await self._state())["values"]

    async def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self._http.get(
            f"{self._path}/state", headers=self._headers or None
        )
        return state

    async def _connect(self, body: dict[str, Any]) -> _SseStream | _WebSocketStream:
        path = f"{self._path}/stream/events"
        if self.transport == "websocket":
            return await _WebSocketStream.open(self._http, path, body, self._headers)
        return _SseStream(
            await self._http.open_event_stream(path, json=body, headers=self._headers)
        )

    def _may_retry(self, error: BaseException, wait: plan.ThreadWait) -> bool:
        return plan.reconnectable(error) or wait.retries(
            error, thread_may_be_missing=self._minted and not self._run_started
        )


class RunModule:
    """`thread.run`: start runs and answer their interrupts."""

    def __init__(self, thread: AsyncThreadStream) -> None:
        self._thread = thread

    async def start(
        self,
        *,
        input: Any = None,
        config: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        langsmith_tracing: LangSmithTracing | None = None,
    ) -> dict[str, Any]:
        """Start a run of the session's assistant on its thread (`run.start`), creating
        the thread if needed; queued behind a run in flight. Returns `{"run_id": ...}`."""
        params: dict[str, Any] = {"assistant_id": self._thread.assistant_id}
        if input is not None:
            params["input"] = input
        if config is not None:
            params["config"] = config
        if metadata is not None:
            params["metadata"] = metadata
        if langsmith_tracing is not None:
            params["langsmith_tracer"] = langsmith_tracing
        result = await self._thread.send_command("run.start", params)
        self._thread._run_started = True
        return result

    async def respond(self, response: Any, *, interrupt_id: str | None = None) -> dict[str, Any]:
        """Answer an interrupt and resume the run (`input.respond`).

        Args:
            response: What the graph's `interrupt(...)` call returns.
            interrupt_id: Which interrupt; by default the only one in `thread.interrupts`
                (a `RuntimeError` if there is not exactly one). An id the session has not
                seen is sent as is, for the server to judge.
        """
        interrupt_id, namespace = self._thread._log.pick(interrupt_id)
        result = await self._thread.send_command(
            "input.respond",
            {"interrupt_id": interrupt_id, "namespace": namespace, "response": response},
        )
        self._thread._log.answered(interrupt_id)
        self._thread._run_started = True
        return result


class AgentModule:
    """`thread.agent`: the session's assistant."""

    def __init__(self, thread: AsyncThreadStream) -> None:
        self._thread = thread

    async def get_tree(
        self,
        *,
        xray: int | bool = False,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """The assistant's graph, `{"nodes": [...], "edges": [...]}` (as
        `assistants.get_graph`); `xray` includes subgraphs, to that depth if a number.

        The protocol's `agent.getTree` (the tree of graphs and subgraphs, with their
        statuses) is `send_command("agent.getTree")`.
        """
        self._thread._check_open()
        tree: dict[str, list[dict[str, Any]]] = await self._thread._http.get(
            f"/assistants/{quote_path(self._thread.assistant_id)}/graph",
            params=merge_params({"xray": xray} if xray else None, params),
            headers={**self._thread._headers, **(headers or {})} or None,
        )
        return tree


class ValuesProjection:
    """`thread.values`: iterate for the graph's state after every step of the run, until it
    ends or pauses; a session that has started no run begins with the state now."""

    def __init__(self, thread: AsyncThreadStream) -> None:
        self._thread = thread

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._snapshots()

    async def _snapshots(self) -> AsyncIterator[dict[str, Any]]:
        if not self._thread._run_started:
            yield (await self._thread._state())["values"]
        root: SubscribeParams = {"channels": ["values"], "namespaces": [[]], "depth": 0}
        async with self._thread._subscribe(root, None, plan.PAUSED) as events:
            async for event in events:
                if event["method"] == "values":
                    yield event["params"]["data"]


class Subscription:
    """The events of one subscription of a session, for `async for`; see
    `AsyncThreadStream.subscribe`. Leaving its `async with` closes it.

    Attributes:
        seq: The `seq` of the last event read (or the `since` it was opened with): a new
            subscription with `since=seq` carries on right after it.
        last_event_id: The `event_id` of the last event read.
    """

    def __init__(
        self,
        thread: AsyncThreadStream,
        params: SubscribeParams,
        *,
        since: int | None,
        until: frozenset[str],
    ) -> None:
        self._thread = thread
        self._plan = plan.SubscriptionPlan(
            params, since=since, until=until, backoff=thread._http.reconnect
        )
        self._wait = plan.ThreadWait(thread._run_start_timeout)
        self._stream: _SseStream | _WebSocketStream | None = None
        self._closed = False

    @property
    def seq(self) -> int | None:
        return self._plan.seq

    @property
    def last_event_id(self) -> str | None:
        return self._plan.last_event_id

    def __aiter__(self) -> Subscription:
        return self

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def __anext__(self) -> Event:
        while not (self._closed or self._plan.ended):
            try:
                if self._stream is None:
                    self._stream = await self._thread._connect(self._plan.request())
                event = await self._stream.receive()
            except Exception as error:
                if self._closed:
                    break
                await self._drop()
                if not self._thread._may_retry(error, self._wait):
                    raise
                await asyncio.sleep(self._plan.next_delay(error))
                continue
            if self._closed:
                break
            if event is None:  # the server closed the stream (it is shutting down)
                await self._drop()
                closed = httpx.RemoteProtocolError("The server closed the thread stream")
                await asyncio.sleep(self._plan.next_delay(closed))
                continue
            if self._plan.advance(event):
                self._thread._log.observe(event)
                if self._plan.wanted(event):
                    return event
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the subscription and close its connection; idempotent."""
        self._closed = True
        await self._drop()
        self._thread._open.discard(self)

    async def _drop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.aclose()


class _SseStream:
    """One SSE response of `POST /threads/{id}/stream/events`, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.aiter_bytes()
        self._decoder = SSEDecoder()
        self._parts: deque[StreamPart] = deque()
        self._done = False

    async def receive(self) -> Event | None:
        """The next event; None once the server ended the stream."""
        while True:
            while self._parts:
                if (event := plan.as_event(self._parts.popleft().data)) is not None:
                    return event
            if self._done:
                return None
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._done = True
                self._parts.extend(self._decoder.flush())
            else:
                self._parts.extend(self._decoder.feed(chunk))

    async def aclose(self) -> None:
        await self._response.aclose()


class _WebSocketStream:
    """A WebSocket to `/threads/{id}/stream/events` carrying one subscription."""

    def __init__(self, socket: ClientConnection, url: str) -> None:
        self._socket = socket
        self._url = url

    @classmethod
    async def open(
        cls, http: HttpClient, path: str, body: dict[str, Any], headers: Mapping[str, str]
    ) -> _WebSocketStream:
        url = plan.websocket_url(http.client.base_url, path)
        handshake, user_agent = plan.websocket_headers(http.client, path, headers)
        command = {"id": _SUBSCRIBE_ID, "method": "subscription.subscribe", "params": body}
        try:
            # Entered as a context manager (as websockets asks), closed by `aclose`.
            socket = await connect(
                url,
                additional_headers=handshake,
                user_agent_header=user_agent,
                open_timeout=http.client.timeout.connect,
            ).__aenter__()
        except (OSError, TimeoutError, WebSocketException) as error:
            raise plan.websocket_failure(error, url) from error
        try:
            await socket.send(encode_json(command).decode())
        except ConnectionClosed as error:
            raise plan.websocket_failure(error, url) from error
        return cls(socket, url)

    async def receive(self) -> Event | None:
        """The next event; None once the server closed the socket normally."""
        while True:
            try:
                frame = orjson.loads(await self._socket.recv())
            except ConnectionClosedOK:
                return None
            except ConnectionClosed as error:
                raise plan.websocket_failure(error, self._url) from error
            if (event := plan.as_event(frame)) is not None:
                return event
            if isinstance(frame, dict) and frame.get("id") == _SUBSCRIBE_ID:
                plan.command_result("subscription.subscribe", frame)  # raises if refused

    async def aclose(self) -> None:
        await self._socket.close()
