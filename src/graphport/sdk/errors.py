"""Exceptions raised by the client.

    GraphportError (alias LangGraphError)
    ├── APIError (also httpx.HTTPStatusError)
    │   ├── APIStatusError ─ an error status from the server
    │   │   ├── BadRequestError            400
    │   │   ├── AuthenticationError        401
    │   │   ├── PermissionDeniedError      403
    │   │   ├── NotFoundError              404
    │   │   ├── ConflictError              409
    │   │   ├── UnprocessableEntityError   422
    │   │   ├── RateLimitError             429
    │   │   └── InternalServerError        >= 500
    │   ├── APIConnectionError ─ APITimeoutError
    │   └── APIResponseValidationError
    ├── RunError ─ `runs.wait(raise_error=True)` on a failed run (or a session's `output`)
    ├── ProtocolError (also RuntimeError) ─ a thread streaming command was refused
    └── WebhookVerificationError ─ `verify_webhook` refused a webhook call

Status errors subclass `httpx.HTTPStatusError`, so code that catches httpx's error keeps
working. Network failures surface as httpx's own `TransportError`s, as with `langgraph_sdk`;
`APIConnectionError` and `APITimeoutError` exist for code that names them.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson


class GraphportError(Exception):
    """Base of every error raised by the SDK."""


LangGraphError = GraphportError


class APIError(httpx.HTTPStatusError, GraphportError):
    """An error about one request; `message` is the server's explanation when it gave one."""

    def __init__(
        self,
        message: str,
        response_or_request: httpx.Response | httpx.Request,
        *,
        body: object | None,
    ) -> None:
        if isinstance(response_or_request, httpx.Response):
            request = response_or_request.request
            response: httpx.Response | None = response_or_request
        else:
            request, response = response_or_request, None
        # httpx types `response` as required, but connection errors have none.
        httpx.HTTPStatusError.__init__(self, message, request=request, response=response)  # type: ignore[arg-type]
        self.request = request
        self.message = message
        self.body = body
        fields = body if isinstance(body, dict) else {}
        self.code: str | None = _str_or_none(fields.get("code"))
        self.param: str | None = _str_or_none(fields.get("param"))
        self.type: str | None = _str_or_none(fields.get("type"))


class APIStatusError(APIError):
    """The server answered with an error status."""

    response: httpx.Response

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(message, response, body=body)
        self.response = response
        self.status_code = response.status_code
        self.request_id = response.headers.get("x-request-id")


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """Any 5xx."""


class APIConnectionError(APIError):
    """The server could not be reached."""

    def __init__(self, *, message: str = "Connection error.", request: httpx.Request) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(message="Request timed out.", request=request)


class APIResponseValidationError(APIError):
    """A response did not have the expected shape."""

    def __init__(
        self, response: httpx.Response, body: object | None, *, message: str | None = None
    ) -> None:
        super().__init__(message or "Response data is invalid.", response, body=body)
        self.response = response
        self.status_code = response.status_code


class RunError(GraphportError):
    """A run waited on ended in error; `error` is the exception class name on the server."""

    def __init__(self, error: str | None, message: str | None) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


class ProtocolError(GraphportError, RuntimeError):
    """A thread streaming session's command was answered with an error envelope.

    `code` is the protocol's error code (`invalid_argument`, `no_such_interrupt`,
    `not_supported`, …). A `RuntimeError` too, as `langgraph_sdk` raises for these.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"Protocol error [{code}]: {message}")
        self.code = code
        self.message = message


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def raise_for_status(response: httpx.Response) -> None:
    """Raise the typed error for an error status; the response body must have been read."""
    if response.status_code < 400:
        return
    body = _error_body(response)
    status = response.status_code
    message = _message(response, body) or f"{status} {response.reason_phrase or 'HTTP Error'}"
    cls = InternalServerError if status >= 500 else _BY_STATUS.get(status, APIStatusError)
    raise cls(message, response=response, body=body)


def _error_body(response: httpx.Response) -> object | None:
    try:
        content = response.content
    except httpx.ResponseNotRead:  # the body could not be read; the status still counts
        return None
    if not content:
        return None
    try:
        body: object = orjson.loads(content)
    except orjson.JSONDecodeError:
        return content.decode(errors="replace")
    return body


def _message(response: httpx.Response, body: object | None) -> str | None:
    """First non-empty text among `message`, `detail`, `error` (or those inside `error`).

    A plain-text body is the message itself (the store routes answer 422 in plain text).
    """
    if isinstance(body, str):
        if not response.headers.get("content-type", "").startswith("text/plain"):
            return None
        return body.strip() or None
    if not isinstance(body, dict):
        return None
    nested = body.get("error")
    candidates = [body.get("message"), body.get("detail"), nested]
    if isinstance(nested, dict):
        candidates += [nested.get("message"), nested.get("detail")]
    return next((c for c in candidates if isinstance(c, str) and c), None)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class WebhookVerificationError(GraphportError):
    """A webhook call's signature header is missing, malformed, stale or does not match."""
