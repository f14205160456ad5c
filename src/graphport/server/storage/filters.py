"""JSON filters compiled into SQL for both dialects: metadata/values containment (search
bodies) and the auth filter language (exact, $eq, $contains, $or, $and). Filtering happens
in the database, never by loading rows and checking them in Python."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from graphport.server.errors import Unprocessable
from graphport.server.storage.columns import json_dumps


def _sqlite_path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sqlite_value_eq(col: Any, key: str, value: Any) -> ColumnElement[bool]:
    # Let SQLite normalise both sides the same way: json_extract of the stored document
    # and json_extract of the JSON-encoded filter value.
    left = func.json_extract(col, _sqlite_path(key))
    right = func.json_extract(literal(json_dumps(value)), "$")
    if value is None:
        return left.is_(None)
    return left == right


def contains(col: Any, dialect: str, obj: dict[str, Any] | None) -> ColumnElement[bool]:
    """`col @> obj` (JSON containment of top-level keys)."""
    if not obj:
        return true()
    if dialect == "postgresql":
        return col.op("@>")(func.cast(literal(json_dumps(obj)), JSONB))
    return and_(*(_sqlite_value_eq(col, k, v) for k, v in obj.items()))


def _list_contains(col: Any, dialect: str, key: str, value: Any) -> ColumnElement[bool]:
    items = value if isinstance(value, list) else [value]
    if dialect == "postgresql":
        return col[key].op("@>")(func.cast(literal(json_dumps(items)), JSONB))
    clauses = []
    for item in items:
        each = func.json_each(col, _sqlite_path(key)).table_valued("value")
        clauses.append(
            exists(
                select(literal(1))
                .select_from(each)
                .where(each.c.value == func.json_extract(literal(json_dumps(item)), "$"))
            )
        )
    return and_(*clauses)


def _field(col: Any, dialect: str, key: str, cond: Any) -> ColumnElement[bool]:
    if isinstance(cond, dict) and len(cond) == 1 and next(iter(cond)).startswith("$"):
        op, value = next(iter(cond.items()))
        if op == "$eq":
            return contains(col, dialect, {key: value})
        if op == "$contains":
            return _list_contains(col, dialect, key, value)
        raise Unprocessable(f"Unsupported filter operator '{op}' on '{key}'")
    return contains(col, dialect, {key: cond})


def auth_filter(
    col: Any, dialect: str, flt: dict[str, Any] | None, depth: int = 0
) -> ColumnElement[bool]:
    """Compile an auth handler's filter on a resource's metadata column."""
    if not flt:
        return true()
    if depth > 2:
        raise Unprocessable("Auth filters may nest $or/$and at most two levels deep")
    clauses: list[ColumnElement[bool]] = []
    for key, cond in flt.items():
        if key in ("$or", "$and"):
            if not isinstance(cond, list) or len(cond) < 2:
                raise Unprocessable(f"{key} needs a list of at least two filters")
            parts = [auth_filter(col, dialect, sub, depth + 1) for sub in cond]
            clauses.append(or_(*parts) if key == "$or" else and_(*parts))
        else:
            clauses.append(_field(col, dialect, key, cond))
    return and_(*clauses)


def never() -> ColumnElement[bool]:
    return false()
