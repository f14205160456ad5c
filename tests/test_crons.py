"""Crons (docs/api.md#crons): the API through the official client, the scheduler driven through
its public `tick(now=...)`, and the DST rules of `next_run`.

Schedules are yearly so the real-time scheduler running in the server never fires a test's
cron by itself; each test fires ticks explicitly with a clock of its choosing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from graphport.server.errors import Unprocessable
from graphport.server.jobs.crons import Scheduler
from graphport.server.services.crons import next_run
from graphport.server.storage import crons as cron_store
from run_helpers import poll, until_status

YEARLY = "0 0 1 1 *"
ECHO_ID = str(uuid.uuid5(uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8"), "echo"))
INPUT = {"messages": [{"role": "user", "content": "tick"}]}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def tick(server: Any, now: datetime, schedulers: int = 1) -> list[dict[str, Any]]:
    """Run `schedulers` scheduler ticks at once on the server's loop; all runs they made."""

    async def race() -> list[dict[str, Any]]:
        batches = await asyncio.gather(
            *(Scheduler(server.core, server.app.state.auth).tick(now) for _ in range(schedulers))
        )
        return [run for batch in batches for run in batch]

    return await asyncio.to_thread(server.call, race)


def of(cron: dict[str, Any], runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs a tick made for this cron (a tick fires every cron due, other tests' too)."""
    return [
        r for r in runs if r["kwargs"]["config"]["configurable"].get("cron_id") == cron["cron_id"]
    ]


@pytest.fixture
async def crons(http: httpx.AsyncClient) -> AsyncIterator[Callable[..., Any]]:
    """Create crons over HTTP and delete them afterwards, so later ticks don't fire them."""
    made: list[str] = []

    async def create(thread_id: str | None = None, **body: Any) -> dict[str, Any]:
        url = f"/threads/{thread_id}/runs/crons" if thread_id else "/runs/crons"
        r = await http.post(url, json={"assistant_id": "echo", "schedule": YEARLY, **body})
        assert r.status_code == 200, r.text
        made.append(r.json()["cron_id"])
        return dict(r.json())

    yield create
    for cron_id in made:
        await http.delete(f"/runs/crons/{cron_id}")


async def get_cron(http: httpx.AsyncClient, cron_id: str) -> dict[str, Any]:
    r = await http.get(f"/runs/crons/{cron_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- API ----------------------------------------------------------------------------------


async def test_create_stateless_cron_with_sdk(client: Any, http: httpx.AsyncClient) -> None:
    cron = await client.crons.create(
        "echo",
        schedule="30 9 * * 1-5",
        input=INPUT,
        metadata={"owner": "ops", "run_id": "stripped"},
        timezone="Europe/Paris",
        end_time=datetime.now(UTC) + timedelta(days=30),
    )
    try:
        uuid.UUID(cron["cron_id"])
        assert cron["assistant_id"] == ECHO_ID
        assert cron["thread_id"] is None
        assert cron["on_run_completed"] == "delete"
        assert cron["enabled"] is True
        assert cron["user_id"] is None
        assert cron["metadata"] == {"owner": "ops"}
        assert cron["payload"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
        assert cron["payload"]["input"] == INPUT
        assert cron["payload"]["assistant_id"] == ECHO_ID
        next_local = at(cron["next_run_date"]).astimezone(ZoneInfo("Europe/Paris"))
        assert (next_local.hour, next_local.minute) == (9, 30) and next_local.weekday() < 5
        assert at(cron["next_run_date"]) > datetime.now(UTC)
        assert await get_cron(http, cron["cron_id"]) == cron
    finally:
        await client.crons.delete(cron["cron_id"])
    assert (await http.get(f"/runs/crons/{cron['cron_id']}")).status_code == 404


async def test_create_thread_cron(client: Any, crons: Any) -> None:
    thread = await client.threads.create()
    cron = await client.crons.create_for_thread(
        thread["thread_id"], "echo", schedule=YEARLY, multitask_strategy="reject"
    )
    try:
        assert cron["thread_id"] == thread["thread_id"]
        assert cron["on_run_completed"] is None
        assert cron["payload"]["multitask_strategy"] == "reject"
    finally:
        await client.crons.delete(cron["cron_id"])


async def test_create_errors(http: httpx.AsyncClient) -> None:
    async def post(url: str = "/runs/crons", **body: Any) -> httpx.Response:
        return await http.post(url, json={"assistant_id": "echo", "schedule": YEARLY, **body})

    for bad in ("not a cron", "0 25 * * *", "* * * * * *", "* * * *"):
        r = await post(schedule=bad)
        assert r.status_code == 422 and "schedule" in r.json()["detail"], (bad, r.text)
    r = await post(schedule="0 0 31 2 *")  # valid syntax, never fires
    assert r.status_code == 422 and "never fires" in r.json()["detail"]
    r = await post(timezone="Mars/Olympus")
    assert r.status_code == 422 and "timezone" in r.json()["detail"]
    r = await post(assistant_id=str(uuid.uuid4()))
    assert r.status_code == 404
    r = await post(f"/threads/{uuid.uuid4()}/runs/crons")
    assert r.status_code == 404
    r = await post("/threads/nope/runs/crons")
    assert r.status_code == 422
    r = await post(config={"configurable": {"a": 1}}, context={"b": 2})
    assert r.status_code == 400
    r = await http.post("/runs/crons", json={"schedule": YEARLY})
    assert r.status_code == 422 and "assistant_id" in r.json()["detail"]


async def test_search_count_and_pagination(
    client: Any, http: httpx.AsyncClient, crons: Any
) -> None:
    tag = uuid.uuid4().hex
    thread = await client.threads.create()
    made = [await crons(metadata={"tag": tag, "i": i}) for i in range(3)]
    made.append(await crons(thread["thread_id"], metadata={"tag": tag, "i": 3}, enabled=False))

    found = await client.crons.search(metadata={"tag": tag}, limit=10)
    assert [c["cron_id"] for c in found] == [c["cron_id"] for c in reversed(made)]
    assert await client.crons.count(metadata={"tag": tag}) == 4
    assert await client.crons.count(thread_id=thread["thread_id"]) == 1
    disabled = await client.crons.search(metadata={"tag": tag}, enabled=False)
    assert [c["cron_id"] for c in disabled] == [made[3]["cron_id"]]
    by_assistant = await client.crons.search(
        assistant_id=ECHO_ID, metadata={"tag": tag}, sort_by="cron_id", sort_order="asc"
    )
    assert [c["cron_id"] for c in by_assistant] == sorted(c["cron_id"] for c in made)

    r = await http.post("/runs/crons/search", json={"metadata": {"tag": tag}, "limit": 3})
    assert r.headers["X-Pagination-Next"] == "3" and len(r.json()) == 3
    r = await http.post(
        "/runs/crons/search",
        json={"metadata": {"tag": tag}, "limit": 3, "offset": 3, "select": ["cron_id", "enabled"]},
    )
    assert "X-Pagination-Next" not in r.headers and r.headers["X-Pagination-Total"] == "4"
    assert r.json() == [{"cron_id": made[0]["cron_id"], "enabled": True}]

    r = await http.post("/runs/crons/search", json={"assistant_id": "echo"})
    assert r.status_code == 422  # graph ids are not resolved in search filters
    r = await http.post("/runs/crons/search", json={"select": ["now"]})
    assert r.status_code == 422


async def test_patch(client: Any, http: httpx.AsyncClient, crons: Any) -> None:
    cron = await crons(metadata={"a": 1}, input=INPUT, end_time="2999-01-01T00:00:00Z")
    updated = await client.crons.update(
        cron["cron_id"], schedule="15 6 * * *", timezone="America/New_York", metadata={"b": 2}
    )
    assert updated["schedule"] == "15 6 * * *" and updated["timezone"] == "America/New_York"
    assert updated["metadata"] == {"a": 1, "b": 2}
    assert updated["payload"]["metadata"] == {"a": 1, "b": 2}
    assert updated["payload"]["input"] == INPUT  # untouched payload fields are kept
    assert updated["payload"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    local = at(updated["next_run_date"]).astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (6, 15)
    assert updated["end_time"] is not None  # omitted: left alone
    assert await get_cron(http, cron["cron_id"]) == updated

    cleared = await client.crons.update(cron["cron_id"], end_time=None)
    assert cleared["end_time"] is None
    paused = await client.crons.update(cron["cron_id"], enabled=False, on_run_completed="keep")
    assert paused["enabled"] is False and paused["on_run_completed"] == "keep"

    r = await http.patch(f"/runs/crons/{cron['cron_id']}", json={})
    assert r.status_code == 400 and r.json()["detail"] == "Request body cannot be empty"
    r = await http.patch(f"/runs/crons/{cron['cron_id']}", json={"unknown": 1})
    assert r.status_code == 400 and r.json()["detail"] == "No fields to update"
    r = await http.patch(f"/runs/crons/{cron['cron_id']}", json={"schedule": "nope"})
    assert r.status_code == 422
    r = await http.patch(f"/runs/crons/{uuid.uuid4()}", json={"enabled": True})
    assert r.status_code == 404
    r = await http.patch("/runs/crons/nope", json={"enabled": True})
    assert r.status_code == 422


async def test_deleting_thread_deletes_its_crons(client: Any, http: httpx.AsyncClient) -> None:
    thread = await client.threads.create()
    cron = await client.crons.create_for_thread(thread["thread_id"], "echo", schedule=YEARLY)
    await client.threads.delete(thread["thread_id"])
    assert (await http.get(f"/runs/crons/{cron['cron_id']}")).status_code == 404


# --- the scheduler ------------------------------------------------------------------------


async def test_stateless_cron_fires_once_per_tick(
    server: Any, http: httpx.AsyncClient, crons: Any
) -> None:
    cron = await crons(input=INPUT, metadata={"origin": "cron"}, on_run_completed="keep")
    due = at(cron["next_run_date"])
    # Two schedulers racing for the same tick (replicas): exactly one run.
    runs = of(cron, await tick(server, due + timedelta(seconds=1), schedulers=2))
    assert len(runs) == 1
    run = runs[0]
    assert run["metadata"]["origin"] == "cron"
    assert run["kwargs"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    assert await until_status(http, run["thread_id"], run["run_id"]) == "success"
    state = (await http.get(f"/threads/{run['thread_id']}/state")).json()
    assert state["values"]["messages"][-1]["content"] == "tick"  # kept: on_run_completed=keep

    # The same tick again (a restarted scheduler with a stale clock): nothing.
    assert of(cron, await tick(server, due + timedelta(seconds=1))) == []
    after = await get_cron(http, cron["cron_id"])
    assert at(after["next_run_date"]) == due.replace(year=due.year + 1)


async def test_stateless_cron_deletes_its_thread(
    server: Any, http: httpx.AsyncClient, crons: Any
) -> None:
    cron = await crons(input=INPUT)
    (run,) = of(cron, await tick(server, at(cron["next_run_date"])))
    await poll(
        lambda: http.get(f"/threads/{run['thread_id']}"),
        lambda r: r.status_code == 404,
        timeout=15,
        what="the cron run's thread to be deleted",
    )


async def test_thread_cron_runs_on_its_thread(
    server: Any, client: Any, http: httpx.AsyncClient, crons: Any
) -> None:
    thread = await client.threads.create()
    cron = await crons(thread["thread_id"], input=INPUT)
    (run,) = of(cron, await tick(server, at(cron["next_run_date"])))
    assert run["thread_id"] == thread["thread_id"]
    assert await until_status(http, run["thread_id"], run["run_id"]) == "success"
    listed = await client.runs.list(thread["thread_id"])
    assert [r["run_id"] for r in listed] == [run["run_id"]]


async def test_missed_ticks_fire_once_and_resume_from_now(
    server: Any, http: httpx.AsyncClient, crons: Any
) -> None:
    cron = await crons(schedule="0 * * * *", input=INPUT)
    # The server was "down" for three days: one run, and the next tick counts from now.
    now = at(cron["next_run_date"]) + timedelta(days=3, minutes=20)
    assert len(of(cron, await tick(server, now))) == 1
    after = await get_cron(http, cron["cron_id"])
    assert at(after["next_run_date"]) == now.replace(minute=0) + timedelta(hours=1)


async def test_end_time_and_disabled(server: Any, http: httpx.AsyncClient, crons: Any) -> None:
    ends = datetime.now(UTC) + timedelta(days=1)
    ending = await crons(end_time=ends.isoformat())
    disabled = await crons(enabled=False)
    now = max(at(ending["next_run_date"]), at(disabled["next_run_date"])) + timedelta(minutes=1)
    runs = await tick(server, now)
    assert of(ending, runs) == [] and of(disabled, runs) == []
    assert (await get_cron(http, ending["cron_id"]))["enabled"] is False


async def test_reenabling_counts_from_now(http: httpx.AsyncClient, crons: Any) -> None:
    cron = await crons(schedule="* * * * *", enabled=False)
    r = await http.patch(f"/runs/crons/{cron['cron_id']}", json={"enabled": True})
    assert r.status_code == 200, r.text
    assert at(r.json()["next_run_date"]) > datetime.now(UTC) - timedelta(seconds=1)


async def test_a_broken_cron_does_not_stop_the_others(
    server: Any, http: httpx.AsyncClient, crons: Any
) -> None:
    good = await crons(input=INPUT)
    due = at(good["next_run_date"])
    # A row the API would refuse (as an older version or a manual edit might leave).
    broken = {
        **good,
        "cron_id": str(uuid.uuid4()),
        "schedule": "bogus",
        "next_run_date": due,
        "created_at": due,
        "updated_at": due,
    }

    async def insert() -> None:
        async with server.core.db.begin() as conn:
            await cron_store.insert_new(conn, broken)

    await asyncio.to_thread(server.call, insert)
    try:
        runs = await tick(server, at(good["next_run_date"]))
        assert len(of(good, runs)) == 1 and of(broken, runs) == []
        assert (await get_cron(http, broken["cron_id"]))["enabled"] is False
    finally:
        await http.delete(f"/runs/crons/{broken['cron_id']}")


# --- schedules and time zones -------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "tz", "after", "expected"),
    [
        # Plain UTC.
        ("*/15 * * * *", None, "2025-06-01T10:07:00+00:00", "2025-06-01T10:15:00+00:00"),
        # 09:00 Paris is 07:00Z in summer and 08:00Z in winter.
        ("0 9 * * *", "Europe/Paris", "2025-07-01T12:00:00+00:00", "2025-07-02T07:00:00+00:00"),
        ("0 9 * * *", "Europe/Paris", "2025-12-01T12:00:00+00:00", "2025-12-02T08:00:00+00:00"),
        # Spring forward: 02:30 does not exist in New York on 2025-03-09; fires at 03:00 EDT.
        (
            "30 2 * * *",
            "America/New_York",
            "2025-03-08T12:00:00+00:00",
            "2025-03-09T07:00:00+00:00",
        ),
        # Fall back: 01:30 happens twice on 2025-11-02; a daily job fires once (01:30 EDT) ...
        (
            "30 1 * * *",
            "America/New_York",
            "2025-11-02T05:00:00+00:00",
            "2025-11-02T05:30:00+00:00",
        ),
        (
            "30 1 * * *",
            "America/New_York",
            "2025-11-02T05:30:00+00:00",
            "2025-11-03T06:30:00+00:00",
        ),
        # ... while an hourly job fires in both 01:00 hours.
        ("0 * * * *", "America/New_York", "2025-11-02T05:00:00+00:00", "2025-11-02T06:00:00+00:00"),
    ],
)
def test_next_run_is_dst_safe(schedule: str, tz: str | None, after: str, expected: str) -> None:
    assert next_run(schedule, tz, at(after)) == at(expected)


def test_next_run_rejects_bad_input() -> None:
    with pytest.raises(Unprocessable, match="schedule"):
        next_run("61 * * * *", None, datetime.now(UTC))
    with pytest.raises(Unprocessable, match="timezone"):
        next_run("* * * * *", "Nowhere/Special", datetime.now(UTC))
