"""What an operator watches, through real `graphport` processes: JSON log lines with the
request id and the run's fields, a failing graph's traceback in the server log, `/metrics`
counters that match the work done (parsed as Prometheus parses them), queue sizes read from
the database, `/metrics` behind the API key when asked, `/ok?check_db=1` naming a dependency
that is down, and a worker's own metrics port."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import CONFIG, REQUIRE_PG, database_for, free_port, unavailable
from processes import STOP_TIMEOUT, Graphport, graphport

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str, **headers: str) -> Samples:
    r = httpx.get(f"{url}/metrics", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    """A sample summed over all its label values."""
    return sum(v for (n, _), v in samples.items() if n == name)


@contextlib.contextmanager
def dev_server(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    storage = ["--config", str(CONFIG), "--database", str(tmp_path / "db.sqlite")]
    with graphport("dev", [*storage, "--port", str(port), *args], tmp_path, "dev", env) as p:
        url = f"http://127.0.0.1:{port}"
        p.wait_ok(url)
        yield url


def wait_run(http: httpx.Client, assistant_id: str, input: dict[str, Any]) -> str:
    """Run to its end on a new thread; returns the run id."""
    tid = http.post("/threads", json={}).json()["thread_id"]
    r = http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": assistant_id, "input": input})
    assert r.status_code == 200, r.text
    return str(http.get(f"/threads/{tid}/runs").json()[0]["run_id"])


def test_json_logs_carry_the_request_id_and_the_runs_fields(tmp_path: Path) -> None:
    port = free_port()
    args = ["--config", str(CONFIG), "--database", str(tmp_path / "db.sqlite")]
    env = {"LOG_JSON": "true"}
    with graphport("dev", [*args, "--port", str(port)], tmp_path, "json", env) as p:
        url = f"http://127.0.0.1:{port}"
        p.wait_ok(url)
        with httpx.Client(base_url=url, timeout=60, headers={"X-Request-ID": "req-42"}) as http:
            ok = wait_run(http, "echo", {"messages": [{"role": "user", "content": "hi"}]})
            failed = wait_run(http, "failing", {"value": "x"})
            assert http.get("/ok").headers["x-request-id"] == "req-42"
        generated = httpx.get(f"{url}/ok", timeout=10).headers["x-request-id"]
        uuid.UUID(generated)  # one is made when the client sends none
        p.wait_for_output(failed)
    lines = [json.loads(line) for line in p.stderr.splitlines() if line.strip()]
    assert all({"timestamp", "level", "logger", "message"} <= line.keys() for line in lines)
    access = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert {line["request_id"] for line in access} >= {"req-42", generated}
    assert any(line["path"].endswith("/runs/wait") and line["status"] == 200 for line in access)
    ran = {line["run_id"]: line for line in lines if "run_id" in line and "status" in line}
    assert ran[ok]["status"] == "success" and ran[failed]["status"] == "error"
    for run_line in (ran[ok], ran[failed]):
        assert run_line["attempt"] == 1
        assert run_line["duration_ms"] >= 0
        assert {"thread_id", "assistant_id"} <= run_line.keys()
    # The failing graph's traceback is in the server's log.
    warnings = [line for line in lines if line["level"] == "warning"]
    failure = next(line for line in warnings if failed in line["message"])
    assert "ValueError: boom" in failure["exception"]
    assert "Traceback" in failure["exception"]


def test_metrics_match_the_work_done(tmp_path: Path) -> None:
    key = {"x-api-key": "ops-key"}
    with dev_server(tmp_path, "--api-key", "ops-key") as url:
        with httpx.Client(base_url=url, timeout=60, headers=key) as http:
            for _ in range(3):
                wait_run(http, "echo", {"messages": [{"role": "user", "content": "hi"}]})
            wait_run(http, "failing", {"value": "x"})
            item = {"namespace": ["ops"], "key": "k", "value": {"v": 1}}
            assert http.put("/store/items", json=item).status_code == 204
            r = http.get("/store/items", params={"namespace": "ops", "key": "k"})
            assert r.status_code == 200
            tid = http.post("/threads", json={}).json()["thread_id"]
            with http.stream("GET", f"/threads/{tid}/stream") as stream:
                assert stream.status_code == 200
                during = scrape(url)  # public by default, even with an API key
            after = scrape(url)
            as_json = http.get("/metrics", params={"format": "json"}).json()

    assert value(during, "graphport_open_streams") == 1
    assert value(after, "graphport_open_streams") == 0
    assert value(after, "graphport_runs_created_total") == 4
    assert value(after, "graphport_runs_finished_total", status="success") == 3
    assert value(after, "graphport_runs_finished_total", status="error") == 1
    assert total(after, "graphport_run_duration_seconds_count") == 4
    assert value(after, "graphport_run_queue_wait_seconds_count") == 4
    route = "/threads/{thread_id}/runs/wait"
    waits = {"method": "POST", "route": route}
    assert value(after, "graphport_http_requests_total", **waits, status="200") == 4
    assert value(after, "graphport_http_request_duration_seconds_count", **waits) == 4
    assert value(after, "graphport_store_operations_total", operation="put") == 1
    assert value(after, "graphport_store_operations_total", operation="get") == 1
    assert value(after, "graphport_runs_inflight", status="pending") == 0
    assert value(after, "graphport_runs_inflight", status="running") == 0
    assert value(after, "graphport_worker_slots_capacity") == 10
    assert value(after, "graphport_worker_slots_in_use") == 0
    assert as_json["graphport_runs_created_total"] == [{"labels": {}, "value": 4.0}]


def test_queue_sizes_come_from_the_database_and_metrics_may_need_the_key(
    tmp_path: Path,
) -> None:
    args = ["--max-concurrent-runs", "0", "--api-key", "ops-key", "--no-metrics-public"]
    with dev_server(tmp_path, *args) as url:
        key = {"x-api-key": "ops-key"}
        with httpx.Client(base_url=url, timeout=30, headers=key) as http:
            for _ in range(2):  # no process executes them: they stay pending
                tid = http.post("/threads", json={}).json()["thread_id"]
                r = http.post(f"/threads/{tid}/runs", json={"assistant_id": "echo", "input": {}})
                assert r.status_code == 200, r.text
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 401
        assert httpx.get(f"{url}/ok", timeout=10).status_code == 200
        samples = scrape(url, **key)
    assert value(samples, "graphport_runs_inflight", status="pending") == 2
    assert value(samples, "graphport_worker_slots_capacity") == 0


@contextlib.contextmanager
def redis_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    cmd = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


def test_health_names_the_dependency_that_is_down(tmp_path: Path) -> None:
    with redis_server(tmp_path) as (redis_url, redis):
        with dev_server(tmp_path, "--redis-url", redis_url) as url:
            r = httpx.get(f"{url}/ok", params={"check_db": "1"}, timeout=30)
            assert r.status_code == 200
            assert r.json() == {"ok": True, "services": {"database": "healthy", "redis": "healthy"}}
            redis.kill()
            redis.wait(STOP_TIMEOUT)
            r = httpx.get(f"{url}/ok", params={"check_db": "1"}, timeout=30)
            assert r.status_code == 503
            body = r.json()
            assert body == {"ok": False, "services": {"database": "healthy", "redis": "unhealthy"}}
            assert httpx.get(f"{url}/ok", timeout=10).status_code == 200  # still alive


def test_a_worker_serves_its_own_metrics_and_health(tmp_path: Path) -> None:
    reason = unavailable("distributed")
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    with database_for("distributed") as db:
        env = {"GRAPHPORT_REDIS_PREFIX": db["redis_prefix"]}
        shared = ["--config", str(CONFIG), "--database-url", db["database_url"]]
        shared += ["--redis-url", db["redis_url"]]
        api_port, metrics_port = free_port(), free_port()
        api_args = [*shared, "--port", str(api_port), "--max-concurrent-runs", "0"]
        with graphport("serve", api_args, tmp_path, "api", env) as api:
            api_url = f"http://127.0.0.1:{api_port}"
            api.wait_ok(api_url)
            worker_args = [*shared, "--max-concurrent-runs", "2", "--host", "127.0.0.1"]
            worker_args += ["--metrics-port", str(metrics_port)]
            worker = Graphport("worker", worker_args, tmp_path, "worker", env)
            try:
                worker_url = f"http://127.0.0.1:{metrics_port}"
                worker.wait_ok(worker_url)
                with httpx.Client(base_url=api_url, timeout=60) as http:
                    for _ in range(2):
                        wait_run(http, "echo", {"messages": [{"role": "user", "content": "x"}]})
                health = httpx.get(f"{worker_url}/ok", params={"check_db": "1"}, timeout=30)
                at_worker, at_api = scrape(worker_url), scrape(api_url)
            finally:
                worker.stop()
    assert health.json() == {"ok": True, "services": {"database": "healthy", "redis": "healthy"}}
    assert value(at_worker, "graphport_runs_finished_total", status="success") == 2
    assert value(at_worker, "graphport_runs_created_total") == 0
    assert value(at_worker, "graphport_worker_slots_capacity") == 2
    assert value(at_api, "graphport_runs_created_total") == 2
    assert value(at_api, "graphport_runs_finished_total", status="success") == 0
    assert value(at_api, "graphport_runs_inflight", status="pending") == 0
