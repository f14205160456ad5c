"""Terminating PostgreSQL backends from a test, as a restart or an administrator would."""

from __future__ import annotations

import asyncio
import time

import psycopg


async def terminate(url: str, pid: int | None = None) -> int:
    """`pg_terminate_backend` on backend `pid`, or on every other connection to the
    database; returns how many, once they have gone (bounded)."""
    which = "pid = %(pid)s" if pid is not None else "pid <> pg_backend_pid()"
    where = f"FROM pg_stat_activity WHERE datname = current_database() AND {which}"
    with psycopg.connect(url, autocommit=True) as admin:
        killed = len(
            admin.execute(f"SELECT pg_terminate_backend(pid) {where}", {"pid": pid}).fetchall()
        )
        deadline = time.monotonic() + 10
        while admin.execute(f"SELECT 1 {where}", {"pid": pid}).fetchone():
            assert time.monotonic() < deadline, "terminated backends did not exit"
            await asyncio.sleep(0.02)
    return killed
