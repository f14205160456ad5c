"""The create-time webhook check for runs, stateless runs and crons: a URL the
`webhooks.url` policy refuses, or whose host does not resolve, is a 422 naming the reason,
before anything is stored. Deliveries check again on the addresses of that moment
(`runtime/webhooks.py`), so passing here is no promise about later DNS answers."""

from __future__ import annotations

from graphport.server.core import Core
from graphport.server.errors import Unprocessable
from graphport.server.runtime.webhook_guard import (
    Resolver,
    WebhookRefused,
    resolve,
    system_resolver,
)


async def check_webhook(
    core: Core, url: str | None, *, resolver: Resolver = system_resolver
) -> None:
    if url is None or (core.config.http or {}).get("disable_webhooks"):
        return  # switched off: nothing will ever be sent
    try:
        await resolve(url, core.config.webhooks.url, resolver)
    except WebhookRefused as e:
        raise Unprocessable(f"webhook: {e}") from None
    except (OSError, TimeoutError) as e:
        raise Unprocessable(f"webhook: cannot resolve the host of {url!r}: {e}") from None
