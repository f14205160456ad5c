"""`graphport dev` as a user runs it: a subprocess that prints where it listens, serves the
API, keeps its data across restarts, refuses a broken config, and steps aside from a busy
default port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import database_for, free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "langgraph.json"
EXAMPLE_GRAPHS = ("agent", "hitl", "subgraph", "memory", "echo")
START_TIMEOUT = 90.0  # importing langgraph on a busy 2-core machine takes a while
STOP_TIMEOUT = 30.0


def graphport_command() -> list[str]:
    exe = Path(sys.executable).with_name("graphport")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "graphport.server.cli"]


class Dev:
    """One `graphport dev` subprocess, its output in files (no pipe to fill up)."""

    def __init__(self, args: list[str], workdir: Path, name: str) -> None:
        self.out_path = workdir / f"{name}.stdout"
        self.err_path = workdir / f"{name}.stderr"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("GRAPHPORT_DATABASE_URL", None)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                [*graphport_command(), "dev", *args],
                stdout=out,
                stderr=err,
                cwd=workdir,
                env=env,
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def url(self, timeout: float = START_TIMEOUT) -> str:
        """The URL it printed, once printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stdout.splitlines():
                if line.startswith("Graphport http"):
                    return line.split()[1]
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}: {self.stderr}")
            time.sleep(0.1)
        raise AssertionError(f"no URL printed in {timeout}s: {self.stdout} {self.stderr}")

    def wait_ok(self, url: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}: {self.stderr}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"/ok not reachable in {timeout}s: {self.stderr}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
        return self.proc.returncode


@contextlib.contextmanager
def dev(args: list[str], workdir: Path, name: str) -> Iterator[Dev]:
    d = Dev(args, workdir, name)
    try:
        yield d
    finally:
        d.stop()


def test_dev_serves_and_persists_across_restarts(backend: str, tmp_path: Path) -> None:
    """Runs on both backends: SQLite with `--database <file>` (the dev default), PostgreSQL
    with `--database-url` on a fresh database."""
    with database_for(backend) as db:
        if backend == "sqlite":
            storage = ["--database", str(tmp_path / "db.sqlite")]
        else:
            storage = ["--database-url", db["database_url"]]
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
