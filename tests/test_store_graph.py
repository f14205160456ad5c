"""The store a graph gets injected is the store the API serves: same items both ways."""

from __future__ import annotations

import uuid
from typing import Any


async def test_graph_and_api_share_the_store(client: Any) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    namespace = ["memories", user]

    # Written by the graph, read through the API.
    result = await client.runs.wait(
        None, "memory", input={"remember": "I like tea"}, context={"user_id": user}
    )
    assert result["memories"] == ["I like tea"]
    found = await client.store.search_items(namespace)
    assert [item["value"] for item in found["items"]] == [{"text": "I like tea"}]
    key = found["items"][0]["key"]
    item = await client.store.get_item(namespace, key=key)
    assert item is not None and item["namespace"] == namespace

    # Written through the API, read by the graph.
    await client.store.put_item(namespace, key="from-api", value={"text": "and biscuits"})
    result = await client.runs.wait(None, "memory", input={}, context={"user_id": user})
    assert result["memories"] == ["I like tea", "and biscuits"]

    # Deleted through the API, gone for the graph.
    await client.store.delete_item(namespace, key=key)
    result = await client.runs.wait(None, "memory", input={}, context={"user_id": user})
    assert result["memories"] == ["and biscuits"]
    namespaces = await client.store.list_namespaces(prefix=["memories"])
    assert namespace in namespaces["namespaces"]
