"""`graphport db`: migrate explicitly (so a rollout migrates once, and replicas start with
`--no-migrate`), show which revision a database is at, and list the revisions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import create_engine

from graphport.server import process
from graphport.server.graphs import load_config
from graphport.server.graphs.persistence import store_kwargs
from graphport.server.settings import Settings
from graphport.server.storage import revisions
from graphport.server.storage.database import normalize_postgres_url, open_database


def run(command: str, settings: Settings) -> None:
    if command == "history":
        head = revisions.head()
        for rev in revisions.history():
            mark = " (head)" if rev.revision == head else ""
            print(f"{rev.down_revision or '<base>'} -> {rev.revision}{mark}: {rev.doc}")
        return
    if command == "upgrade":
        asyncio.run(_upgrade(settings))
    print(f"{process.database_location(settings)}: {_describe(current(settings))}")


def _describe(at: str | None) -> str:
    head = revisions.head()
    if at == head:
        return f"revision {at} (head)"
    return f"revision {at or 'none'}; this version needs {head}"


async def _upgrade(settings: Settings) -> None:
    """Open the database as a server would: our migrations and langgraph's checkpoint and
    store tables (with the store's index options from the config)."""
    dialect = "postgresql" if settings.database_url else "sqlite"
    options = store_kwargs(load_config(settings.config_path), dialect=dialect)
    opener = open_database(
        sqlite_path=None if settings.database_url else settings.sqlite_path,
        postgres_url=settings.database_url,
        store_kwargs=options,
    )
    async with process.opening(process.database_location(settings), opener):
        pass


def current(settings: Settings) -> str | None:
    where = process.database_location(settings)
    if settings.database_url:
        url = normalize_postgres_url(settings.database_url)[0]
    elif Path(settings.sqlite_path).exists():
        url = f"sqlite:///{settings.sqlite_path}"
    else:
        raise process.StartupError(f"{where}: no such file")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return revisions.current(conn)
    except Exception as e:
        reason = f"{type(e).__name__}: {process.failure_reason(e)}"
        raise process.StartupError(f"{where}: {reason}") from e
    finally:
        engine.dispose()
