"""The run state machine, declared once: every transition the lifecycle performs, the
statuses it may start from (its compare-and-set) and those it may end in.

`docs/run-lifecycle.md` draws this table; `tests/unit/test_lifecycle.py` walks it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from graphport.types import RunStatus

# `None` stands for "no row": before a run exists, or after it was deleted (rollback).
Status = RunStatus | None
Transition = Literal[
    "create",
    "claim",
    "renew",
    "finish",
    "fail",
    "retry",
    "cancel_pending",
    "requeue",
    "release",
]


@dataclass(frozen=True)
class Rule:
    sources: frozenset[Status]
    targets: frozenset[Status]
    trigger: str


TERMINAL: frozenset[Status] = frozenset({"success", "error", "timeout", "interrupted"})

RULES: dict[Transition, Rule] = {
    "create": Rule(
        frozenset({None}),
        frozenset({"pending", "running"}),
        "a route, a cron firing or a multitask follow-up creates a run; it is inserted "
        "running when the local worker has a free slot and the thread nothing in flight",
    ),
    "claim": Rule(
        frozenset({"pending"}), frozenset({"running"}), "a worker takes the next runnable run"
    ),
    "renew": Rule(
        frozenset({"running"}), frozenset({"running"}), "the worker's heartbeat extends a lease"
    ),
    "finish": Rule(
        frozenset({"running"}),
        TERMINAL | {None},
        "the worker ends a run it holds: its outcome, or deleted when rolled back",
    ),
    "fail": Rule(
        frozenset({"running"}),
        frozenset({"error"}),
        "the worker could not record its run's outcome (fail-safe)",
    ),
    "retry": Rule(
        frozenset({"running"}),
        frozenset({"pending", "error"}),
        "the worker lost its database or broker connection mid-run: back to the queue to "
        "resume from its checkpoint, or error after the last attempt",
    ),
    "cancel_pending": Rule(
        frozenset({"pending"}),
        frozenset({"interrupted", None}),
        "a cancel reaches a run before any worker took it",
    ),
    "requeue": Rule(
        frozenset({"running"}),
        frozenset({"pending", "error"}),
        "the lease sweep finds a lapsed lease: back to the queue, or error after the last attempt",
    ),
    "release": Rule(
        frozenset({"running"}),
        frozenset({"pending"}),
        "a stopping worker hands back the runs it could not finish",
    ),
}


class IllegalTransition(ValueError):
    """A transition asked for a status its rule does not allow (a programming error; a
    run that moved on concurrently is reported by a `None` result instead)."""


def check(transition: Transition, target: Status) -> None:
    rule = RULES[transition]
    if target not in rule.targets:
        raise IllegalTransition(f"{transition} cannot end a run as {target!r}")


def sources(transition: Transition) -> tuple[RunStatus, ...]:
    """The statuses a transition's compare-and-set accepts."""
    return tuple(s for s in RULES[transition].sources if s is not None)
