"""Transports that serve the client from an ASGI app in this process."""

from graphport.sdk._transports.asgi import ASGIApp, AsyncInProcessTransport
from graphport.sdk._transports.lifespan import Lifespan
from graphport.sdk._transports.threaded import InProcessTransport

__all__ = ["ASGIApp", "AsyncInProcessTransport", "InProcessTransport", "Lifespan"]
