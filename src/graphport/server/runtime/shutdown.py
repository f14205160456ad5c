"""The moment a process starts to stop (SIGTERM, Ctrl+C): open streams end cleanly so their
clients reconnect elsewhere with Last-Event-ID, and the worker stops taking runs while its
in-flight ones get the grace period to finish (docs/architecture.md#processes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

logger = logging.getLogger("graphport")


class Shutdown:
    def __init__(self) -> None:
        """Build it on the event loop it serves (`begin_threadsafe` targets that loop)."""
        self._loop = asyncio.get_running_loop()
        self._began_at: float | None = None
        self._event = asyncio.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._listeners: set[Callable[[], None]] = set()

    @property
    def begun(self) -> bool:
        return self._event.is_set()

    def on_begin(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def remaining(self, grace: float) -> float:
        """What is left of a grace period counted from the start of the shutdown."""
        if self._began_at is None:
            return grace
        return max(0.0, grace - (time.monotonic() - self._began_at))

    def begin_threadsafe(self) -> None:
        """`begin` from a signal handler or another thread."""
        self._loop.call_soon_threadsafe(self.begin)

    def begin(self) -> None:
        """Idempotent; call on the event loop's thread."""
        if self._event.is_set():
            return
        logger.info("Shutting down: ending streams, finishing in-flight runs")
        self._began_at = time.monotonic()
        self._event.set()
        for callback in [*self._callbacks, *self._listeners]:
            callback()

    @contextlib.contextmanager
    def listening(self, callback: Callable[[], None]) -> Iterator[None]:
        """Call `callback` at shutdown while inside this block (at once if it has begun);
        for the many short-lived listeners, such as open streams."""
        if self.begun:
            callback()
        self._listeners.add(callback)
        try:
            yield
        finally:
            self._listeners.discard(callback)

    async def wait(self) -> None:
        await self._event.wait()
