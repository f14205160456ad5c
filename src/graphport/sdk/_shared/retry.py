"""When to send a request again, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: `base * 2**attempt`, capped, plus up to `jitter` of it at random.

    Jitter keeps many clients cut off by one restart from reconnecting in lockstep.
    """

    base: float = 1.0
    cap: float = 5.0
    jitter: float = 0.25

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        delay = min(self.cap, self.base * 2.0**attempt)
        return delay + random.uniform(0, delay * self.jitter)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of ordinary requests after a transient failure.

    A refused connection is retried for every method: the request never left, so nothing can
    happen twice. Anything that may have reached the server (a dropped connection, a 502, 503
    or 504 from a proxy or a restarting server) is retried only for idempotent methods; POST
    and PATCH are never sent twice.
    """

    max_retries: int = 3
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.5, cap=8.0))

    def retries_error(self, method: str, attempt: int, error: httpx.TransportError) -> bool:
        """Whether to retry after `error` on try number `attempt` (0-based)."""
        if attempt >= self.max_retries:
            return False
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
            return True
        return method in IDEMPOTENT_METHODS and isinstance(
            error, httpx.NetworkError | httpx.RemoteProtocolError
        )

    def retries_status(self, method: str, attempt: int, status: int) -> bool:
        """Whether to retry after a response with `status` on try number `attempt` (0-based)."""
        return (
            attempt < self.max_retries and method in IDEMPOTENT_METHODS and status in RETRY_STATUSES
        )

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Back-off before the next try, stretched to a `Retry-After` (in seconds) up to the cap."""
        delay = self.backoff.delay(attempt)
        if retry_after and retry_after.isdigit():
            return max(delay, min(float(retry_after), self.backoff.cap))
        return delay
