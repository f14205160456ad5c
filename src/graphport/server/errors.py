"""Domain errors: services raise these, one handler in the api layer turns them into
`{"detail": ...}` responses with their status (docs/api.md#errors)."""

from __future__ import annotations


class GraphportError(Exception):
    status_code = 500

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class BadRequest(GraphportError):
    status_code = 400


class Unauthorized(GraphportError):
    status_code = 401


class Forbidden(GraphportError):
    status_code = 403


class NotFound(GraphportError):
    status_code = 404


class Conflict(GraphportError):
    status_code = 409


class Unprocessable(GraphportError):
    status_code = 422


class NotImplementedFeature(GraphportError):
    status_code = 501


def http_error(
    status_code: int, detail: str, headers: dict[str, str] | None = None
) -> GraphportError:
    """An error with an arbitrary status (auth handlers may raise any code)."""
    err = GraphportError(detail, headers=headers)
    err.status_code = status_code
    return err
