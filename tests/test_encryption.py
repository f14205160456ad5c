"""Encryption at rest (GRAPHPORT_AES_KEY) and `checkpointer.serde`, on SQLite and PostgreSQL.

Each scenario reads the raw database beside the API: checkpoints, pending writes, blobs and
store items hold no plaintext of what went through a run or into the store, while the API
returns all of it; the wrong key fails clearly; a rotated key still reads old data."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import CONFIG, REQUIRE_PG, TESTS, TestServer, _settings, database_for, unavailable
from graphport.server.app import create_app
from graphport.server.graphs import ConfigError
from graphport.server.settings import Settings
from run_helpers import new_thread, wait_run

KEY_A = "A" * 32
KEY_B = "b-sixteen-bytes!"
RAW_TABLES = {
    "sqlite": ["checkpoints", "writes", "store"],
    "postgres": ["checkpoints", "checkpoint_blobs", "checkpoint_writes", "store"],
}


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    reason = unavailable(request.param)
    if reason:
        if REQUIRE_PG:
            pytest.fail(reason)
        pytest.skip(reason)
    return str(request.param)


@contextlib.asynccontextmanager
async def serving(
    db: dict[str, Any], config: Path = CONFIG, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    server = TestServer(_settings(db, config, **settings))
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            yield http
    finally:
        server.stop()


def raw_dump(engine: str, db: dict[str, Any]) -> str:
    """Every row of the checkpoint and store tables, as text (bytes shown as Python reprs,
    so plaintext inside a blob shows too)."""
    rows: list[Any] = []
    if engine == "sqlite":
        with contextlib.closing(sqlite3.connect(db["database"])) as conn:
            for table in RAW_TABLES[engine]:
                rows += conn.execute(f"SELECT * FROM {table}").fetchall()
    else:
        import psycopg

        with psycopg.connect(db["database_url"]) as conn:
            for table in RAW_TABLES[engine]:
                rows += conn.execute(f"SELECT * FROM {table}").fetchall()
    assert rows, "nothing was written"
    return repr(rows)


class Markers:
    """Unique strings sent through a chat run, a store-writing run and the store API."""

    def __init__(self) -> None:
        self.message, self.memory, self.item = (f"secret-{uuid.uuid4().hex}" for _ in range(3))

    def all(self) -> list[str]:
        return [self.message, self.memory, self.item]


async def write(http: httpx.AsyncClient, marks: Markers) -> tuple[str, str]:
    """A chat run, a run of the memory graph (a str channel, a store item written by the
    graph) and a store item put through the API; returns the two threads."""
    thread = await new_thread(http)
    out = await wait_run(
        http, thread, "echo", input={"messages": [{"role": "user", "content": marks.message}]}
    )
    assert out["messages"][-1]["content"] == marks.message
    memory_thread = await new_thread(http)
    out = await wait_run(
        http,
        memory_thread,
        "memory",
        input={"remember": marks.memory},
        context={"user_id": "enc"},
    )
    assert marks.memory in out["memories"]
    put = {"namespace": ["notes"], "key": "k", "value": {"note": marks.item, "kind": "x"}}
    assert (await http.put("/store/items", json=put)).status_code == 204
    return thread, memory_thread


async def assert_readable(http: httpx.AsyncClient, thread: str, marks: Markers) -> None:
    state = await http.get(f"/threads/{thread}/state")
    assert state.status_code == 200, state.text
    assert state.json()["values"]["messages"][0]["content"] == marks.message
    item = await http.get("/store/items", params={"namespace": "notes", "key": "k"})
    assert item.status_code == 200, item.text
    assert item.json()["value"] == {"note": marks.item, "kind": "x"}
    search = await http.post("/store/items/search", json={"namespace_prefix": ["memories"]})
    assert [i["value"]["text"] for i in search.json()["items"]] == [marks.memory]


async def test_without_a_key_the_raw_database_shows_plaintext(engine: str) -> None:
    """The control for the tests below: the raw scan does see plaintext when it is there."""
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=None) as http:
            await write(http, marks)
        dump = raw_dump(engine, db)
    assert all(mark in dump for mark in marks.all())


async def test_encrypted_checkpoints_and_store_values(engine: str) -> None:
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=KEY_A) as http:
            thread, _ = await write(http, marks)
            await assert_readable(http, thread, marks)
            # Filters match decrypted values.
            for kind, expected in (("x", [marks.item]), ("y", [])):
                search = await http.post(
                    "/store/items/search",
                    json={"namespace_prefix": ["notes"], "filter": {"kind": kind}},
                )
                assert [i["value"]["note"] for i in search.json()["items"]] == expected
        dump = raw_dump(engine, db)
        assert not [mark for mark in marks.all() if mark in dump]
        assert "+aes" in dump

        # The wrong key: reads fail, naming the variable, rather than returning garbage.
        async with serving(db, aes_key=KEY_B) as http:
            for response in (
                await http.get(f"/threads/{thread}/state"),
                await http.get("/store/items", params={"namespace": "notes", "key": "k"}),
            ):
                assert response.status_code == 500
                assert "could not be decrypted with GRAPHPORT_AES_KEY" in response.json()["detail"]
        # No key at all: the same, clearly.
        async with serving(db, aes_key=None) as http:
            response = await http.get(f"/threads/{thread}/state")
            assert response.status_code == 500
            assert "encrypted but GRAPHPORT_AES_KEY is not set" in response.json()["detail"]


async def test_turning_encryption_on_keeps_what_was_written_before(engine: str) -> None:
    """Plain data stays readable; a channel the next run leaves unchanged (stored inline,
    in clear, by the PostgreSQL saver) moves to the encrypted blobs without being lost."""
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=None) as http:
            thread, memory_thread = await write(http, marks)
        async with serving(db, aes_key=KEY_A) as http:
            await assert_readable(http, thread, marks)
            out = await wait_run(
                http, memory_thread, "memory", input={}, context={"user_id": "enc"}
            )
            assert out == {"remember": marks.memory, "memories": [marks.memory]}
            state = await http.get(f"/threads/{memory_thread}/state")
            assert state.json()["values"]["remember"] == marks.memory


async def test_key_rotation(engine: str) -> None:
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=KEY_A) as http:
            thread, _ = await write(http, marks)
        # Rotated: B encrypts, A still decrypts.
        async with serving(db, aes_key=KEY_B, aes_key_previous=KEY_A) as http:
            await assert_readable(http, thread, marks)
            put = {"namespace": ["notes"], "key": "new", "value": {"note": "after rotation"}}
            assert (await http.put("/store/items", json=put)).status_code == 204
        # A retired: what B wrote reads, what A wrote (and nobody rewrote) does not.
        async with serving(db, aes_key=KEY_B) as http:
            new = await http.get("/store/items", params={"namespace": "notes", "key": "new"})
            assert new.json()["value"] == {"note": "after rotation"}
            old = await http.get("/store/items", params={"namespace": "notes", "key": "k"})
            assert old.status_code == 500


@pytest.mark.parametrize(
    ("key", "previous", "message"),
    [
        ("too short", None, "GRAPHPORT_AES_KEY (or LANGGRAPH_AES_KEY) must be 16, 24 or 32"),
        (KEY_A, "x" * 17, "GRAPHPORT_AES_KEY_PREVIOUS must be 16, 24 or 32 bytes long"),
        (None, KEY_A, "GRAPHPORT_AES_KEY_PREVIOUS is set but GRAPHPORT_AES_KEY is not"),
    ],
)
def test_bad_keys_stop_start_up(
    tmp_path: Path, key: str | None, previous: str | None, message: str
) -> None:
    settings = Settings(
        config_path=CONFIG,
        database=str(tmp_path / "db"),
        aes_key=key,
        aes_key_previous=previous,
    )
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_app(settings)


def test_official_key_variable_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHPORT_AES_KEY", raising=False)
    monkeypatch.setenv("LANGGRAPH_AES_KEY", KEY_B)
    assert Settings(config_path=CONFIG).aes_key == KEY_B
    monkeypatch.setenv("GRAPHPORT_AES_KEY", KEY_A)
    assert Settings(config_path=CONFIG).aes_key == KEY_A


def opaque_config(tmp_path: Path, serde: Any) -> Path:
    config: dict[str, Any] = {"graphs": {"opaque": f"{TESTS / 'graphs' / 'opaque.py'}:graph"}}
    if serde is not None:
        config["checkpointer"] = {"serde": serde}
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize("key", [None, KEY_A])
async def test_pickle_fallback_checkpoints_what_msgpack_cannot(
    engine: str, tmp_path: Path, key: str | None
) -> None:
    on = opaque_config(tmp_path / "on", {"pickle_fallback": True})
    off = opaque_config(tmp_path / "off", None)
    with database_for(engine) as db:
        async with serving(db, on, aes_key=key) as http:
            thread = await new_thread(http)
            out = await wait_run(http, thread, "opaque", input={"text": "boxed"})
            assert out["box"] == {"text": "boxed"}
            state = await http.get(f"/threads/{thread}/state")
            assert state.json()["values"]["box"] == {"text": "boxed"}
    with database_for(engine) as db:
        async with serving(db, off, aes_key=key) as http:
            thread = await new_thread(http)
            run = (
                await http.post(
                    f"/threads/{thread}/runs/wait",
                    json={"assistant_id": "opaque", "input": {"text": "boxed"}},
                )
            ).json()
            assert "not msgpack serializable" in json.dumps(run)


@pytest.mark.parametrize(
    ("serde", "message"),
    [
        ("yes", "checkpointer.serde must be an object"),
        ({"pickle_fallbak": True}, "unknown key\\(s\\) pickle_fallbak"),
        ({"pickle_fallback": "true"}, "pickle_fallback must be true or false"),
        ({"allowed_msgpack_modules": [["only_a_module"]]}, 'is not a \\["module", "Name"\\]'),
        ({"allowed_json_modules": "all"}, "allowed_json_modules must be true, null or a list"),
    ],
)
def test_bad_serde_config_stops_start_up(tmp_path: Path, serde: Any, message: str) -> None:
    settings = Settings(config_path=opaque_config(tmp_path, serde), database=str(tmp_path / "db"))
    with pytest.raises(ConfigError, match=message):
        create_app(settings)


def test_serde_allowlists_are_accepted(tmp_path: Path) -> None:
    serde = {
        "pickle_fallback": False,
        "allowed_json_modules": [["my_agent", "models", "State"]],
        "allowed_msgpack_modules": None,
    }
    create_app(Settings(config_path=opaque_config(tmp_path, serde), database=str(tmp_path / "db")))
