"""The run lifecycle: the only code that changes a run's status or its thread's.

Its state machine is declared in `machine` and described in docs/run-lifecycle.md; the
statements that write the status columns are in `sql`; `RunLifecycle` performs each
transition as one transaction. Workers, services, the cron scheduler and the sweepers call
it; it calls only storage."""

from graphport.server.lifecycle.machine import RULES, IllegalTransition
from graphport.server.lifecycle.manager import (
    MAX_ATTEMPTS,
    Claim,
    Created,
    Draft,
    Ended,
    RunLifecycle,
    ThreadAppeared,
)

__all__ = [
    "MAX_ATTEMPTS",
    "RULES",
    "Claim",
    "Created",
    "Draft",
    "Ended",
    "IllegalTransition",
    "RunLifecycle",
    "ThreadAppeared",
]
