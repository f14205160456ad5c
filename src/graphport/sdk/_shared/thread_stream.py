"""Bookkeeping of thread streaming sessions, apart from their I/O.

The session and subscription loops in `_async/thread_stream.py` (and its generated sync
twin) ask these objects what to request, whether an event is new and wanted, when a
subscription is over, how long to wait before resuming and what failed; the decisions live
here once. Filters follow the protocol (docs/api.md#thread-event-streaming): a channel per
`method`, namespaces matched by prefix (a segment without a `:<task id>` matches one with
it), `depth` counted below the prefix.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Literal, cast, get_args, get_origin

import httpx
from langchain_protocol.protocol import Channel
from websockets.exceptions import ConnectionClosed, InvalidStatus

from graphport.sdk._shared.resume import MAX_RECONNECTS, RECONNECTABLE
from graphport.sdk._shared.retry import Backoff
from graphport.sdk.errors import NotFoundError, ProtocolError, raise_for_status
from graphport.sdk.stream import Event, InterruptPayload, SubscribeParams

# The protocol's named channels (its `Channel` type, less the `custom:<name>` pattern).
ALL_CHANNELS = [get_args(c)[0] for c in get_args(Channel) if get_origin(c) is Literal]
# Root lifecycle events that end a run's stretch of the thread, for good or for now.
PAUSED = frozenset({"completed", "failed", "interrupted"})
FINISHED = frozenset({"completed", "failed"})
NEVER: frozenset[str] = frozenset()
# What a subscription that ends with the run also reads, whatever it yields.
_CONTROL = ("lifecycle", "input")
_WS_STATUS_BASE = 4000  # a WebSocket refused after its upgrade closes with 4000 + status
# Headers of a WebSocket handshake that the WebSocket client writes itself.
_HANDSHAKE_OWN = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "content-length",
        "content-type",
        "transfer-encoding",
        "keep-alive",
        "accept",
        "accept-encoding",
        "user-agent",
    }
)


# --- events ----------------------------------------------------------------------------


def channel_of(event: Mapping[str, Any]) -> str | None:
    """The channel an event belongs to: its `method`, `input` for `input.requested`,
    `custom:<name>` for a named custom event."""
    method = event.get("method")
    if method == "input.requested":
        return "input"
    if method == "custom":
        data = _params(event).get("data")
        name = data.get("name") if isinstance(data, dict) else None
        return f"custom:{name}" if isinstance(name, str) and name else "custom"
    return method if isinstance(method, str) else None


def namespace_of(event: Mapping[str, Any]) -> list[str]:
    namespace = _params(event).get("namespace")
    return list(namespace) if isinstance(namespace, list) else []


def root_lifecycle(event: Mapping[str, Any]) -> str | None:
    """`running`, `completed`, … for a lifecycle event of the root graph, else None."""
    if event.get("method") != "lifecycle" or namespace_of(event):
        return None
    data = _params(event).get("data")
    phase = data.get("event") if isinstance(data, dict) else None
    return phase if isinstance(phase, str) else None


def matches(event: Mapping[str, Any], params: SubscribeParams) -> bool:
    """Whether a subscription with these parameters receives `event`."""
    channel = channel_of(event)
    channels = params["channels"]
    if channel is None or not (
        channel in channels or (channel.startswith("custom:") and "custom" in channels)
    ):
        return False
    prefixes = params.get("namespaces")
    if not prefixes:
        return True
    namespace = namespace_of(event)
    depth = params.get("depth")
    return any(
        _under(namespace, prefix) and (depth is None or len(namespace) - len(prefix) <= depth)
        for prefix in prefixes
    )


def _under(namespace: list[str], prefix: list[str]) -> bool:
    return len(prefix) <= len(namespace) and all(
        segment == want or (":" not in want and segment.partition(":")[0] == want)
        for segment, want in zip(namespace, prefix, strict=False)
    )


def _params(event: Mapping[str, Any]) -> Mapping[str, Any]:
    params = event.get("params")
    return params if isinstance(params, Mapping) else {}


def as_event(frame: Any) -> Event | None:
    """The event in a decoded frame; None for anything else (command answers, errors)."""
    if isinstance(frame, dict) and frame.get("type") == "event" and "method" in frame:
        return cast(Event, frame)
    return None


def command_result(method: str, answer: Any) -> dict[str, Any]:
    """The `result` of a command's answer; an error envelope raises `ProtocolError`."""
    if not isinstance(answer, dict) or answer.get("type") not in ("success", "error"):
        raise ProtocolError("unknown_error", f"{method}: the server's answer is not a response")
    if answer["type"] == "error":
        raise ProtocolError(str(answer.get("error")), str(answer.get("message") or ""))
    result = answer.get("result")
    return result if isinstance(result, dict) else {}


# --- one subscription ------------------------------------------------------------------


class SubscriptionPlan:
    """What one subscription asks the server for, what it has seen, and when it is over.

    `params` is the caller's filter. A subscription that ends with the run (`until`, the
    root lifecycle events that end it) also reads the `lifecycle` and `input` channels, of
    every namespace, and filters here: the session learns of interrupts and run ends from
    every subscription, whatever it yields.

    The cursor is the last event's `seq` (and the ids seen at that seq): a resumed stream
    asks for what follows it (`since`), and anything at or before it is a repeat.
    `failures` counts (re)connections that failed in a row; an event resets it.
    """

    def __init__(
        self,
        params: SubscribeParams,
        *,
        since: int | None,
        until: frozenset[str],
        backoff: Backoff,
    ) -> None:
        self.params = params
        self.until = until
        self.backoff = backoff
        self.seq = since
        self.ids_at_seq: set[str] = set()
        self.last_event_id: str | None = None
        self.ended = False
        self.failures = 0

    def request(self) -> dict[str, Any]:
        """The filter to open (or reopen) the stream with."""
        body: dict[str, Any] = {"channels": list(self.params["channels"])}
        if self.until:
            body["channels"] += [c for c in _CONTROL if c not in body["channels"]]
        elif self.params.get("namespaces") is not None:
            body["namespaces"] = self.params["namespaces"]
            if self.params.get("depth") is not None:
                body["depth"] = self.params["depth"]
        if self.seq is not None:
            body["since"] = self.seq
        return body

    def advance(self, event: Event) -> bool:
        """Record `event`; False if it was seen already (a resumed stream's overlap)."""
        seq = event.get("seq")
        event_id = event.get("event_id")
        if isinstance(seq, int):
            if self.seq is not None and (
                seq < self.seq or (seq == self.seq and event_id in self.ids_at_seq)
            ):
                return False
            if self.seq is None or seq > self.seq:
                self.seq, self.ids_at_seq = seq, set()
            if event_id is not None:
                self.ids_at_seq.add(event_id)
        self.last_event_id = event_id or self.last_event_id
        self.failures = 0
        if root_lifecycle(event) in self.until:
            self.ended = True
        return True

    def wanted(self, event: Event) -> bool:
        return matches(event, self.params)

    def next_delay(self, cause: BaseException) -> float:
        """Count a failed (re)connection; seconds to wait before the next one, or raise
        `cause` once the attempts are spent."""
        self.failures += 1
        if self.failures > MAX_RECONNECTS:
            raise cause
        return self.backoff.delay(self.failures - 1)


# --- the session -----------------------------------------------------------------------


class SessionLog:
    """What the session's subscriptions have read about its runs: pending interrupts.

    Every subscription reports the new events it reads; those older than the newest one
    seen (another subscription's replay) change nothing. A root `running` or run end
    clears the interrupts (a resumed run announces those still pending again).
    """

    def __init__(self) -> None:
        self.seq: int | None = None
        self.interrupts: list[InterruptPayload] = []

    @property
    def interrupted(self) -> bool:
        return bool(self.interrupts)

    def observe(self, event: Event) -> None:
        seq = event.get("seq")
        if isinstance(seq, int):
            if self.seq is not None and seq <= self.seq:
                return
            self.seq = seq
        phase = root_lifecycle(event)
        if phase == "running" or phase in FINISHED:
            self.interrupts = []
        elif event["method"] == "input.requested":
            data: Mapping[str, Any] = event["params"]["data"]
            interrupt_id = data.get("interrupt_id")
            if isinstance(interrupt_id, str) and all(
                p["interrupt_id"] != interrupt_id for p in self.interrupts
            ):
                value = data["value"] if "value" in data else data.get("payload")
                namespace = event["params"].get("namespace") or []
                self.interrupts.append(
                    {"interrupt_id": interrupt_id, "value": value, "namespace": list(namespace)}
                )

    def answered(self, interrupt_id: str) -> None:
        self.interrupts = [p for p in self.interrupts if p["interrupt_id"] != interrupt_id]

    def pick(self, interrupt_id: str | None) -> tuple[str, list[str]]:
        """The id and namespace of the interrupt `run.respond` answers: the one named (an
        id not seen here is taken as a root interrupt, for the server to judge), or else
        the only one pending."""
        if interrupt_id is not None:
            for pending in self.interrupts:
                if pending["interrupt_id"] == interrupt_id:
                    return interrupt_id, pending["namespace"]
            return interrupt_id, []
        if len(self.interrupts) != 1:
            ids = [p["interrupt_id"] for p in self.interrupts]
            raise RuntimeError(
                f"thread.run.respond: {len(ids)} interrupts are pending ({ids!r}); "
                "name one with `interrupt_id`."
            )
        return self.interrupts[0]["interrupt_id"], self.interrupts[0]["namespace"]


class ThreadWait:
    """How long a subscription opened before `run.start` waits for the session's thread.

    A thread id the session made up names no thread until `run.start` creates it; until
    then a stream is refused with 404 and retried (within the reconnect budget), for at
    most `timeout` seconds if given.
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.started: float | None = None

    def retries(self, error: BaseException, *, thread_may_be_missing: bool) -> bool:
        if not (thread_may_be_missing and isinstance(error, NotFoundError)):
            return False
        now = time.monotonic()
        if self.started is None:
            self.started = now
        if self.timeout is not None and now - self.started > self.timeout:
            raise TimeoutError("The session's thread was not created by run.start in time")
        return True


def reconnectable(error: BaseException) -> bool:
    """Failures a restart, a deploy or a dropped connection produces."""
    return isinstance(error, RECONNECTABLE)


# --- WebSocket -------------------------------------------------------------------------


def websocket_url(base_url: httpx.URL, path: str) -> str:
    """`ws(s)://` URL of `path` under the client's base URL."""
    scheme = "wss" if base_url.scheme == "https" else "ws"
    return str(base_url.copy_with(scheme=scheme, path=base_url.path.rstrip("/") + path))


def websocket_headers(
    client: httpx.Client | httpx.AsyncClient, path: str, extra: Mapping[str, str]
) -> tuple[list[tuple[str, str]], str | None]:
    """Handshake headers (the client's, the session's, its cookies for `path`) and the
    User-Agent, which the WebSocket client sends itself."""
    merged = httpx.Headers(client.headers)
    merged.update(extra)
    request = httpx.Request("GET", client.base_url.copy_with(path=path))
    client.cookies.set_cookie_header(request)
    if cookie := request.headers.get("cookie"):
        merged["cookie"] = cookie
    headers = [(k, v) for k, v in merged.multi_items() if k.lower() not in _HANDSHAKE_OWN]
    return headers, merged.get("user-agent")


def websocket_failure(error: BaseException, url: str) -> Exception:
    """The SDK's error for a failed WebSocket: a status error for a refusal (an upgrade
    answered with an error status, or a close with 4000 + status), else a transport error
    (reconnectable)."""
    if isinstance(error, InvalidStatus):
        return _status_error(error.response.status_code, url, "")
    if isinstance(error, ConnectionClosed):
        close = error.rcvd
        if close is not None and _WS_STATUS_BASE + 100 <= close.code < _WS_STATUS_BASE + 600:
            return _status_error(close.code - _WS_STATUS_BASE, url, close.reason)
        return httpx.ReadError(f"WebSocket closed: {error}")
    if isinstance(error, TimeoutError):
        return httpx.ConnectTimeout(f"WebSocket handshake timed out: {error}")
    return httpx.ConnectError(f"WebSocket connection failed: {error}")


def _status_error(status: int, url: str, reason: str) -> Exception:
    response = httpx.Response(
        status,
        json={"detail": reason} if reason else None,
        request=httpx.Request("GET", url),
    )
    try:
        raise_for_status(response)
    except Exception as e:
        return e
    return httpx.RemoteProtocolError(f"WebSocket refused with status {status}")
