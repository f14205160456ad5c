"""Checkpoint maintenance the langgraph savers don't offer on every backend: copy a
thread's history, delete what given runs wrote (rollback), keep only the latest
checkpoint. Plain SQL on the savers' own tables, run on our engine (same database)."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import text

from graphport.server.storage.database import Database

# Every column but thread_id of each saver table, per dialect. copy_thread copies whole rows,
# so a column a langgraph release adds must be added here: tests/test_langgraph_coupling.py
# compares these with the tables the savers create (docs/internals.md).
_CHECKPOINTS = (
    "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id", "type", "checkpoint", "metadata",
)
SAVER_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "sqlite": {
        "checkpoints": _CHECKPOINTS,
        "writes": (
            "checkpoint_ns", "checkpoint_id", "task_id", "task_path", "idx", "channel", "type",
            "value",
        ),
    },
    "postgresql": {
        "checkpoints": _CHECKPOINTS,
        "checkpoint_blobs": ("checkpoint_ns", "channel", "version", "type", "blob"),
        "checkpoint_writes": (
            "checkpoint_ns", "checkpoint_id", "task_id", "idx", "channel", "type", "blob",
            "task_path",
        ),
    },
}
_WRITES = {"sqlite": "writes", "postgresql": "checkpoint_writes"}
_RUN_ID = {
    "sqlite": "json_extract(CAST(metadata AS TEXT), '$.run_id')",
    "postgresql": "metadata->>'run_id'",
}


async def copy_thread(db: Database, source: str, target: str) -> None:
    async with db.begin() as conn:
        for table, columns in SAVER_COLUMNS[db.dialect].items():
            cols = ", ".join(columns)
            await conn.execute(
                text(
                    f"INSERT INTO {table} (thread_id, {cols}) "
                    f"SELECT :target, {cols} FROM {table} WHERE thread_id = :source"
                ),
                {"source": source, "target": target},
            )


async def delete_for_runs(db: Database, thread_id: str, run_ids: list[str]) -> None:
    """Remove the checkpoints (and their pending writes) that these runs produced."""
    if not run_ids:
        return
    run_id = _RUN_ID[db.dialect]
    params = {"thread_id": thread_id, **{f"r{i}": r for i, r in enumerate(run_ids)}}
    in_list = ", ".join(f":r{i}" for i in range(len(run_ids)))
    async with db.begin() as conn:
        await conn.execute(
            text(
                f"DELETE FROM {_WRITES[db.dialect]} WHERE thread_id = :thread_id AND "
                f"checkpoint_id IN (SELECT checkpoint_id FROM checkpoints "
                f"WHERE thread_id = :thread_id AND {run_id} IN ({in_list}))"
            ),
            params,
        )
        await conn.execute(
            text(
                f"DELETE FROM checkpoints WHERE thread_id = :thread_id AND {run_id} IN ({in_list})"
            ),
            params,
        )


async def keep_latest(db: Database, thread_id: str) -> None:
    """Drop every checkpoint of a thread but the newest one of each namespace."""
    async with db.begin() as conn:
        keep = (
            "SELECT MAX(checkpoint_id) FROM checkpoints c2 WHERE c2.thread_id = :thread_id "
            "AND c2.checkpoint_ns = checkpoints.checkpoint_ns"
        )
        await conn.execute(
            text(
                f"DELETE FROM {_WRITES[db.dialect]} WHERE thread_id = :thread_id AND "
                f"checkpoint_id NOT IN (SELECT MAX(checkpoint_id) FROM checkpoints "
                f"WHERE thread_id = :thread_id GROUP BY checkpoint_ns)"
            ),
            {"thread_id": thread_id},
        )
        await conn.execute(
            text(
                f"DELETE FROM checkpoints WHERE thread_id = :thread_id "
                f"AND checkpoint_id <> ({keep})"
            ),
            {"thread_id": thread_id},
        )


async def delete_thread(checkpointer: BaseCheckpointSaver, thread_id: str) -> None:
    await checkpointer.adelete_thread(thread_id)
