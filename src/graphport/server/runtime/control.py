"""Cancel signals from whoever cancels (an API replica) to whoever runs the run (a worker).
In-process here; a Redis implementation carries the same calls across processes. A signal
is only the fast path: the request is also kept in the run's row, which the worker reads
with every lease renewal (`RunLifecycle.note_cancel`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

CancelHandler = Callable[[str, str], Awaitable[None]]


class Control(ABC):
    @abstractmethod
    async def send_cancel(self, run_id: str, action: str) -> None:
        """Ask the worker running `run_id` to stop it with `action`."""

    @abstractmethod
    def on_cancel(self, handler: CancelHandler) -> None:
        """Register the local worker's handler."""


class LocalControl(Control):
    def __init__(self) -> None:
        self._handlers: list[CancelHandler] = []

    async def send_cancel(self, run_id: str, action: str) -> None:
        for handler in self._handlers:
            await handler(run_id, action)

    def on_cancel(self, handler: CancelHandler) -> None:
        self._handlers.append(handler)
