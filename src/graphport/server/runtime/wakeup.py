"""Wake-ups for idle workers when a run becomes claimable. In-process event here;
PostgreSQL LISTEN/NOTIFY or Redis across processes. Polling remains the fallback."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod


class Wakeup(ABC):
    @abstractmethod
    async def notify(self) -> None: ...

    @abstractmethod
    async def wait(self, timeout: float) -> None:
        """Return when notified or after `timeout` seconds."""


class LocalWakeup(Wakeup):
    def __init__(self) -> None:
        self._event = asyncio.Event()

    async def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            pass
        self._event.clear()
