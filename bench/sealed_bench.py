"""The cost of Graphport's encrypted columns (`SealedJSON`): encoding and decoding a run's
`kwargs` through the column's SQLAlchemy processors, as every INSERT and SELECT of a run
does, on the SQLite and PostgreSQL (psycopg) dialects: with the plain JSON type the column
had before, with `SealedJSON` without a key, and with a key.

    python bench/sealed_bench.py [--repeat 15] [--number 20000]

No database is opened: this times the Python work per value only. The variants are timed in
turns (one batch of each, `--repeat` times) so that a loaded machine slows them alike; each
figure is the best batch of `--number` calls (a hundredth of that with a key)."""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from graphport.server.storage.columns import JSONType, json_dumps, seal_with
from graphport.server.storage.encryption import RotatingCipher
from graphport.server.storage.schema import runs

# A chat run's execution request: three messages, the merged config, the usual options.
KWARGS: dict[str, Any] = {
    "input": {
        "messages": [
            {"role": "user", "content": "What is the weather like in Lisbon today? " * 4},
            {"role": "assistant", "content": "It is sunny, 24 degrees, with a light breeze. " * 4},
            {"role": "user", "content": "And tomorrow? Should I take an umbrella? " * 4},
        ]
    },
    "command": None,
    "config": {
        "configurable": {
            "thread_id": "0195d3c2-8f4e-7a4b-9c1d-2e3f4a5b6c7d",
            "assistant_id": "fe096781-5601-53d2-b2f6-0d3403f7e9ca",
            "graph_id": "agent",
            "user_id": "someone@example.com",
        },
        "metadata": {"source": "console"},
        "recursion_limit": 25,
    },
    "context": {},
    "stream_mode": ["values", "messages-tuple"],
    "interrupt_before": None,
    "interrupt_after": None,
    "webhook": None,
    "feedback_keys": None,
    "temporary": False,
    "subgraphs": False,
    "resumable": False,
    "durability": "async",
    "on_disconnect": "continue",
}
DIALECTS: dict[str, Callable[..., Dialect]] = {
    "sqlite": pysqlite.dialect,
    "postgresql": psycopg.dialect,
}
Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
KEYED = "SealedJSON, key"


def codec(column_type: TypeEngine[Any], dialect: Dialect) -> Codec:
    """(encode to the stored JSON text, decode from it) through the type's processors plus,
    on PostgreSQL, what psycopg does around them (it serializes the `Jsonb` the bind
    processor returns and decodes JSONB before the result processor, both with the engine's
    JSON functions)."""
    impl = column_type.dialect_impl(dialect)
    bind = impl.bind_processor(dialect) or (lambda v: v)
    result = impl.result_processor(dialect, None) or (lambda v: v)
    if dialect.name == "sqlite":
        return bind, result
    return (lambda v: json_dumps(bind(v).obj)), (lambda text: result(orjson.loads(text)))


def variants(name: str) -> dict[str, Codec]:
    def dialect(key: bytes | None = None) -> Dialect:
        made = DIALECTS[name](json_serializer=json_dumps, json_deserializer=orjson.loads)
        if key:
            seal_with(made, RotatingCipher([key]))
        return made

    return {
        "JSONType (before)": codec(JSONType, dialect()),
        "SealedJSON, no key": codec(runs.c.kwargs.type, dialect()),
        KEYED: codec(runs.c.kwargs.type, dialect(b"A" * 32)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    print(f"{'dialect':<11} {'column type':<19} {'encode us':>10} {'decode us':>10}  bytes")
    for name in DIALECTS:
        codecs = variants(name)
        best: dict[str, list[float]] = {v: [float("inf")] * 2 for v in codecs}
        stored: dict[str, Any] = {}
        for variant, (encode, decode) in codecs.items():
            stored[variant] = encode(KWARGS)
            assert decode(stored[variant]) == KWARGS
        for _ in range(args.repeat):
            for variant, (encode, decode) in codecs.items():
                number = args.number // 100 if variant == KEYED else args.number
                for i, (fn, value) in enumerate(((encode, KWARGS), (decode, stored[variant]))):
                    seconds = timeit.timeit(lambda f=fn, v=value: f(v), number=number)
                    best[variant][i] = min(best[variant][i], seconds / number * 1e6)
        for variant, (enc, dec) in best.items():
            size = len(stored[variant])
            print(f"{name:<11} {variant:<19} {enc:>10.2f} {dec:>10.2f}  {size}")


if __name__ == "__main__":
    main()
