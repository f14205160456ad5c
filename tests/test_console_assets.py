"""The console's built assets are committed (so `make run` needs no Node.js): they must be
the build of the sources beside them, and ship inside the wheel (docs/console.md)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from processes import ROOT

SOURCES = ROOT / "console"
ASSETS = ROOT / "src" / "graphport" / "server" / "console"
# What the build reads; console/manifest.mjs hashes the same list the same way.
INPUTS = [
    "src", "index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"
]
REBUILD = "the console's sources changed: run `make console` and commit the result"


def sources_digest() -> str:
    files = sorted(
        f.relative_to(SOURCES).as_posix()
        for name in INPUTS
        for f in ([SOURCES / name] if (SOURCES / name).is_file() else (SOURCES / name).rglob("*"))
        if f.is_file()
    )
    total = hashlib.sha256()
    for path in files:
        digest = hashlib.sha256((SOURCES / path).read_bytes()).hexdigest()
        total.update(f"{path}\n{digest}\n".encode())
    return total.hexdigest()


def test_assets_are_built_from_these_sources() -> None:
    manifest = json.loads((ASSETS / "manifest.json").read_text())
    assert manifest["sources"] == sources_digest(), REBUILD


def test_index_references_only_shipped_assets() -> None:
    index = (ASSETS / "index.html").read_text()
    referenced = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', index)
    assert referenced, index
    shipped = {p.relative_to(ASSETS).as_posix() for p in (ASSETS / "assets").iterdir()}
    assert set(referenced) == shipped, "stale or missing assets: run `make console`"
    assert "http://" not in index and "https://" not in index  # nothing from the internet


def test_wheel_contains_the_console(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("graphport-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "graphport/server/console/"
    expected = {prefix + p.relative_to(ASSETS).as_posix() for p in ASSETS.rglob("*") if p.is_file()}
    assert {prefix + "index.html", prefix + "manifest.json"} <= expected
    assert expected <= names, sorted(expected - names)
