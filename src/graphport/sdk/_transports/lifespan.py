"""Run an ASGI app's lifespan (startup and shutdown), as a server would."""

from __future__ import annotations

import asyncio
from typing import Any

from graphport.sdk._transports.asgi import ASGIApp, Message


class Lifespan:
    """Starts and stops one app; `state` is what the app stored for its requests.

    An app that does not speak the lifespan protocol (it raises or returns at once) is simply
    used without one, as the ASGI spec asks of servers. For an async in-process client:

        async with Lifespan(app) as lifespan:
            transport = AsyncInProcessTransport(app, state=lifespan.state)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lifespan:
        await self.startup()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    async def startup(self) -> None:
        """Run the app's startup; raise if it reports a failure."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self._task = asyncio.ensure_future(self.app(scope, self._inbox.get, self._outbox.put))
        await self._step("lifespan.startup")

    async def shutdown(self) -> None:
        """Run the app's shutdown; raise if it reports a failure."""
        if self._task is not None and not self._task.done():
            await self._step("lifespan.shutdown")

    async def _step(self, kind: str) -> None:
        assert self._task is not None
        await self._inbox.put({"type": kind})
        reply = asyncio.ensure_future(self._outbox.get())
        await asyncio.wait({reply, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():  # the app left the protocol: it has no lifespan
            reply.cancel()
            if not self._task.cancelled():
                self._task.exception()  # retrieved: not having a lifespan is no error
            return
        message = reply.result()
        if message["type"] == f"{kind}.failed":
            raise RuntimeError(f"ASGI {kind} failed: {message.get('message', '')}")
