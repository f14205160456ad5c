"""POST a finished run to its webhook, off the worker's path, with retries and back-off.

Each attempt checks the URL against `webhooks.url` again, resolves the host itself, refuses
if any answer is forbidden, and connects to a checked address (see `webhook_guard`). The
client never follows redirects nor reads proxies from the environment, either of which would
send the call somewhere the check never saw. Keep-alive is off: a pooled TLS connection is
keyed by address, and reusing one opened for another host name would skip that name's
certificate check."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import httpx

from graphport.sdk.webhooks import SIGNATURE_HEADER, sign_webhook
from graphport.server import serde
from graphport.server.graphs.webhooks import WebhookConfig
from graphport.server.runtime.webhook_guard import (
    Resolver,
    WebhookRefused,
    resolve,
    system_resolver,
)

logger = logging.getLogger("graphport.webhooks")


class WebhookSender:
    def __init__(
        self,
        max_attempts: int,
        backoff_seconds: float,
        config: WebhookConfig | None = None,
        *,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff = backoff_seconds
        self.config = config or WebhookConfig()
        self._resolver = resolver
        self._transport = transport
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def send(self, url: str, payload: dict[str, Any]) -> None:
        """Schedule delivery; never blocks the caller."""
        task = asyncio.create_task(self._deliver(url, payload), name="graphport-webhook")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        fields = self.config.allowed_fields
        if fields is not None:
            payload = {k: v for k, v in payload.items() if k in fields}
        for attempt in range(1, self.max_attempts + 1):
            try:
                if await self._attempt(url, payload):
                    return
            except WebhookRefused as e:
                logger.warning("Webhook %s refused: %s", url, e)
                return
            except (httpx.HTTPError, OSError, TimeoutError) as e:
                logger.info("Webhook %s attempt %d failed: %s", url, attempt, e)
            if attempt < self.max_attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                await asyncio.sleep(delay + random.uniform(0, delay / 4))
        logger.warning("Webhook %s gave up after %d attempts", url, self.max_attempts)

    async def _attempt(self, url: str, payload: dict[str, Any]) -> bool:
        """One delivery; True when done (any answer but 5xx and 429)."""
        target = await resolve(url, self.config.url, self._resolver)
        sent_at = serde.utcnow().isoformat()
        if self.config.allowed_fields is None or "webhook_sent_at" in self.config.allowed_fields:
            payload["webhook_sent_at"] = sent_at
        body = serde.dumps(payload)
        pinned, headers, extensions = target.pinned()
        headers = {**self.config.headers, **headers, "Content-Type": "application/json"}
        if self.config.signing_secret:
            headers[SIGNATURE_HEADER] = sign_webhook(
                body, self.config.signing_secret, int(time.time())
            )
        resp = await self._http().post(pinned, content=body, headers=headers, extensions=extensions)
        if resp.status_code >= 500 or resp.status_code == 429:
            return False
        if resp.status_code >= 400:
            logger.warning("Webhook %s answered %s", url, resp.status_code)
        return True

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = self._transport or httpx.AsyncHTTPTransport(
                limits=httpx.Limits(max_keepalive_connections=0)
            )
            self._client = httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(10.0),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def close(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        if self._client is not None:
            await self._client.aclose()
