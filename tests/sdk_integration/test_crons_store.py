"""`client.crons` and `client.store`: every method against a real server.

Both sets of routes are skipped, with a reason, while the server lacks them; they run by
themselves once the routes are in the app's OpenAPI schema.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from graphport.sdk.errors import NotFoundError

from .conftest import requires_routes
from .helpers import CRON, ITEM, check, check_all, system_assistant

pytestmark = pytest.mark.timeout(60)

NEVER = "0 0 1 1 *"  # once a year, on Jan 1st: never fires during a test


@requires_routes(
    "/runs/crons",
    "/threads/{thread_id}/runs/crons",
    "/runs/crons/{cron_id}",
    "/runs/crons/search",
    "/runs/crons/count",
)
async def test_crons(client: Any) -> None:
    tag = uuid.uuid4().hex
    assistant_id = await system_assistant(client, "counter")
    thread_id = (await client.threads.create())["thread_id"]
    end = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400)

    on_thread = check(
        await client.crons.create_for_thread(
            thread_id,
            "counter",
            schedule=NEVER,
            input={"count": 1},
            metadata={"tag": tag, "kind": "thread"},
            end_time=end,
            timezone=ZoneInfo("Europe/Paris"),
            stream_mode=["values"],
            multitask_strategy="enqueue",
        ),
        CRON,
        "cron",
    )
    assert (on_thread["thread_id"], on_thread["assistant_id"]) == (thread_id, assistant_id)
    assert (on_thread["schedule"], on_thread["timezone"]) == (NEVER, "Europe/Paris")
    assert datetime.fromisoformat(on_thread["end_time"]) == end
    assert on_thread["enabled"] is True and on_thread["payload"]["input"] == {"count": 1}

    stateless = check(
        await client.crons.create(
            "counter",
            schedule=NEVER,
            input={"count": 2},
            metadata={"tag": tag, "kind": "stateless"},
            on_run_completed="keep",
            enabled=False,
            timezone="UTC",
        ),
        CRON,
        "cron",
    )
    assert stateless["thread_id"] is None and stateless["enabled"] is False
    assert stateless["on_run_completed"] == "keep"

    updated = check(
        await client.crons.update(
            on_thread["cron_id"],
            schedule="0 0 2 1 *",
            end_time=None,
            enabled=False,
            metadata={"more": 1},
            input={"count": 3},
        ),
        CRON,
        "cron",
    )
    assert (updated["schedule"], updated["end_time"], updated["enabled"]) == (
        "0 0 2 1 *",
        None,
        False,
    )
    assert updated["metadata"]["tag"] == tag and updated["metadata"]["more"] == 1
    assert updated["payload"]["input"] == {"count": 3}
    kept = await client.crons.update(on_thread["cron_id"], enabled=True)
    assert kept["end_time"] is None and kept["enabled"] is True  # end_time left as it was

    found = check_all(
        await client.crons.search(metadata={"tag": tag}, sort_by="created_at", sort_order="asc"),
        CRON,
    )
    assert [c["cron_id"] for c in found] == [on_thread["cron_id"], stateless["cron_id"]]
    by_thread = await client.crons.search(thread_id=thread_id)
    assert [c["cron_id"] for c in by_thread] == [on_thread["cron_id"]]
    paused = await client.crons.search(
        assistant_id=assistant_id, metadata={"tag": tag}, enabled=False
    )
    assert [c["cron_id"] for c in paused] == [stateless["cron_id"]]
    page = await client.crons.search(
        metadata={"tag": tag}, limit=1, offset=1, select=["cron_id", "schedule"]
    )
    assert len(page) == 1 and set(page[0]) == {"cron_id", "schedule"}

    assert await client.crons.count(metadata={"tag": tag}) == 2
    assert await client.crons.count(thread_id=thread_id) == 1
    assert await client.crons.count(assistant_id=assistant_id, metadata={"tag": tag}) == 2

    assert await client.crons.delete(stateless["cron_id"]) is None
    assert await client.crons.count(metadata={"tag": tag}) == 1
    with pytest.raises(NotFoundError):
        await client.crons.delete(stateless["cron_id"])
    await client.crons.delete(on_thread["cron_id"])


@requires_routes("/store/items", "/store/items/search", "/store/namespaces")
async def test_store(client: Any) -> None:
    root = f"t{uuid.uuid4().hex}"
    assert await client.store.put_item([root, "a"], "k1", {"n": 1, "color": "red"}) is None
    await client.store.put_item([root, "a"], "k2", {"n": 2, "color": "blue"}, index=False)
    await client.store.put_item([root, "b", "deep"], "k3", {"n": 3}, ttl=60)

    item = check(await client.store.get_item([root, "a"], "k1"), ITEM, "item")
    assert (item["namespace"], item["key"], item["value"]) == (
        [root, "a"],
        "k1",
        {"n": 1, "color": "red"},
    )
    refreshed = await client.store.get_item([root, "b", "deep"], key="k3", refresh_ttl=True)
    assert refreshed is not None and refreshed["value"] == {"n": 3}
    assert await client.store.get_item([root, "a"], "missing") is None

    everything = await client.store.search_items([root])
    assert set(everything) >= {"items"}
    check_all(everything["items"], ITEM)
    assert {i["key"] for i in everything["items"]} == {"k1", "k2", "k3"}
    blue = await client.store.search_items([root], filter={"color": "blue"})
    assert [i["key"] for i in blue["items"]] == ["k2"]
    one = await client.store.search_items([root, "a"], limit=1, offset=1, refresh_ttl=False)
    assert len(one["items"]) == 1

    listed = await client.store.list_namespaces(prefix=[root])
    assert set(listed) == {"namespaces"}
    assert sorted(listed["namespaces"]) == [[root, "a"], [root, "b", "deep"]]
    shallow = await client.store.list_namespaces(prefix=[root], max_depth=2)
    assert sorted(shallow["namespaces"]) == [[root, "a"], [root, "b"]]
    ending = await client.store.list_namespaces(prefix=[root], suffix=["deep"], limit=5)
    assert ending["namespaces"] == [[root, "b", "deep"]]

    assert await client.store.delete_item([root, "a"], "k1") is None
    assert await client.store.get_item([root, "a"], "k1") is None
    with pytest.raises(ValueError, match="cannot contain"):
        await client.store.put_item([root, "a.b"], "k", {})
