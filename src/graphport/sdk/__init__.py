"""Graphport's Python client, a drop-in for `langgraph_sdk`: change the import, keep the code.

    from graphport.sdk import get_client

    client = get_client(url="http://localhost:2024")
    async for part in client.runs.stream(None, "agent", input={"messages": []}):
        print(part.event, part.data)

Only `httpx` and `orjson` are needed; nothing of the server is imported.
"""

from graphport.sdk._async.client import get_client
from graphport.sdk._shared.config import SDK_VERSION as __version__
from graphport.sdk._sync.client import get_sync_client
from graphport.sdk.errors import WebhookVerificationError
from graphport.sdk.webhooks import verify_webhook

__all__ = [
    "WebhookVerificationError",
    "__version__",
    "get_client",
    "get_sync_client",
    "verify_webhook",
]
