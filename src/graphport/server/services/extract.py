"""`extract` on thread search (docs/api.md#threads): pull values out of each thread by a dotted path
with `[index]` steps (negative allowed), e.g. `values.messages[-1].content`."""

from __future__ import annotations

import re
from typing import Any

from graphport.server.errors import Unprocessable

_ROOTS = ("values", "metadata", "config", "interrupts")
_STEP = re.compile(r"([^.\[\]]+)|\[(-?[0-9]+)\]")
# A root, then `.key` or `[index]` steps: no empty keys, no stray brackets or dots.
PATH_PATTERN = r"^(?:values|metadata|config|interrupts)(?:\.[^.\[\]\x00]+|\[-?[0-9]+\])*$"
ALIAS_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_PATH = re.compile(PATH_PATTERN)
_ALIAS = re.compile(ALIAS_PATTERN)
RESERVED = frozenset(
    {"thread_id", "created_at", "updated_at", "state_updated_at", "metadata", "config",
     "status", "values", "interrupts", "extracted", "error", "ttl"}
)
MAX_EXTRACT = 10


def parse(extract: dict[str, str]) -> dict[str, list[str | int]]:
    if len(extract) > MAX_EXTRACT:
        raise Unprocessable(f"extract: at most {MAX_EXTRACT} entries are allowed")
    paths: dict[str, list[str | int]] = {}
    for alias, path in extract.items():
        if not _ALIAS.match(alias) or alias in RESERVED:
            raise Unprocessable(f"extract: invalid alias '{alias}'")
        if not path or path.split(".", 1)[0].split("[", 1)[0] not in _ROOTS:
            raise Unprocessable(f"extract: path '{path}' must start with one of {list(_ROOTS)}")
        if not _PATH.match(path):
            raise Unprocessable(f"extract: invalid path '{path}'")
        steps: list[str | int] = [
            m.group(1) if m.group(1) is not None else int(m.group(2))
            for m in _STEP.finditer(path)
        ]
        paths[alias] = steps
    return paths


def _walk(obj: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return None
            obj = obj[step]
        else:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(step)
    return obj


def apply(row: dict[str, Any], paths: dict[str, list[str | int]]) -> dict[str, Any]:
    return {alias: _walk(row, steps) for alias, steps in paths.items()}
