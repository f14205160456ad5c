"""Prometheus metrics of this process, counted where things happen (one call each) and
rendered by `/metrics` as Prometheus text or JSON. Queue sizes are not counted here: the
scrape reads them from the database (`set_queue`), so every replica reports the cluster's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from graphport.server import serde

# Runs last from milliseconds to hours; requests from microseconds to a long wait.
_RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

HTTP_REQUESTS = Counter(
    "graphport_http_requests",
    "HTTP requests answered, by route template and status code",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "graphport_http_request_duration_seconds",
    "Time to answer an HTTP request (a stream counts until it ends)",
    ["method", "route"],
)
RUNS_CREATED = Counter("graphport_runs_created", "Runs created by this process")
RUNS_FINISHED = Counter(
    "graphport_runs_finished", "Runs this process executed to an end, by status", ["status"]
)
RUN_DURATION = Histogram(
    "graphport_run_duration_seconds",
    "From a run's start (claim) to its end, by status",
    ["status"],
    buckets=_RUN_BUCKETS,
)
QUEUE_WAIT = Histogram(
    "graphport_run_queue_wait_seconds",
    "From when a run could start (created, or after its delay) to its start",
    buckets=_WAIT_BUCKETS,
)
RUNS_INFLIGHT = Gauge(
    "graphport_runs_inflight",
    "Runs pending or running in the whole deployment (read at scrape)",
    ["status"],
)
SLOTS_CAPACITY = Gauge("graphport_worker_slots_capacity", "Runs this process may execute at once")
SLOTS_IN_USE = Gauge("graphport_worker_slots_in_use", "Runs this process is executing")
OPEN_STREAMS = Gauge("graphport_open_streams", "Server-sent event streams open on this process")
STORE_OPERATIONS = Counter(
    "graphport_store_operations", "Store API operations, by operation", ["operation"]
)


def run_created() -> None:
    RUNS_CREATED.inc()


def run_finished(run: Mapping[str, Any], status: str) -> None:
    """Count a run's end; its duration and queue wait come from its claim time."""
    RUNS_FINISHED.labels(status).inc()
    started = run.get("started_at")
    if not isinstance(started, datetime):
        return
    RUN_DURATION.labels(status).observe(max(0.0, (serde.utcnow() - started).total_seconds()))
    created = run.get("created_at")
    if isinstance(created, datetime):
        QUEUE_WAIT.observe(max(0.0, (started - created).total_seconds()))


def store_operation(operation: str) -> None:
    STORE_OPERATIONS.labels(operation).inc()


def set_queue(by_status: Mapping[str, int], in_use: int, capacity: int) -> None:
    for status, count in by_status.items():
        RUNS_INFLIGHT.labels(status).set(count)
    SLOTS_IN_USE.set(in_use)
    SLOTS_CAPACITY.set(capacity)


def render(fmt: str | None) -> tuple[bytes, str]:
    """(body, content type): Prometheus text, or with `fmt="json"` every sample as
    `{name: [{"labels": {...}, "value": v}, ...]}`."""
    if fmt != "json":
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    out: dict[str, list[dict[str, Any]]] = {}
    for family in REGISTRY.collect():
        for sample in family.samples:
            out.setdefault(sample.name, []).append(
                {"labels": sample.labels, "value": sample.value}
            )
    return orjson.dumps(out), "application/json"
