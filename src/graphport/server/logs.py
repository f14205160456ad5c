"""Logging for operators: every line timestamped, as text or one JSON object per line, with
the id of the request that caused it and any structured fields a call passes as `extra=`
(a run's id, status and duration...). Uvicorn's own and access logs take the same path."""

from __future__ import annotations

import contextvars
import datetime
import logging
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from graphport.server.settings import LogFormat, LogLevel

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "graphport_request_id", default=None
)
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured duplicate of the message
    "taskName",
}
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class RequestIdFilter(logging.Filter):
    """Adds the current request's id (None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: its extras, and a uvicorn access line's parts."""
    out = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and v is not None}
    if record.name == "uvicorn.access" and isinstance(record.args, tuple):
        if len(record.args) == len(_ACCESS_FIELDS):
            out.update(zip(_ACCESS_FIELDS, record.args, strict=True))
    return out


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`<UTC time> <LEVEL> <logger>: <message> key=value…`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extras = fields(record)
        if record.name == "uvicorn.access":  # the message already says it all
            extras = {k: v for k, v in extras.items() if k not in _ACCESS_FIELDS}
        if extras:
            line += " " + " ".join(f"{k}={v}" for k, v in extras.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "timestamp": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **fields(record),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


def configure(level: LogLevel, fmt: LogFormat) -> None:
    """One stderr handler on the root logger; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.captureWarnings(True)


def run_fields(run: Mapping[str, Any], status: str, duration_ms: float) -> dict[str, Any]:
    """The structured fields of a run's lifecycle line (`extra=`)."""
    return {
        "status": status,
        "run_id": run["run_id"],
        "thread_id": run["thread_id"],
        "assistant_id": run["assistant_id"],
        "attempt": run.get("attempt"),
        "duration_ms": round(duration_ms, 1),
    }
