"""A run's events on their way to the broker, in order, whatever the broker's health.

While the broker (Redis) is unreachable, events wait here and a background task retries
them, so an outage neither fails the run that produces them nor loses or reorders its
stream; subscribers resume from their last id once it is back. The end of the stream is
sent the same way, after the run's outcome is already in the database."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from graphport.server.runtime.broker import Broker, BrokerUnavailable

logger = logging.getLogger("graphport.outbox")

RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 5.0
# Events kept for one run while the broker is down; past this the oldest are dropped (the
# run's state is in its checkpoints either way) so an outage cannot exhaust memory.
MAX_PENDING = 50_000


class RunEvents:
    def __init__(self, broker: Broker, run_id: str, thread_id: str) -> None:
        self.broker = broker
        self.run_id = run_id
        self.thread_id = thread_id
        self._pending: deque[tuple[str, bytes]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self.dropped = 0

    async def publish(self, event: str, data: bytes) -> None:
        if not self._pending:
            try:
                await self.broker.publish(self.run_id, self.thread_id, event, data)
                return
            except BrokerUnavailable as e:
                logger.warning("Run %s: broker unavailable (%s); keeping events", self.run_id, e)
        if len(self._pending) >= MAX_PENDING:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append((event, data))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"outbox-{self.run_id}")

    async def _flush(self) -> None:
        delay = RETRY_SECONDS
        while self._pending:
            event, data = self._pending[0]
            try:
                await self.broker.publish(self.run_id, self.thread_id, event, data)
            except BrokerUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            self._pending.popleft()
            delay = RETRY_SECONDS

    @property
    def caught_up(self) -> bool:
        """Nothing waits for the broker: the stream can end right away."""
        return not self._pending and (self._flusher is None or self._flusher.done())

    async def end(self, epitaph: dict[str, Any] | None = None) -> None:
        """Deliver what is pending, then the end of the stream, retrying until the broker
        takes them (callers bound this in time)."""
        if self._flusher is not None:
            await self._flusher
        await self._flush()
        delay = RETRY_SECONDS
        while True:
            try:
                await self.broker.end_run(self.run_id, self.thread_id, epitaph=epitaph)
                break
            except BrokerUnavailable:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)
        if self.dropped:
            logger.warning("Run %s: %d events dropped during an outage", self.run_id, self.dropped)
