"""The sync client and its tests are exactly what scripts/unasync.py generates."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "unasync.py"


def test_generated_code_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def unasync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The script, pointed at a copy of the real source and generated tree."""
    spec = importlib.util.spec_from_file_location("unasync_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    package = "src/graphport/sdk"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("_async", "_sync"):
        shutil.copytree(ROOT / package / name, tmp_path / package / name, ignore=ignore)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(
        module, "DIRECTORIES", [(tmp_path / package / "_async", tmp_path / package / "_sync")]
    )
    monkeypatch.setattr(sys, "argv", ["unasync.py", "--check"])
    return module


def test_check_passes_on_a_faithful_copy(unasync: ModuleType) -> None:
    assert unasync.main() == 0


def test_check_fails_on_an_edited_file(unasync: ModuleType, tmp_path: Path) -> None:
    generated = tmp_path / "src/graphport/sdk/_sync" / "runs.py"
    generated.write_text(generated.read_text() + "# hand edit\n")
    assert unasync.main() == 1


def test_check_fails_on_an_orphan_file(unasync: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "src/graphport/sdk/_sync" / "leftover.py").write_text("")
    assert unasync.main() == 1


def test_check_fails_on_a_missing_file(unasync: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "src/graphport/sdk/_sync" / "store.py").unlink()
    assert unasync.main() == 1


def test_check_fails_on_an_unused_substitution(
    unasync: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = [*unasync.SUBSTITUTIONS, (r"\bno_such_word\b", "x")]
    monkeypatch.setattr(unasync, "SUBSTITUTIONS", table)
    monkeypatch.setattr(unasync, "COMPILED", [(re.compile(p), r) for p, r in table])
    assert unasync.main() == 1


def test_check_fails_when_there_is_nothing_to_check(
    unasync: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(unasync, "DIRECTORIES", [(empty, tmp_path / "nothing")])
    assert unasync.main() == 1


def test_write_mode_repairs_drift(unasync: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "src/graphport/sdk/_sync" / "leftover.py").write_text("")
    (tmp_path / "src/graphport/sdk/_sync" / "store.py").unlink()
    sys.argv = ["unasync.py"]
    unasync.main()
    sys.argv = ["unasync.py", "--check"]
    assert unasync.main() == 0
