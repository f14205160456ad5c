# Generated from src/graphport/sdk/_async/store.py by scripts/unasync.py; do not edit.
"""Store: JSON documents shared across threads, by namespace and key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from graphport.sdk._sync.http import SyncHttpClient
from graphport.sdk._shared.payloads import check_namespace, not_none
from graphport.sdk._shared.urls import merge_params
from graphport.sdk.schema import (
    Item,
    ListNamespaceResponse,
    QueryParamTypes,
    SearchItemsResponse,
)


class SyncStoreClient:
    """Put, get, search and delete documents of the long-term store.

    A namespace is a sequence of labels like `["users", "alice"]`; labels cannot contain `.`.
    Every method also takes `headers` and `params`.
    """

    def __init__(self, http: SyncHttpClient) -> None:
        self.http = http

    def put_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        ttl: int | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Store `value` under `namespace` and `key`, replacing what was there.

        Args:
            index: Fields to index for semantic search, or `False` not to index.
            ttl: Minutes until the item expires.
        """
        body = not_none(
            namespace=check_namespace(namespace), key=key, value=value, index=index, ttl=ttl
        )
        self.http.put("/store/items", json=body, headers=headers, params=params)

    def get_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        *,
        refresh_ttl: bool | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Item | None:
        """Get an item, or `None` if there is none.

        Args:
            refresh_ttl: Restart the item's TTL (the server's default if `None`).
        """
        own = not_none(
            namespace=".".join(check_namespace(namespace)), key=key, refresh_ttl=refresh_ttl
        )
        return cast(
            Item | None,
            self.http.get("/store/items", params=merge_params(own, params), headers=headers),
        )

    def delete_item(
        self,
        namespace: Sequence[str],
        /,
        key: str,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Delete an item."""
        self.http.delete(
            "/store/items",
            json={"namespace": namespace, "key": key},
            headers=headers,
            params=params,
        )

    def search_items(
        self,
        namespace_prefix: Sequence[str],
        /,
        filter: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        query: str | None = None,
        refresh_ttl: bool | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> SearchItemsResponse:
        """Search the items under a namespace prefix.

        Args:
            filter: Only items whose value contains these pairs.
            limit: Page size.
            offset: Results to skip.
            query: Natural-language query, for stores with semantic search.
            refresh_ttl: Restart the TTL of the items returned.
        """
        body = not_none(
            namespace_prefix=namespace_prefix,
            filter=filter,
            limit=limit,
            offset=offset,
            query=query,
            refresh_ttl=refresh_ttl,
        )
        return cast(
            SearchItemsResponse,
            self.http.post("/store/items/search", json=body, headers=headers, params=params),
        )

    def list_namespaces(
        self,
        prefix: list[str] | None = None,
        suffix: list[str] | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> ListNamespaceResponse:
        """List namespaces, optionally those starting with `prefix` or ending with `suffix`.

        Args:
            max_depth: Truncate namespaces to this many labels.
            limit: Page size.
            offset: Namespaces to skip.
        """
        body = not_none(
            prefix=prefix, suffix=suffix, max_depth=max_depth, limit=limit, offset=offset
        )
        return cast(
            ListNamespaceResponse,
            self.http.post("/store/namespaces", json=body, headers=headers, params=params),
        )
