"""Traces with OpenTelemetry (the optional `graphport[otel]` extra): a span for every HTTP
request and one for every execution of a run, in the trace of the request that created the
run, whichever process executes it: the trace context is stored with the run.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set;
the exporter then reads the standard `OTEL_*` variables. Without the extra installed, start-up
says so once and nothing else changes."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

logger = logging.getLogger("graphport.tracing")

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
# The provider spans go to, once configured (one per process, as OpenTelemetry has).
_provider: Any = None


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    return any(environ.get(name) for name in _ENDPOINT_VARIABLES)


def enabled() -> bool:
    return _provider is not None


def configure(exporter: Any = None) -> bool:
    """Export spans over OTLP/HTTP, or to `exporter` (tests use the SDK's in-memory one).
    Returns whether tracing is on. Idempotent: a second call adds its exporter."""
    global _provider
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but tracing needs graphport[otel]")
        return False
    if _provider is None:
        name = os.environ.get("OTEL_SERVICE_NAME", "graphport")
        resource = Resource.create({"service.name": name})
        _provider = TracerProvider(resource=resource)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        _provider.add_span_processor(SimpleSpanProcessor(exporter))
    return True


def instrument(app: Any) -> None:
    """A server span for each HTTP request, named by its route template."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=_provider)


def carrier() -> dict[str, str]:
    """The current trace context as headers (W3C traceparent), to store with a run; empty
    when tracing is off."""
    if _provider is None:
        return {}
    from opentelemetry import propagate

    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


@contextlib.contextmanager
def run_span(run: Mapping[str, Any]) -> Iterator[Any]:
    """The span of one execution of a run, child of the span that created it; yields the
    span (None when tracing is off) for the caller to record the outcome on."""
    if _provider is None:
        yield None
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    parent = propagate.extract(run["kwargs"].get("trace_context") or {})
    tracer = _provider.get_tracer("graphport")
    attributes = {
        "graphport.run_id": run["run_id"],
        "graphport.thread_id": run["thread_id"],
        "graphport.assistant_id": run["assistant_id"],
        "graphport.attempt": run["attempt"],
    }
    graph_id = ((run["kwargs"].get("config") or {}).get("configurable") or {}).get("graph_id")
    if graph_id:
        attributes["graphport.graph_id"] = graph_id
    with tracer.start_as_current_span(
        "graphport.run", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


def outcome(span: Any, status: str, error: BaseException | None = None) -> None:
    """Record how the run ended on its span."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("graphport.status", status)
    if error is not None and status == "error":
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
