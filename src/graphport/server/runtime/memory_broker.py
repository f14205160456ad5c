"""In-process broker for the embedded server: per-run and per-thread event logs with ids,
replay by id, live following through asyncio conditions, and retention bounded in time
and in count: events per run and per thread (a run that streams without end cannot grow
memory without bound), and ended runs kept (a high run rate cannot either)."""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from graphport.server.runtime.broker import DONE, Broker, Event, event_key


@dataclass
class _Log:
    events: list[Event] = field(default_factory=list)
    keys: list[tuple[int, int]] = field(default_factory=list)
    closed: bool = False
    expires_at: float | None = None
    epitaph: dict[str, Any] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    followers: int = 0
    # A run's log once it ended: the `run_done` event it put on its thread's log, which
    # goes with the run's own events when the run is forgotten.
    thread_done: Event | None = None

    def append(self, ev: Event, max_events: int) -> None:
        self.events.append(ev)
        self.keys.append(event_key(ev.id))
        if len(self.events) > max_events:  # the oldest go (a pointer memmove: cheap)
            del self.events[: len(self.events) - max_events]
            del self.keys[: len(self.keys) - max_events]
        self.changed.set()
        self.changed = asyncio.Event()


class MemoryBroker(Broker):
    def __init__(
        self, retention_seconds: float, max_events: int = 10_000, max_ended_runs: int = 1_000
    ) -> None:
        self.retention = retention_seconds
        # Events kept per run and per thread (GRAPHPORT_STREAM_RETENTION_EVENTS).
        self.max_events = max_events
        # Ended runs kept (GRAPHPORT_STREAM_RETENTION_RUNS).
        self.max_ended_runs = max_ended_runs
        self._runs: dict[str, _Log] = {}
        self._threads: dict[str, _Log] = {}
        # Ended runs (to their threads) in the order they ended, which is the order their
        # retention lapses.
        self._ended: dict[str, str] = {}
        self._last = (0, 0)
        self._gc_task: asyncio.Task[None] | None = None

    def _next_id(self) -> str:
        ms = int(time.time() * 1000)
        last_ms, last_seq = self._last
        self._last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self._last[0]}-{self._last[1]}"

    def _log(self, logs: dict[str, _Log], key: str) -> _Log:
        log = logs.get(key)
        if log is None:
            log = logs[key] = _Log()
        return log

    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> str:
        ev = Event(self._next_id(), event, data)
        self._log(self._runs, run_id).append(ev, self.max_events)
        self._log(self._threads, thread_id).append(ev, self.max_events)
        return ev.id

    async def publish_thread(self, thread_id: str, event: str, data: bytes) -> str:
        return self._thread_event(thread_id, event, data).id

    def _thread_event(self, thread_id: str, event: str, data: bytes) -> Event:
        ev = Event(self._next_id(), event, data)
        self._log(self._threads, thread_id).append(ev, self.max_events)
        return ev

    async def finish(
        self,
        run_id: str,
        thread_id: str,
        data: bytes,
        *,
        epitaph: dict[str, Any] | None = None,
    ) -> None:
        log = self._log(self._runs, run_id)
        if log.closed:
            return
        log.closed = True
        log.epitaph = epitaph
        log.expires_at = time.monotonic() + self.retention
        log.append(Event(self._next_id(), DONE, b"null"), self.max_events + 1)
        log.thread_done = self._thread_event(thread_id, "metadata", data)
        self._ended[run_id] = thread_id
        while len(self._ended) > self.max_ended_runs:
            self._forget(next(iter(self._ended)))

    async def run_known(self, run_id: str) -> bool:
        return run_id in self._runs

    async def epitaph(self, run_id: str) -> dict[str, Any] | None:
        log = self._runs.get(run_id)
        return log.epitaph if log is not None else None

    async def _follow(
        self, log: _Log, after: tuple[int, int] | None, stop_at_done: bool
    ) -> AsyncIterator[Event]:
        # Track the last key, not an index: retention may take events out of the log while
        # this follower waits or yields.
        last = after if after is not None else (log.keys[-1] if log.keys else (0, 0))
        log.followers += 1  # a log with followers is never forgotten (see `collect`)
        try:
            while True:
                changed = log.changed
                while (i := bisect.bisect_right(log.keys, last)) < len(log.events):
                    ev = log.events[i]
                    last = log.keys[i]
                    if ev.event == DONE:
                        if stop_at_done:
                            return
                        continue
                    yield ev
                if stop_at_done and log.closed:
                    return
                await changed.wait()
        finally:
            log.followers -= 1

    async def subscribe_run(
        self, run_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[Event]:
        async for ev in self._follow(self._log(self._runs, run_id), after, True):
            yield ev

    async def subscribe_thread(
        self, thread_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[Event]:
        async for ev in self._follow(self._log(self._threads, thread_id), after, False):
            yield ev

    async def start(self) -> None:
        self._gc_task = asyncio.create_task(self._gc_loop(), name="graphport-broker-gc")

    async def stop(self) -> None:
        if self._gc_task:
            self._gc_task.cancel()

    async def _gc_loop(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, max(self.retention / 2, 0.5)))
            self.collect()

    def collect(self) -> None:
        """Forget runs past retention, thread events older than the retention, and
        threads left with no event and no follower."""
        now = time.monotonic()
        for run_id in list(self._ended):  # oldest first: stop at the first one to keep
            expires_at = self._runs[run_id].expires_at
            if expires_at is not None and expires_at >= now:
                break
            self._forget(run_id)
        horizon = (int((time.time() - self.retention) * 1000), 0)
        for log in self._threads.values():
            cut = bisect.bisect_left(log.keys, horizon)
            if cut:
                del log.events[:cut]
                del log.keys[:cut]
        for thread_id in [k for k, v in self._threads.items() if not v.events and not v.followers]:
            del self._threads[thread_id]

    def _forget(self, run_id: str) -> None:
        """Drop an ended run: its log, its epitaph, and its events on its thread's log (an
        evicted run then reads as one whose retention lapsed)."""
        thread_id = self._ended.pop(run_id)
        log = self._runs.pop(run_id)
        thread = self._threads.get(thread_id)
        if thread is None:
            return
        gone = {id(ev) for ev in log.events}
        gone.add(id(log.thread_done))
        kept = [i for i, ev in enumerate(thread.events) if id(ev) not in gone]
        if len(kept) < len(thread.events):
            thread.events = [thread.events[i] for i in kept]
            thread.keys = [thread.keys[i] for i in kept]
        if not thread.events and not thread.followers:
            del self._threads[thread_id]
