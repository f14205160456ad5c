"""Runs: invocations of an assistant, on a thread or stateless."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Literal, cast, overload

from graphport.sdk._async.http import HttpClient
from graphport.sdk._shared.parts import to_v2
from graphport.sdk._shared.payloads import (
    WaitResult,
    check_run_result,
    not_none,
    run_body,
    run_created_hook,
    run_path,
    runs_path,
    truthy,
)
from graphport.sdk._shared.urls import merge_params
from graphport.sdk.schema import (
    All,
    BulkCancelRunsStatus,
    CancelAction,
    Checkpoint,
    Command,
    Config,
    Context,
    DisconnectMode,
    Durability,
    IfNotExists,
    Input,
    LangSmithTracing,
    MultitaskStrategy,
    OnCompletionBehavior,
    QueryParamTypes,
    Run,
    RunCreate,
    RunCreateMetadata,
    RunSelectField,
    RunStatus,
    StreamMode,
    StreamPart,
    StreamPartV2,
    StreamVersion,
)


class RunsClient:
    """Start runs and follow them: stream their events, wait for their result, cancel them.

    `thread_id=None` runs statelessly on a temporary thread. Parameters shared by `stream`,
    `create` and `wait`:

    - `input`: the graph input; `command`: a `Command` instead (e.g. `{"resume": value}`).
    - `metadata`, `config`, `context`: of the run.
    - `checkpoint` / `checkpoint_id`: start from this checkpoint of the thread (fork/replay).
    - `checkpoint_during`: deprecated, use `durability` (`"sync"`, `"async"` or `"exit"`).
    - `interrupt_before` / `interrupt_after`: nodes to pause at (`"*"` for all).
    - `webhook`: URL to POST the finished run to.
    - `multitask_strategy`: what to do if the thread is busy (`reject`, `interrupt`,
      `rollback`, `enqueue`).
    - `if_not_exists`: `"create"` a missing thread instead of failing.
    - `on_completion`: stateless runs: `"delete"` (default) or `"keep"` the temporary thread.
    - `after_seconds`: delay the start.
    - `langsmith_tracing`: `{project_name?, example_id?}` for an extra LangSmith trace.
    - `strict_resume`: fail a resume that matches no interrupt (servers that support it).
    - `on_run_created`: called with `{run_id, thread_id}` as soon as the run exists.
    - `headers`, `params`: merged over the client's headers and the method's query.
    """

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    @overload
    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Input | None = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: LangSmithTracing | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        version: Literal["v1"] = "v1",
    ) -> AsyncIterator[StreamPart]: ...

    @overload
    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Input | None = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: LangSmithTracing | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        version: Literal["v2"],
    ) -> AsyncIterator[StreamPartV2]: ...

    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Input | None = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: LangSmithTracing | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
        version: StreamVersion = "v1",
    ) -> AsyncIterator[StreamPart] | AsyncIterator[StreamPartV2]:
        """Create a run and stream its events as they happen (iterate; don't await).

        The stream resumes by itself after a dropped connection, without losing or repeating
        events. Parameters not listed here are described on `RunsClient`.

        Args:
            thread_id: The thread, or `None` for a stateless run.
            assistant_id: An assistant id or a graph id.
            stream_mode: Mode or modes to stream (`values`, `updates`, `messages`, ...).
            stream_subgraphs: Stream subgraph events too (event names get `|<namespace>`).
            stream_resumable: Ask servers that need it to keep the events for rejoining.
            feedback_keys: LangSmith feedback keys to get pre-signed URLs for.
            on_disconnect: `"cancel"` the run if the stream is closed, or `"continue"`.
            version: `"v1"` yields `StreamPart(event, data, id)`; `"v2"` yields typed dicts
                `{type, ns, data, interrupts}` and stops at `end`.
        """
        parts = self.http.stream(
            runs_path(thread_id, "/stream"),
            "POST",
            json=run_body(
                assistant_id=assistant_id,
                input=input,
                command=command,
                stream_mode=stream_mode,
                stream_subgraphs=stream_subgraphs,
                stream_resumable=stream_resumable,
                metadata=metadata,
                config=config,
                context=context,
                checkpoint=checkpoint,
                checkpoint_id=checkpoint_id,
                checkpoint_during=checkpoint_during,
                interrupt_before=interrupt_before,
                interrupt_after=interrupt_after,
                feedback_keys=feedback_keys,
                on_disconnect=on_disconnect,
                on_completion=on_completion,
                webhook=webhook,
                multitask_strategy=multitask_strategy,
                if_not_exists=if_not_exists,
                after_seconds=after_seconds,
                langsmith_tracing=langsmith_tracing,
                durability=durability,
                strict_resume=strict_resume,
            ),
            params=params,
            headers=headers,
            on_response=run_created_hook(on_run_created),
        )
        return _v2_parts(parts) if version == "v2" else parts

    async def create(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Input | None = None,
        command: Command | None = None,
        stream_mode: StreamMode | Sequence[StreamMode] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        on_completion: OnCompletionBehavior | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: LangSmithTracing | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
    ) -> Run:
        """Create a background run; return it at once.

        Follow it with `join_stream` or `join`. `stream_mode` and `stream_subgraphs` choose what
        a later `join_stream` can see. Other parameters are described on `RunsClient`.
        """
        return cast(
            Run,
            await self.http.post(
                runs_path(thread_id or None),
                json=run_body(
                    assistant_id=assistant_id,
                    input=input,
                    command=command,
                    stream_mode=stream_mode,
                    stream_subgraphs=stream_subgraphs,
                    stream_resumable=stream_resumable,
                    metadata=metadata,
                    config=config,
                    context=context,
                    checkpoint=checkpoint,
                    checkpoint_id=checkpoint_id,
                    checkpoint_during=checkpoint_during,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    webhook=webhook,
                    multitask_strategy=multitask_strategy,
                    if_not_exists=if_not_exists,
                    on_completion=on_completion,
                    after_seconds=after_seconds,
                    langsmith_tracing=langsmith_tracing,
                    durability=durability,
                    strict_resume=strict_resume,
                ),
                params=params,
                headers=headers,
                on_response=run_created_hook(on_run_created),
            ),
        )

    async def create_batch(
        self,
        payloads: builtins.list[RunCreate],
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> builtins.list[Run]:
        """Create several stateless background runs in one request."""
        body = [not_none(**payload) for payload in payloads]
        return cast(
            builtins.list[Run],
            await self.http.post("/runs/batch", json=body, headers=headers, params=params),
        )

    async def wait(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Input | None = None,
        command: Command | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Config | None = None,
        context: Context | None = None,
        checkpoint: Checkpoint | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: All | Sequence[str] | None = None,
        interrupt_after: All | Sequence[str] | None = None,
        webhook: str | None = None,
        on_disconnect: DisconnectMode | None = None,
        on_completion: OnCompletionBehavior | None = None,
        multitask_strategy: MultitaskStrategy | None = None,
        if_not_exists: IfNotExists | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: LangSmithTracing | None = None,
        raise_error: bool = True,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
        on_run_created: Callable[[RunCreateMetadata], None] | None = None,
        durability: Durability | None = None,
        strict_resume: bool | None = None,
    ) -> builtins.list[dict[str, Any]] | dict[str, Any]:
        """Create a run and wait for it to finish; return its final state.

        An interrupted run returns the state with `__interrupt__`. A failed one raises
        `RunError` (an `Exception` named after the server's error) unless `raise_error=False`,
        which returns `{"__error__": {"error", "message"}}`. A cut-off wait rejoins the run.

        Args:
            on_disconnect: `"cancel"` the run if the request is abandoned, or `"continue"`.
        """
        result = cast(
            WaitResult,
            await self.http.request_reconnect(
                runs_path(thread_id, "/wait"),
                "POST",
                json=run_body(
                    assistant_id=assistant_id,
                    input=input,
                    command=command,
                    metadata=metadata,
                    config=config,
                    context=context,
                    checkpoint=checkpoint,
                    checkpoint_id=checkpoint_id,
                    checkpoint_during=checkpoint_during,
                    interrupt_before=interrupt_before,
                    interrupt_after=interrupt_after,
                    webhook=webhook,
                    on_disconnect=on_disconnect,
                    on_completion=on_completion,
                    multitask_strategy=multitask_strategy,
                    if_not_exists=if_not_exists,
                    after_seconds=after_seconds,
                    langsmith_tracing=langsmith_tracing,
                    durability=durability,
                    strict_resume=strict_resume,
                ),
                params=params,
                headers=headers,
                on_response=run_created_hook(on_run_created),
            ),
        )
        return check_run_result(result, raise_error)

    async def list(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        status: RunStatus | None = None,
        select: builtins.list[RunSelectField] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> builtins.list[Run]:
        """List a thread's runs, newest first.

        Args:
            limit: Page size.
            offset: Runs to skip.
            status: Only runs in this status.
            select: Fields to return.
        """
        own = {"limit": limit, "offset": offset} | not_none(status=status, select=select or None)
        return cast(
            builtins.list[Run],
            await self.http.get(
                runs_path(thread_id), params=merge_params(own, params), headers=headers
            ),
        )

    async def get(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Run:
        """Get a run."""
        return cast(
            Run, await self.http.get(run_path(thread_id, run_id), headers=headers, params=params)
        )

    async def cancel(
        self,
        thread_id: str,
        run_id: str,
        *,
        wait: bool = False,
        action: CancelAction = "interrupt",
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> Any:
        """Cancel a pending or running run.

        Args:
            wait: Return only when the run has stopped, with its final state (as `join`).
            action: `"interrupt"` keeps what the run did so far; `"rollback"` deletes the run
                and its checkpoints.
        """
        path = run_path(thread_id, run_id, "/cancel")
        query = merge_params({"wait": 1 if wait else 0, "action": action}, params)
        if wait:
            return await self.http.request_reconnect(path, "POST", params=query, headers=headers)
        return await self.http.post(path, params=query, headers=headers)

    async def cancel_many(
        self,
        *,
        thread_id: str | None = None,
        run_ids: Sequence[str] | None = None,
        status: BulkCancelRunsStatus | None = None,
        action: CancelAction = "interrupt",
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Cancel several runs: `run_ids` of `thread_id`, or every run in `status`."""
        await self.http.post(
            "/runs/cancel",
            json=truthy(thread_id=thread_id, run_ids=run_ids, status=status),
            params=merge_params({"action": action}, params),
            headers=headers,
        )

    async def join(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> dict[str, Any]:
        """Wait for a run to finish; return its final state (see `wait` for its shape)."""
        return cast(
            dict[str, Any],
            await self.http.request_reconnect(
                run_path(thread_id, run_id, "/join"), "GET", headers=headers, params=params
            ),
        )

    def join_stream(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool = False,
        stream_mode: StreamMode | Sequence[StreamMode] | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
        last_event_id: str | None = None,
    ) -> AsyncIterator[StreamPart]:
        """Stream the events of an existing run (iterate; don't await).

        Args:
            cancel_on_disconnect: Cancel the run if this stream is closed.
            stream_mode: Only events of these modes (all when `None`).
            last_event_id: Replay the events after this id first (`"-"` for all of them).
        """
        if last_event_id:
            headers = {"Last-Event-ID": last_event_id, **(headers or {})}
        own = {"cancel_on_disconnect": cancel_on_disconnect, "stream_mode": stream_mode}
        return self.http.stream(
            run_path(thread_id, run_id, "/stream"),
            "GET",
            params=merge_params(own, params),
            headers=headers,
        )

    async def delete(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: QueryParamTypes | None = None,
    ) -> None:
        """Delete a finished run and the checkpoints it wrote."""
        await self.http.delete(run_path(thread_id, run_id), headers=headers, params=params)


async def _v2_parts(parts: AsyncIterator[StreamPart]) -> AsyncIterator[StreamPartV2]:
    async for part in parts:
        if (typed := to_v2(part)) is None:
            return
        yield typed
