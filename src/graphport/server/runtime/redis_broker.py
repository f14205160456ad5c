"""Redis Streams broker for several processes: a run's events are a stream (`XREAD`
replays and follows), kept for the retention once the run ends, and while it is one of the
last `max_ended_runs` to end; a thread's stream (every event of its runs, under the same
ids) is trimmed to the retention window. Appends are Lua scripts: one round trip each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from graphport.server import serde
from graphport.server.runtime.broker import DONE, Broker, BrokerUnavailable, Event

logger = logging.getLogger("graphport.broker")

# Append to a thread stream, dropping entries older than the retention or past the count
# bound (approximately: whole macro-nodes, so trimming stays O(1)), and letting an idle
# thread's stream expire. `id` is '*' or an id both of an event's streams accept.
_THREAD_APPEND = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function thread_append(key, id, event, data, retention_ms, max_events)
  local horizon = now_ms() - retention_ms
  if horizon < 0 then horizon = 0 end
  local added = redis.call('XADD', key, 'MINID', '~', string.format('%d', horizon), id,
                           'e', event, 'd', data)
  redis.call('XTRIM', key, 'MAXLEN', '~', max_events)
  redis.call('PEXPIRE', key, retention_ms)
  return added
end
"""

# KEYS: run stream, thread stream. ARGV: event, data, retention ms, max events (both
# streams are trimmed to about that many, the oldest first). Returns the event's id,
# the same in both streams (a client may resume either from it): later than now and than
# the last entry of each (entries are only trimmed from the old end).
_PUBLISH = (
    _THREAD_APPEND
    + """
local ms, seq = now_ms(), 0
for _, key in ipairs(KEYS) do
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #newest > 0 then
    local lms, lseq = string.match(newest[1][1], '(%d+)-(%d+)')
    lms, lseq = tonumber(lms), tonumber(lseq)
    if lms > ms or (lms == ms and lseq >= seq) then ms, seq = lms, lseq + 1 end
  end
end
local id = string.format('%d-%d', ms, seq)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], id, 'e', ARGV[1], 'd', ARGV[2])
return thread_append(KEYS[2], id, ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])
"""
)

# KEYS: thread stream. ARGV: event, data, retention ms, max events.
_PUBLISH_THREAD = (
    _THREAD_APPEND
    + """
return thread_append(KEYS[1], '*', ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4])
"""
)

# KEYS: run stream, thread stream, epitaph, ended runs. ARGV: done marker, thread event
# data, retention ms, epitaph JSON or '', max events, max ended runs. Idempotent: a run
# ends once. The ended runs are a sorted set by end time; past the bound, those that ended
# first are forgotten as if their retention had lapsed: their stream and epitaph, and
# their events (same ids) and `run_done` on their thread's stream.
_FINISH = (
    _THREAD_APPEND
    + """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 and last[1][2][2] == ARGV[1] then return 0 end
local retention = tonumber(ARGV[3])
redis.call('XADD', KEYS[1], '*', 'e', ARGV[1], 'd', 'null')
redis.call('PEXPIRE', KEYS[1], retention)
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4], 'PX', retention) end
local done = thread_append(KEYS[2], '*', 'metadata', ARGV[2], retention, ARGV[5])
local now = now_ms()
-- Scores strictly increase, so runs ending in the same millisecond keep their order.
local newest = redis.call('ZREVRANGE', KEYS[4], 0, 0, 'WITHSCORES')
local score = now
if #newest > 0 and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 0.001 end
redis.call('ZADD', KEYS[4], score, table.concat({KEYS[1], KEYS[2], KEYS[3], done}, '\\n'))
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - retention)
redis.call('PEXPIRE', KEYS[4], retention)
local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[6])
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[4], over)
  for i = 1, #popped, 2 do
    local run, thread, epitaph, done_id =
      string.match(popped[i], '^(.-)\\n(.-)\\n(.-)\\n(.-)$')
    local ids = {done_id}
    for _, entry in ipairs(redis.call('XRANGE', run, '-', '+')) do ids[#ids + 1] = entry[1] end
    for j = 1, #ids, 1000 do
      redis.call('XDEL', thread, unpack(ids, j, math.min(j + 999, #ids)))
    end
    redis.call('DEL', run, epitaph)
  end
end
return 1
"""
)

_DONE = DONE.encode()
# How long one XREAD waits before asking again; the client's socket timeout must be longer.
BLOCK_SECONDS = 5.0
_BLOCK_MS = int(BLOCK_SECONDS * 1000)
_BATCH = 512
# A stream entry as this client reads it: redis-py types replies as bytes or str (for every
# `decode_responses`); ours does not decode, so they are bytes.
_Entry = tuple[bytes, dict[bytes, bytes]]


# A subscriber rides out a Redis outage this long (a restart, a failover) before giving up:
# it knows the last id it saw, so it resumes without losing or repeating an event.
OUTAGE_SECONDS = 30.0
_TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """Redis failures surface as `BrokerUnavailable` (the api answers 503)."""
    try:
        yield
    except RedisError as e:
        raise BrokerUnavailable(f"Redis is unavailable: {e}") from e


class RedisBroker(Broker):
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        retention_seconds: float,
        max_events: int = 10_000,
        max_ended_runs: int = 1_000,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._retention_ms = max(1, int(retention_seconds * 1000))
        self._max_events = max(1, max_events)
        self._max_ended_runs = max(1, max_ended_runs)
        self._ended_key = f"{prefix}:ended"
        self._publish = redis.register_script(_PUBLISH)
        self._publish_thread = redis.register_script(_PUBLISH_THREAD)
        self._finish = redis.register_script(_FINISH)

    def _run_key(self, run_id: str) -> str:
        return f"{self._prefix}:run:{run_id}"

    def _thread_key(self, thread_id: str) -> str:
        return f"{self._prefix}:thread:{thread_id}"

    def _epitaph_key(self, run_id: str) -> str:
        return f"{self._prefix}:epitaph:{run_id}"

    async def publish(self, run_id: str, thread_id: str, event: str, data: bytes) -> str:
        keys = [self._run_key(run_id), self._thread_key(thread_id)]
        with _reachable():
            event_id = await self._publish(
                keys=keys, args=[event, data, self._retention_ms, self._max_events]
            )
        return cast(bytes, event_id).decode()

    async def publish_thread(self, thread_id: str, event: str, data: bytes) -> str:
        keys = [self._thread_key(thread_id)]
        with _reachable():
            event_id = await self._publish_thread(
                keys=keys, args=[event, data, self._retention_ms, self._max_events]
            )
        return cast(bytes, event_id).decode()

    async def finish(
        self,
        run_id: str,
        thread_id: str,
        data: bytes,
        *,
        epitaph: dict[str, Any] | None = None,
    ) -> None:
        keys = [
            self._run_key(run_id),
            self._thread_key(thread_id),
            self._epitaph_key(run_id),
            self._ended_key,
        ]
        kept = serde.dumps(epitaph) if epitaph is not None else b""
        with _reachable():
            await self._finish(
                keys=keys,
                args=[DONE, data, self._retention_ms, kept, self._max_events, self._max_ended_runs],
            )

    async def epitaph(self, run_id: str) -> dict[str, Any] | None:
        with _reachable():
            raw = await self._redis.get(self._epitaph_key(run_id))
        return serde.loads(raw) if raw is not None else None

    async def run_known(self, run_id: str) -> bool:
        with _reachable():
            return bool(await self._redis.exists(self._run_key(run_id)))

    async def ping(self) -> None:
        await self._redis.ping()

    async def _follow(
        self, key: str, after: tuple[int, int] | None, stop_at_done: bool
    ) -> AsyncIterator[Event]:
        if after is not None:
            last = f"{after[0]}-{after[1]}".encode()
        else:  # live only: from the stream's current end
            with _reachable():
                newest = cast(list[_Entry], await self._redis.xrevrange(key, count=1))
            if newest and stop_at_done and newest[0][1][b"e"] == _DONE:
                return
            last = newest[0][0] if newest else b"0-0"
        down_since: float | None = None
        while True:
            try:
                reply = cast(
                    list[tuple[bytes, list[_Entry]]],
                    await self._redis.xread({key: last}, count=_BATCH, block=_BLOCK_MS),
                )
            except _TRANSIENT as e:
                now = time.monotonic()
                down_since = down_since or now
                if now - down_since > OUTAGE_SECONDS:
                    raise BrokerUnavailable(f"Redis is unavailable: {e}") from e
                logger.info("Redis read failed (%s); resuming after %s", e, last.decode())
                await asyncio.sleep(0.25)
                continue
            down_since = None
            for _stream, entries in reply:
                for entry_id, fields in entries:
                    last = entry_id
                    name = fields[b"e"]
                    if name == _DONE:
                        if stop_at_done:
                            return
                        continue
                    yield Event(entry_id.decode(), name.decode(), fields[b"d"])

    async def subscribe_run(
        self, run_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[Event]:
        async for ev in self._follow(self._run_key(run_id), after, True):
            yield ev

    async def subscribe_thread(
        self, thread_id: str, after: tuple[int, int] | None
    ) -> AsyncIterator[Event]:
        async for ev in self._follow(self._thread_key(thread_id), after, False):
            yield ev
