"""`graphport dev` as a user runs it: a subprocess that prints where it listens, serves the
API, keeps its data across restarts, refuses a broken config, and steps aside from a busy
default port."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import database_for, free_port
from processes import EXAMPLES, START_TIMEOUT, dev, graphport, graphport_command

EXAMPLE_GRAPHS = ("agent", "hitl", "subgraph", "memory", "echo")


def test_dev_serves_and_persists_across_restarts(backend: str, tmp_path: Path) -> None:
    """Runs on every backend: SQLite with `--database <file>` (the dev default), PostgreSQL
    with `--database-url` on a fresh database, and that plus `--redis-url`."""
    with database_for(backend) as db:
        if backend == "sqlite":
            storage = ["--database", str(tmp_path / "db.sqlite")]
        else:
            storage = ["--database-url", db["database_url"]]
        if "redis_url" in db:
            storage += ["--redis-url", db["redis_url"]]
        port = free_port()
        args = ["--config", str(EXAMPLES), *storage, "--port", str(port)]

        with dev(args, tmp_path, "first") as first:
            url = first.url()
            assert url == f"http://127.0.0.1:{port}"
            first.wait_ok(url)
            out = first.stdout
            assert f"{url}/docs" in out
            for graph_id in EXAMPLE_GRAPHS:
                assert graph_id in out, out
            if backend == "sqlite":
                assert str(tmp_path / "db.sqlite") in out
            assert "Webhooks may call loopback and private addresses (graphport dev" in (
                first.stderr
            )

            with httpx.Client(base_url=url, timeout=60) as http:
                assistant = http.post(
                    "/assistants", json={"graph_id": "echo", "name": "persisted"}
                ).json()
                thread = http.post("/threads", json={"metadata": {"kept": True}}).json()
                r = http.post(
                    f"/threads/{thread['thread_id']}/runs/wait",
                    json={
                        "assistant_id": "hitl",
                        "input": {"topic": "restarts"},
                    },
                )
                assert r.status_code == 200, r.text
                before = http.get(f"/threads/{thread['thread_id']}/state").json()
                assert before["next"] == ["ask_human"]
        assert first.proc.returncode is not None

        with dev(args, tmp_path, "second") as second:
            url = second.url()
            second.wait_ok(url)
            with httpx.Client(base_url=url, timeout=60) as http:
                got = http.get(f"/assistants/{assistant['assistant_id']}")
                assert got.status_code == 200
                assert got.json()["name"] == "persisted"
                t = http.get(f"/threads/{thread['thread_id']}").json()
                assert t["metadata"]["kept"] is True
                assert t["status"] == "interrupted"
                after = http.get(f"/threads/{thread['thread_id']}/state").json()
                assert after == before
                # The paused run resumes on the restarted server.
                r = http.post(
                    f"/threads/{thread['thread_id']}/runs/wait",
                    json={"assistant_id": "hitl", "command": {"resume": "yes"}},
                )
                assert r.json()["final"] == "A short note about restarts."


def test_bad_graph_path_fails_fast(tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"broken_graph": "./missing_module.py:graph"}}))
    proc = subprocess.run(
        [
            *graphport_command(),
            "dev",
            "--config",
            str(config),
            "--database",
            str(tmp_path / "db.sqlite"),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    message = proc.stderr + proc.stdout
    assert "broken_graph" in message, message
    assert "missing_module.py" in message, message


def test_bad_graph_variable_fails_fast(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("graph = 42\n")
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"numeric": "./mod.py:graph"}}))
    proc = subprocess.run(
        [*graphport_command(), "dev", "--config", str(config), "--database", ":memory:"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "numeric" in proc.stderr and "mod.py" in proc.stderr, proc.stderr


def test_a_bad_webhook_policy_stops_serve(tmp_path: Path) -> None:
    config = tmp_path / "langgraph.json"
    echo = EXAMPLES.parent / "echo.py"
    webhooks = {"url": {"allowed_domains": ["hooks.*.com"]}}
    config.write_text(json.dumps({"graphs": {"echo": f"{echo}:graph"}, "webhooks": webhooks}))
    proc = subprocess.run(
        [*graphport_command(), "serve", "--config", str(config), "--database", ":memory:"],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "webhooks.url.allowed_domains: 'hooks.*.com'" in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "needs --redis-url"),
        (["--redis-url", "redis://127.0.0.1:6379/0", "--max-concurrent-runs", "0"], "at least 1"),
    ],
)
def test_a_worker_that_could_not_work_refuses_to_start(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GRAPHPORT_REDIS_URL"}
    args = ["worker", "--config", str(EXAMPLES), "--database", ":memory:", *extra]
    proc = subprocess.run(
        [*graphport_command(), *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


def test_unreachable_redis_fails_start_up_with_its_address(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    args = ["--config", str(EXAMPLES), "--database", str(tmp_path / "db.sqlite")]
    with graphport("worker", [*args, "--redis-url", dead], tmp_path, "no-redis") as worker:
        worker.proc.wait(START_TIMEOUT)
        assert worker.proc.returncode != 0
        assert f"Redis unreachable at {dead}" in worker.stderr, worker.stderr


def test_busy_default_port_picks_another(tmp_path: Path) -> None:
    # Hold 2024 ourselves when it is free; when something else already listens there the
    # situation under test exists anyway.
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            blocker.bind(("127.0.0.1", 2024))
            blocker.listen()
            held = True
        except OSError:
            held = False
        args = ["--config", str(EXAMPLES), "--database", str(tmp_path / "db.sqlite")]
        with dev(args, tmp_path, "busy") as d:
            url = d.url()
            port = int(url.rsplit(":", 1)[1])
            if port == 2024 and not held:
                pytest.skip("whatever held port 2024 released it during the test")
            assert port != 2024
            assert 2024 < port < 2124
            d.wait_ok(url)
            assert httpx.get(f"{url}/ok", timeout=5).json()["ok"] is True
    finally:
        blocker.close()


RELOADABLE = '''
from typing_extensions import TypedDict
from langgraph.graph import START, StateGraph


class State(TypedDict, total=False):
    text: str


def reply(state: State) -> State:
    return {"text": "REPLY"}


graph = StateGraph(State).add_node(reply).add_edge(START, "reply").compile()
'''


def test_reload_serves_edited_graphs(tmp_path: Path) -> None:
    """`--reload`: editing a graph file restarts the server, which then runs the new code."""
    (tmp_path / "g.py").write_text(RELOADABLE.replace("REPLY", "before"))
    (tmp_path / "langgraph.json").write_text(json.dumps({"graphs": {"g": "./g.py:graph"}}))
    args = ["--config", "langgraph.json", "--database", str(tmp_path / "db.sqlite"),
            "--port", str(free_port()), "--reload"]

    def reply(url: str) -> str | None:
        with contextlib.suppress(httpx.HTTPError):
            r = httpx.post(f"{url}/runs/wait", json={"assistant_id": "g", "input": {}}, timeout=10)
            return str(r.json().get("text"))
        return None

    with dev(args, tmp_path, "reload") as d:
        url = d.url()
        d.wait_ok(url)
        assert reply(url) == "before"
        (tmp_path / "g.py").write_text(RELOADABLE.replace("REPLY", "after"))
        deadline = time.monotonic() + START_TIMEOUT
        while reply(url) != "after":
            assert time.monotonic() < deadline, f"no reload: {d.stderr}"
            time.sleep(0.2)
