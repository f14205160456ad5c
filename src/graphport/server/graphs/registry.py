"""Importing the graphs a `langgraph.json` names, and handing out runnable copies of them.

A graph variable may be a compiled graph, an uncompiled `StateGraph`, or a factory (sync or async
function, optionally taking the run's `RunnableConfig`, possibly returning a context manager). The
server never runs the module-level object itself: every caller gets a copy with the checkpointer
and store of its own choosing attached, so concurrent runs cannot leak persistence into each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import inspect
import logging
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from dotenv import load_dotenv
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore

from .config import LangGraphConfig, parse_graph_spec

__all__ = ["SYSTEM_ASSISTANT_NAMESPACE", "GraphLoadError", "GraphNotFoundError", "GraphRegistry"]

logger = logging.getLogger(__name__)

#: uuid5 namespace of the per-graph "system" assistants (docs/api.md#conventions); the
#: official server's, so system assistant ids match across servers.
SYSTEM_ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")

_DEFAULT_GRAPH_NAME = "LangGraph"


class GraphLoadError(Exception):
    """A graph could not be imported or built; the message names the graph id and its file."""


class GraphNotFoundError(LookupError):
    """No graph with this id is registered (message matches the API's 404 detail)."""


@dataclass(frozen=True)
class _Entry:
    graph_id: str
    location: str  # as written in langgraph.json, for error messages
    variable: str
    compiled: Pregel | None  # set for compiled graphs and StateGraph builders
    factory: Callable[..., Any] | None
    factory_takes_config: bool = False
    # Copies of `compiled` with a checkpointer and store attached: made once, shared by
    # every run (a compiled graph is safe to run concurrently).
    attached: list[tuple[BaseCheckpointSaver | None, BaseStore | None, Pregel]] = field(
        default_factory=list
    )

    def with_persistence(
        self, checkpointer: BaseCheckpointSaver | None, store: BaseStore | None
    ) -> Pregel:
        assert self.compiled is not None
        for saver, st, graph in self.attached:
            if saver is checkpointer and st is store:
                return graph
        graph = _attach(self.compiled, checkpointer, store)
        self.attached.append((checkpointer, store, graph))
        return graph

    def error(self, reason: str) -> GraphLoadError:
        return GraphLoadError(
            f"Failed to load graph '{self.graph_id}' from {self.location}: {reason}"
        )


class GraphRegistry:
    """The graphs of one `langgraph.json`, imported once at start-up."""

    def __init__(self, config: LangGraphConfig, entries: dict[str, _Entry]) -> None:
        self.config = config
        self._entries = entries
        self._system_ids = {g: self.system_assistant_id(g) for g in entries}
        self._system_id_set = frozenset(self._system_ids.values())

    @classmethod
    def load(cls, config: LangGraphConfig) -> GraphRegistry:
        """Apply `env`, extend `sys.path` with local dependencies, then import every graph.

        Env comes first because graph modules commonly read API keys at import time.
        """
        _apply_env(config)
        _extend_sys_path(config)
        modules: dict[Path, ModuleType] = {}  # several graphs may live in one file
        entries = {
            graph_id: _load_entry(config, graph_id, spec, modules)
            for graph_id, spec in config.graphs.items()
        }
        return cls(config, entries)

    @property
    def graph_ids(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._entries

    def system_assistant_id(self, graph_id: str) -> str:
        return str(uuid.uuid5(SYSTEM_ASSISTANT_NAMESPACE, graph_id))

    def is_system_assistant(self, assistant_id: str) -> bool:
        return assistant_id in self._system_id_set

    def resolve_assistant_id(self, assistant_id_or_graph_id: str) -> str:
        """Map a graph id to its system assistant id (routes taking "assistant ID or graph")."""
        return self._system_ids.get(assistant_id_or_graph_id, assistant_id_or_graph_id)

    def default_assistant_name(self, graph_id: str) -> str:
        compiled = self._entry(graph_id).compiled
        name = compiled.name if compiled is not None else None
        return name if name and name != _DEFAULT_GRAPH_NAME else graph_id

    def description(self, graph_id: str) -> str | None:
        """The optional `{"path": ..., "description": ...}` text from `langgraph.json`."""
        self._entry(graph_id)
        return self.config.graph_descriptions.get(graph_id)

    def is_factory(self, graph_id: str) -> bool:
        return self._entry(graph_id).factory is not None

    @asynccontextmanager
    async def graph(
        self,
        graph_id: str,
        config: RunnableConfig | None = None,
        *,
        checkpointer: BaseCheckpointSaver | None = None,
        store: BaseStore | None = None,
    ) -> AsyncIterator[Pregel]:
        """Yield a graph ready to run, with exactly this checkpointer (None: none at all).

        `store=None` keeps whatever store the graph was compiled with. Factories are called with
        `config` on every entry; context-manager factories stay open until the block exits.
        """
        entry = self._entry(graph_id)
        if entry.compiled is not None:
            yield entry.with_persistence(checkpointer, store)
            return
        async with AsyncExitStack() as stack:
            built = await _build_from_factory(entry, config, stack)
            yield _attach(built, checkpointer, store)

    def _entry(self, graph_id: str) -> _Entry:
        try:
            return self._entries[graph_id]
        except KeyError:
            raise GraphNotFoundError(
                f"Graph '{graph_id}' not found. Expected one of: {self.graph_ids}"
            ) from None


def _attach(
    graph: Pregel, checkpointer: BaseCheckpointSaver | None, store: BaseStore | None
) -> Pregel:
    update: dict[str, Any] = {"checkpointer": checkpointer}
    if store is not None:
        update["store"] = store
    return graph.copy(update=update)


# -- start-up: environment and import path ----------------------------------------------------


def _apply_env(config: LangGraphConfig) -> None:
    """Variables already set in the process win, so a deployment can override the file."""
    if isinstance(config.env, dict):
        for key, value in config.env.items():
            os.environ.setdefault(key, value)
    elif isinstance(config.env, str):
        env_file = (config.base_dir / config.env).resolve()
        if env_file.is_file():
            load_dotenv(env_file, override=False)
        else:
            logger.warning("env file %s (from %s) does not exist", env_file, config.path)


def _extend_sys_path(config: LangGraphConfig) -> None:
    """Put local dependencies ("." or "./pkg") first on sys.path, as if they were installed.

    A dependency with a pyproject/setup.py and a `src/` folder also gets `src/`, since installing
    such a project would make the packages under `src/` importable. Non-path dependencies are
    requirement strings for an image build and are ignored here.
    """
    paths: list[str] = []
    for dep in config.dependencies:
        if not dep.startswith((".", "/", "~")):
            continue
        root = (config.base_dir / dep).expanduser().resolve()
        if not root.is_dir():
            logger.warning("dependency %r (from %s) is not a directory", dep, config.path)
            continue
        paths.append(str(root))
        has_project = (root / "pyproject.toml").is_file() or (root / "setup.py").is_file()
        if has_project and (root / "src").is_dir():
            paths.append(str(root / "src"))
    new = [p for p in dict.fromkeys(paths) if p not in sys.path]
    sys.path[:0] = new


# -- start-up: importing one graph ------------------------------------------------------------


def _load_entry(
    config: LangGraphConfig, graph_id: str, spec: str, modules: dict[Path, ModuleType]
) -> _Entry:
    location, variable, is_file = parse_graph_spec(spec)
    stub = _Entry(graph_id, location, variable, compiled=None, factory=None)
    module = _import_file(stub, config.base_dir, modules) if is_file else _import_module(stub)

    try:
        obj = getattr(module, variable)
    except AttributeError:
        raise stub.error(f"variable '{variable}' not found") from None

    if isinstance(obj, Pregel):
        return _Entry(graph_id, location, variable, compiled=obj, factory=None)
    if isinstance(obj, StateGraph):
        return _Entry(graph_id, location, variable, compiled=_compile(stub, obj), factory=None)
    if callable(obj) and not inspect.isclass(obj):
        return _Entry(
            graph_id,
            location,
            variable,
            compiled=None,
            factory=obj,
            factory_takes_config=_takes_argument(obj),
        )
    raise stub.error(
        f"variable '{variable}' is a {type(obj).__name__}; expected a compiled graph, "
        "a StateGraph, or a function returning one"
    )


def _import_module(entry: _Entry) -> ModuleType:
    name = entry.location
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise entry.error(
                f"module '{name}' not found (is its folder listed in 'dependencies'?)"
            ) from exc
        raise entry.error(_describe(exc)) from exc
    except Exception as exc:
        raise entry.error(_describe(exc)) from exc


def _import_file(entry: _Entry, base_dir: Path, modules: dict[Path, ModuleType]) -> ModuleType:
    file = (base_dir / entry.location).resolve()
    if file in modules:
        return modules[file]
    if not file.is_file():
        raise entry.error(f"file not found ({file})")
    if file.suffix != ".py":
        raise entry.error("only Python (.py) graph files are supported")

    package_name = _package_module_name(file)
    try:
        if package_name is not None:
            module = importlib.import_module(package_name)
        else:
            module = exec_file(file)
    except Exception as exc:
        raise entry.error(_describe(exc)) from exc
    modules[file] = module
    return module


def _package_module_name(file: Path) -> str | None:
    """The dotted name of a file inside a package whose root is on sys.path, else None.

    Importing such a file by that name keeps its relative imports working and avoids loading it
    a second time under another name when sibling modules import it.
    """
    parts = [] if file.name == "__init__.py" else [file.stem]
    folder = file.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if file.name != "__init__.py" and len(parts) == 1:
        return None  # a top-level file, not part of a package
    roots = {Path(p or os.curdir).resolve() for p in sys.path}
    if folder.resolve() in roots and all(p.isidentifier() for p in parts):
        return ".".join(parts)
    return None


def exec_file(file: Path) -> ModuleType:
    """Execute a standalone file under a private module name, fresh on every load.

    The name is registered in sys.modules because pydantic, dataclasses and typing resolve
    annotations through `sys.modules[cls.__module__]`.
    """
    stem = re.sub(r"\W", "_", file.stem)
    digest = hashlib.sha1(str(file).encode()).hexdigest()[:10]
    name = f"_graphport_graph_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _compile(entry: _Entry, builder: StateGraph) -> Pregel:
    try:
        return builder.compile()
    except Exception as exc:
        raise entry.error(f"StateGraph could not be compiled: {_describe(exc)}") from exc


def _takes_argument(factory: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # some builtins and C callables have no signature
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )


# -- per request: factories -------------------------------------------------------------------


async def _build_from_factory(
    entry: _Entry, config: RunnableConfig | None, stack: AsyncExitStack
) -> Pregel:
    """Call the factory and unwrap awaitables and context managers down to a graph.

    Sync factories and sync context managers run in a worker thread so a slow one (opening a
    connection, reading files) does not stall every other run on the event loop.
    """
    assert entry.factory is not None
    factory = entry.factory
    args = (_copy_config(config),) if entry.factory_takes_config else ()
    try:
        if inspect.iscoroutinefunction(factory):
            result = factory(*args)
        else:
            result = await asyncio.to_thread(factory, *args)
        if inspect.isawaitable(result):
            result = await result
        if hasattr(result, "__aenter__") and hasattr(result, "__aexit__"):
            result = await stack.enter_async_context(result)
        elif hasattr(result, "__enter__") and hasattr(result, "__exit__"):
            result = await _enter_sync_context(result, stack)
    except Exception as exc:
        raise entry.error(f"factory '{entry.variable}' raised {_describe(exc)}") from exc

    if isinstance(result, StateGraph):
        return _compile(entry, result)
    if not isinstance(result, Pregel):
        raise entry.error(
            f"factory '{entry.variable}' returned a {type(result).__name__}; "
            "expected a compiled graph or a StateGraph"
        )
    return result


async def _enter_sync_context(cm: Any, stack: AsyncExitStack) -> Any:
    value = await asyncio.to_thread(cm.__enter__)

    async def exit_in_thread(*exc_info: Any) -> bool:
        return bool(await asyncio.to_thread(cm.__exit__, *exc_info))

    stack.push_async_exit(exit_in_thread)
    return value


def _copy_config(config: RunnableConfig | None) -> RunnableConfig:
    """Factories often read `config["configurable"][...]`: give them one, and a copy to mutate."""
    copied: RunnableConfig = {**(config or {})}
    copied["configurable"] = dict(copied.get("configurable") or {})
    return copied
