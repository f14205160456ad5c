"""Traces (docs/architecture.md#processes): each run's execution is a span in the trace of
the request that created it, carried through the run's row, whether the run starts at
once (claimed as it is created) or waits in the queue for the worker's loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import running_server
from graphport.server import tracing
from run_helpers import create_run, new_thread, slow, until_status

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure(exporter)  # once per process, before the app is built
    yield exporter


def by_name(exporter: InMemorySpanExporter, name: str) -> list[Any]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


async def test_a_run_is_traced_under_the_request_that_created_it(
    spans: InMemorySpanExporter,
) -> None:
    with running_server("sqlite") as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            thread_id = await new_thread(http)
            first = await create_run(http, thread_id, "slow", input=slow(3, 0.2))
            # Queued behind the first: claimed later by the worker's loop, in another task.
            second = await create_run(http, thread_id, "slow", input=slow(1, 0.0))
            for run in (first, second):
                assert await until_status(http, thread_id, run["run_id"]) == "success"
    runs = {s.attributes["graphport.run_id"]: s for s in by_name(spans, "graphport.run")}
    requests = {
        s.context.span_id: s
        for s in spans.get_finished_spans()
        if s.kind.name == "SERVER" and s.name == "POST /threads/{thread_id}/runs"
    }
    assert len(requests) >= 2, [s.name for s in spans.get_finished_spans()]
    parents = set()
    for run in (first, second):
        span = runs[run["run_id"]]
        assert span.parent is not None and span.parent.span_id in requests, span.parent
        request = requests[span.parent.span_id]
        assert span.context.trace_id == request.context.trace_id
        assert span.attributes["graphport.status"] == "success"
        assert span.attributes["graphport.graph_id"] == "slow"
        parents.add(span.parent.span_id)
    assert len(parents) == 2  # each under its own request


async def test_a_failing_run_records_its_exception(spans: InMemorySpanExporter) -> None:
    with running_server("sqlite") as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            thread_id = await new_thread(http)
            run = await create_run(http, thread_id, "failing", input={})
            assert await until_status(http, thread_id, run["run_id"]) == "error"
    mine = run["run_id"]
    run_spans = by_name(spans, "graphport.run")
    [span] = [s for s in run_spans if s.attributes["graphport.run_id"] == mine]
    assert span.status.status_code.name == "ERROR"
    assert any(e.name == "exception" for e in span.events)
