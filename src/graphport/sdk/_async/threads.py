"""Threads: conversations whose state runs accumulate."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, cast

from graphport.sdk._async.http import HttpClient
from graphport.sdk._async.thread_stream import AsyncThreadStream, StreamTransport
from graphport.sdk._shared.payloads import supersteps_body, truthy, ttl_body
from graphport.sdk._shared.urls import merge_params, quote_path
from graphport.sdk.schema import (
    Checkpoint,
    Json,
    OnConflictBehavior,
    PruneStrategy,
    QueryParamTypes,
    SortOrder,
    StreamPart,
    Thread,
    ThreadSelectField,
    ThreadSortBy,
    ThreadState,
    ThreadStateSelectField,
    ThreadStatus,
    ThreadStreamMode,
    ThreadUpdateStateResponse,
)


class ThreadsClient:
    """Create, read, search, copy and prune threads; read and write their state.

    Every method also takes `headers` (merged over the client's) and `params` (merged over the
    method's own query parameters).
    """

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def get(
        self,
        thread_id: str,
        *,
        include: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Thread:
        """Get a thread by id.

        Args:
            include: Extra fields to return; `"ttl"` is the one servers know.
        """
        own = {"include": ",".join(include)} if include else None
        return cast(
            Thread,
            await self.http.get(
                f"/threads/{quote_path(thread_id)}",
                headers=headers,
                params=merge_params(own, params),
            ),
        )

    async def create(
        self,
        *,
        metadata: Json = None,
        thread_id: str | None = None,
        if_exists: OnConflictBehavior | None = None,
        supersteps: Sequence[dict[str, Sequence[dict[str, Any]]]] | None = None,
        graph_id: str | None = None,
        ttl: int | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Thread:
        """Create a thread.

        Args:
            metadata: Metadata to attach.
            thread_id: Use this id (a UUID) instead of a generated one.
            if_exists: `"raise"` (default, 409) or `"do_nothing"` (return the existing one).
            supersteps: State updates to apply in order, each
                `{"updates": [{"values": ..., "as_node": ..., "command"?: ...}]}`.
            graph_id: The graph the thread is for (stored as `metadata["graph_id"]`).
            ttl: Minutes until the thread is deleted, or `{"ttl": minutes, "strategy": ...}`.
        """
        if graph_id:
            metadata = {**(metadata or {}), "graph_id": graph_id}
        body = truthy(
            thread_id=thread_id,
            metadata=metadata,
            if_exists=if_exists,
            supersteps=supersteps_body(supersteps),
        )
        if ttl is not None:
            body["ttl"] = ttl_body(ttl)
        return cast(
            Thread, await self.http.post("/threads", json=body, headers=headers, params=params)
        )

    async def update(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any],
        ttl: int | Mapping[str, Any] | None = None,
        return_minimal: bool = False,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Thread | None:
        """Merge `metadata` into a thread's metadata, and optionally set its TTL.

        Args:
            ttl: As for `create`.
            return_minimal: Ask for no body back (`Prefer: return=minimal`); returns `None`.
        """
        body: dict[str, Any] = {"metadata": metadata}
        if ttl is not None:
            body["ttl"] = ttl_body(ttl)
        if return_minimal:
            headers = {"Prefer": "return=minimal", **(headers or {})}
        return cast(
            Thread | None,
            await self.http.patch(
                f"/threads/{quote_path(thread_id)}", json=body, headers=headers, params=params
            ),
        )

    async def delete(
        self,
        thread_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Delete a thread, its runs and its checkpoints."""
        await self.http.delete(f"/threads/{quote_path(thread_id)}", headers=headers, params=params)

    async def search(
        self,
        *,
        metadata: Json = None,
        values: Json = None,
        ids: Sequence[str] | None = None,
        status: ThreadStatus | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: ThreadSortBy | None = None,
        sort_order: SortOrder | None = None,
        select: list[ThreadSelectField] | None = None,
        extract: dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> list[Thread]:
        """Search threads.

        Args:
            metadata: Only threads whose metadata contains these pairs.
            values: Only threads whose state values contain these pairs.
            ids: Only these threads.
            status: Only threads in this status.
            limit: Page size.
            offset: Results to skip.
            sort_by: Field to sort on.
            sort_order: `"asc"` or `"desc"`.
            select: Fields to return (all by default).
            extract: `{alias: path}` values to pull out of each thread (e.g.
                `{"last": "values.messages[-1]"}`), returned under `extracted`.
        """
        body = {"limit": limit, "offset": offset} | truthy(
            metadata=metadata,
            values=values,
            ids=ids,
            status=status,
            sort_by=sort_by,
            sort_order=sort_order,
            select=select,
            extract=extract,
        )
        return cast(
            list[Thread],
            await self.http.post("/threads/search", json=body, headers=headers, params=params),
        )

    async def count(
        self,
        *,
        metadata: Json = None,
        values: Json = None,
        status: ThreadStatus | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> int:
        """Count the threads matching the filters (as in `search`)."""
        body = truthy(metadata=metadata, values=values, status=status)
        return cast(
            int, await self.http.post("/threads/count", json=body, headers=headers, params=params)
        )

    async def copy(
        self,
        thread_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Thread:
        """Copy a thread with its history; return the new thread."""
        return cast(
            Thread,
            await self.http.post(
                f"/threads/{quote_path(thread_id)}/copy", headers=headers, params=params
            ),
        )

    async def prune(
        self,
        thread_ids: Sequence[str],
        *,
        strategy: PruneStrategy = "delete",
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> dict[str, Any]:
        """Delete threads, or with `strategy="keep_latest"` only their older checkpoints.

        Returns:
            `{"pruned_count": n}`.
        """
        body: dict[str, Any] = {"thread_ids": thread_ids}
        if strategy != "delete":
            body["strategy"] = strategy
        return cast(
            dict[str, Any],
            await self.http.post("/threads/prune", json=body, headers=headers, params=params),
        )

    async def get_state(
        self,
        thread_id: str,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        *,
        subgraphs: bool = False,
        select: list[ThreadStateSelectField] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> ThreadState:
        """Get a thread's state: the latest, or at `checkpoint` (or `checkpoint_id`).

        Args:
            subgraphs: Include the states of subgraphs.
            select: Fields to return; `values.<key>` for a single state key.
        """
        path = f"/threads/{quote_path(thread_id)}/state"
        if checkpoint:
            body = {"checkpoint": checkpoint, "subgraphs": subgraphs} | truthy(select=select)
            return cast(
                ThreadState,
                await self.http.post(
                    f"{path}/checkpoint", json=body, headers=headers, params=params
                ),
            )
        if checkpoint_id:
            path += f"/{quote_path(checkpoint_id)}"
        own = {"subgraphs": subgraphs} | truthy(select=select)
        return cast(
            ThreadState,
            await self.http.get(path, params=merge_params(own, params), headers=headers),
        )

    async def update_state(
        self,
        thread_id: str,
        values: dict[str, Any] | Sequence[dict[str, Any]] | None,
        *,
        as_node: str | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> ThreadUpdateStateResponse:
        """Write `values` to a thread's state, as if node `as_node` had returned them.

        Args:
            checkpoint: Write on top of this checkpoint instead of the latest (forks).
            checkpoint_id: Same, by id.
        """
        body = {"values": values} | truthy(
            checkpoint_id=checkpoint_id, checkpoint=checkpoint, as_node=as_node
        )
        return cast(
            ThreadUpdateStateResponse,
            await self.http.post(
                f"/threads/{quote_path(thread_id)}/state", json=body, headers=headers, params=params
            ),
        )

    async def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | Checkpoint | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Checkpoint | None = None,
        select: list[ThreadStateSelectField] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> list[ThreadState]:
        """List a thread's past states, newest first.

        Args:
            limit: How many states.
            before: Only states older than this checkpoint (or checkpoint id).
            metadata: Only states whose checkpoint metadata contains these pairs.
            checkpoint: Only states of this checkpoint namespace.
            select: Fields to return.
        """
        body = {"limit": limit} | truthy(
            before=before, metadata=metadata, checkpoint=checkpoint, select=select
        )
        return cast(
            list[ThreadState],
            await self.http.post(
                f"/threads/{quote_path(thread_id)}/history",
                json=body,
                headers=headers,
                params=params,
            ),
        )

    async def join_stream(
        self,
        thread_id: str,
        *,
        last_event_id: str | None = None,
        stream_mode: ThreadStreamMode | Sequence[ThreadStreamMode] = "run_modes",
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> AsyncIterator[StreamPart]:
        """Follow every run of a thread, current and future; the stream never ends by itself.

        Await this method, then iterate the stream it returns.

        Args:
            last_event_id: Replay the events after this id first.
            stream_mode: `"run_modes"` (run events), `"lifecycle"` (run starts and ends) or
                `"state_update"` (state writes).
        """
        if last_event_id:
            headers = {"Last-Event-ID": last_event_id, **(headers or {})}
        return self.http.stream(
            f"/threads/{quote_path(thread_id)}/stream",
            "GET",
            params=merge_params({"stream_mode": stream_mode}, params),
            headers=headers,
        )

    def stream(
        self,
        thread_id: str | None = None,
        *,
        assistant_id: str,
        headers: Mapping[str, str] | None = None,
        run_start_timeout: float | None = None,
        transport: StreamTransport = "sse",
    ) -> AsyncThreadStream:
        """Open a thread streaming session (the event protocol of `langgraph_sdk` 0.4).

        Use it as a context manager; it connects only when a subscription is iterated:

            async with client.threads.stream(assistant_id="agent") as thread:
                await thread.run.start(input={"messages": [...]})
                async for event in thread.subscribe(["messages"]):
                    ...

        Args:
            thread_id: The thread; by default a new UUID, which `run.start` creates.
            assistant_id: The assistant `run.start` runs.
            headers: Extra headers for the session's requests and connections.
            run_start_timeout: How long, in seconds, a subscription opened before
                `run.start` waits for the session's new thread to exist (default: as long
                as the reconnection back-off allows).
            transport: `"sse"`, or `"websocket"` (which needs the network: not in process).
        """
        return AsyncThreadStream(
            self.http,
            thread_id=thread_id,
            assistant_id=assistant_id,
            headers=headers,
            run_start_timeout=run_start_timeout,
            transport=transport,
        )
