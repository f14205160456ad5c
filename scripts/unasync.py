"""Generate the sync SDK (and its tests) from the async source.

    python scripts/unasync.py          # rewrite src/graphport/sdk/_sync and tests/sdk/_sync
    python scripts/unasync.py --check  # exit 1 if they differ from what would be generated

Each `_async` file is rewritten line by line with the word-bounded regex substitutions below.
The check regenerates every file in memory and compares whole files, so an edited, missing or
extra (orphan) file in a `_sync` directory fails it; so does a substitution that no longer
matches anything (a stale table) or finding no source at all (a check that checks nothing).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIRECTORIES = [
    (ROOT / "src/graphport/sdk/_async", ROOT / "src/graphport/sdk/_sync"),
    (ROOT / "tests/sdk/_async", ROOT / "tests/sdk/_sync"),
]
SUBSTITUTIONS = [
    (r"\bgraphport\.sdk\._async\b", "graphport.sdk._sync"),
    (r"\basync def\b", "def"),
    (r"\basync (for|with)\b", r"\1"),
    (r"\bawait ", ""),
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\banext\(", "next("),
    (r"\bAwaitable\[Any\]", "Any"),
    (r"\baclose\b", "close"),
    (r"\baread\b", "read"),
    (r"\baiter_bytes\b", "iter_bytes"),
    (r"^import asyncio$", "import time"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"\bhttpx\.Async(Client|HTTPTransport|BaseTransport)\b", r"httpx.\1"),
    (r"\bwebsockets\.asyncio\.client\b", "websockets.sync.client"),
    (r"\bAsyncThreadStream\b", "SyncThreadStream"),
    (r"\bAsyncInProcessTransport\b", "InProcessTransport"),
    (r"\b(LangGraph|Http|Assistants|Threads|Runs|Cron|Store)Client\b", r"Sync\1Client"),
    (r"\bget_client\b", "get_sync_client"),
    # Where the two really differ, the async wording is replaced as a whole.
    (
        r"The app must already be started: its lifespan is the caller's to run\.",
        "Runs on a background event loop; its lifespan starts on first use, ends on `close()`.",
    ),
    (
        r"Async client: the source of `_sync`, which scripts/unasync\.py generates from it\.",
        "Sync client, generated from `_async` by scripts/unasync.py: edit there, not here.",
    ),
]
COMPILED = [(re.compile(pattern, re.MULTILINE), repl) for pattern, repl in SUBSTITUTIONS]
HEADER = "# Generated from {source} by scripts/unasync.py; do not edit.\n"


def unasync(source: str, uses: list[int]) -> str:
    """Apply every substitution to `source`, counting matches per substitution in `uses`."""
    for index, (pattern, repl) in enumerate(COMPILED):
        source, count = pattern.subn(repl, source)
        uses[index] += count
    return source


def generate(uses: list[int]) -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for source_dir, target_dir in DIRECTORIES:
        for source in sorted(source_dir.rglob("*.py")):
            header = HEADER.format(source=source.relative_to(ROOT).as_posix())
            text = unasync(source.read_text(), uses)
            files[target_dir / source.relative_to(source_dir)] = header + text
    return files


def existing() -> set[Path]:
    """Files now in the generated directories (compiled caches aside)."""
    return {
        path
        for _, target_dir in DIRECTORIES
        for path in target_dir.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on drift, write nothing")
    check = parser.parse_args().check

    uses = [0] * len(SUBSTITUTIONS)
    files = generate(uses)
    problems = [f"unused substitution: {SUBSTITUTIONS[i][0]}" for i, n in enumerate(uses) if not n]
    if not files:
        problems.append("no async source files found")
    orphans = existing() - files.keys()
    stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]

    if check:
        problems += [f"orphan: {path.relative_to(ROOT)}" for path in sorted(orphans)]
        problems += [f"out of date: {path.relative_to(ROOT)}" for path in stale]
    else:
        for path in orphans:
            path.unlink()
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path])
            print(f"wrote {path.relative_to(ROOT)}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
