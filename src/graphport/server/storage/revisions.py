"""Which schema revision a database is at, and which revisions exist: asked by
`graphport db current|history` and by a process started with `--no-migrate`, which must
not run on a schema older than its code. Migrating is `database.open_database`'s job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from graphport.server.storage.threaded import ThreadedEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaBehind(RuntimeError):
    """The database has not been migrated to this version's schema."""


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    doc: str


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg)


def head() -> str:
    found = _scripts().get_current_head()
    assert found is not None
    return found


def history() -> list[Revision]:
    """Every revision, newest first, with the first line of its description."""
    return [
        Revision(s.revision, s.down_revision, (s.doc or "").strip().split("\n")[0])  # type: ignore[arg-type]
        for s in _scripts().walk_revisions()
    ]


def current(conn: Connection) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    return MigrationContext.configure(conn).get_current_revision()


def _require(conn: Connection) -> None:
    at, expected = current(conn), head()
    if at != expected:
        raise SchemaBehind(
            f"database schema is at revision {at or 'none'}, this version needs {expected}: "
            "run `graphport db upgrade` (or start without --no-migrate)"
        )


async def require_head(engine: AsyncEngine | ThreadedEngine) -> None:
    """Raise `SchemaBehind` unless the database is at the newest revision."""
    if isinstance(engine, ThreadedEngine):

        def check(sync: Engine) -> None:
            with sync.connect() as conn:
                _require(conn)

        await engine.run(check, engine.engine)
        return
    async with engine.connect() as conn:
        await conn.run_sync(_require)
