"""The stream broker contract: every run's events get monotonically increasing ids and are
kept for the run's lifetime plus a retention, so any subscriber can replay from an id and
then follow live. Thread channels carry the events of all the thread's runs."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

# "-" (or "-1"/"0") replays from the start; otherwise "<ms>-<seq>" ids as Redis streams use.
FROM_START = "0-0"
_ID = re.compile(r"^[0-9]+(-([0-9]+|\*))?$")


class InvalidEventId(ValueError):
    """A client-supplied event id that is not `-`, `<ms>` or `<ms>-<seq>`."""


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    event: str
    data: bytes  # compact JSON


def parse_event_id(raw: str | None) -> tuple[int, int] | None:
    """None = live only; otherwise the position after which to replay."""
    if raw is None or raw == "":
        return None
    if raw in ("-", "-1"):
        return (0, 0)
    if not _ID.match(raw):
        raise InvalidEventId(f"Invalid Last-Event-ID: {raw!r}")
    ms, _, seq = raw.partition("-")
    return (int(ms), int(seq) if seq and seq != "*" else 0)


def event_key(event_id: str) -> tuple[int, int]:
    ms, _, seq = event_id.partition("-")
    return (int(ms), int(seq or 0))


# Name of the terminal marker event a run channel ends with (not sent to clients).
DONE = "__done__"


class BrokerUnavailable(ConnectionError):
    """The broker's service (Redis) cannot be reached now; the call may succeed later."""


class Broker(ABC):
    """Publish/subscribe with history. Implementations: in-memory, Redis Streams."""

    @abstractmethod
    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> str:
        """Append an event to the run's and the thread's channel; returns its id."""

    @abstractmethod
    async def finish(
        self,
        run_id: str,
        thread_id: str,
        data: bytes,
        *,
        epitaph: dict[str, Any] | None = None,
    ) -> None:
        """Close the run channel (subscribers stop after draining) and start its retention.

        `epitaph` is kept as long as the events, for runs whose rows are deleted when they
        end (temporary stateless runs): the final run and its thread's metadata, so the run
        can still be authorized and rejoined while its events are replayable."""

    async def end_run(
        self, run_id: str, thread_id: str, *, epitaph: dict[str, Any] | None = None
    ) -> None:
        """`finish` with the `run_done` payload every run's stream ends with."""
        data = orjson.dumps({"status": "run_done", "run_id": run_id})
        await self.finish(run_id, thread_id, data, epitaph=epitaph)

    @abstractmethod
    async def epitaph(self, run_id: str) -> dict[str, Any] | None:
        """What `finish` kept for a run, if it is still retained."""

    @abstractmethod
    def subscribe_run(
        self, run_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[Event]:
        """Events of a run after `after` (None: live only), ending at the run's end."""

    @abstractmethod
    def subscribe_thread(
        self, thread_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[Event]:
        """Events of all runs of a thread after `after`, never ending by itself."""

    @abstractmethod
    async def run_known(self, run_id: str) -> bool:
        """Whether the broker still holds the run's channel (live or within retention)."""

    @abstractmethod
    async def publish_thread(self, thread_id: str, event: str, data: bytes) -> str:
        """An event for thread subscribers only (state updates)."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def ping(self) -> None:  # noqa: B027 - an in-process broker is always up
        """Raise when the transport is unreachable (health checks)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        pass
