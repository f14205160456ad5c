"""`verify_webhook`: a receiver accepts exactly the calls signed with its secret, recently."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from graphport.sdk import WebhookVerificationError, verify_webhook
from graphport.sdk.errors import GraphportError
from graphport.sdk.webhooks import sign_webhook

BODY = b'{"run_id":"r1","status":"success"}'
SECRET = "whsec-test"


def test_a_fresh_signature_verifies() -> None:
    verify_webhook(BODY, sign_webhook(BODY, SECRET, int(time.time())), SECRET)


def test_a_rotation_header_verifies_with_either_secret() -> None:
    now = int(time.time())
    old, new = (sign_webhook(BODY, s, now).split(",")[1] for s in ("old", "new"))
    header = f"t={now},{old},{new}"
    verify_webhook(BODY, header, "old")
    verify_webhook(BODY, header, "new")


def _signed(secret: str = SECRET) -> str:
    return sign_webhook(BODY, secret, int(time.time()))


@pytest.mark.parametrize(
    ("body", "header", "message"),
    [
        (BODY + b" ", _signed, "does not match"),  # body changed
        (BODY, lambda: _signed("other"), "does not match"),
        (BODY, lambda: "", "malformed"),
        (BODY, lambda: "v1=abc", "malformed"),
        (BODY, lambda: "t=123", "malformed"),
        (BODY, lambda: "t=x,v1=abc", "malformed"),
    ],
)
def test_tampered_or_malformed_headers_are_refused(
    body: bytes, header: Callable[[], str], message: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=message) as info:
        verify_webhook(body, header(), SECRET)
    assert isinstance(info.value, GraphportError)


def test_the_timestamp_is_signed_and_bounded() -> None:
    stale = int(time.time()) - 301
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(BODY, sign_webhook(BODY, SECRET, stale), SECRET)
    verify_webhook(BODY, sign_webhook(BODY, SECRET, stale), SECRET, tolerance_seconds=600)
    # Moving a valid signature to a fresh timestamp breaks it.
    fresh = int(time.time())
    forged = f"t={fresh}," + sign_webhook(BODY, SECRET, stale).split(",")[1]
    with pytest.raises(WebhookVerificationError, match="does not match"):
        verify_webhook(BODY, forged, SECRET)
