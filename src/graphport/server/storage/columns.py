"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from langgraph.checkpoint.serde.base import CipherProtocol
from sqlalchemy import JSON, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from graphport.server.storage.encryption import SEALED

# JSONB on PostgreSQL (containment operators, indexes); JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def Id() -> String:
    return String(36)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out. SQLite has no time zones, so it stores naive UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


# The cipher of each engine opened with an AES key, by its dialect (the only handle a column
# type gets): one process may hold databases with different keys, or none (tests do).
_CIPHERS: WeakKeyDictionary[Dialect, CipherProtocol] = WeakKeyDictionary()


def seal_with(dialect: Dialect, cipher: CipherProtocol) -> None:
    """Encrypt the `SealedJSON` columns of every statement run through `dialect` (one
    engine's). Call it before the engine runs anything: SQLAlchemy keeps a type's processors
    per dialect once it has built them."""
    _CIPHERS[dialect] = cipher


def sealing(dialect: Dialect) -> bool:
    """Whether `SealedJSON` columns are encrypted on this dialect (SQL cannot see into
    them then)."""
    return dialect in _CIPHERS


class SealedJSON(TypeDecorator[Any]):
    """JSON that holds what users send (run inputs, a thread's cached state, cron payloads,
    assistants' configuration): encrypted at rest when the engine was opened with a key
    (`seal_with`), else exactly `JSONType` (the same processors: no cost without a key).

    A sealed value is stored in the same column as the JSON object `{SEALED: [cipher name,
    base64 ciphertext]}`, so no migration is needed and rows written before the key was set
    (plain JSON) read as they are."""

    impl = JSONType
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        cipher = _CIPHERS.get(dialect)
        return JSONType if cipher is None else _Sealing(cipher)


class _Sealing(TypeDecorator[Any]):
    """`JSONType` whose values go through `cipher` (the one behind `checkpoint_serde`, so a
    rotated key reads the same way)."""

    impl = JSONType
    cache_ok = True

    def __init__(self, cipher: CipherProtocol) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or value == {} or value == []:
            # Nothing to hide (a ciphertext's length gives these away anyway), and each seal
            # or opening costs about 0.1 ms (langgraph's cipher: pycryptodome's EAX mode).
            return value
        name, data = self.cipher.encrypt(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS))
        return {SEALED: [name, base64.b64encode(data).decode()]}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dict) and SEALED in value and len(value) == 1:
            name, data = value[SEALED]
            return orjson.loads(self.cipher.decrypt(name, base64.b64decode(data)))
        return value  # written before the key was set
