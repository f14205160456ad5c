"""What `langgraph.json` asks of persistence: the long-term store's `index` (semantic
search) and `ttl`, the server-wide thread TTL policy (`checkpointer.ttl`) and the
checkpointer's serializer options (`checkpointer.serde`).

Everything is resolved and checked at start-up, so a typo or a missing embeddings package
stops the server with a message naming the key instead of failing on the first search."""

from __future__ import annotations

import importlib
import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import ConfigError, LangGraphConfig
from .registry import exec_file

DEFAULT_SWEEP_MINUTES = 5.0
DEFAULT_SWEEP_LIMIT = 10_000
_SERDE_KEYS = ("pickle_fallback", "allowed_json_modules", "allowed_msgpack_modules")


@dataclass(frozen=True)
class ThreadTTLPolicy:
    strategy: str = "delete"  # or "keep_latest"
    default_ttl: float | None = None  # minutes; None = threads live until deleted
    sweep_interval_minutes: float = DEFAULT_SWEEP_MINUTES
    sweep_limit: int = DEFAULT_SWEEP_LIMIT

    def default_for_new_thread(self) -> dict[str, Any] | None:
        """The `ttl` a thread created without one gets (same shape as the request field)."""
        if self.default_ttl is None:
            return None
        return {"strategy": self.strategy, "ttl": self.default_ttl}


def _minutes(where: str, value: Any, *, required: bool = False) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"langgraph.json: {where} must be a positive number of minutes")
    return float(value)


def thread_ttl_policy(config: LangGraphConfig) -> ThreadTTLPolicy:
    ttl = (config.checkpointer or {}).get("ttl") or {}
    if not isinstance(ttl, dict):
        raise ConfigError("langgraph.json: checkpointer.ttl must be an object")
    strategy = ttl.get("strategy") or "delete"
    if strategy not in ("delete", "keep_latest"):
        raise ConfigError(
            "langgraph.json: checkpointer.ttl.strategy must be 'delete' or 'keep_latest'"
        )
    limit = ttl.get("sweep_limit", DEFAULT_SWEEP_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError("langgraph.json: checkpointer.ttl.sweep_limit must be a positive integer")
    return ThreadTTLPolicy(
        strategy=strategy,
        default_ttl=_minutes("checkpointer.ttl.default_ttl", ttl.get("default_ttl")),
        sweep_interval_minutes=_minutes(
            "checkpointer.ttl.sweep_interval_minutes", ttl.get("sweep_interval_minutes")
        )
        or DEFAULT_SWEEP_MINUTES,
        sweep_limit=limit,
    )


def serde_options(config: LangGraphConfig) -> dict[str, Any]:
    """`checkpointer.serde` as keyword arguments of langgraph's JsonPlusSerializer. Unknown
    keys are refused: a misspelt allowlist would otherwise be ignored without a word."""
    serde = (config.checkpointer or {}).get("serde")
    if serde is None:
        return {}
    where = "langgraph.json: checkpointer.serde"
    if not isinstance(serde, dict):
        raise ConfigError(f"{where} must be an object")
    unknown = sorted(set(serde) - set(_SERDE_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(_SERDE_KEYS)})"
        )
    options: dict[str, Any] = {}
    if "pickle_fallback" in serde:
        if not isinstance(serde["pickle_fallback"], bool):
            raise ConfigError(f"{where}.pickle_fallback must be true or false")
        options["pickle_fallback"] = serde["pickle_fallback"]
    if "allowed_json_modules" in serde:
        options["allowed_json_modules"] = _allowlist(
            f"{where}.allowed_json_modules", serde["allowed_json_modules"], pairs=False
        )
    if "allowed_msgpack_modules" in serde:
        options["allowed_msgpack_modules"] = _allowlist(
            f"{where}.allowed_msgpack_modules", serde["allowed_msgpack_modules"], pairs=True
        )
    return options


def _allowlist(where: str, value: Any, *, pairs: bool) -> Any:
    """true (any type), null (only langgraph's safe types) or a list of paths such as
    ["my_agent.models", "MyState"] (msgpack: exactly module and name)."""
    if value is None or value is True:
        return value
    shape = '["module", "Name"]' if pairs else '["package", "module", "Name"]'
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be true, null or a list of {shape} entries")
    for entry in value:
        ok = (
            isinstance(entry, list)
            and all(isinstance(part, str) and part for part in entry)
            and (len(entry) == 2 if pairs else len(entry) >= 2)
        )
        if not ok:
            raise ConfigError(f"{where}: {entry!r} is not a {shape} entry")
    return [tuple(entry) for entry in value]


def store_sweep_minutes(config: LangGraphConfig) -> float:
    """How often expired store items are deleted (per-item TTLs need it even without config)."""
    ttl = (config.store or {}).get("ttl") or {}
    where = "store.ttl.sweep_interval_minutes"
    return _minutes(where, ttl.get("sweep_interval_minutes")) or DEFAULT_SWEEP_MINUTES


def whole_minutes(dialect: str, minutes: float) -> float:
    """Store TTLs as the backend can keep them. The PostgreSQL store has an integer
    `ttl_minutes` and refreshes from it, so 0.5 would become 0 and expire an item on its first
    read; round up there instead."""
    return float(math.ceil(minutes)) if dialect == "postgresql" else minutes


def store_kwargs(config: LangGraphConfig, *, dialect: str) -> dict[str, Any]:
    """`index=` and `ttl=` for the langgraph store on `dialect` ("sqlite" | "postgresql")."""
    section = config.store or {}
    # Always a TTL config: the SQLite store refreshes per-item TTLs on read only when it has
    # one with `refresh_on_read` set, and that defaults to true.
    ttl = section.get("ttl") or {}
    if not isinstance(ttl, dict):
        raise ConfigError("langgraph.json: store.ttl must be an object")
    kwargs: dict[str, Any] = {"ttl": {"refresh_on_read": True, **ttl}}
    default = _minutes("store.ttl.default_ttl", ttl.get("default_ttl"))
    if default is not None:
        kwargs["ttl"]["default_ttl"] = whole_minutes(dialect, default)
    index = section.get("index")
    if index is not None:
        if dialect == "sqlite":
            require_sqlite_extensions()
        kwargs["index"] = index_config(config, index)
    return kwargs


def index_config(config: LangGraphConfig, index: Any) -> dict[str, Any]:
    if not isinstance(index, dict):
        raise ConfigError("langgraph.json: store.index must be an object")
    dims = index.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise ConfigError("langgraph.json: store.index.dims must be a positive integer")
    embed = index.get("embed")
    if not isinstance(embed, str) or not embed:
        raise ConfigError(
            "langgraph.json: store.index.embed must be './file.py:function', 'module:function'"
            " or a provider string such as 'openai:text-embedding-3-small'"
        )
    fields = index.get("fields") or ["$"]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise ConfigError("langgraph.json: store.index.fields must be a list of JSON paths")
    # The SQLite store reads `text_fields`, the PostgreSQL store `fields`: give both.
    return {
        **index,
        "embed": load_embeddings(embed, config.base_dir),
        "fields": fields,
        "text_fields": fields,
    }


def load_embeddings(spec: str, base_dir: Path) -> Any:
    """A user function (`./embed.py:fn`, `pkg.module:fn`) or, failing that, a provider
    string handed to `langchain.embeddings.init_embeddings` (imported only then)."""
    location, sep, name = spec.rpartition(":")
    if sep and name.isidentifier():
        if location.endswith(".py") or "/" in location or "\\" in location:
            return _function_from_file(spec, base_dir / location, name)
        function = _function_from_module(location, name)
        if function is not None:
            return function
    return _provider_embeddings(spec)


def _function_from_file(spec: str, file: Path, name: str) -> Callable[..., Any]:
    file = file.resolve()
    if not file.is_file():
        raise ConfigError(f"langgraph.json: store.index.embed {spec!r}: file not found ({file})")
    try:
        module = exec_file(file)
    except Exception as exc:
        raise ConfigError(f"langgraph.json: store.index.embed {spec!r}: {exc!r}") from exc
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError(
            f"langgraph.json: store.index.embed {spec!r}: no function {name!r} in {file}"
        )
    return function


def _function_from_module(module_name: str, name: str) -> Callable[..., Any] | None:
    """The named callable, or None when `module_name` is no importable module (then the
    spec is a provider string like `ollama:nomic`)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    function = getattr(module, name, None)
    return function if callable(function) else None


def _provider_embeddings(spec: str) -> Any:
    try:
        from langchain.embeddings import init_embeddings
    except ImportError:
        raise ConfigError(
            f"langgraph.json: store.index.embed {spec!r} names an embeddings provider, which"
            " needs the `langchain` package and the provider's package (for example"
            " `pip install langchain langchain-openai`); or point embed at your own function"
            " as './embed.py:embed'"
        ) from None
    try:
        return init_embeddings(spec)
    except Exception as exc:
        raise ConfigError(f"langgraph.json: store.index.embed {spec!r}: {exc}") from exc


def require_sqlite_extensions() -> None:
    """Vector search on SQLite loads the sqlite-vec extension, which some Python builds
    (e.g. pyenv's default) cannot do; say so instead of failing inside the store."""
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        raise ConfigError(
            "langgraph.json: store.index (semantic search) on SQLite needs a Python whose"
            " sqlite3 module can load extensions, and this one cannot (pyenv builds need"
            " PYTHON_CONFIGURE_OPTS=--enable-loadable-sqlite-extensions). Use such a Python,"
            " or PostgreSQL with the pgvector extension."
        )
