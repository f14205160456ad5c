"""Schemathesis hooks for `test_openapi_contract.py` (loaded through SCHEMATHESIS_HOOKS in
the schemathesis process): keep generated runs safe and bounded before each request."""

from __future__ import annotations

from typing import Any

import schemathesis

# A run's webhook is POSTed when it ends: generated URLs could point off this machine, so
# no generated request may carry one (the server under test also has webhooks switched off).
# Delays are capped so that waits and joins on generated runs end within the test.
MAX_DELAY_SECONDS = 0.1


def _bounded(item: Any) -> None:
    if isinstance(item, dict):
        item.pop("webhook", None)
        delay = item.get("after_seconds")
        if isinstance(delay, (int, float)) and not isinstance(delay, bool):
            item["after_seconds"] = min(delay, MAX_DELAY_SECONDS)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    for item in body if isinstance(body, list) else [body]:
        _bounded(item)
