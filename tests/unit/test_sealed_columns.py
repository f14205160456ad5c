"""`SealedJSON` (storage/columns.py), the columns of Graphport's tables that hold what users
send: exactly `JSONType` without a key (the same processors, so no cost); with one, values
are stored sealed, rows written before the key still read, and another key fails clearly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Dialect

from graphport.server.storage.columns import JSONType, json_dumps, seal_with
from graphport.server.storage.encryption import SEALED, DecryptionFailed, RotatingCipher
from graphport.server.storage.schema import runs

KEY, OTHER = b"k" * 32, b"o" * 16
VALUE = {"input": {"messages": [{"role": "user", "content": "a secret"}]}, "n": [1, 2.5, None]}
OPTIONS = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}
DIALECTS: dict[str, Callable[[], Dialect]] = {
    "sqlite": lambda: pysqlite.dialect(**OPTIONS),
    "postgresql": lambda: psycopg.dialect(**OPTIONS),
}


class Column:
    """runs.kwargs on one dialect: to the stored JSON text and back, as a row goes."""

    def __init__(self, dialect: Dialect) -> None:
        impl = runs.c.kwargs.type.dialect_impl(dialect)
        self.bind = impl.bind_processor(dialect)
        self.result = impl.result_processor(dialect, None)
        self.sqlite = dialect.name == "sqlite"

    def store(self, value: Any) -> str:
        assert self.bind is not None
        bound = self.bind(value)
        return str(bound) if self.sqlite else json_dumps(bound.obj)  # psycopg's Jsonb

    def load(self, text: str) -> Any:
        # psycopg decodes JSONB itself before the result processor (if any).
        raw = text if self.sqlite else orjson.loads(text)
        return self.result(raw) if self.result else raw


def sealed(key: bytes, *previous: bytes, dialect: str) -> Column:
    made = DIALECTS[dialect]()
    seal_with(made, RotatingCipher([key, *previous]))
    return Column(made)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_without_a_key_the_column_is_plain_json(dialect: str) -> None:
    made = DIALECTS[dialect]()
    json = JSONType.dialect_impl(made)
    column = Column(made)

    def code(processor: Any) -> Any:
        return None if processor is None else processor.__code__

    # The very processors of JSON: no extra call per value on the hot path.
    assert code(column.bind) is code(json.bind_processor(made))
    assert code(column.result) is code(json.result_processor(made, None))
    assert column.store(VALUE) == json_dumps(VALUE)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sealed_with_a_key(dialect: str) -> None:
    column = sealed(KEY, dialect=dialect)
    text = column.store(VALUE)
    assert "secret" not in text and list(orjson.loads(text)) == [SEALED]
    assert column.load(text) == VALUE
    # Rows written before the key was set read as they are.
    assert column.load(json_dumps(VALUE)) == VALUE
    # Nothing to hide in these: stored as they are (no cipher setup per empty value).
    for value in (None, {}, []):
        assert column.load(column.store(value)) == value
        assert column.store(value) == json_dumps(value)

    # Rotated: the previous key still opens it; without it, a clear error.
    assert sealed(OTHER, KEY, dialect=dialect).load(text) == VALUE
    with pytest.raises(DecryptionFailed, match="could not be decrypted with GRAPHPORT_AES_KEY"):
        sealed(OTHER, dialect=dialect).load(text)
