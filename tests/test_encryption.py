"""Encryption at rest (GRAPHPORT_AES_KEY) and `checkpointer.serde`, on SQLite and PostgreSQL.

Each scenario reads the raw database beside the API: every byte of the SQLite file (and its
WAL), every row of every PostgreSQL table (listed from the catalog, so a new table is scanned
too) holds no plaintext of what went through a run, into the store, into a cron or an
assistant, while the API returns all of it; the wrong key fails clearly; a rotated key still
reads old data; searching threads by values works on decrypted values."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import cast as sql_cast
from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import JSONB

from conftest import CONFIG, REQUIRE_PG, TESTS, TestServer, _settings, database_for, unavailable
from graphport.server.app import create_app
from graphport.server.graphs import ConfigError
from graphport.server.settings import Settings
from graphport.server.storage import threads as thread_store
from graphport.server.storage.columns import json_dumps
from graphport.server.storage.database import open_database
from graphport.server.storage.filters import contains, json_contains
from graphport.server.storage.schema import metadata as our_tables
from run_helpers import create_run, new_thread, wait_run

KEY_A = "A" * 32
KEY_B = "b-sixteen-bytes!"


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


def raw_dump(engine: str, db: dict[str, Any]) -> bytes:
    """The whole database as bytes. SQLite: the file, its WAL and journal as they are on disk
    (free pages included). PostgreSQL: every row of every table outside the system schemas,
    the tables listed from the catalog (values as Python reprs, so plaintext inside a bytea
    or a JSONB shows too)."""
    if engine == "sqlite":
        files = [Path(db["database"] + suffix) for suffix in ("", "-wal", "-journal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    import psycopg
    from psycopg import sql

    rows: list[Any] = []
    with psycopg.connect(db["database_url"]) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert set(our_tables.tables) <= {name for _, name in tables}
        for schema, table in tables:
            query = sql.SQL("SELECT * FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            rows += conn.execute(query).fetchall()
    return repr(rows).encode()


def leaked(marks: Markers, dump: bytes) -> list[str]:
    """The names of the markers found in `dump`."""
    return [name for name, mark in vars(marks).items() if mark.encode() in dump]


class Markers:
    """Unique strings sent through a chat run, an interrupting run, a store-writing run, the
    store API, a cron's input and an assistant's configuration."""

    def __init__(self) -> None:
        self.message, self.memory, self.item, self.topic, self.cron, self.assistant = (
            f"secret-{uuid.uuid4().hex}" for _ in range(6)
        )


@dataclass
class Written:
    thread: str  # the chat run's
    run: str
    memory_thread: str
    review_thread: str  # interrupted, the topic in its interrupt
    cron: str
    assistant: str


def chat(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def write(http: httpx.AsyncClient, marks: Markers) -> Written:
    thread = await new_thread(http)
    run = await create_run(http, thread, "echo", input=chat(marks.message))
    out = (await http.get(f"/threads/{thread}/runs/{run['run_id']}/join")).json()
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
    review_thread = await new_thread(http)
    out = await wait_run(http, review_thread, "hitl", input={"topic": marks.topic})
    assert marks.topic in json.dumps(out["__interrupt__"])
    put = {"namespace": ["notes"], "key": "k", "value": {"note": marks.item, "kind": "x"}}
    assert (await http.put("/store/items", json=put)).status_code == 204
    cron = await http.post(
        f"/threads/{thread}/runs/crons",
        json={"assistant_id": "echo", "schedule": "0 0 1 1 *", "input": chat(marks.cron)},
    )
    assert cron.status_code == 200, cron.text
    assistant = await http.post(
        "/assistants",
        json={"graph_id": "echo", "config": {"configurable": {"note": marks.assistant}}},
    )
    assert assistant.status_code == 200, assistant.text
    return Written(
        thread,
        run["run_id"],
        memory_thread,
        review_thread,
        cron.json()["cron_id"],
        assistant.json()["assistant_id"],
    )


async def assert_readable(http: httpx.AsyncClient, w: Written, marks: Markers) -> None:
    """Everything written reads back through the API."""

    async def ok(response: Any) -> Any:
        response = await response
        assert response.status_code == 200, response.text
        return response.json()

    state = await ok(http.get(f"/threads/{w.thread}/state"))
    assert state["values"]["messages"][0]["content"] == marks.message
    thread = await ok(http.get(f"/threads/{w.thread}"))
    assert thread["values"]["messages"][0]["content"] == marks.message
    history = await ok(http.post(f"/threads/{w.thread}/history", json={}))
    assert history[0]["values"]["messages"][0]["content"] == marks.message
    run = await ok(http.get(f"/threads/{w.thread}/runs/{w.run}"))
    assert run["kwargs"]["input"] == chat(marks.message)
    joined = await ok(http.get(f"/threads/{w.thread}/runs/{w.run}/join"))
    assert joined["messages"][0]["content"] == marks.message
    by_values = {"values": {"messages": [{"content": marks.message}]}}
    found = await ok(http.post("/threads/search", json=by_values))
    assert [t["thread_id"] for t in found] == [w.thread]
    assert await ok(http.post("/threads/count", json=by_values)) == 1

    review = await ok(http.get(f"/threads/{w.review_thread}"))
    assert marks.topic in json.dumps(review["interrupts"])
    cron = await ok(http.get(f"/runs/crons/{w.cron}"))
    assert marks.cron in json.dumps(cron)
    assistant = await ok(http.get(f"/assistants/{w.assistant}"))
    assert assistant["config"]["configurable"]["note"] == marks.assistant
    versions = await ok(http.post(f"/assistants/{w.assistant}/versions", json={}))
    assert versions[0]["config"]["configurable"]["note"] == marks.assistant

    item = await ok(http.get("/store/items", params={"namespace": "notes", "key": "k"}))
    assert item["value"] == {"note": marks.item, "kind": "x"}
    search = await ok(http.post("/store/items/search", json={"namespace_prefix": ["memories"]}))
    assert [i["value"]["text"] for i in search["items"]] == [marks.memory]


async def test_without_a_key_the_raw_database_shows_plaintext(engine: str) -> None:
    """The control for the tests below: the raw scan does see each marker when it is there."""
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=None) as http:
            await write(http, marks)
        assert leaked(marks, raw_dump(engine, db)) == list(vars(marks))


async def test_encrypted_at_rest_and_readable(engine: str) -> None:
    """Nothing a user sent is stored in clear: not in checkpoints or store items, nor in
    Graphport's own tables (run inputs, cached thread values and interrupts, cron payloads,
    assistant configuration); the API returns all of it."""
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=KEY_A) as http:
            written = await write(http, marks)
            await assert_readable(http, written, marks)
            assert leaked(marks, raw_dump(engine, db)) == []  # SQLite: the WAL too
            # Filters match decrypted values.
            for kind, expected in (("x", [marks.item]), ("y", [])):
                search = await http.post(
                    "/store/items/search",
                    json={"namespace_prefix": ["notes"], "filter": {"kind": kind}},
                )
                assert [i["value"]["note"] for i in search.json()["items"]] == expected
        dump = raw_dump(engine, db)
        assert leaked(marks, dump) == []
        assert b"+aes" in dump and b"__graphport_aes__" in dump

        # The wrong key: reads fail, naming the variable, rather than returning garbage.
        async with serving(db, aes_key=KEY_B) as http:
            for response in (
                await http.get(f"/threads/{written.thread}/state"),
                await http.get(f"/threads/{written.thread}"),
                await http.get("/store/items", params={"namespace": "notes", "key": "k"}),
            ):
                assert response.status_code == 500
                assert "could not be decrypted with GRAPHPORT_AES_KEY" in response.json()["detail"]
        # No key at all: the same, clearly.
        async with serving(db, aes_key=None) as http:
            response = await http.get(f"/threads/{written.thread}/state")
            assert response.status_code == 500
            assert "encrypted but GRAPHPORT_AES_KEY is not set" in response.json()["detail"]


async def test_turning_encryption_on_keeps_what_was_written_before(engine: str) -> None:
    """Plain data stays readable (checkpoints, store items and rows of Graphport's tables
    alike); a channel the next run leaves unchanged (stored inline, in clear, by the
    PostgreSQL saver) moves to the encrypted blobs without being lost."""
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=None) as http:
            written = await write(http, marks)
        async with serving(db, aes_key=KEY_A) as http:
            await assert_readable(http, written, marks)
            out = await wait_run(
                http, written.memory_thread, "memory", input={}, context={"user_id": "enc"}
            )
            assert out == {"remember": marks.memory, "memories": [marks.memory]}
            state = await http.get(f"/threads/{written.memory_thread}/state")
            assert state.json()["values"]["remember"] == marks.memory


async def test_key_rotation(engine: str) -> None:
    marks = Markers()
    with database_for(engine) as db:
        async with serving(db, aes_key=KEY_A) as http:
            written = await write(http, marks)
        # Rotated: B encrypts, A still decrypts.
        async with serving(db, aes_key=KEY_B, aes_key_previous=KEY_A) as http:
            await assert_readable(http, written, marks)
            put = {"namespace": ["notes"], "key": "new", "value": {"note": "after rotation"}}
            assert (await http.put("/store/items", json=put)).status_code == 204
            patch = await http.patch(
                f"/assistants/{written.assistant}", json={"config": {"configurable": {"n": 2}}}
            )
            assert patch.status_code == 200, patch.text
        # A retired: what B wrote reads, what A wrote (and nobody rewrote) does not.
        async with serving(db, aes_key=KEY_B) as http:
            new = await http.get("/store/items", params={"namespace": "notes", "key": "new"})
            assert new.json()["value"] == {"note": "after rotation"}
            assistant = await http.get(f"/assistants/{written.assistant}")
            assert assistant.json()["config"] == {"configurable": {"n": 2}}
            old = await http.get("/store/items", params={"namespace": "notes", "key": "k"})
            assert old.status_code == 500
            old = await http.get(f"/runs/crons/{written.cron}")
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


# --- threads.search(values=...) on encrypted values ---------------------------------------


async def counter_threads(http: httpx.AsyncClient, label: str, counts: list[int]) -> list[str]:
    """Threads of `label` whose values are {"count": c, "log": ["even"] for even c}, created
    in this order (with state updates: no run needed)."""
    ids = []
    for count in counts:
        values: dict[str, Any] = {"count": count, "log": ["even"] if count % 2 == 0 else []}
        body = {
            "metadata": {"graph_id": "counter", "label": label},
            "supersteps": [{"updates": [{"values": values, "as_node": "increment"}]}],
        }
        r = await http.post("/threads", json=body)
        assert r.status_code == 200, r.text
        ids.append(r.json()["thread_id"])
    return ids


async def values_searches(http: httpx.AsyncClient, label: str) -> list[Any]:
    """The counts found by a set of values searches and counts, pages and orders."""
    out: list[Any] = []
    for values, sort_order, offset, limit in (
        ({"log": ["even"]}, "desc", 0, 2),
        ({"log": ["even"]}, "desc", 2, 2),
        ({"log": ["even"]}, "desc", 4, 2),
        ({"log": ["even"]}, "asc", 1, 10),
        ({"count": 3}, "desc", 0, 10),
        ({"count": 3, "log": ["even"]}, "desc", 0, 10),
        ({"count": True}, "desc", 0, 10),
    ):
        body = {
            "metadata": {"label": label},
            "values": values,
            "sort_by": "created_at",
            "sort_order": sort_order,
            "offset": offset,
            "limit": limit,
        }
        r = await http.post("/threads/search", json=body)
        assert r.status_code == 200, r.text
        out.append(([t["values"]["count"] for t in r.json()], r.headers.get("X-Pagination-Next")))
        count = await http.post(
            "/threads/count", json={"metadata": {"label": label}, "values": values}
        )
        out.append(count.json())
    return out


async def test_values_search_on_encrypted_values_answers_as_sql_does(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With encryption SQL cannot see values: the search reads the threads the other filters
    select (pages of 2 here, so several) and matches decrypted values. It gives what the SQL
    search gives without a key, pages and counts included."""
    monkeypatch.setattr(thread_store, "_SCAN_PAGE", 2)
    answers = []
    for key in (None, KEY_A):
        with database_for(engine) as db:
            async with serving(db, aes_key=key) as http:
                label = uuid.uuid4().hex
                await counter_threads(http, label, [0, 1, 2, 3, 4, 5, 6])
                await counter_threads(http, uuid.uuid4().hex, [0, 3])  # other label
                answers.append(await values_searches(http, label))
    assert answers[0][0] == ([6, 4], "2")  # the expected shape, without a key
    assert answers[1] == answers[0]


async def test_values_search_reads_a_bounded_number_of_threads(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(thread_store, "_SCAN_PAGE", 2)
    monkeypatch.setattr(thread_store, "VALUES_SCAN_LIMIT", 4)
    with database_for(engine) as db:
        async with serving(db, aes_key=KEY_A) as http:
            label = uuid.uuid4().hex
            ids = await counter_threads(http, label, [0, 1, 2, 3, 4, 5, 6])
            search = {"metadata": {"label": label}, "values": {"count": 0}}
            for path in ("/threads/search", "/threads/count"):
                r = await http.post(path, json=search)
                assert r.status_code == 422, r.text
                assert "narrow it with metadata, status or ids" in r.json()["detail"]
            # A page (and the match after it) found before the limit, or fewer threads to
            # read: answered.
            r = await http.post(
                "/threads/search", json={**search, "values": {"log": ["even"]}, "limit": 1}
            )
            assert [t["thread_id"] for t in r.json()] == [ids[6]]
            assert r.headers["X-Pagination-Next"] == "1"
            r = await http.post("/threads/search", json={**search, "ids": ids[:4]})
            assert [t["thread_id"] for t in r.json()] == [ids[0]]


CONTAINMENT = [
    ({"a": 1}, {"a": 1}),
    ({"a": 1}, {"a": 1.0}),
    ({"a": 1}, {"a": True}),
    ({"a": True}, {"a": 1}),
    ({"a": True}, {"a": True}),
    ({"a": None}, {"a": None}),
    ({}, {"a": None}),
    ({"a": "1"}, {"a": 1}),
    ({"a": [1, 2, 3]}, {"a": [3, 1]}),
    ({"a": [1, 2]}, {"a": [1, 4]}),
    ({"a": [1]}, {"a": 1}),
    ({"a": 1}, {"a": [1]}),
    ({"a": [{"b": 1, "c": 2}, {"b": 3}]}, {"a": [{"b": 3}, {"c": 2}]}),
    ({"a": [[1, 2]]}, {"a": [[2]]}),
    ({"a": {"b": {"c": "x"}}}, {"a": {"b": {"c": "x"}}}),
    ({"a": {"b": {"c": "x"}}}, {"a": {"b": {"c": "y"}}}),
    ({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}}),
    ({"a": {"b": 1}, "d": "e"}, {"d": "e"}),
    ({"a": 1}, {"a": {"b": 1}}),
    ({"messages": [{"content": "hi", "type": "human"}]}, {"messages": [{"content": "hi"}]}),
]


async def test_containment_in_python_is_the_sql_containment(engine: str) -> None:
    """`json_contains` (searches on encrypted values) decides as `contains` does in SQL."""
    with database_for(engine) as db:
        opened = open_database(sqlite_path=db.get("database"), postgres_url=db.get("database_url"))
        async with opened as database, database.read() as conn:
            for doc, want in CONTAINMENT:
                value: Any = literal(json_dumps(doc))
                if database.dialect == "postgresql":
                    value = sql_cast(value, JSONB)
                q = select(contains(value, database.dialect, want))
                in_sql = bool((await conn.execute(q)).scalar())
                assert json_contains(doc, want) is in_sql, (doc, want, in_sql)
    assert {json_contains(doc, want) for doc, want in CONTAINMENT} == {True, False}
