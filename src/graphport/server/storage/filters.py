"""JSON filters compiled into SQL for both dialects: metadata/values containment (search
bodies) and the auth filter language (exact, $eq, $contains, $or, $and). Filtering happens
in the database, never by loading rows and checking them in Python, except on encrypted
columns, which SQL cannot read (`json_contains`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import JSONB

from graphport.server.storage.columns import json_dumps


class InvalidFilter(ValueError):
    """A metadata or auth filter SQL cannot express (the api answers 422)."""


def _sqlite_matches(elem: Any, want: Any) -> ColumnElement[bool]:
    """Whether one `json_each` row (its `type` and `value`) contains `want`, with
    PostgreSQL's `@>` semantics: objects contain sub-objects, arrays contain every listed
    element (in any order), scalars are equal with their JSON type."""
    kind, value = elem.c.type, elem.c.value
    if isinstance(want, dict):
        return and_(kind == "object", _sqlite_contains(value, want))
    if isinstance(want, list):
        clauses = [kind == "array"]
        for item in want:
            inner = func.json_each(value).table_valued("type", "value").alias()
            clauses.append(
                exists(select(literal(1)).select_from(inner).where(_sqlite_matches(inner, item)))
            )
        return and_(*clauses)
    if want is None:
        return kind == "null"
    if isinstance(want, bool):
        return kind == ("true" if want else "false")
    if isinstance(want, (int, float)):
        return and_(kind.in_(("integer", "real")), value == want)
    return and_(kind == "text", value == str(want))


def _sqlite_contains(doc: Any, obj: dict[str, Any]) -> ColumnElement[bool]:
    """`doc @> obj` for a JSON object `obj`, on a JSON text expression. Keys are matched
    through `json_each` (no JSON-path quoting, so any key works)."""
    clauses = []
    for key, want in obj.items():
        elem = func.json_each(doc).table_valued("key", "type", "value").alias()
        clauses.append(
            exists(
                select(literal(1))
                .select_from(elem)
                .where(elem.c.key == key, _sqlite_matches(elem, want))
            )
        )
    return and_(*clauses)


def contains(col: Any, dialect: str, obj: dict[str, Any] | None) -> ColumnElement[bool]:
    """`col @> obj` (JSON containment, recursive, the same on both dialects)."""
    if not obj:
        return true()
    if dialect == "postgresql":
        return col.op("@>")(func.cast(literal(json_dumps(obj)), JSONB))
    return _sqlite_contains(col, obj)


def json_contains(doc: Any, want: Any) -> bool:
    """`doc @> want` on decoded JSON, as `contains` decides it in SQL: objects contain
    sub-objects, arrays contain every listed element (in any order), scalars are equal with
    their JSON type (`true` is not `1`, `1` is `1.0`)."""
    if isinstance(want, dict):
        return isinstance(doc, dict) and all(
            key in doc and json_contains(doc[key], value) for key, value in want.items()
        )
    if isinstance(want, list):
        return isinstance(doc, list) and all(any(json_contains(d, w) for d in doc) for w in want)
    if want is None or isinstance(want, bool):
        return doc is want
    if isinstance(want, (int, float)):
        return isinstance(doc, (int, float)) and not isinstance(doc, bool) and doc == want
    return isinstance(doc, str) and doc == want


def _list_contains(col: Any, dialect: str, key: str, value: Any) -> ColumnElement[bool]:
    items = value if isinstance(value, list) else [value]
    return contains(col, dialect, {key: items})


def _field(col: Any, dialect: str, key: str, cond: Any) -> ColumnElement[bool]:
    if isinstance(cond, dict) and len(cond) == 1 and next(iter(cond)).startswith("$"):
        op, value = next(iter(cond.items()))
        if op == "$eq":
            return contains(col, dialect, {key: value})
        if op == "$contains":
            return _list_contains(col, dialect, key, value)
        raise InvalidFilter(f"Unsupported filter operator '{op}' on '{key}'")
    return contains(col, dialect, {key: cond})


def auth_filter(
    col: Any, dialect: str, flt: dict[str, Any] | None, depth: int = 0
) -> ColumnElement[bool]:
    """Compile an auth handler's filter on a resource's metadata column."""
    if not flt:
        return true()
    if depth > 2:
        raise InvalidFilter("Auth filters may nest $or/$and at most two levels deep")
    clauses: list[ColumnElement[bool]] = []
    for key, cond in flt.items():
        if key in ("$or", "$and"):
            if not isinstance(cond, list) or len(cond) < 2:
                raise InvalidFilter(f"{key} needs a list of at least two filters")
            parts = [auth_filter(col, dialect, sub, depth + 1) for sub in cond]
            clauses.append(or_(*parts) if key == "$or" else and_(*parts))
        else:
            clauses.append(_field(col, dialect, key, cond))
    return and_(*clauses)


def never() -> ColumnElement[bool]:
    return false()
