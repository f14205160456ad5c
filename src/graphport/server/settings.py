"""Server settings: one validated object, read from keyword arguments (the CLI's flags, or a
test), then `GRAPHPORT_*` environment variables, then the official server's names where the
meaning is the same. The CLI builds one flag per field from this class, so a setting has one
flag and one variable, listed by `graphport <command> --help` and in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "GRAPHPORT_"
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LogFormat = Literal["text", "json"]
# The processes a setting matters to; the CLI offers its flag on those commands.
ALL: tuple[str, ...] = ("dev", "serve", "worker")
API: tuple[str, ...] = ("dev", "serve")
STORAGE: tuple[str, ...] = (*ALL, "db")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# Where each command listens when --host/--port are not given (dev: first free port on).
DEFAULT_HOST = {"dev": "127.0.0.1", "serve": "0.0.0.0", "worker": "0.0.0.0"}
DEV_PORT = 2024
SERVE_PORT = 8000  # as the official server's image
POSTGRES_SCHEMES = ("postgres", "postgresql", "postgresql+psycopg")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def _opt(
    default: Any,
    description: str,
    commands: tuple[str, ...],
    *,
    env: str | None = None,
    alias: str | None = None,
    **constraints: Any,
) -> Any:
    """A field with its help text and commands; `env` overrides `GRAPHPORT_<NAME>` and
    `alias` is an official server variable accepted as well."""
    names = [n for n in (env, alias) if n]
    return Field(
        default,
        description=description,
        validation_alias=AliasChoices(*names) if names else None,
        json_schema_extra={"commands": list(commands)},
        **constraints,
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        populate_by_name=True,
        env_ignore_empty=True,
        extra="forbid",
        validate_default=False,
    )

    # --- where graphs and data live ----------------------------------------------------
    config_path: Path = _opt(
        Path("langgraph.json"),
        "path to langgraph.json",
        STORAGE,
        env="GRAPHPORT_CONFIG",
        validate_default=True,
    )
    database: str | None = _opt(
        None,
        "SQLite file (default .graphport/graphport.db beside the config; ':memory:' ok); "
        "ignored with a database URL",
        STORAGE,
    )
    database_url: str | None = _opt(
        None,
        "postgresql://… to use PostgreSQL instead of SQLite",
        STORAGE,
        env="GRAPHPORT_DATABASE_URL",
        alias="DATABASE_URI",
    )
    migrate: bool = _opt(
        True,
        "migrate the database at start-up; with --no-migrate, refuse to start on an "
        "older schema (run `graphport db upgrade` once per rollout instead)",
        ALL,
    )
    redis_url: str | None = _opt(
        None,
        "redis://… carrying run events, cancels and wake-ups between API replicas and "
        "workers (none: in-process)",
        ALL,
        env="GRAPHPORT_REDIS_URL",
        alias="REDIS_URI",
    )
    redis_prefix: str = _opt(
        "graphport",
        "prefix of every Redis key and channel (deployments sharing a Redis)",
        ALL,
        env="GRAPHPORT_REDIS_PREFIX",
        alias="REDIS_KEY_PREFIX",
        min_length=1,
    )

    # --- HTTP ---------------------------------------------------------------------------
    host: str | None = _opt(None, "interface to bind (a worker: for its metrics port)", ALL)
    port: int | None = _opt(
        None,
        "port to listen on",
        API,
        env="GRAPHPORT_PORT",
        alias="PORT",
        ge=1,
        le=65535,
    )
    proxy_headers: bool = _opt(
        False,
        "trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a proxy)",
        API,
    )
    forwarded_allow_ips: str = _opt(
        "127.0.0.1", "comma-separated proxy addresses trusted with --proxy-headers ('*': all)", API
    )
    api_key: str | None = _opt(None, "require this key in the x-api-key header", API)
    # Encryption at rest of checkpoints, store values and our tables' user content.
    aes_key: str | None = _opt(
        None,
        "encrypt checkpoints, store values and what users send in Graphport's tables with"
        " this AES key (16, 24 or 32 bytes)",
        ALL,
        env="GRAPHPORT_AES_KEY",
        alias="LANGGRAPH_AES_KEY",
    )
    aes_key_previous: str | None = _opt(
        None, "the key before a rotation: still decrypts what it encrypted, never encrypts", ALL
    )
    max_body_bytes: int = _opt(
        300 * 1024 * 1024,
        "larger request bodies are refused with 413",
        API,
        env="GRAPHPORT_MAX_BODY_BYTES",
        alias="HTTP_MAX_REQUEST_BODY_BYTES",
        gt=0,
    )
    heartbeat_seconds: float = _opt(
        5.0, "interval of SSE heartbeats and of wait/join keep-alive newlines", API, gt=0
    )
    console: bool = _opt(
        True, "serve the web console at /console (`http.disable_console` also hides it)", API
    )
    metrics_public: bool = _opt(
        True, "serve /metrics without authentication (--no-metrics-public: API key or auth)", API
    )
    metrics_port: int | None = _opt(
        None, "port of the worker's /metrics and /ok (none: no HTTP)", ("worker",), ge=1, le=65535
    )

    # --- runs ---------------------------------------------------------------------------
    max_concurrent_runs: int = _opt(
        10,
        "runs this process executes at once (0 on dev/serve: leave them to workers)",
        ALL,
        env="GRAPHPORT_MAX_CONCURRENT_RUNS",
        alias="N_JOBS_PER_WORKER",
        ge=0,
    )
    run_timeout_seconds: float = _opt(
        86400.0,
        "a run still executing after this long ends as timeout",
        ALL,
        env="GRAPHPORT_RUN_TIMEOUT_SECONDS",
        alias="BG_JOB_TIMEOUT_SECS",
        gt=0,
    )
    # A running run's lease: its worker renews it every third of this; a run whose lease
    # lapsed (its worker died) goes back to the queue, checked as often.
    lease_seconds: float = _opt(
        30.0, "lease of a running run, renewed by its worker every third of it", ALL, gt=0
    )
    shutdown_grace_seconds: float = _opt(
        30.0,
        "on SIGTERM/SIGINT, how long in-flight runs may finish before they are handed back",
        ALL,
        env="GRAPHPORT_SHUTDOWN_GRACE_SECONDS",
        alias="BG_JOB_SHUTDOWN_GRACE_PERIOD_SECS",
        ge=0,
    )
    stream_retention_seconds: float = _opt(
        600.0, "how long a finished run's events stay replayable", ALL, gt=0
    )
    stream_retention_events: int = _opt(
        10_000,
        "at most this many events kept per run and per thread stream (the oldest go first),"
        " however long the retention",
        ALL,
        ge=1,
    )
    stream_retention_runs: int = _opt(
        1_000,
        "at most this many ended runs' events kept (those that ended first go first),"
        " however long the retention",
        ALL,
        ge=1,
    )
    cron_tick_seconds: float = _opt(5.0, "how often due crons are looked for", API, gt=0)
    # Set by `graphport dev` (the command is its flag): webhooks may reach this machine and
    # private networks unless `webhooks.url` in langgraph.json says otherwise.
    dev: bool = _opt(False, "development mode (set by `graphport dev`)", ())
    webhook_max_attempts: int = _opt(4, "deliveries tried per webhook", ALL, ge=1)
    webhook_backoff_seconds: float = _opt(
        0.5, "first pause between webhook attempts (doubles each time)", ALL, ge=0
    )

    # --- logs ---------------------------------------------------------------------------
    log_level: LogLevel = _opt(
        "info",
        "least severe log level written",
        STORAGE,
        env="GRAPHPORT_LOG_LEVEL",
        alias="LOG_LEVEL",
    )
    log_format: LogFormat = _opt(
        "text",
        "text lines, or one JSON object per line (LOG_JSON=true means json)",
        STORAGE,
        env="GRAPHPORT_LOG_FORMAT",
        alias="LOG_JSON",
    )

    @field_validator("config_path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        """Resolved once, so a later change of directory does not move it."""
        return value.resolve()

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_json(cls, value: Any) -> Any:
        """LOG_JSON carries a boolean; GRAPHPORT_LOG_FORMAT a format name."""
        if isinstance(value, str):
            value = value.lower()
            if value in _TRUE:
                return "json"
            if value in _FALSE:
                return "text"
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres(cls, value: str | None) -> str | None:
        return _with_scheme(value, POSTGRES_SCHEMES)

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        return _with_scheme(value, REDIS_SCHEMES)

    @property
    def sqlite_path(self) -> str:
        """The SQLite file: explicit, or `.graphport/graphport.db` beside the config."""
        if self.database:
            return self.database
        return str(self.config_path.resolve().parent / ".graphport" / "graphport.db")


def _with_scheme(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme.lower() not in schemes:
        accepted = ", ".join(f"{s}://" for s in schemes)
        raise ValueError(f"expected a URL starting with {accepted}")
    return value


def env_names(field: str) -> list[str]:
    """The environment variables a field is read from, in order of precedence."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(c) for c in alias.choices]
    return [ENV_PREFIX + field.upper()]


def commands_of(field: str) -> list[str]:
    extra = Settings.model_fields[field].json_schema_extra
    assert isinstance(extra, dict)
    return list(extra["commands"])  # type: ignore[arg-type]
