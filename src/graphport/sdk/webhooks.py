"""Signed webhooks: the server signs each call when `webhooks.signing_secret` is set, and a
receiver checks it with `verify_webhook` before trusting the body.

The header is `X-Graphport-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is the
HMAC-SHA256 of `b"<t>." + body` under the secret. The timestamp is signed with the body, so
a captured call cannot be replayed once it is older than the tolerance. Several `v1` values
may be present (one per secret while a secret is being rotated); one match is enough.

Standard library only, so receivers need nothing else from Graphport."""

from __future__ import annotations

import hashlib
import hmac
import time

from graphport.sdk.errors import WebhookVerificationError

__all__ = ["SIGNATURE_HEADER", "sign_webhook", "verify_webhook"]

SIGNATURE_HEADER = "X-Graphport-Signature"


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_webhook(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(body, secret, timestamp)}"


def verify_webhook(
    body: bytes, header: str, secret: str, *, tolerance_seconds: float = 300
) -> None:
    """Return if `header` signs `body` with `secret` within `tolerance_seconds` of now;
    raise `WebhookVerificationError` otherwise. Pass the raw body, before any JSON parsing."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    if abs(time.time() - timestamp) > tolerance_seconds:
        raise WebhookVerificationError("signature timestamp outside the tolerance")
    expected = _digest(body, secret, timestamp)
    if not any(hmac.compare_digest(expected, sig) for sig in signatures):
        raise WebhookVerificationError("signature does not match")
