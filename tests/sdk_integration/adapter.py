"""Drive the sync client through the async client's calling conventions.

Every acceptance test is written once, against the async surface. `SyncAdapter` wraps a
`SyncLangGraphClient` so the same test body exercises the sync client: each method call runs in
a worker thread (`asyncio.to_thread`), and the blocking iterators the sync client returns become
async iterators whose every `next()` also runs in a worker thread. The event loop stays free
meanwhile, so a test can cut a proxy or poll the server while a sync stream is blocked.

Which convention a method follows is read off the async class: `async def` methods become
awaitables; plain `def` ones that return an async iterator (`runs.stream`, `runs.join_stream`,
`http.stream`) become async iterators; `threads.stream` returns its session as a
`ThreadedSession`, which presents the sync session the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any

from graphport.sdk._async.thread_stream import AgentModule, AsyncThreadStream, RunModule
from graphport.sdk.client import (
    AssistantsClient,
    CronClient,
    HttpClient,
    RunsClient,
    StoreClient,
    SyncLangGraphClient,
    SyncThreadStream,
    ThreadsClient,
)

_DONE = object()


class ThreadedIterator:
    """An async iterator over a blocking one, each step taken in a worker thread.

    The blocking iterator is only created on the first step, as calling the sync method is
    what sends the request (the async client's streams are lazy the same way).
    """

    def __init__(self, start: Callable[[], Iterator[Any]]) -> None:
        self._start = start
        self._iterator: Iterator[Any] | None = None

    def __aiter__(self) -> ThreadedIterator:
        return self

    async def __anext__(self) -> Any:
        item = await asyncio.to_thread(self._step)
        if item is _DONE:
            raise StopAsyncIteration
        return item

    def _step(self) -> Any:
        if self._iterator is None:
            self._iterator = self._start()
        return next(self._iterator, _DONE)

    async def aclose(self) -> None:
        """Close the blocking iterator (and with it the response) if it was started."""
        iterator = self._iterator
        if iterator is not None and hasattr(iterator, "close"):
            await asyncio.to_thread(iterator.close)


def _wrap(result: Any) -> Any:
    if isinstance(result, Iterator):
        iterator = result
        return ThreadedIterator(lambda: iterator)
    return result


class Threaded:
    """One sync resource client, presented with the calling conventions of `async_cls`."""

    def __init__(self, target: Any, async_cls: type) -> None:
        self._target = target
        self._async_cls = async_cls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name.startswith("_") or not callable(attr):
            return attr
        async_attr = getattr(self._async_cls, name, None)
        if inspect.iscoroutinefunction(async_attr):

            async def call(*args: Any, **kwargs: Any) -> Any:
                return _wrap(await asyncio.to_thread(attr, *args, **kwargs))

            return call
        if typing.get_type_hints(async_attr).get("return") is AsyncThreadStream:

            def open_session(*args: Any, **kwargs: Any) -> ThreadedSession:
                return ThreadedSession(attr(*args, **kwargs))

            return open_session

        def start(*args: Any, **kwargs: Any) -> ThreadedIterator:
            return ThreadedIterator(lambda: attr(*args, **kwargs))

        return start


class ThreadedSession:
    """A `SyncThreadStream` with the calling conventions of `AsyncThreadStream`."""

    def __init__(self, session: SyncThreadStream) -> None:
        self.sync = session
        self.run: Any = Threaded(session.run, RunModule)
        self.agent: Any = Threaded(session.agent, AgentModule)
        self.values = _Iterable(lambda: iter(session.values))

    def __getattr__(self, name: str) -> Any:  # thread_id, interrupts, …: no I/O
        return getattr(self.sync, name)

    async def __aenter__(self) -> ThreadedSession:
        await asyncio.to_thread(self.sync.__enter__)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.sync.__exit__, exc_type, exc, tb)

    def subscribe(self, *args: Any, **kwargs: Any) -> ThreadedIterator:
        return ThreadedIterator(lambda: self.sync.subscribe(*args, **kwargs))

    @property
    def events(self) -> ThreadedIterator:
        return ThreadedIterator(lambda: self.sync.events)

    @property
    def output(self) -> Awaitable[Any]:
        return asyncio.to_thread(lambda: self.sync.output)

    async def send_command(self, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self.sync.send_command, *args, **kwargs)

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)


class _Iterable:
    """Iterated again and again, each time from a new blocking iterator."""

    def __init__(self, start: Callable[[], Iterator[Any]]) -> None:
        self._start = start

    def __aiter__(self) -> ThreadedIterator:
        return ThreadedIterator(self._start)


class SyncAdapter:
    """A `SyncLangGraphClient` that the async acceptance tests can `await`."""

    def __init__(self, client: SyncLangGraphClient) -> None:
        self.sync = client
        self.http: Any = Threaded(client.http, HttpClient)
        self.assistants: Any = Threaded(client.assistants, AssistantsClient)
        self.threads: Any = Threaded(client.threads, ThreadsClient)
        self.runs: Any = Threaded(client.runs, RunsClient)
        self.crons: Any = Threaded(client.crons, CronClient)
        self.store: Any = Threaded(client.store, StoreClient)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)
