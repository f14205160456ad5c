"""Every public method of both clients is called by these acceptance tests.

The tests are written once against the async surface and run for the sync client through
`SyncAdapter`, so two things make "every method of both clients" true: the sync classes have
exactly the async classes' public methods, and each of those is called somewhere here (a call
`client.<resource>.<method>(` in this folder's sources).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from graphport.sdk.client import (
    AssistantsClient,
    CronClient,
    HttpClient,
    RunsClient,
    StoreClient,
    SyncAssistantsClient,
    SyncCronClient,
    SyncHttpClient,
    SyncRunsClient,
    SyncStoreClient,
    SyncThreadsClient,
    ThreadsClient,
)

RESOURCES = {
    "http": (HttpClient, SyncHttpClient),
    "assistants": (AssistantsClient, SyncAssistantsClient),
    "threads": (ThreadsClient, SyncThreadsClient),
    "runs": (RunsClient, SyncRunsClient),
    "crons": (CronClient, SyncCronClient),
    "store": (StoreClient, SyncStoreClient),
}
SOURCES = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))


def _public(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items() if not n.startswith("_") and inspect.isfunction(v)}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_every_method_is_exercised(resource: str) -> None:
    async_cls, sync_cls = RESOURCES[resource]
    assert _public(async_cls) == _public(sync_cls)
    untested = sorted(
        name for name in _public(async_cls) if not re.search(rf"\.{resource}\.{name}\(", SOURCES)
    )
    assert not untested, f"client.{resource} methods no acceptance test calls: {untested}"
