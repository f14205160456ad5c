"""Exceptions an auth handler may raise to answer a request with a chosen status."""

from __future__ import annotations

import http
from collections.abc import Mapping

__all__ = ["HTTPException"]


class HTTPException(Exception):
    """Reject the request with `status_code`; `detail` defaults to the status's reason phrase.

    Raised from `@auth.authenticate`, a 401 stays a 401 and any other status becomes a 403.
    Raised from an `@auth.on` handler, the status is passed through unchanged.
    """

    def __init__(
        self,
        status_code: int = 401,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = http.HTTPStatus(status_code).phrase
            except ValueError:
                detail = "Error"
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"HTTPException(status_code={self.status_code!r}, detail={self.detail!r})"
