"""Graphport: an open agent server speaking the LangGraph Platform API, and its Python SDK.

`get_client`/`get_sync_client` are loaded on first use, so importing `graphport` (as the server
does) costs nothing, and importing the SDK never imports the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphport.auth import Auth
    from graphport.sdk import get_client, get_sync_client

__all__ = ["Auth", "get_client", "get_sync_client"]


def __getattr__(name: str) -> Any:
    if name == "Auth":
        from graphport.auth import Auth

        return Auth
    if name in __all__:
        import graphport.sdk

        return getattr(graphport.sdk, name)
    raise AttributeError(f"module 'graphport' has no attribute {name!r}")
