"""Server settings: one object built by the CLI (or a test) and handed to `create_app`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclasses.dataclass
class Settings:
    config_path: Path
    # SQLite file path (embedded) or ":memory:"; ignored when database_url is set.
    database: str | None = None
    # postgresql://… selects the PostgreSQL backend.
    database_url: str | None = None
    # redis://… carries run events, cancels and wake-ups between processes, so API
    # replicas and `graphport worker` processes can share one database. None: in-process.
    redis_url: str | None = dataclasses.field(
        default_factory=lambda: os.environ.get("GRAPHPORT_REDIS_URL") or None
    )
    # Prefix of every Redis key and channel: deployments (or tests) sharing a Redis.
    redis_prefix: str = dataclasses.field(
        default_factory=lambda: os.environ.get("GRAPHPORT_REDIS_PREFIX") or "graphport"
    )
    # Runs executed at once by this process's worker (0 = API only, no worker).
    max_concurrent_runs: int = 10
    # How long a finished run's events stay replayable after it ends.
    stream_retention_seconds: float = dataclasses.field(
        default_factory=lambda: _env_float("GRAPHPORT_STREAM_RETENTION_SECONDS", 600.0)
    )
    # At most this many events are kept per run and per thread stream (the oldest go
    # first), however long the retention: memory stays bounded under a chatty run.
    stream_retention_events: int = dataclasses.field(
        default_factory=lambda: int(_env_float("GRAPHPORT_STREAM_RETENTION_EVENTS", 10_000))
    )
    # Interval of `: heartbeat` SSE comments and of wait/join keep-alive newlines.
    heartbeat_seconds: float = dataclasses.field(
        default_factory=lambda: _env_float("GRAPHPORT_HEARTBEAT_SECONDS", 5.0)
    )
    run_timeout_seconds: float = dataclasses.field(
        default_factory=lambda: _env_float("GRAPHPORT_RUN_TIMEOUT_SECONDS", 86400.0)
    )
    # A running run's lease: its worker renews it every third of this; a run whose lease
    # lapsed (its worker died) goes back to the queue, checked as often.
    lease_seconds: float = dataclasses.field(
        default_factory=lambda: _env_float("GRAPHPORT_LEASE_SECONDS", 30.0)
    )
    # On SIGTERM/SIGINT, how long in-flight runs get to finish before they are handed
    # back to the queue (the official server's BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS too).
    shutdown_grace_seconds: float = dataclasses.field(
        default_factory=lambda: _env_float(
            "GRAPHPORT_SHUTDOWN_GRACE_SECONDS",
            _env_float("BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS", 30.0),
        )
    )
    # `graphport dev`: webhooks may reach this machine and private networks unless
    # `webhooks.url` in langgraph.json says otherwise (local receivers); serve/worker refuse.
    dev: bool = False
    webhook_max_attempts: int = 4
    webhook_backoff_seconds: float = 0.5
    cron_tick_seconds: float = dataclasses.field(
        default_factory=lambda: _env_float("GRAPHPORT_CRON_TICK_SECONDS", 5.0)
    )
    api_key: str | None = dataclasses.field(
        default_factory=lambda: os.environ.get("GRAPHPORT_API_KEY") or None
    )
    # Encryption at rest of checkpoints and store values (AES, 16, 24 or 32 bytes);
    # LANGGRAPH_AES_KEY is the official server's name for it.
    aes_key: str | None = dataclasses.field(
        default_factory=lambda: os.environ.get("GRAPHPORT_AES_KEY")
        or os.environ.get("LANGGRAPH_AES_KEY")
        or None
    )
    # The key before a rotation: still decrypts what it encrypted, never encrypts.
    aes_key_previous: str | None = dataclasses.field(
        default_factory=lambda: os.environ.get("GRAPHPORT_AES_KEY_PREVIOUS") or None
    )
    # Larger request bodies get 413; env HTTP_MAX_REQUEST_BODY_BYTES.
    max_body_bytes: int = dataclasses.field(
        default_factory=lambda: int(_env_float("HTTP_MAX_REQUEST_BODY_BYTES", 300 * 1024 * 1024))
    )

    # The web console at /console (`--no-console`; `http.disable_console` in langgraph.json).
    console: bool = True

    @property
    def sqlite_path(self) -> str:
        """The SQLite file: explicit, or `.graphport/graphport.db` beside the config."""
        if self.database:
            return self.database
        return str(self.config_path.resolve().parent / ".graphport" / "graphport.db")
