"""Error statuses become typed errors that still are `httpx.HTTPStatusError`s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graphport.sdk import errors
from graphport.sdk.errors import raise_for_status

REQUEST = httpx.Request("GET", "http://test/threads/t")


def response(status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.UnprocessableEntityError),
        (429, errors.RateLimitError),
        (500, errors.InternalServerError),
        (503, errors.InternalServerError),
        (405, errors.APIStatusError),
    ],
)
def test_status_maps_to_class(status: int, error_type: type[errors.APIStatusError]) -> None:
    with pytest.raises(error_type) as caught:
        raise_for_status(response(status, json={"detail": "why"}, headers={"x-request-id": "q"}))
    error = caught.value
    assert type(error) is error_type
    assert isinstance(error, httpx.HTTPStatusError)
    assert isinstance(error, errors.LangGraphError)
    assert (error.status_code, error.message, str(error)) == (status, "why", "why")
    assert (error.request, error.response.status_code, error.request_id) == (REQUEST, status, "q")


def test_success_does_not_raise() -> None:
    raise_for_status(response(204))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"message": "m", "detail": "d"}, "m"),
        ({"detail": "d"}, "d"),
        ({"error": "Key is required"}, "Key is required"),
        ({"error": {"detail": "nested"}}, "nested"),
        ({"detail": ""}, "404 Not Found"),
        ({"detail": [{"loc": ["x"]}]}, "404 Not Found"),
    ],
)
def test_message_comes_from_the_body(body: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.NotFoundError) as caught:
        raise_for_status(response(404, json=body))
    assert caught.value.message == message
    assert caught.value.body == body


def test_plain_text_body_is_the_message_but_html_is_not() -> None:
    with pytest.raises(errors.UnprocessableEntityError) as caught:
        raise_for_status(response(422, text="Namespace label cannot be empty"))
    assert caught.value.message == "Namespace label cannot be empty"
    html = response(502, content=b"<h1>Bad gateway</h1>", headers={"content-type": "text/html"})
    with pytest.raises(errors.InternalServerError) as caught_html:
        raise_for_status(html)
    assert caught_html.value.message == "502 Bad Gateway"
    assert caught_html.value.body == "<h1>Bad gateway</h1>"


def test_code_param_and_type_are_copied_from_a_dict_body() -> None:
    body = {"detail": "d", "code": "c", "param": "p", "type": "t"}
    with pytest.raises(errors.BadRequestError) as caught:
        raise_for_status(response(400, json=body))
    assert (caught.value.code, caught.value.param, caught.value.type) == ("c", "p", "t")


def test_connection_errors_carry_the_request() -> None:
    timeout = errors.APITimeoutError(REQUEST)
    assert isinstance(timeout, errors.APIConnectionError)
    assert (timeout.request, timeout.message, timeout.body) == (REQUEST, "Request timed out.", None)


def test_run_error_names_the_server_exception() -> None:
    error = errors.RunError("ValueError", "bad")
    assert isinstance(error, errors.GraphportError)
    assert (str(error), error.error, error.message) == ("ValueError: bad", "ValueError", "bad")
