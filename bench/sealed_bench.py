"""The cost of Graphport's encrypted columns (`SealedJSON`): encoding and decoding a run's
`kwargs` through the column's SQLAlchemy processors, as every INSERT and SELECT of a run
does, on the SQLite and PostgreSQL (psycopg) dialects, without and with an AES key.

    python bench/sealed_bench.py [--repeat 7] [--number 20000]

No database is opened: this times the Python work per value only. Run it on two checkouts
(PYTHONPATH=<checkout>/src) to compare them; without `seal_with` (before encrypted columns)
only the keyless rows are printed. Best of `--repeat` timings of `--number` calls (a
hundredth of that with a key)."""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Dialect

from graphport.server.storage.columns import json_dumps
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


def dialects() -> dict[str, Callable[[], Dialect]]:
    options = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}
    return {
        "sqlite": lambda: pysqlite.dialect(**options),
        "postgresql": lambda: psycopg.dialect(**options),
    }


def processors(dialect: Dialect) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(encode to the stored JSON text, decode from it) for the kwargs column on this
    dialect: the column's processors plus, on PostgreSQL, what psycopg does around them
    (it serializes the `Jsonb` the bind processor returns and decodes JSONB before the
    result processor, both with the engine's JSON functions)."""
    impl = runs.c.kwargs.type.dialect_impl(dialect)
    bind = impl.bind_processor(dialect) or (lambda v: v)
    result = impl.result_processor(dialect, None) or (lambda v: v)
    if dialect.name == "sqlite":
        return bind, result
    return (lambda v: json_dumps(bind(v).obj)), (lambda text: result(orjson.loads(text)))


def best_us(fn: Callable[[Any], Any], value: Any, number: int, repeat: int) -> float:
    return min(timeit.repeat(lambda: fn(value), number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    try:
        from graphport.server.storage.columns import seal_with
        from graphport.server.storage.encryption import RotatingCipher

        keys: list[str | None] = [None, "A" * 32]
    except ImportError:  # a checkout without encrypted columns
        keys = [None]
    print(f"{'dialect':<11} {'key':<4} {'encode us':>10} {'decode us':>10}  stored bytes")
    for name, make in dialects().items():
        for key in keys:
            dialect = make()
            if key:
                seal_with(dialect, RotatingCipher([key.encode()]))
            encode, decode = processors(dialect)
            stored = encode(KWARGS)
            assert decode(stored) == KWARGS
            number = args.number // 100 if key else args.number  # a seal costs ~0.1-0.5 ms
            enc = best_us(encode, KWARGS, number, args.repeat)
            dec = best_us(decode, stored, number, args.repeat)
            mark = "yes" if key else "no"
            print(f"{name:<11} {mark:<4} {enc:>10.2f} {dec:>10.2f}  {len(stored)}")


if __name__ == "__main__":
    main()
