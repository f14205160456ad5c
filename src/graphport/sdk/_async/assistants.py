"""Assistants: versioned configurations of a graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast, overload

import httpx

from graphport.sdk._async.http import HttpClient
from graphport.sdk._shared.payloads import truthy
from graphport.sdk._shared.urls import merge_params, quote_path
from graphport.sdk.schema import (
    Assistant,
    AssistantSelectField,
    AssistantSortBy,
    AssistantsSearchResponse,
    AssistantVersion,
    Config,
    Context,
    GraphSchema,
    Json,
    OnConflictBehavior,
    QueryParamTypes,
    SortOrder,
    Subgraphs,
)


class AssistantsClient:
    """Create, read, version and search assistants.

    Every method also takes `headers` (merged over the client's) and `params` (merged over the
    method's own query parameters).
    """

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def get(
        self,
        assistant_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Assistant:
        """Get an assistant by id."""
        return cast(
            Assistant,
            await self.http.get(
                f"/assistants/{quote_path(assistant_id)}", headers=headers, params=params
            ),
        )

    async def get_graph(
        self,
        assistant_id: str,
        *,
        xray: int | bool = False,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Get the drawable graph (`nodes`, `edges`) of an assistant or graph id.

        Args:
            xray: Include subgraphs; a number limits how deep.
        """
        return cast(
            dict[str, list[dict[str, Any]]],
            await self.http.get(
                f"/assistants/{quote_path(assistant_id)}/graph",
                params=merge_params({"xray": xray}, params),
                headers=headers,
            ),
        )

    async def get_schemas(
        self,
        assistant_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> GraphSchema:
        """Get the JSON schemas of an assistant's graph."""
        return cast(
            GraphSchema,
            await self.http.get(
                f"/assistants/{quote_path(assistant_id)}/schemas", headers=headers, params=params
            ),
        )

    async def get_subgraphs(
        self,
        assistant_id: str,
        namespace: str | None = None,
        recurse: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Subgraphs:
        """Get the schemas of an assistant's subgraphs, by namespace.

        Args:
            namespace: Only the subgraph at this namespace.
            recurse: Include subgraphs of subgraphs.
        """
        path = f"/assistants/{quote_path(assistant_id)}/subgraphs"
        if namespace is not None:
            path += f"/{quote_path(namespace)}"
        return cast(
            Subgraphs,
            await self.http.get(
                path, params=merge_params({"recurse": recurse}, params), headers=headers
            ),
        )

    async def create(
        self,
        graph_id: str | None,
        config: Config | None = None,
        *,
        context: Context | None = None,
        metadata: Json = None,
        assistant_id: str | None = None,
        if_exists: OnConflictBehavior | None = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        params: QueryParamTypes | None = None,
    ) -> Assistant:
        """Create an assistant for a graph.

        Args:
            graph_id: The graph to configure, as named in `langgraph.json`.
            config: Default run configuration.
            context: Default static run context.
            metadata: Metadata to attach.
            assistant_id: Use this id (a UUID) instead of a generated one.
            if_exists: `"raise"` (default, 409) or `"do_nothing"` (return the existing one).
            name: Human-readable name.
            description: Human-readable description.
        """
        body = {"graph_id": graph_id} | truthy(
            config=config,
            context=context,
            metadata=metadata,
            assistant_id=assistant_id,
            if_exists=if_exists,
            name=name,
            description=description,
        )
        return cast(
            Assistant,
            await self.http.post("/assistants", json=body, headers=headers, params=params),
        )

    async def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: Config | None = None,
        context: Context | None = None,
        metadata: Json = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        params: QueryParamTypes | None = None,
    ) -> Assistant:
        """Update an assistant, creating a new version of it.

        `config` and `context` are sent whenever given, even empty (to clear them); the other
        fields only when non-empty.
        """
        body = truthy(graph_id=graph_id, metadata=metadata, name=name, description=description)
        if config is not None:
            body["config"] = config
        if context is not None:
            body["context"] = context
        return cast(
            Assistant,
            await self.http.patch(
                f"/assistants/{quote_path(assistant_id)}", json=body, headers=headers, params=params
            ),
        )

    async def delete(
        self,
        assistant_id: str,
        *,
        delete_threads: bool = False,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Delete an assistant (and, with `delete_threads=True`, its threads)."""
        await self.http.delete(
            f"/assistants/{quote_path(assistant_id)}",
            headers=headers,
            params=merge_params(truthy(delete_threads=delete_threads), params),
        )

    @overload
    async def search(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: AssistantSortBy | None = None,
        sort_order: SortOrder | None = None,
        select: list[AssistantSelectField] | None = None,
        response_format: Literal["object"],
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> AssistantsSearchResponse: ...

    @overload
    async def search(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: AssistantSortBy | None = None,
        sort_order: SortOrder | None = None,
        select: list[AssistantSelectField] | None = None,
        response_format: Literal["array"] = "array",
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> list[Assistant]: ...

    async def search(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: AssistantSortBy | None = None,
        sort_order: SortOrder | None = None,
        select: list[AssistantSelectField] | None = None,
        response_format: Literal["array", "object"] = "array",
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> AssistantsSearchResponse | list[Assistant]:
        """Search assistants.

        Args:
            metadata: Only assistants whose metadata contains these pairs.
            graph_id: Only assistants of this graph.
            name: Only assistants whose name contains this text.
            limit: Page size.
            offset: Results to skip.
            sort_by: Field to sort on.
            sort_order: `"asc"` or `"desc"`.
            select: Fields to return (all by default).
            response_format: `"array"` returns a list; `"object"` returns
                `{"assistants": [...], "next": <offset of the next page, or None>}`.
        """
        if response_format not in ("array", "object"):
            raise ValueError(
                f"response_format must be 'array' or 'object', not {response_format!r}"
            )
        body = {"limit": limit, "offset": offset} | truthy(
            metadata=metadata,
            graph_id=graph_id,
            name=name,
            sort_by=sort_by,
            sort_order=sort_order,
            select=select,
        )
        next_page: list[str | None] = [None]

        def read_next_page(response: httpx.Response) -> None:
            next_page[0] = response.headers.get("x-pagination-next")

        assistants = cast(
            list[Assistant],
            await self.http.post(
                "/assistants/search",
                json=body,
                headers=headers,
                params=params,
                on_response=read_next_page,
            ),
        )
        if response_format == "object":
            return {"assistants": assistants, "next": next_page[0]}
        return assistants

    async def count(
        self,
        *,
        metadata: Json = None,
        graph_id: str | None = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> int:
        """Count the assistants matching the filters (as in `search`)."""
        body = truthy(metadata=metadata, graph_id=graph_id, name=name)
        return cast(
            int,
            await self.http.post("/assistants/count", json=body, headers=headers, params=params),
        )

    async def get_versions(
        self,
        assistant_id: str,
        metadata: Json = None,
        limit: int = 10,
        offset: int = 0,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> list[AssistantVersion]:
        """List the versions of an assistant, newest first, optionally filtered by metadata."""
        body = {"limit": limit, "offset": offset} | truthy(metadata=metadata)
        return cast(
            list[AssistantVersion],
            await self.http.post(
                f"/assistants/{quote_path(assistant_id)}/versions",
                json=body,
                headers=headers,
                params=params,
            ),
        )

    async def set_latest(
        self,
        assistant_id: str,
        version: int,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Assistant:
        """Make `version` the version of the assistant that runs use."""
        return cast(
            Assistant,
            await self.http.post(
                f"/assistants/{quote_path(assistant_id)}/latest",
                json={"version": version},
                headers=headers,
                params=params,
            ),
        )
