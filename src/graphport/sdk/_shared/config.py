"""What `get_client` and `get_sync_client` work out before they build an httpx client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeAlias

import httpx

from graphport.sdk._shared.sentinel import NOT_PROVIDED, NotProvided

DEFAULT_URL = "http://localhost:2024"
"""Where `graphport dev` listens; used when neither `url` nor `app` is given."""
IN_PROCESS_URL = "http://api"
"""Base URL of in-process clients (`app=`); no socket is opened, the host is only a name."""
API_KEY_ENV_VARS = ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
RESERVED_HEADERS = ("x-api-key",)
DEFAULT_TIMEOUT = httpx.Timeout(connect=5, read=300, write=300, pool=5)

TimeoutTypes: TypeAlias = (
    httpx.Timeout
    | float
    | tuple[float | None, float | None]
    | tuple[float | None, float | None, float | None, float | None]
    | None
)

try:
    SDK_VERSION = version("graphport")
except PackageNotFoundError:  # running from a source tree that was never installed
    SDK_VERSION = "0.0.0"


def base_url(url: str | None, *, in_process: bool) -> str:
    """The given URL, else the in-process name or the local dev server."""
    if url is not None:
        return url
    return IN_PROCESS_URL if in_process else DEFAULT_URL


def default_headers(
    api_key: str | NotProvided | None, headers: Mapping[str, str] | None
) -> dict[str, str]:
    """User-Agent, the caller's headers, then the API key (which they may not set themselves)."""
    for name in headers or {}:
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"Cannot set reserved header {name!r}")
    result = {"User-Agent": f"graphport-sdk-py/{SDK_VERSION}", **(headers or {})}
    if key := resolve_api_key(api_key):
        result["x-api-key"] = key
    return result


def resolve_api_key(api_key: str | NotProvided | None) -> str | None:
    """An explicit key, or none when `None`; if not passed, the first one set in the env."""
    if api_key is not NOT_PROVIDED:
        return api_key
    for name in API_KEY_ENV_VARS:
        if value := os.environ.get(name, "").strip().strip("\"'"):
            return value
    return None


def resolve_timeout(value: TimeoutTypes) -> httpx.Timeout:
    """Accept a `Timeout`, one number for every phase, or `(connect, read[, write, pool])`.

    A pair gives the read time to writes too and the connect time to the pool.
    """
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, tuple) and len(value) == 2:
        connect, read = value
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
    return httpx.Timeout(value)


def client_options(
    *,
    url: str | None,
    api_key: str | NotProvided | None,
    headers: Mapping[str, str] | None,
    timeout: TimeoutTypes,
    in_process: bool,
) -> dict[str, Any]:
    """Keyword arguments shared by the `httpx.AsyncClient` and `httpx.Client` we build."""
    return {
        "base_url": base_url(url, in_process=in_process),
        "headers": default_headers(api_key, headers),
        "timeout": resolve_timeout(timeout),
    }
