"""POST a finished run to its webhook, off the worker's path, with retries and back-off."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import httpx

from graphport.server import serde

logger = logging.getLogger("graphport.webhooks")


class WebhookSender:
    def __init__(self, max_attempts: int, backoff_seconds: float) -> None:
        self.max_attempts = max_attempts
        self.backoff = backoff_seconds
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def send(self, url: str, payload: dict[str, Any]) -> None:
        """Schedule delivery; never blocks the caller."""
        task = asyncio.create_task(self._deliver(url, payload), name="graphport-webhook")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        body = serde.dumps(payload)
        for attempt in range(1, self.max_attempts + 1):
            try:
                payload["webhook_sent_at"] = serde.utcnow().isoformat()
                body = serde.dumps(payload)
                resp = await self._client.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
                if resp.status_code < 500 and resp.status_code != 429:
                    if resp.status_code >= 400:
                        logger.warning("Webhook %s answered %s", url, resp.status_code)
                    return
            except httpx.HTTPError as e:
                logger.info("Webhook %s attempt %d failed: %s", url, attempt, e)
            if attempt < self.max_attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                await asyncio.sleep(delay + random.uniform(0, delay / 4))
        logger.warning("Webhook %s gave up after %d attempts", url, self.max_attempts)

    async def close(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        if self._client is not None:
            await self._client.aclose()
