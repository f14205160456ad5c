"""SQL for crons."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from graphport.server.storage.schema import crons


async def delete_for_assistant(conn: AsyncConnection, assistant_id: str) -> None:
    await conn.execute(delete(crons).where(crons.c.assistant_id == assistant_id))
