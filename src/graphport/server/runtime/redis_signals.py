"""Cancel signals and worker wake-ups across processes, over Redis pub/sub. One
subscription per process feeds both; a missed wake-up costs at most the workers' polling
interval, and a cancel reaches every worker (only the one running the run acts). Pub/sub
delivers at most once; a cancel sent while a subscription was reconnecting still lands, as
the request is kept in the run's row too (read with every lease renewal)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from graphport.server.runtime.broker import BrokerUnavailable
from graphport.server.runtime.control import CancelHandler, Control
from graphport.server.runtime.wakeup import LocalWakeup

logger = logging.getLogger("graphport.signals")


class RedisSignals(Control, LocalWakeup):
    def __init__(self, redis: Redis, prefix: str) -> None:
        super().__init__()
        self._redis = redis
        self._prefix = prefix
        self._cancel_channel = f"{prefix}:cancel"
        self._wakeup_channel = f"{prefix}:wakeup"
        self._handlers: list[CancelHandler] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._cancel_channel, self._wakeup_channel)
        self._task = asyncio.create_task(self._listen(pubsub), name="graphport-signals")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self, pubsub: Any) -> None:
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=None)
                except (asyncio.CancelledError, GeneratorExit):
                    raise
                except Exception:  # the connection dropped: pub/sub resubscribes on retry
                    logger.warning("Redis subscription lost; reconnecting", exc_info=True)
                    await asyncio.sleep(0.5)
                    continue
                if message is None:
                    continue
                if message["channel"].decode() == self._wakeup_channel:
                    await LocalWakeup.notify(self)
                else:
                    await self._on_cancel(message["data"])
        finally:
            await pubsub.aclose()

    async def _on_cancel(self, raw: bytes) -> None:
        signal = orjson.loads(raw)
        for handler in self._handlers:
            try:
                await handler(signal["run_id"], signal["action"])
            except Exception:
                logger.exception("Cancel handler failed for run %s", signal["run_id"])

    # --- Control ------------------------------------------------------------------------

    async def send_cancel(self, run_id: str, action: str) -> None:
        signal = orjson.dumps({"run_id": run_id, "action": action})
        try:
            await self._redis.publish(self._cancel_channel, signal)
        except RedisError as e:
            raise BrokerUnavailable(f"Redis is unavailable: {e}") from e

    def on_cancel(self, handler: CancelHandler) -> None:
        self._handlers.append(handler)

    # --- Wakeup (wait: the local event, set by this process or by the subscription) -----

    async def notify(self) -> None:
        """Best effort: a lost wake-up costs at most the workers' one-second poll."""
        await LocalWakeup.notify(self)  # a local worker need not wait for the round trip
        try:
            await self._redis.publish(self._wakeup_channel, b"")
        except RedisError as e:
            logger.warning("Wake-up not sent (%s); workers will find the run by polling", e)
