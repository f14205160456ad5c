# Generated from src/graphport/sdk/_async/crons.py by scripts/unasync.py; do not edit.
"""Crons: schedules that start runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, cast

from graphport.sdk._sync.http import SyncHttpClient
from graphport.sdk._shared.payloads import cron_body, not_none, truthy
from graphport.sdk._shared.sentinel import NOT_PROVIDED, NotProvided
from graphport.sdk._shared.urls import quote_path
from graphport.sdk.schema import (
    All,
    Config,
    Context,
    Cron,
    CronSelectField,
    CronSortBy,
    Durability,
    Input,
    Json,
    OnCompletionBehavior,
    QueryParamTypes,
    SortOrder,
    StreamMode,
)


class SyncCronClient:
    """Schedule runs on a cron expression, for one thread or statelessly.

    Run parameters (`input`, `metadata`, `config`, `context`, `interrupt_before`/`_after`,
    `webhook`, `multitask_strategy`, `durability`, `stream_*`) mean what they mean on
    `SyncRunsClient`. Every method also takes `headers` and `params`.
    """

    def __init__(self, http: SyncHttpClient) -> None:
        self.http = http

    def create_for_thread(
        self,
        thread_id: str,
        assistant_id: str,
        *,
        schedule: str,
        input: Input | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | list[str] | None = None,
        interrupt_after: All | list[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: str | None = None,
        end_time: datetime | None = None,
        enabled: bool | None = None,
        timezone: str | tzinfo | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Cron:
        """Schedule runs on a thread.

        Args:
            schedule: Cron expression, e.g. `"0 9 * * 1-5"`.
            end_time: Stop scheduling after this time.
            enabled: Create it paused with `False`.
            timezone: IANA name or `tzinfo` the schedule is read in (default UTC).
        """
        body = cron_body(
            assistant_id=assistant_id,
            schedule=schedule,
            input=input,
            metadata=metadata,
            config=config,
            context=context,
            checkpoint_during=checkpoint_during,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            webhook=webhook,
            multitask_strategy=multitask_strategy,
            end_time=end_time or NOT_PROVIDED,
            enabled=enabled,
            timezone=timezone,
            stream_mode=stream_mode,
            stream_subgraphs=stream_subgraphs,
            stream_resumable=stream_resumable,
            durability=durability,
        )
        return cast(
            Cron,
            self.http.post(
                f"/threads/{quote_path(thread_id)}/runs/crons",
                json=body,
                headers=headers,
                params=params,
            ),
        )

    def create(
        self,
        assistant_id: str,
        *,
        schedule: str,
        input: Input | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | list[str] | None = None,
        interrupt_after: All | list[str] | None = None,
        webhook: str | None = None,
        on_run_completed: OnCompletionBehavior | None = None,
        multitask_strategy: str | None = None,
        end_time: datetime | None = None,
        enabled: bool | None = None,
        timezone: str | tzinfo | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Cron:
        """Schedule stateless runs, each on a new thread.

        Args:
            on_run_completed: `"delete"` (default) or `"keep"` each run's thread.
            Others: as for `create_for_thread`.
        """
        body = cron_body(
            assistant_id=assistant_id,
            schedule=schedule,
            input=input,
            metadata=metadata,
            config=config,
            context=context,
            checkpoint_during=checkpoint_during,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            webhook=webhook,
            on_run_completed=on_run_completed,
            multitask_strategy=multitask_strategy,
            end_time=end_time or NOT_PROVIDED,
            enabled=enabled,
            timezone=timezone,
            stream_mode=stream_mode,
            stream_subgraphs=stream_subgraphs,
            stream_resumable=stream_resumable,
            durability=durability,
        )
        return cast(
            Cron, self.http.post("/runs/crons", json=body, headers=headers, params=params)
        )

    def delete(
        self,
        cron_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Delete a cron."""
        self.http.delete(f"/runs/crons/{quote_path(cron_id)}", headers=headers, params=params)

    def update(
        self,
        cron_id: str,
        *,
        schedule: str | None = None,
        end_time: datetime | NotProvided | None = NOT_PROVIDED,
        input: Input | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        webhook: str | None = None,
        interrupt_before: All | list[str] | None = None,
        interrupt_after: All | list[str] | None = None,
        on_run_completed: OnCompletionBehavior | None = None,
        enabled: bool | None = None,
        timezone: str | tzinfo | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        stream_subgraphs: bool | None = None,
        stream_resumable: bool | None = None,
        durability: Durability | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Cron:
        """Change a cron; only the fields given are changed.

        Args:
            end_time: A new end, or `None` to remove it (omit to leave it as is).
        """
        body = cron_body(
            schedule=schedule,
            end_time=end_time,
            input=input,
            metadata=metadata,
            config=config,
            context=context,
            webhook=webhook,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            on_run_completed=on_run_completed,
            enabled=enabled,
            timezone=timezone,
            stream_mode=stream_mode,
            stream_subgraphs=stream_subgraphs,
            stream_resumable=stream_resumable,
            durability=durability,
        )
        return cast(
            Cron,
            self.http.patch(
                f"/runs/crons/{quote_path(cron_id)}", json=body, headers=headers, params=params
            ),
        )

    def search(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: Json = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: CronSortBy | None = None,
        sort_order: SortOrder | None = None,
        select: list[CronSelectField] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> list[Cron]:
        """Search crons.

        Args:
            assistant_id: Only crons of this assistant.
            thread_id: Only crons of this thread.
            enabled: Only enabled (`True`) or paused (`False`) crons.
            metadata: Only crons whose metadata contains these pairs.
            limit: Page size.
            offset: Results to skip.
            sort_by: Field to sort on.
            sort_order: `"asc"` or `"desc"`.
            select: Fields to return.
        """
        body = not_none(
            assistant_id=assistant_id,
            thread_id=thread_id,
            enabled=enabled,
            limit=limit,
            offset=offset,
        ) | truthy(metadata=metadata, sort_by=sort_by, sort_order=sort_order, select=select)
        return cast(
            list[Cron],
            self.http.post("/runs/crons/search", json=body, headers=headers, params=params),
        )

    def count(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        metadata: Json = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> int:
        """Count the crons matching the filters (as in `search`)."""
        body = truthy(assistant_id=assistant_id, thread_id=thread_id, metadata=metadata)
        return cast(
            int,
            self.http.post("/runs/crons/count", json=body, headers=headers, params=params),
        )
