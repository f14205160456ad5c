"""Only the run lifecycle writes `runs.status` and `threads.status`
(docs/run-lifecycle.md): the statements that could (an INSERT of a run or a thread, an
UPDATE setting `status`) live in `server/lifecycle/`, and the storage modules' generic
field setters refuse a status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphport.server.storage import runs as run_store
from graphport.server.storage import threads as thread_store

SERVER = Path(__file__).resolve().parents[2] / "src" / "graphport" / "server"
LIFECYCLE = SERVER / "lifecycle"
# An INSERT into runs or threads; an UPDATE of either whose values name `status`.
WRITES = re.compile(
    r"insert\((runs|threads)\)"
    r"|insert_ignoring_conflict\(\s*conn,\s*threads"
    r"|update\((runs|threads)\)[^\n]*(\n[^\n]*){0,6}?\.values\([^)]*\bstatus\s*="
)


def test_no_status_write_outside_the_lifecycle() -> None:
    offenders = []
    for path in SERVER.rglob("*.py"):
        if LIFECYCLE in path.parents:
            continue
        for match in WRITES.finditer(path.read_text()):
            offenders.append(f"{path.relative_to(SERVER)}: {match.group(0)[:60]!r}")
    assert not offenders, "status written outside server/lifecycle/:\n" + "\n".join(offenders)


def test_the_lifecycle_does_write_them() -> None:
    """The pattern above finds the lifecycle's own statements (it can fail)."""
    found = [m.group(0) for p in LIFECYCLE.rglob("*.py") for m in WRITES.finditer(p.read_text())]
    assert any("insert(runs)" in f for f in found)
    assert any("update(runs)" in f for f in found)


async def test_field_setters_refuse_a_status() -> None:
    with pytest.raises(ValueError, match="lifecycle"):
        await run_store.set_fields(None, "r", status="success")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lifecycle"):
        await thread_store.set_fields(None, "t", status="idle")  # type: ignore[arg-type]
