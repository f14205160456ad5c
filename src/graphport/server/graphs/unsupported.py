"""`langgraph.json` keys Graphport does not act on. Files written for the official server load
unchanged, so these are named at start-up (one log line each) instead of silently losing what
they ask for."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

__all__ = ["unsupported_keys", "warn_unsupported"]

logger = logging.getLogger(__name__)

# Top-level keys Graphport acts on; a section listed in SECTIONS is checked key by key.
TOP_LEVEL = frozenset(
    {
        "graphs",
        "dependencies",
        "env",
        "auth",
        "store",
        "checkpointer",
        "http",
        "webhooks",
        "encryption",
    }
)
# Options for building a container image: no meaning for a server started from source.
BUILD_ONLY = frozenset(
    {
        "$schema",
        "python_version",
        "node_version",
        "api_version",
        "base_image",
        "image_distro",
        "pip_config_file",
        "pip_installer",
        "source",
        "dockerfile_lines",
        "keep_pkg_tools",
        "project_root",
        "package",
        "_INTERNAL_docker_tag",
    }
)
# Official top-level keys Graphport reads nothing from.
NOT_IMPLEMENTED = frozenset({"ui", "ui_config", "disable_persistence", "priority"})
SECTIONS = {
    # `disable_studio_auth` is moot: there is no Studio login to bypass.
    "auth": frozenset({"path", "disable_studio_auth"}),
    "store": frozenset({"index", "ttl"}),
    "checkpointer": frozenset({"ttl", "serde"}),
    # Switching off routes Graphport does not serve (ui) is already true.
    "http": frozenset(
        {
            "app",
            "cors",
            "configurable_headers",
            "mount_prefix",
            "enable_custom_route_auth",
            "disable_assistants",
            "disable_threads",
            "disable_runs",
            "disable_store",
            "disable_meta",
            "disable_webhooks",
            "disable_mcp",
            "disable_a2a",
            "disable_ui",
        }
    ),
}


def unsupported_keys(raw: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """(dotted key, whether the official server knows it) for every key Graphport ignores."""
    for key, value in raw.items():
        if key in SECTIONS and isinstance(value, dict):
            yield from ((f"{key}.{sub}", True) for sub in value if sub not in SECTIONS[key])
        elif key in NOT_IMPLEMENTED:
            yield key, True
        elif key not in TOP_LEVEL and key not in BUILD_ONLY:
            yield key, False


def warn_unsupported(path: Any, raw: dict[str, Any]) -> None:
    for key, official in unsupported_keys(raw):
        if official:
            logger.warning("%s: '%s' is not implemented by Graphport; ignored", path, key)
        else:
            logger.warning("%s: '%s' is not a langgraph.json key; ignored", path, key)
