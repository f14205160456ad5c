"""A server stopped in the middle of a run: the next one on the same database retries
the run, so neither the run nor its thread stays stuck `running`/`busy`."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import CONFIG, TestServer, _settings, database_for
from run_helpers import poll


async def _status(http: httpx.AsyncClient, path: str) -> str:
    return str((await http.get(path)).json()["status"])


async def test_run_cut_by_a_restart_is_retried(backend: str) -> None:
    with database_for(backend) as db:
        first = TestServer(_settings(db, CONFIG))
        first.start()
        try:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
                thread = (await http.post("/threads", json={})).json()["thread_id"]
                body = {"assistant_id": "slow", "input": {"steps": 8, "delay": 0.25}}
                run = (await http.post(f"/threads/{thread}/runs", json=body)).json()
                run_path = f"/threads/{thread}/runs/{run['run_id']}"
                await poll(lambda: _status(http, run_path), lambda s: s == "running")
        finally:
            first.stop()

        second = TestServer(_settings(db, CONFIG))
        second.start()
        try:
            async with httpx.AsyncClient(base_url=second.url, timeout=30) as http:
                final: Any = await poll(
                    lambda: _status(http, run_path),
                    lambda s: s == "success",
                    timeout=30,
                )
                assert final == "success"
                thread_row = (await http.get(f"/threads/{thread}")).json()
                assert thread_row["status"] == "idle"
                assert thread_row["values"]["steps"] == 8
        finally:
            second.stop()
