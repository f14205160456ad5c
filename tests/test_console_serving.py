"""How the server serves the web console (docs/console.md): at `/console` under the mount
prefix, deep links answered by its page, no authentication for its files, switched off by
`http.disable_console` or `--no-console`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from graphport.server.app import create_app
from graphport.server.cli import parser, settings_from
from graphport.server.settings import Settings

ECHO = Path(__file__).resolve().parent.parent / "examples" / "echo.py"


def _app(tmp_path: Path, http: dict | None = None, **settings: object) -> httpx.AsyncClient:
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"echo": f"{ECHO}:graph"}, "http": http or {}}))
    app = create_app(
        Settings(config_path=config, database=str(tmp_path / "db.sqlite"), **settings)
    )
    # The console's routes need no core: no lifespan, no database.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_console_page_and_assets(tmp_path: Path) -> None:
    async with _app(tmp_path, api_key="secret") as http:
        r = await http.get("/console")
        assert r.status_code == 307 and r.headers["location"] == "/console/"
        r = await http.get("/console/")  # public although the API needs a key
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert '<base href="/console/">' in r.text
        asset = r.text.split('src="./', 1)[1].split('"', 1)[0]
        r = await http.get(f"/console/{asset}")
        assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
        assert r.headers["content-type"].startswith(("text/javascript", "application/javascript"))
        # Deep links are the console's page; a missing asset or a way out of the folder is not.
        r = await http.get("/console/threads/some-id")
        assert r.status_code == 200 and '<div id="root">' in r.text
        assert (await http.get("/console/assets/missing.js")).status_code == 404
        r = await http.get("/console/..%2f..%2fapi%2fconsole.py")
        assert "import" not in r.text
        assert (await http.get("/threads/x")).status_code == 401


async def test_console_under_mount_prefix(tmp_path: Path) -> None:
    async with _app(tmp_path, {"mount_prefix": "/api/v1"}) as http:
        assert (await http.get("/console/")).status_code == 404
        r = await http.get("/api/v1/console")
        assert r.headers["location"] == "/api/v1/console/"
        r = await http.get("/api/v1/console/assistants")
        assert '<base href="/api/v1/console/">' in r.text


@pytest.mark.parametrize(
    ("http", "settings"), [({"disable_console": True}, {}), ({}, {"console": False})]
)
async def test_console_switched_off(tmp_path: Path, http: dict, settings: dict) -> None:
    async with _app(tmp_path, http, **settings) as client:
        assert (await client.get("/console/")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 200


def test_no_console_flag() -> None:
    for command in ("dev", "serve"):
        assert settings_from(parser().parse_args([command])).console is True
        assert settings_from(parser().parse_args([command, "--no-console"])).console is False
