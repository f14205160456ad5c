"""Reading `langgraph.json`.

Files written for the official CLI must load unchanged, so unknown keys are kept (in `raw`) rather
than rejected (and named in a warning, see `unsupported.py`); only what Graphport needs to start
is validated here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .unsupported import warn_unsupported
from .webhooks import WebhookConfig

__all__ = ["ConfigError", "LangGraphConfig", "load_config", "parse_graph_spec"]


@dataclass
class LangGraphConfig:
    """The parts of `langgraph.json` the server acts on, plus every key as written."""

    path: Path
    graphs: dict[str, str]
    dependencies: list[str] = field(default_factory=list)
    env: dict[str, str] | str | None = None
    auth: dict | None = None
    store: dict | None = None
    checkpointer: dict | None = None
    http: dict | None = None
    raw: dict = field(default_factory=dict)
    graph_descriptions: dict[str, str] = field(default_factory=dict)
    # `webhooks`, resolved at start-up once `env` is applied (`webhooks.load_webhooks`);
    # until then the strict defaults.
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file (graphs, dependencies, env) are resolved against this."""
        return self.path.parent


def parse_graph_spec(spec: str) -> tuple[str, str, bool]:
    """Split `"./file.py:var"` / `"pkg.module:var"` into (location, variable, is_file).

    A location is a file when it names a `.py` file or contains a path separator; anything else is
    an importable module name.
    """
    location, sep, variable = spec.rpartition(":")
    if not sep or not location or not variable.isidentifier():
        raise ValueError(f"expected 'path/to/file.py:variable' or 'module:variable', got {spec!r}")
    is_file = location.endswith(".py") or "/" in location or "\\" in location
    return location, variable, is_file


def load_config(path: str | Path) -> LangGraphConfig:
    """Read and validate a `langgraph.json`; raises `ConfigError` with a user-facing message."""
    path = Path(path).expanduser().resolve()
    if path.is_dir():
        path = path / "langgraph.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"Could not read config file {path}: {exc}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"Invalid JSON in {path} (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a JSON object at the top level")

    graphs, descriptions = _read_graphs(path, raw.get("graphs"))
    dependencies = raw.get("dependencies") or []
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise ConfigError(f"{path}: 'dependencies' must be a list of strings")
    env = raw.get("env")
    if env is not None and not isinstance(env, str | dict):
        raise ConfigError(f"{path}: 'env' must be a path to a .env file or an object")
    if isinstance(env, dict):
        env = {str(k): str(v) for k, v in env.items()}

    config = LangGraphConfig(
        path=path,
        graphs=graphs,
        dependencies=list(dependencies),
        env=env,
        auth=_optional_object(path, raw, "auth"),
        store=_optional_object(path, raw, "store"),
        checkpointer=_optional_object(path, raw, "checkpointer"),
        http=_optional_object(path, raw, "http"),
        raw=raw,
        graph_descriptions=descriptions,
    )
    warn_unsupported(path, raw)
    return config


def _read_graphs(path: Path, value: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Accept both `"id": "spec"` and `"id": {"path": "spec", "description": "..."}`."""
    if value is None:
        raise ConfigError(f"{path}: missing required key 'graphs'")
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{path}: 'graphs' must be a non-empty object of graph id -> path")
    graphs: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for graph_id, entry in value.items():
        if isinstance(entry, dict):
            spec = entry.get("path")
            if isinstance(entry.get("description"), str):
                descriptions[graph_id] = entry["description"]
        else:
            spec = entry
        if not isinstance(spec, str):
            raise ConfigError(f"{path}: graph '{graph_id}' must be a string 'file.py:variable'")
        try:
            parse_graph_spec(spec)
        except ValueError as exc:
            raise ConfigError(f"{path}: graph '{graph_id}': {exc}") from None
        graphs[graph_id] = spec
    return graphs, descriptions


def _optional_object(path: Path, raw: dict, key: str) -> dict | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, dict):
        raise ConfigError(f"{path}: '{key}' must be an object")
    return value
