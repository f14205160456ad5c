"""The long-lived objects a server process holds, built once at start-up (`process.py`)
and never changed afterwards; request handlers and periodic jobs reach them through it."""

from __future__ import annotations

from dataclasses import dataclass

from graphport.server.graphs import GraphRegistry, LangGraphConfig
from graphport.server.lifecycle import RunLifecycle
from graphport.server.runtime.broker import Broker
from graphport.server.runtime.control import Control
from graphport.server.runtime.shutdown import Shutdown
from graphport.server.runtime.wakeup import Wakeup
from graphport.server.runtime.worker import Worker
from graphport.server.settings import Settings
from graphport.server.storage.database import Database


@dataclass(frozen=True)
class Core:
    settings: Settings
    config: LangGraphConfig
    registry: GraphRegistry
    db: Database
    lifecycle: RunLifecycle
    broker: Broker
    wakeup: Wakeup
    control: Control
    # This process's worker; None when it executes no runs (`serve --max-concurrent-runs 0`).
    worker: Worker | None
    # Set when the process starts to stop (signals): streams end, the worker drains.
    shutdown: Shutdown
