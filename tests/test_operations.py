"""Start-up as an operator meets it, through real `graphport` processes: settings checked
before anything opens (the flag or variable named, exit 2), services that cannot be opened
(one line saying which and where, password hidden, exit 1, no traceback), `serve`'s
production defaults and busy port, and migrations run explicitly with `graphport db`."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from conftest import database_for, free_port, unavailable
from graphport.server.storage import revisions
from processes import EXAMPLES, SETTING_VARIABLES, START_TIMEOUT, graphport, graphport_command

SECRET = "s3cret-pw"
HEAD = revisions.head()  # the schema revision this version migrates to


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`graphport <args>` to its exit, with only the settings variables the test gives."""
    base = {k: v for k, v in os.environ.items() if k not in SETTING_VARIABLES}
    return subprocess.run(
        [*graphport_command(), *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        cwd=cwd,
        env={**base, **(env or {})},
    )


def refused(proc: subprocess.CompletedProcess[str], code: int, *expected: str) -> str:
    """The process exited with `code`, said each of `expected`, showed no traceback and
    no password; returns what it said."""
    said = proc.stderr + proc.stdout
    assert proc.returncode == code, said
    for text in expected:
        assert text in said, said
    assert "Traceback" not in said, said
    assert SECRET not in said, said
    assert "Graphport http" not in said, said  # no banner for a server that never served
    return said


def _sqlite(tmp_path: Path) -> list[str]:
    return ["--config", str(EXAMPLES), "--database", str(tmp_path / "db.sqlite")]


# --- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {"GRAPHPORT_LEASE_SECONDS": "30s"}, "GRAPHPORT_LEASE_SECONDS='30s': expected a"),
        (["--log-level", "verbose"], {}, "--log-level='verbose': Input should be 'debug', 'info'"),
        ([], {"LOG_LEVEL": "verbose"}, "LOG_LEVEL='verbose'"),
        ([], {"PORT": "http"}, "PORT='http': expected a whole number"),
        ([], {"N_JOBS_PER_WORKER": "-1"}, "N_JOBS_PER_WORKER='-1': Input should be greater than"),
        (
            ["--database-url", f"mysql://app:{SECRET}@127.0.0.1/app"],
            {},
            "--database-url='mysql://app:***@127.0.0.1/app': expected a URL starting with postgres",
        ),
        ([], {"REDIS_URI": "http://127.0.0.1:1"}, "REDIS_URI='http://127.0.0.1:1': expected a URL"),
    ],
)
def test_an_invalid_setting_is_named_before_anything_opens(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    proc = run(["serve", *_sqlite(tmp_path), *args], tmp_path, env)
    refused(proc, 2, expected)
    assert not (tmp_path / "db.sqlite").exists()


def test_graphport_variables_win_over_official_aliases(tmp_path: Path) -> None:
    env = {"GRAPHPORT_LOG_LEVEL": "warning", "LOG_LEVEL": "verbose"}
    proc = run(["db", "history", *_sqlite(tmp_path)], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert f"{HEAD} (head)" in proc.stdout


# --- services that cannot be opened ---------------------------------------------------------


@pytest.mark.parametrize("command", ["dev", "serve", "worker"])
def test_unreachable_postgres(tmp_path: Path, command: str) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://graphport:{SECRET}@127.0.0.1:{port}/graphport"
    args = ["--config", str(EXAMPLES), "--database-url", url, "--port", str(free_port())]
    if command == "worker":
        args = ["--config", str(EXAMPLES), "--database-url", url]
        args += ["--redis-url", "redis://127.0.0.1:6379/0"]
    said = refused(
        run([command, *args], tmp_path),
        1,
        f"PostgreSQL at postgresql://graphport:***@127.0.0.1:{port}/graphport",
        "Connection refused",
    )
    assert len([line for line in said.splitlines() if line.startswith("graphport:")]) == 1


@pytest.mark.parametrize("command", ["dev", "serve", "worker"])
def test_unreachable_redis(tmp_path: Path, command: str) -> None:
    port = free_port()
    redis_url = f"redis://:{SECRET}@127.0.0.1:{port}/0"
    args = [*_sqlite(tmp_path), "--redis-url", redis_url]
    if command != "worker":
        args += ["--port", str(free_port())]
    refused(
        run([command, *args], tmp_path),
        1,
        f"Redis unreachable at redis://:***@127.0.0.1:{port}/0",
    )


def test_a_missing_driver_names_the_extra_to_install(tmp_path: Path) -> None:
    port = free_port()
    # A stand-in `psycopg` that cannot be imported, as on an install without graphport[postgres].
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "psycopg.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    paths = [str(shim), *filter(None, [os.environ.get("PYTHONPATH")])]
    url = f"postgresql://graphport:{SECRET}@127.0.0.1:{port}/graphport"
    proc = run(
        ["serve", "--config", str(EXAMPLES), "--database-url", url, "--port", str(free_port())],
        tmp_path,
        {"PYTHONPATH": os.pathsep.join(paths)},
    )
    refused(proc, 1, "psycopg package is missing", "graphport[postgres]", "127.0.0.1")


def test_a_failing_migration_says_so(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with sqlite3.connect(db) as conn:  # a schema from a version this one does not know
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    proc = run(["dev", *_sqlite(tmp_path), "--port", str(free_port())], tmp_path)
    refused(proc, 1, f"SQLite at {db}: migration failed", "'9999'")


# --- serve ----------------------------------------------------------------------------------


def test_serve_listens_on_every_interface_on_port_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {"PORT": str(port), "GRAPHPORT_HOST": ""}  # unset: serve's own default
    with graphport("serve", _sqlite(tmp_path), tmp_path, "serve", env) as serve:
        assert serve.url() == f"http://0.0.0.0:{port}"
        serve.wait_ok(f"http://127.0.0.1:{port}")


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        args = ["--host", "127.0.0.1", "--port", str(port)]
        proc = run(["serve", *_sqlite(tmp_path), *args], tmp_path)
    refused(proc, 1, f"cannot listen on 127.0.0.1:{port}", "in use")


def test_help_shows_each_commands_defaults(tmp_path: Path) -> None:
    serve = run(["serve", "--help"], tmp_path).stdout
    dev = run(["dev", "--help"], tmp_path).stdout
    squash = " ".join(serve.split())
    assert "(default: 0.0.0.0; env GRAPHPORT_HOST)" in squash
    assert "(default: 8000; env GRAPHPORT_PORT or PORT)" in squash
    assert "(default: 127.0.0.1;" in " ".join(dev.split())
    assert "2024 or the next free one" in " ".join(dev.split())


def test_proxy_headers_are_trusted_when_told(tmp_path: Path) -> None:
    port = free_port()
    args = [*_sqlite(tmp_path), "--port", str(port), "--log-format", "json"]
    args += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    with graphport("serve", args, tmp_path, "proxied") as serve:
        url = f"http://127.0.0.1:{port}"
        serve.wait_ok(url)
        r = httpx.get(f"{url}/info", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
        assert r.status_code == 200
        serve.wait_for_output('"client":"203.0.113.7:0"')


# --- migrations -------------------------------------------------------------------------------


def test_db_upgrade_then_serve_without_migrating(tmp_path: Path) -> None:
    storage = _sqlite(tmp_path)
    port = ["--port", str(free_port())]
    refused(
        run(["serve", *storage, *port, "--no-migrate"], tmp_path),
        1,
        "schema is at revision none",
        "graphport db upgrade",
    )
    upgraded = run(["db", "upgrade", *storage], tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"revision {HEAD} (head)" in upgraded.stdout
    assert f"revision {HEAD} (head)" in run(["db", "current", *storage], tmp_path).stdout
    with graphport("serve", [*storage, *port, "--no-migrate"], tmp_path, "no-migrate") as serve:
        serve.wait_ok(serve.url())


def test_db_current_on_postgres_hides_the_password(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://graphport:{SECRET}@127.0.0.1:{port}/graphport"
    proc = run(["db", "current", "--config", str(EXAMPLES), "--database-url", url], tmp_path)
    refused(proc, 1, "PostgreSQL at postgresql://graphport:***@")


def test_db_upgrade_on_postgres(tmp_path: Path) -> None:
    reason = unavailable("postgres")
    if reason:
        pytest.skip(reason)
    with database_for("postgres") as db:
        args = ["--config", str(EXAMPLES), "--database-url", db["database_url"]]
        assert "revision none" in run(["db", "current", *args], tmp_path).stdout
        upgraded = run(["db", "upgrade", *args], tmp_path)
        assert upgraded.returncode == 0, upgraded.stderr
        assert f"revision {HEAD} (head)" in run(["db", "current", *args], tmp_path).stdout
