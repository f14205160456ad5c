"""The long-lived objects a running server holds, built once in the app lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphport.server.graphs import GraphRegistry, LangGraphConfig
from graphport.server.settings import Settings
from graphport.server.storage.database import Database

if TYPE_CHECKING:
    from graphport.server.auth import ServerAuth
    from graphport.server.runtime.engine import RunEngine


@dataclass
class Core:
    settings: Settings
    config: LangGraphConfig
    registry: GraphRegistry
    db: Database
    engine: RunEngine
    # Custom auth / API key (graphport.server.auth); set by the app, None in bare cores.
    auth: ServerAuth | None = None
