"""SQL for threads (our row: metadata, status, cached values/interrupts; checkpoints live
in the langgraph checkpointer tables).

With encryption at rest SQL cannot see into `values`: a search or count by values reads the
threads the other filters select, in order, and matches their decrypted values here
(`json_contains`, the same containment), reading at most `VALUES_SCAN_LIMIT` threads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import and_, bindparam, delete, literal, select, tuple_
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB

from graphport.server.storage.columns import json_dumps, sealing
from graphport.server.storage.common import (
    Conn,
    count_where,
    ordering,
    row_dict,
    rows_dicts,
    search_page,
    update_by_key,
)
from graphport.server.storage.filters import InvalidFilter, auth_filter, contains, json_contains
from graphport.server.storage.records import Thread
from graphport.server.storage.schema import threads

# Encrypted values searches: the threads one request may read (decrypting a value costs
# 0.1-0.3 ms: langgraph's cipher, pycryptodome's EAX mode, sets up per value), and per query
# (on PostgreSQL rows are decrypted on the event loop: a page holds it for ~10-30 ms).
VALUES_SCAN_LIMIT = 5_000
_SCAN_PAGE = 100


def _where(
    conn: Conn,
    *,
    metadata: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status: str | None = None,
    ids: list[str] | None = None,
    flt: dict[str, Any] | None = None,
) -> Any:
    d = conn.dialect.name
    clauses = [
        contains(threads.c.metadata, d, metadata),
        contains(threads.c["values"], d, values),
        auth_filter(threads.c.metadata, d, flt),
    ]
    if status is not None:
        clauses.append(threads.c.status == status)
    if ids is not None:
        clauses.append(threads.c.thread_id.in_(ids))
    return and_(*clauses)


_GET = select(threads).where(threads.c.thread_id == bindparam("thread_id"))


async def get(conn: Conn, thread_id: str, flt: dict[str, Any] | None = None) -> Thread | None:
    """The thread, if `flt` lets it through (run creation reads it locked, with its
    assistant: storage/run_inputs.py)."""
    if not flt:
        row = (await conn.execute(_GET, {"thread_id": thread_id})).first()
        return cast(Thread | None, row_dict(row))
    q = select(threads).where(
        threads.c.thread_id == thread_id,
        auth_filter(threads.c.metadata, conn.dialect.name, flt),
    )
    return cast(Thread | None, row_dict((await conn.execute(q)).first()))


_LOCK = select(threads.c.thread_id).where(threads.c.thread_id == bindparam("thread_id"))
_LOCK = _LOCK.with_for_update()


async def lock(conn: Conn, thread_id: str) -> None:
    """Hold the thread's row until the transaction ends (PostgreSQL): serializes a status
    decision with run creation on that thread, which locks it too. SQLite's writes are
    serialized already (BEGIN IMMEDIATE): nothing to do there."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_LOCK, {"thread_id": thread_id})


async def set_fields(conn: Conn, thread_id: str, **fields: Any) -> None:
    """Fields other than `status` (inserting threads and changing their status belong to
    `graphport.server.lifecycle`)."""
    if "status" in fields:
        raise ValueError("a thread's status changes only through graphport.server.lifecycle")
    await update_by_key(conn, threads, thread_id, fields)


_DELETE_ONE = (
    delete(threads)
    .where(threads.c.thread_id == bindparam("thread_id"))
    .returning(threads.c.metadata)
)


async def delete_one(conn: Conn, thread_id: str) -> dict[str, Any] | None:
    """Delete a thread (its runs cascade): its metadata, or None when it did not exist."""
    row = (await conn.execute(_DELETE_ONE, {"thread_id": thread_id})).first()
    return cast(dict[str, Any] | None, row[0] if row is not None else None)


async def delete_many(conn: Conn, thread_ids: list[str]) -> None:
    if thread_ids:
        await conn.execute(delete(threads).where(threads.c.thread_id.in_(thread_ids)))


async def search(
    conn: Conn,
    *,
    limit: int,
    offset: int,
    sort_by: str,
    sort_order: str,
    values: dict[str, Any] | None = None,
    **where: Any,
) -> tuple[list[dict[str, Any]], bool]:
    if values and sealing(conn.dialect):
        wanted = offset + limit + 1
        ids = await _ids_by_sealed_values(conn, where, values, sort_by, sort_order, wanted)
        return await _in_order(conn, ids[offset : offset + limit]), len(ids) > offset + limit
    return await search_page(
        conn,
        threads,
        _where(conn, values=values, **where),
        sort_by=sort_by,
        sort_order=sort_order,
        limit=limit,
        offset=offset,
    )


async def count(conn: Conn, *, values: dict[str, Any] | None = None, **where: Any) -> int:
    if values and sealing(conn.dialect):
        return len(await _ids_by_sealed_values(conn, where, values, "thread_id", "asc", None))
    return await count_where(conn, threads, _where(conn, values=values, **where))


async def _ids_by_sealed_values(
    conn: Conn,
    where: dict[str, Any],
    values: dict[str, Any],
    sort_by: str,
    sort_order: str,
    wanted: int | None,
) -> list[str]:
    """The ids of the first `wanted` threads (all, for None) in the search's order that
    pass the other filters and whose decrypted values contain `values`. Pages are taken
    after the last row read (keyset), so threads created meanwhile shift nothing."""
    col = threads.c[sort_by]
    key = tuple_(col, threads.c.thread_id)
    last = tuple_(bindparam("last", type_=col.type), bindparam("last_id"))
    after = key > last if sort_order == "asc" else key < last
    q = (
        select(col, threads.c.thread_id, threads.c["values"])
        .where(_where(conn, **where))
        .order_by(*ordering(threads, sort_by, sort_order))
        .limit(_SCAN_PAGE + 1)  # one more: whether another page follows
    )
    found: list[str] = []
    read = 0
    rows: Sequence[Any] = (await conn.execute(q)).all()  # (sort key, thread id, values)
    while True:
        page = rows[:_SCAN_PAGE]
        found += [thread_id for _, thread_id, doc in page if json_contains(doc, values)]
        read += len(page)
        if len(rows) <= _SCAN_PAGE or (wanted is not None and len(found) >= wanted):
            return found if wanted is None else found[:wanted]
        if read >= VALUES_SCAN_LIMIT:
            raise InvalidFilter(
                f"With encryption at rest, a search by values reads at most"
                f" {VALUES_SCAN_LIMIT} threads (the database cannot see encrypted values),"
                " and this one needs more: narrow it with metadata, status or ids"
            )
        params = {"last": page[-1][0], "last_id": page[-1][1]}
        rows = (await conn.execute(q.where(after), params)).all()


async def _in_order(conn: Conn, ids: list[str]) -> list[dict[str, Any]]:
    """The rows of these threads, in the order of `ids`."""
    if not ids:
        return []
    q = select(threads).where(threads.c.thread_id.in_(ids))
    by_id = {row["thread_id"]: row for row in rows_dicts((await conn.execute(q)).all())}
    return [by_id[thread_id] for thread_id in ids if thread_id in by_id]


async def ids_matching(conn: Conn, ids: list[str], flt: dict[str, Any] | None = None) -> list[str]:
    q = select(threads.c.thread_id).where(_where(conn, ids=ids, flt=flt))
    return list((await conn.execute(q)).scalars().all())


async def ids_by_metadata(
    conn: Conn, metadata: dict[str, Any], flt: dict[str, Any] | None = None
) -> list[str]:
    q = select(threads.c.thread_id).where(_where(conn, metadata=metadata, flt=flt))
    return list((await conn.execute(q)).scalars().all())


async def expired_ids(conn: Conn, now: Any, limit: int) -> list[dict[str, Any]]:
    q = (
        select(threads.c.thread_id, threads.c.ttl_strategy)
        .where(threads.c.expires_at.is_not(None), threads.c.expires_at <= now)
        .limit(limit)
    )
    return rows_dicts((await conn.execute(q)).all())


async def metadata_matches(
    conn: Conn, metadata: dict[str, Any], flt: dict[str, Any] | None
) -> bool:
    """Whether a thread with this metadata passes `flt`, evaluated by the database itself
    (the same SQL as for stored rows) for a thread that no longer has a row."""
    if not flt:
        return True
    doc: Any = literal(json_dumps(metadata))
    if conn.dialect.name == "postgresql":
        doc = sql_cast(doc, JSONB)
    return bool((await conn.execute(select(auth_filter(doc, conn.dialect.name, flt)))).scalar())
