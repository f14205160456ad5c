"""Sync-agnostic helpers: JSON encoding, URLs, factory options, retry decisions, v2 parts."""

from __future__ import annotations

import dataclasses
from datetime import UTC

import httpx
import pydantic
import pytest

from graphport.sdk import get_client, get_sync_client
from graphport.sdk._shared import config
from graphport.sdk._shared.encoding import decode_json, encode_json
from graphport.sdk._shared.parts import to_v2
from graphport.sdk._shared.payloads import timezone_name
from graphport.sdk._shared.resume import decode_complete
from graphport.sdk._shared.retry import Backoff, RetryPolicy
from graphport.sdk._shared.urls import quote_path, run_created, run_url_of_stream, same_origin
from graphport.sdk.schema import StreamPart

from .helpers import Server


class Model(pydantic.BaseModel):
    name: str


@dataclasses.dataclass
class Point:
    x: int


def test_encode_json_handles_models_sets_and_non_str_keys() -> None:
    body = {"m": Model(name="a"), "s": {1}, 1: "one", "p": Point(2)}
    assert decode_json(encode_json(body)) == {
        "m": {"name": "a"},
        "s": [1],
        "1": "one",
        "p": {"x": 2},
    }


def test_encode_json_refuses_a_class() -> None:
    with pytest.raises(TypeError, match="instance"):
        encode_json({"m": Model})


def test_encode_json_refuses_unknown_objects() -> None:
    with pytest.raises(TypeError, match="object"):
        encode_json(object())


def test_decode_json_empty_and_keep_alive_only_bodies_are_none() -> None:
    assert decode_json(b"") is None
    assert decode_json(b"\n\n") is None
    assert decode_json(b'\n\n{"a": 1}') == {"a": 1}


def test_decode_complete_treats_blank_or_truncated_bodies_as_cut() -> None:
    assert decode_complete(b'\n {"a": 1}') == {"a": 1}
    for body in (b"", b"\n\n", b'\n{"a": '):
        with pytest.raises(httpx.ReadError):
            decode_complete(body)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("abc", "abc"),
        ("a/b", "a%2Fb"),
        (".", "%2E"),
        ("..", "%2E%2E"),
        ("a.b", "a.b"),
        ("a b?#", "a%20b%3F%23"),
        ("1ef4a9b8-d7da-679a-a45a-872054341df2", "1ef4a9b8-d7da-679a-a45a-872054341df2"),
    ],
)
def test_quote_path(value: str, quoted: str) -> None:
    assert quote_path(value) == quoted


def test_quote_path_refuses_none_and_bytes() -> None:
    for value in (None, b"id"):
        with pytest.raises(TypeError):
            quote_path(value)


def test_same_origin_accepts_relative_and_same_origin_urls() -> None:
    base = httpx.URL("https://api.example.com")
    assert same_origin(base, "/runs/r/stream") == "/runs/r/stream"
    assert same_origin(base, "https://api.example.com:443/x") == "https://api.example.com:443/x"
    for location in (
        "http://api.example.com/x",
        "https://evil.com/x",
        "https://api.example.com:8/",
    ):
        with pytest.raises(ValueError, match="cross-origin"):
            same_origin(base, location)


def test_run_url_of_stream() -> None:
    assert run_url_of_stream("/threads/t/runs/r/stream") == "/threads/t/runs/r"
    assert run_url_of_stream("http://h/runs/r/stream?x=1") == "http://h/runs/r"
    assert run_url_of_stream("/threads/t/stream") is None


def test_run_created_reads_content_location() -> None:
    def created(location: str) -> object:
        return run_created(httpx.Response(200, headers={"content-location": location}))

    assert created("/threads/t/runs/r") == {"run_id": "r", "thread_id": "t"}
    assert created("http://h/runs/r") == {"run_id": "r", "thread_id": None}
    assert created("/assistants/a") is None


def test_api_key_from_env_in_order_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in config.API_KEY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    assert config.resolve_api_key(config.NOT_PROVIDED) is None
    monkeypatch.setenv("LANGCHAIN_API_KEY", "third")
    monkeypatch.setenv("LANGSMITH_API_KEY", ' "second" ')
    assert config.resolve_api_key(config.NOT_PROVIDED) == "second"
    monkeypatch.setenv("LANGGRAPH_API_KEY", "first")
    assert config.resolve_api_key(config.NOT_PROVIDED) == "first"
    assert config.resolve_api_key(None) is None
    assert config.resolve_api_key("explicit") == "explicit"


def test_default_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGGRAPH_API_KEY", "k")
    headers = config.default_headers(config.NOT_PROVIDED, {"X-Team": "a"})
    assert headers == {
        "User-Agent": f"graphport-sdk-py/{config.SDK_VERSION}",
        "X-Team": "a",
        "x-api-key": "k",
    }
    assert "x-api-key" not in config.default_headers(None, None)
    for reserved in ("x-api-key", "X-Api-Key"):
        with pytest.raises(ValueError, match="reserved header"):
            config.default_headers(None, {reserved: "k"})


def test_timeout_forms() -> None:
    assert config.resolve_timeout(None) == httpx.Timeout(connect=5, read=300, write=300, pool=5)
    assert config.resolve_timeout(2.0) == httpx.Timeout(2.0)
    assert config.resolve_timeout((1, 2)) == httpx.Timeout(connect=1, read=2, write=2, pool=1)
    assert config.resolve_timeout((1, 2, 3, 4)) == httpx.Timeout(connect=1, read=2, write=3, pool=4)
    custom = httpx.Timeout(9)
    assert config.resolve_timeout(custom) == custom


@pytest.mark.parametrize("factory", [get_client, get_sync_client])
def test_factories_default_to_the_local_dev_server(factory: object) -> None:
    client = factory(api_key="k")  # type: ignore[operator]
    http = client.http.client
    assert str(http.base_url) == "http://localhost:2024"
    assert http.headers["x-api-key"] == "k"
    assert http.headers["user-agent"].startswith("graphport-sdk-py/")
    assert http.timeout == httpx.Timeout(connect=5, read=300, write=300, pool=5)


def test_factory_refuses_app_and_transport_together() -> None:
    with pytest.raises(ValueError, match="either app or transport"):
        get_client(app=object(), transport=Server().transport)  # type: ignore[arg-type]


def test_retry_policy_decisions() -> None:
    policy = RetryPolicy(max_retries=2)
    refused = httpx.ConnectError("refused")
    reset = httpx.ReadError("reset")
    assert policy.retries_error("POST", 0, refused)
    assert not policy.retries_error("POST", 0, reset)
    assert policy.retries_error("GET", 1, reset)
    assert not policy.retries_error("GET", 2, reset)
    assert not policy.retries_error("GET", 0, httpx.ReadTimeout("slow"))
    assert policy.retries_status("DELETE", 0, 503)
    assert not policy.retries_status("PATCH", 0, 503)
    assert not policy.retries_status("GET", 0, 500)


def test_backoff_doubles_caps_and_jitters_at_most_a_quarter() -> None:
    backoff = Backoff(base=1.0, cap=5.0)
    for attempt, expected in enumerate([1, 2, 4, 5, 5]):
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(expected <= d <= expected * 1.25 for d in delays)


def test_retry_after_stretches_the_delay_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff=Backoff(base=0.1, cap=3.0, jitter=0))
    assert policy.delay(0, "2") == 2
    assert policy.delay(0, "60") == 3
    assert policy.delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.1


def test_v2_parts() -> None:
    values = StreamPart("values|a:1", {"x": 1, "__interrupt__": [{"id": "i"}]}, "1")
    assert to_v2(values) == {
        "type": "values",
        "ns": ["a:1"],
        "data": {"x": 1},
        "interrupts": [{"id": "i"}],
    }
    assert values.data == {"x": 1, "__interrupt__": [{"id": "i"}]}  # the input is left intact
    assert to_v2(StreamPart("custom", "hi")) == {
        "type": "custom",
        "ns": [],
        "data": "hi",
        "interrupts": [],
    }
    assert to_v2(StreamPart("end", None)) is None


def test_timezone_names() -> None:
    from zoneinfo import ZoneInfo

    assert timezone_name("Europe/Paris") == "Europe/Paris"
    assert timezone_name(ZoneInfo("Asia/Tokyo")) == "Asia/Tokyo"
    assert timezone_name(UTC) == "UTC"
    assert timezone_name(None) is None
