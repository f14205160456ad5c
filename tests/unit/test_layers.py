"""The server's layers import downward only, and no module imports itself back through a
cycle (docs/architecture.md#layers-and-import-direction). Read from the source, so a new
upward import fails here before it becomes a hidden dependency."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# Higher may import lower (and its own layer); never the reverse.
RANKS = {
    "graphport.types": 0,
    "graphport.auth": 0,  # the Auth DSL users write (stdlib only)
    "graphport.server.serde": 0,
    "graphport.server.errors": 0,
    "graphport.server.settings": 0,
    "graphport.server.tracing": 0,  # observability: a thin module every layer may call
    "graphport.server.redact": 0,
    "graphport.server.logs": 0,
    "graphport.server.metrics": 0,
    "graphport.server.storage": 1,
    "graphport.server.graphs": 1,
    "graphport.server.lifecycle": 2,
    "graphport.server.runtime": 3,
    "graphport.server.core": 4,
    "graphport.server.services": 5,
    "graphport.server.auth": 6,
    "graphport.server.api": 6,
    "graphport.server.jobs": 7,
    "graphport.server.process": 8,
    "graphport.server.app": 9,
    "graphport.server.launch": 9,
    "graphport.server.dbcli": 9,
    "graphport.server.cli": 10,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    best = None
    for name in RANKS:
        if (module == name or module.startswith(name + ".")) and (
            best is None or len(name) > len(best)
        ):
            best = name
    return best


def imports(path: Path) -> Iterator[str]:
    """Every graphport module `path` imports, TYPE_CHECKING blocks and local imports
    included (a cycle hidden behind either is still a cycle)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("graphport"):
                yield target
                for alias in node.names:  # `from pkg import module`
                    yield f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("graphport"))


def server_graph() -> dict[str, set[str]]:
    modules = {
        module_name(p): p for p in (SRC / "graphport").rglob("*.py") if "_sync" not in p.parts
    }
    return {
        name: {target for target in imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }


def test_layers_import_downward_only() -> None:
    upward = []
    for module, targets in server_graph().items():
        own = layer_of(module)
        if own is None:
            continue
        for target in targets:
            other = layer_of(target)
            if other is not None and other != own and RANKS[other] > RANKS[own]:
                upward.append(f"{module} -> {target}")
    assert not upward, "upward imports:\n" + "\n".join(sorted(upward))


def test_no_import_cycles() -> None:
    graph = server_graph()
    # Package __init__ modules re-export their submodules; an edge into one's own
    # package is not a cycle between rooms.
    edges = {
        m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_core_is_frozen() -> None:
    import dataclasses

    from graphport.server.core import Core

    assert dataclasses.fields(Core)
    assert Core.__dataclass_params__.frozen  # type: ignore[attr-defined]
