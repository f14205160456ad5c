"""Cancel signals and worker wake-ups across processes, over Redis pub/sub. One
subscription per process feeds both; a missed wake-up costs at most the workers' polling
interval, and a cancel reaches every worker (only the one running the run acts). Pub/sub
delivers at most once, so a cancel is also kept as a key that workers check with their
lease renewals: one sent while a subscription was reconnecting still lands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from graphport.server.runtime.broker import BrokerUnavailable
from graphport.server.runtime.control import CancelHandler, Control
from graphport.server.runtime.wakeup import LocalWakeup

logger = logging.getLogger("graphport.signals")


class RedisSignals(Control, LocalWakeup):
    def __init__(self, redis: Redis, prefix: str, keep_seconds: float) -> None:
        super().__init__()
        self._redis = redis
        self._prefix = prefix
        self._keep_ms = max(1, int(keep_seconds * 1000))
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

    def _cancel_key(self, run_id: str) -> str:
        return f"{self._prefix}:cancel:{run_id}"

    async def send_cancel(self, run_id: str, action: str) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(self._cancel_key(run_id), action, px=self._keep_ms)
                signal = orjson.dumps({"run_id": run_id, "action": action})
                pipe.publish(self._cancel_channel, signal)
                await pipe.execute()
        except RedisError as e:
            raise BrokerUnavailable(f"Redis is unavailable: {e}") from e

    async def requested(self, run_ids: list[str]) -> dict[str, str]:
        if not run_ids:
            return {}
        # bytes: the client does not decode responses (redis-py types them bytes or str).
        keys = [self._cancel_key(r) for r in run_ids]
        try:
            actions = cast(list[bytes | None], await self._redis.mget(keys))
        except RedisError as e:
            raise BrokerUnavailable(f"Redis is unavailable: {e}") from e
        return {r: a.decode() for r, a in zip(run_ids, actions, strict=True) if a is not None}

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
