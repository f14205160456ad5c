"""JSON bodies on the wire."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def encode_json(value: Any) -> bytes:
    """Serialize a request body; numpy arrays, non-str keys, pydantic models and sets allowed."""
    try:
        return orjson.dumps(value, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        # orjson rewords what `_default` raised; the original says what to do about it.
        if isinstance(exc.__cause__, TypeError):
            raise exc.__cause__ from None
        raise


def decode_json(body: bytes) -> Any:
    """Parse a response body; an empty (or whitespace keep-alive only) body is `None`."""
    if not body or body.isspace():
        return None
    return orjson.loads(body)


def _default(value: Any) -> Any:
    if isinstance(value, type):
        # A class has `model_dump`/`dict` too; calling it would fail far from the mistake.
        raise TypeError(
            f"Cannot JSON-serialize the class {value!r}; pass an instance of it instead."
        )
    if callable(getattr(value, "model_dump", None)):
        return value.model_dump()
    if callable(getattr(value, "dict", None)):
        return value.dict()
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
