"""The bare package (no extras) is the SDK alone: installing it pulls in no server stack.

A fresh venv in a temp dir gets `pip install <repo root>`; importing the SDK there must load
none of the server's dependencies, and none of them may be installed. The venv is made without
pip of its own (the test's pip installs into it with `--python`), which saves the seconds
`ensurepip` takes. Needs the package index (PyPI or its mirror) for httpx, orjson and the
build backend.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_DISTRIBUTIONS = {
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "langgraph",
    "langchain-core",
    "croniter",
    "psycopg",
    "pydantic",
}
SERVER_MODULES = {
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "langgraph",
    "langchain_core",
    "pydantic",
    "graphport.server",
}
IMPORT_CHECK = f"""
import sys
import graphport.sdk, graphport.sdk.client, graphport.sdk.errors, graphport.sdk.schema
from graphport.sdk import get_client, get_sync_client
get_sync_client(url="http://127.0.0.1:9").close()
bad = set({sorted(SERVER_MODULES)!r}) & set(sys.modules)  # a submodule brings its parents
assert not bad, f"the SDK imported server modules: {{sorted(bad)}}"
print(graphport.sdk.__file__)
"""


def _run(args: list[str], timeout: float, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_NO_INPUT"] = "1"
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.timeout(420)
def test_bare_install_has_no_server_dependencies(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], 60, tmp_path)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check"]

    try:
        installed = _run([*pip, "install", "--quiet", str(ROOT)], 360, tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail("pip install of the bare package timed out: is the package index reachable?")
    if installed.returncode != 0:
        pytest.fail(
            "pip install of the bare package failed; it needs the package index (PyPI) for "
            f"httpx, orjson and hatchling. Is it reachable?\n{installed.stderr[-3000:]}"
        )

    imported = _run([python, "-I", "-c", IMPORT_CHECK], 60, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip().startswith(str(venv)), (
        f"graphport.sdk was imported from {imported.stdout.strip()}, not the fresh venv"
    )

    listed = _run([*pip, "list", "--format=json"], 60, tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = {p["name"].lower().replace("_", "-") for p in json.loads(listed.stdout)}
    assert {"graphport", "httpx", "orjson"} <= names
    assert not names & SERVER_DISTRIBUTIONS, f"server packages installed: {names}"
