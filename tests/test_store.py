"""The long-term store (docs/api.md#store), TTLs and their sweeps, and semantic search with a
deterministic local embedding (tests/store_configs/semantic/embed.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import site
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from conftest import PG_URL, free_port
from graphport.server.app import create_app
from graphport.server.graphs import ConfigError, load_config
from graphport.server.graphs.persistence import (
    ThreadTTLPolicy,
    load_embeddings,
    store_kwargs,
    thread_ttl_policy,
)
from graphport.server.services.store import and_filters
from graphport.server.settings import Settings
from run_helpers import poll, wait_run

CONFIGS = Path(__file__).parent / "store_configs"
SEMANTIC = CONFIGS / "semantic" / "langgraph.json"
TTL = CONFIGS / "ttl" / "langgraph.json"
SRC = Path(__file__).parent.parent / "src"


def ns() -> tuple[str, str]:
    """A namespace of its own per test: the session server is shared."""
    return ("t", uuid.uuid4().hex)


async def sweep(server: Any, what: str) -> int:
    sweeper = server.app.state.sweeper
    fn = sweeper.sweep_store if what == "store" else sweeper.sweep_threads
    return int(await asyncio.to_thread(server.call, fn))


# --- items --------------------------------------------------------------------------------


async def test_put_get_delete(client: Any) -> None:
    space = ns()
    await client.store.put_item(space, "k", {"a": 1})
    item = await client.store.get_item(space, "k")
    assert item["namespace"] == list(space) and item["key"] == "k" and item["value"] == {"a": 1}
    created = datetime.fromisoformat(item["created_at"])
    assert created.tzinfo is not None
    await client.store.put_item(space, "k", {"a": 2})
    again = await client.store.get_item(space, "k")
    assert again["value"] == {"a": 2} and again["created_at"] == item["created_at"]
    assert datetime.fromisoformat(again["updated_at"]) >= created
    await client.store.delete_item(space, "k")
    assert await client.store.get_item(space, "k") is None
    assert await client.store.get_item(space, "never-stored") is None


async def test_validation(http: httpx.AsyncClient) -> None:
    for bad in (["a.b"], ["a", ""], ["a", 3]):
        r = await http.put("/store/items", json={"namespace": bad, "key": "k", "value": {}})
        assert r.status_code == 422 and "namespace" in r.json()["detail"], (bad, r.text)
    r = await http.put("/store/items", json={"namespace": ["langgraph"], "key": "k", "value": {}})
    assert r.status_code == 422  # a root label the store reserves
    r = await http.put("/store/items", json={"namespace": ["a"], "key": "k", "value": [1]})
    assert r.status_code == 422  # values are objects
    r = await http.get("/store/items", params={"namespace": "a.b"})
    assert r.status_code == 400 and r.json()["detail"] == "Key is required"
    r = await http.get("/store/items", params={"namespace": "a..b", "key": "k"})
    assert r.status_code == 422
    r = await http.post("/store/items/search", json={"namespace_prefix": ["x."]})
    assert r.status_code == 422
    r = await http.post("/store/items/search", json={"filter": {"n": {"$regex": "x"}}})
    assert r.status_code == 400 and "operator" in r.json()["detail"]
    r = await http.post("/store/namespaces", json={"prefix": ["ok", "no.t"]})
    assert r.status_code == 422


async def test_dot_joined_namespace_on_get(client: Any, http: httpx.AsyncClient) -> None:
    space = ns()
    await client.store.put_item(space, "k", {"v": True})
    r = await http.get("/store/items", params={"namespace": ".".join(space), "key": "k"})
    assert r.status_code == 200 and r.json()["value"] == {"v": True}


async def test_search_filters_and_paging(client: Any) -> None:
    space = ns()
    for i in range(6):
        await client.store.put_item(
            (*space, "docs"), f"d{i}", {"n": i, "kind": "even" if i % 2 == 0 else "odd"}
        )
    await client.store.put_item((*space, "other"), "x", {"n": 100, "kind": "even"})

    async def keys(**kw: Any) -> list[str]:
        found = await client.store.search_items((*space, "docs"), limit=20, **kw)
        return sorted(item["key"] for item in found["items"])

    assert await keys() == [f"d{i}" for i in range(6)]
    assert await keys(filter={"kind": "even"}) == ["d0", "d2", "d4"]
    assert await keys(filter={"kind": {"$eq": "odd"}}) == ["d1", "d3", "d5"]
    assert await keys(filter={"kind": {"$ne": "odd"}}) == ["d0", "d2", "d4"]
    assert await keys(filter={"n": {"$gt": 3}}) == ["d4", "d5"]
    assert await keys(filter={"n": {"$gte": 3}}) == ["d3", "d4", "d5"]
    assert await keys(filter={"n": {"$lt": 2}}) == ["d0", "d1"]
    assert await keys(filter={"n": {"$lte": 2}, "kind": "even"}) == ["d0", "d2"]
    assert await keys(filter={"n": {"$gt": 1, "$lt": 4}}) == ["d2", "d3"]

    everything = await client.store.search_items(space, limit=20)
    assert len(everything["items"]) == 7  # prefix matching covers both sub-namespaces
    # Pages partition the results (order is the store's: by update time, ties arbitrary).
    pages = [
        (await client.store.search_items((*space, "docs"), limit=2, offset=o))["items"]
        for o in (0, 2, 4)
    ]
    assert sorted(i["key"] for page in pages for i in page) == [f"d{i}" for i in range(6)]
    assert all(i["score"] is None for i in pages[0])


async def test_list_namespaces(client: Any) -> None:
    root = ns()
    for path in (("a", "x"), ("a", "y"), ("b", "x"), ("b", "y", "deep")):
        await client.store.put_item((*root, *path), "k", {})

    async def listed(**kw: Any) -> list[list[str]]:
        return list((await client.store.list_namespaces(**kw))["namespaces"])

    assert await listed(prefix=list(root)) == [
        [*root, "a", "x"],
        [*root, "a", "y"],
        [*root, "b", "x"],
        [*root, "b", "y", "deep"],
    ]
    assert await listed(prefix=list(root), suffix=["x"]) == [[*root, "a", "x"], [*root, "b", "x"]]
    assert await listed(prefix=list(root), max_depth=3) == [[*root, "a"], [*root, "b"]]
    assert await listed(prefix=list(root), limit=1, offset=1) == [[*root, "a", "y"]]


# --- TTLs ---------------------------------------------------------------------------------


async def _pg_expire_in(server: Any, namespace: tuple[str, ...], key: str, seconds: float) -> None:
    """Move a PostgreSQL store item's expiry close, if it has one (the store keeps
    whole-minute TTLs, so a real cycle would take minutes; this is the same row the
    sweeper and reads look at)."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(
        server.settings.database_url, autocommit=True
    ) as conn:
        await conn.execute(
            "UPDATE store SET expires_at = now() + make_interval(secs => %s) "
            "WHERE prefix = %s AND key = %s AND expires_at IS NOT NULL",
            (seconds, ".".join(namespace), key),
        )


async def test_item_ttl_expires_and_refreshes_on_read(
    backend: str, server: Any, client: Any
) -> None:
    space = ns()
    await client.store.put_item(space, "forever", {"v": 3})
    if backend != "sqlite":  # PostgreSQL, alone or distributed
        await client.store.put_item(space, "read", {"v": 1}, ttl=1)
        await client.store.put_item(space, "unread", {"v": 2}, ttl=1)
        for key in ("read", "unread"):
            await _pg_expire_in(server, space, key, 2)
        # The refresh restarts "read"'s full minute; "unread" keeps its 2 s.
        assert await client.store.get_item(space, "read", refresh_ttl=True) is not None
        await asyncio.sleep(2.5)
    else:
        # 0.1 min = 6 s. "read" is read at ~4 s with a refresh, so it outlives "unread".
        await client.store.put_item(space, "read", {"v": 1}, ttl=0.1)
        await client.store.put_item(space, "unread", {"v": 2}, ttl=0.1)
        start = time.monotonic()
        await asyncio.sleep(4)
        assert await client.store.get_item(space, "read", refresh_ttl=True) is not None
        await asyncio.sleep(max(0.0, 7.5 - (time.monotonic() - start)))
    await sweep(server, "store")
    assert await client.store.get_item(space, "unread", refresh_ttl=False) is None
    assert await client.store.get_item(space, "read", refresh_ttl=False) is not None
    assert await client.store.get_item(space, "forever") is not None


async def test_fractional_ttl_survives_a_refresh(server: Any, client: Any) -> None:
    space = ns()
    await client.store.put_item(space, "k", {}, ttl=0.5)
    assert await client.store.get_item(space, "k", refresh_ttl=True) is not None
    await sweep(server, "store")
    assert await client.store.get_item(space, "k") is not None


async def test_configured_default_ttl(backend: str, start_server: Any) -> None:
    with start_server(TTL) as srv:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            space = list(ns())
            r = await http.put("/store/items", json={"namespace": space, "key": "d", "value": {}})
            assert r.status_code == 204
            body = {"namespace": space, "key": "n", "value": {}, "ttl": None}
            assert (await http.put("/store/items", json=body)).status_code == 204

            async def present() -> set[str]:
                await asyncio.to_thread(srv.call, srv.app.state.sweeper.sweep_store)
                body = {"namespace_prefix": space, "refresh_ttl": False}
                r = await http.post("/store/items/search", json=body)
                return {item["key"] for item in r.json()["items"]}

            if backend != "sqlite":  # PostgreSQL: whole-minute TTLs; bring the expiry close
                await _pg_expire_in(srv, tuple(space), "d", 0.5)
                await _pg_expire_in(srv, tuple(space), "n", 0.5)  # no TTL: nothing to move
            # default_ttl 0.02 min: "d" goes; an explicit null TTL never expires.
            await poll(present, lambda keys: keys == {"n"}, timeout=15, interval=0.5)


async def test_thread_ttl_delete(server: Any, http: httpx.AsyncClient) -> None:
    r = await http.post("/threads", json={"ttl": {"strategy": "delete", "ttl": 0.001}})
    thread_id = r.json()["thread_id"]

    async def swept() -> int:
        await sweep(server, "threads")
        return (await http.get(f"/threads/{thread_id}")).status_code

    await poll(swept, lambda status: status == 404, timeout=10, interval=0.1)


async def test_thread_ttl_keep_latest(server: Any, http: httpx.AsyncClient) -> None:
    r = await http.post("/threads", json={"ttl": {"strategy": "keep_latest", "ttl": 0.002}})
    thread_id = r.json()["thread_id"]
    for text in ("one", "two"):
        await wait_run(
            http, thread_id, "echo", input={"messages": [{"role": "user", "content": text}]}
        )

    async def history_len() -> int:
        await sweep(server, "threads")
        r = await http.post(f"/threads/{thread_id}/history", json={"limit": 100})
        return len(r.json())

    await poll(history_len, lambda n: n == 1, timeout=10, interval=0.1)
    thread = (await http.get(f"/threads/{thread_id}", params={"include": "ttl"})).json()
    assert thread["values"]["messages"][-1]["content"] == "two"  # latest state kept
    assert thread["ttl"]["strategy"] == "keep_latest"
    assert datetime.fromisoformat(thread["ttl"]["expires_at"]) > datetime.fromisoformat(
        thread["updated_at"]
    )


# --- configuration ------------------------------------------------------------------------


def test_ttl_policies_from_config() -> None:
    config = load_config(TTL)
    assert thread_ttl_policy(config) == ThreadTTLPolicy(
        strategy="keep_latest", default_ttl=60.0, sweep_interval_minutes=60.0
    )
    assert thread_ttl_policy(config).default_for_new_thread() == {
        "strategy": "keep_latest",
        "ttl": 60.0,
    }
    assert store_kwargs(config, dialect="sqlite") == {
        "ttl": {"default_ttl": 0.02, "refresh_on_read": True, "sweep_interval_minutes": 60}
    }
    # The PostgreSQL store keeps whole minutes: round up rather than expire on first read.
    assert store_kwargs(config, dialect="postgresql")["ttl"]["default_ttl"] == 1.0
    config.checkpointer = {"ttl": {"strategy": "archive"}}
    with pytest.raises(ConfigError, match="strategy"):
        thread_ttl_policy(config)


def test_embedding_loader() -> None:
    config = load_config(SEMANTIC)
    index = store_kwargs(config, dialect="postgresql")["index"]
    assert index["dims"] == 26 and index["fields"] == index["text_fields"] == ["text"]
    assert index["embed"](["ab"])[0][:3] == pytest.approx([2**-0.5, 2**-0.5, 0.0])
    assert load_embeddings("math:sqrt", config.base_dir)(4.0) == 2.0  # "module:function"
    with pytest.raises(ConfigError, match="file not found"):
        load_embeddings("./missing.py:embed", config.base_dir)
    with pytest.raises(ConfigError, match="no function"):
        load_embeddings("./embed.py:nope", config.base_dir)
    # A provider string needs langchain (not a dependency); the message says what to do.
    try:
        import langchain.embeddings  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="pip install langchain"):
            load_embeddings("openai:text-embedding-3-small", config.base_dir)
    config.store = {"index": {"dims": "26", "embed": "./embed.py:embed"}}
    with pytest.raises(ConfigError, match="dims"):
        store_kwargs(config, dialect="postgresql")


def test_and_filters() -> None:
    assert and_filters(None, None) is None
    assert and_filters({"a": 1}, None) == {"a": {"$eq": 1}}
    assert and_filters({"a": 1}, {"b": 2}) == {"a": {"$eq": 1}, "b": {"$eq": 2}}
    assert and_filters({"a": 1}, {"a": 1}) == {"a": {"$eq": 1}}
    assert and_filters({"a": 1}, {"a": 2}) is None  # nothing can match both
    assert and_filters({"n": {"$gt": 1}}, {"n": {"$gt": 5, "$lt": 9}}) == {
        "n": {"$gt": 5, "$lt": 9}
    }


# --- semantic search ----------------------------------------------------------------------


def _python_env() -> dict[str, str]:
    paths = [str(SRC), *site.getsitepackages()]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _extension_python() -> str | None:
    """This interpreter if its sqlite3 can load extensions (sqlite-vec), else the system one
    of the same version (pyenv builds often can't); None if neither can."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    probe = "import sqlite3, graphport; sqlite3.connect(':memory:').enable_load_extension(True)"
    for exe in (sys.executable, f"/usr/bin/python{version}"):
        if not Path(exe).exists():
            continue
        ok = subprocess.run(
            [exe, "-c", probe], env=_python_env(), capture_output=True, timeout=60
        ).returncode
        if ok == 0:
            return exe
    return None


@contextlib.contextmanager
def _subprocess_server(python: str, config: Path) -> Iterator[str]:
    """`graphport dev` under another interpreter, for what this one can't load."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="graphport-semantic-") as tmp:
        cmd = [python, "-m", "graphport.server.cli", "dev", "--config", str(config)]
        cmd += ["--database", str(Path(tmp) / "db.sqlite"), "--port", str(port)]
        cmd += ["--max-concurrent-runs", "0", "--log-level", "warning"]
        proc = subprocess.Popen(cmd, env=_python_env(), stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, "semantic-search server exited during start-up"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                        break
                assert time.monotonic() < deadline, "semantic-search server did not start"
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _pgvector_missing() -> str | None:
    import psycopg

    with psycopg.connect(PG_URL, connect_timeout=3) as conn:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return None if row else f"the pgvector extension is not installed on {PG_URL}"


@pytest.fixture(params=["plain", "encrypted"])
async def semantic(
    request: pytest.FixtureRequest,
    backend: str,
    start_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Any]:
    """An official client on a server whose store has `store.index` configured; encrypted,
    the vectors must still come from the plaintext the store never sees."""
    if request.param == "encrypted":
        monkeypatch.setenv("GRAPHPORT_AES_KEY", "k" * 32)  # read by Settings and subprocesses
    with contextlib.ExitStack() as stack:
        if backend != "sqlite":  # PostgreSQL, alone or distributed
            reason = _pgvector_missing()
            if reason:
                pytest.skip(reason)
            url = stack.enter_context(start_server(SEMANTIC)).url
        else:
            python = _extension_python()
            if python is None:
                pytest.skip("no Python here whose sqlite3 can load extensions (sqlite-vec)")
            if python == sys.executable:
                url = stack.enter_context(start_server(SEMANTIC)).url
            else:
                url = stack.enter_context(_subprocess_server(python, SEMANTIC))
        client = get_client(url=url, api_key=None)
        try:
            yield client
        finally:
            await client.aclose()


async def test_semantic_search(semantic: Any) -> None:
    space = ("docs",)
    texts = {"fruit": "apple banana", "animals": "zebra yak", "tools": "hammer wrench"}
    for key, text in texts.items():
        await semantic.store.put_item(space, key, {"text": text, "kind": key})
    await semantic.store.put_item(space, "hidden", {"text": "banana apple"}, index=False)
    await semantic.store.put_item(
        space, "other", {"title": "banana", "text": "qqq"}, index=["title"]
    )

    found = (await semantic.store.search_items(space, query="a banana and an apple"))["items"]
    assert found[0]["key"] == "fruit" and found[0]["score"] > found[-1]["score"]
    assert "hidden" not in [item["key"] for item in found]  # index=False: never embedded
    by_title = (await semantic.store.search_items(space, query="banana", limit=2))["items"]
    assert "other" in [item["key"] for item in by_title]  # embedded by its own field list
    filtered = await semantic.store.search_items(space, query="apple", filter={"kind": "tools"})
    assert [item["key"] for item in filtered["items"]] == ["tools"]


def test_sqlite_semantic_search_needs_extension_support(tmp_path: Path) -> None:
    """Where sqlite3 can't load extensions, start-up fails with advice, not mid-request."""
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        pytest.skip("this Python can load SQLite extensions")
    with pytest.raises(ConfigError, match="load extensions"):
        create_app(Settings(config_path=SEMANTIC, database=str(tmp_path / "db.sqlite")))
