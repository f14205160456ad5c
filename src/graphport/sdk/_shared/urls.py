"""Building request URLs and reading the URLs the server sends back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from graphport.sdk.schema import QueryParamTypes, RunCreateMetadata

_DEFAULT_PORTS = {"http": 80, "https": 443}
_RUN_PATH = re.compile(r"(?:/threads/(?P<thread_id>[^/]+))?/runs/(?P<run_id>[^/]+)/?$")
_RUN_STREAM_PATH = re.compile(r"(.*/runs/[^/]+)/stream/?")


def quote_path(value: Any) -> str:
    """Encode an id as exactly one path segment.

    `/` and every other reserved character are escaped, and an all-dots id is escaped too
    because httpx would otherwise resolve `.`/`..` as relative path steps.
    """
    if value is None or isinstance(value, bytes | bytearray):
        raise TypeError(f"A path id must be a str or UUID, got {type(value).__name__}")
    quoted = quote(str(value), safe="")
    if quoted and quoted.strip(".") == "":
        return "%2E" * len(quoted)
    return quoted


def merge_params(
    own: Mapping[str, Any] | None, extra: QueryParamTypes | None
) -> httpx.QueryParams | None:
    """A method's query parameters with the caller's `params` merged over them."""
    if not own and not extra:
        return None
    return httpx.QueryParams(own or {}).merge(extra)


def same_origin(base_url: httpx.URL, location: str) -> str:
    """Return `location` if it stays on the client's origin, else raise `ValueError`.

    Following another origin would hand it our API key.
    """
    target = urlsplit(location)
    if not target.scheme and not target.netloc:
        return location
    base_origin = (base_url.scheme, base_url.host, base_url.port or _port(base_url.scheme))
    origin = (target.scheme, target.hostname or "", target.port or _port(target.scheme))
    if origin != base_origin:
        raise ValueError(f"Refusing to follow cross-origin Location {location!r}")
    return location


def run_url_of_stream(stream_url: str) -> str | None:
    """`…/runs/{run_id}/stream` → `…/runs/{run_id}`, the run whose status tells if it is done."""
    parts = urlsplit(stream_url)
    if match := _RUN_STREAM_PATH.fullmatch(parts.path):
        return parts._replace(path=match[1], query="", fragment="").geturl()
    return None


def run_created(response: httpx.Response) -> RunCreateMetadata | None:
    """Run and thread ids from a create response's `Content-Location`."""
    location = response.headers.get("content-location")
    if location and (match := _RUN_PATH.search(urlsplit(location).path)):
        return RunCreateMetadata(run_id=match["run_id"], thread_id=match["thread_id"])
    return None


def _port(scheme: str) -> int | None:
    return _DEFAULT_PORTS.get(scheme)
