"""The one user shape the server hands to handlers and graphs, whatever the authenticator
returned (a string, a dict with `identity`, an object with `.identity`, or a
`(permissions, user)` tuple)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

_KNOWN = ("identity", "display_name", "is_authenticated", "permissions")


class AuthenticatedUser(Mapping[str, Any]):
    """A user with attribute and mapping access to `identity`, `display_name`,
    `is_authenticated`, `permissions` and any extra key the authenticator returned."""

    __slots__ = ("_data", "_source")

    def __init__(self, data: Mapping[str, Any], source: Any = None) -> None:
        values = dict(data)
        identity = values.get("identity")
        if identity is None or identity == "":
            raise ValueError("An authenticated user needs a non-empty 'identity'")
        values["identity"] = str(identity)
        values["permissions"] = [str(p) for p in values.get("permissions") or []]
        values.setdefault("is_authenticated", True)
        if values.get("display_name") is None:
            values["display_name"] = values["identity"]
        object.__setattr__(self, "_data", values)
        object.__setattr__(self, "_source", source)

    @property
    def identity(self) -> str:
        return str(self._data["identity"])

    @property
    def display_name(self) -> str:
        return str(self._data["display_name"])

    @property
    def is_authenticated(self) -> bool:
        return bool(self._data["is_authenticated"])

    @property
    def permissions(self) -> list[str]:
        return list(self._data["permissions"])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._data:
            return self._data[name]
        if self._source is not None:
            return getattr(self._source, name)
        raise AttributeError(f"user has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AuthenticatedUser is read-only")

    def __getitem__(self, key: str) -> Any:
        if key in self._data:
            return self._data[key]
        if self._source is not None and hasattr(self._source, key):
            return getattr(self._source, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"AuthenticatedUser(identity={self.identity!r})"

    def __copy__(self) -> AuthenticatedUser:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> AuthenticatedUser:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (AuthenticatedUser, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-serializable part of the user (what is stored with a run)."""
        return {k: v for k, v in self._data.items() if _jsonable(v)}


def _jsonable(value: Any, depth: int = 0) -> bool:
    if depth > 20:
        return False
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_jsonable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v, depth + 1) for k, v in value.items())
    return False


def normalize_user(result: Any) -> AuthenticatedUser:
    """Turn an authenticator's return value into an `AuthenticatedUser`.

    Accepts a string identity, a mapping with `identity`, an object with `.identity`, or a
    `(permissions, user)` tuple; raises `ValueError` for anything else.
    """
    permissions: list[str] | None = None
    if isinstance(result, tuple) and len(result) == 2:
        perms, result = result
        if isinstance(perms, str):
            raise ValueError("permissions must be a list of strings, not a string")
        permissions = [str(p) for p in perms or []]
    source: Any = None
    if isinstance(result, AuthenticatedUser):
        data = dict(result._data)
        source = result._source
    elif isinstance(result, str):
        data = {"identity": result}
    elif isinstance(result, Mapping):
        data = dict(result)
    elif result is not None and _has_identity(result):
        source = result
        data = {}
        for key in _KNOWN:
            try:
                data[key] = getattr(result, key)
            except Exception:  # optional attributes of a foreign user class
                continue
    else:
        raise ValueError(
            "The authenticator must return a string, a dict with 'identity', an object with "
            f"an 'identity' attribute, or a (permissions, user) tuple; got {type(result).__name__}"
        )
    if permissions is not None:
        data["permissions"] = permissions
    return AuthenticatedUser(data, source)


def _has_identity(obj: Any) -> bool:
    try:
        return getattr(obj, "identity", None) is not None
    except Exception:  # e.g. a property raising NotImplementedError
        return False
