"""Settings read from keyword arguments, then `GRAPHPORT_*` variables, then the official
server's names; URLs printed without their password; the README lists every variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from graphport.server.redact import redact_url
from graphport.server.settings import Settings, env_names

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in Settings.model_fields:
        for name in env_names(field):
            monkeypatch.delenv(name, raising=False)


def test_arguments_then_graphport_variables_then_official_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("N_JOBS_PER_WORKER", "3")
    assert Settings().max_concurrent_runs == 3
    monkeypatch.setenv("GRAPHPORT_MAX_CONCURRENT_RUNS", "5")
    assert Settings().max_concurrent_runs == 5
    assert Settings(max_concurrent_runs=7).max_concurrent_runs == 7


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", "json"), ("1", "json"), ("false", "text"), ("JSON", "json")]
)
def test_log_json_is_a_boolean_for_the_log_format(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: str
) -> None:
    monkeypatch.setenv("LOG_JSON", raw)
    assert Settings().log_format == expected


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHPORT_REDIS_URL", "")
    assert Settings().redis_url is None


def test_values_are_validated() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        Settings(lease_seconds=0)
    with pytest.raises(ValidationError, match="postgres://"):
        Settings(database_url="sqlite:///x.db")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:pw@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("/var/lib/graphport.db", "/var/lib/graphport.db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_the_readme_lists_every_variable() -> None:
    text = README.read_text()
    missing = [n for f in Settings.model_fields for n in env_names(f) if f"`{n}`" not in text]
    assert not missing, missing
