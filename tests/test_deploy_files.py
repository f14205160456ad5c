"""The Dockerfile and compose.yaml cannot be run here (no container runtime on these
machines), so they are checked as far as can be without one: both parse (the Dockerfile
with BuildKit's own parser), the image is multi-stage, non-root, installs
graphport[postgres], serves by default and checks its health, and every graphport
command, flag and variable they use exists and takes the value given."""

from __future__ import annotations

from typing import Any

import dockerfile
import pytest
import yaml

from graphport.server import cli
from graphport.server.settings import Settings
from processes import ROOT, SETTING_VARIABLES

# Variables the image or compose file set that are not Graphport settings.
OTHER_VARIABLES = {"PATH", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"}


def _dockerfile() -> tuple[dockerfile.Command, ...]:
    return dockerfile.parse_file(str(ROOT / "Dockerfile"))


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())  # type: ignore[no-any-return]


def _graphport_services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    return {n: s for n, s in services.items() if s.get("image", "").startswith("graphport")}


def _settings_of(
    command: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """What `graphport <command>` would run with, in an environment of only `env`."""
    for name in SETTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    try:
        args = cli.parser().parse_args(command)
    except SystemExit:
        pytest.fail(f"graphport {' '.join(command)}: not a valid command line")
    return cli.settings_from(args)


def test_the_image_is_multi_stage_non_root_and_serves_by_default() -> None:
    commands = _dockerfile()
    stages = [c for c in commands if c.cmd == "FROM"]
    assert len(stages) >= 2
    runs = " ".join(" ".join(c.value) for c in commands if c.cmd == "RUN")
    assert 'install ".[postgres]"' in runs
    users = [c.value[0] for c in commands if c.cmd == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert commands.index(next(c for c in commands if c.cmd == "USER")) > commands.index(stages[-1])
    entry = next(c for c in commands if c.cmd == "ENTRYPOINT")
    default = next(c for c in commands if c.cmd == "CMD")
    assert entry.json and default.json
    assert [*entry.value, *default.value] == ["graphport", "serve"]
    health = next(c for c in commands if c.cmd == "HEALTHCHECK")
    assert health.value[0] == "CMD" and "/ok" in " ".join(health.value)
    local = [c for c in commands if c.cmd == "COPY" and not any("--from" in f for f in c.flags)]
    for copy in local:  # from the build context: the repository
        for source in copy.value[:-1]:
            if not source.startswith("$"):
                assert (ROOT / source).exists(), source


def test_the_image_environment_names_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    env: dict[str, str] = {}
    for c in _dockerfile():
        if c.cmd == "ENV":
            env.update(zip(c.value[::2], c.value[1::2], strict=True))
    unknown = set(env) - SETTING_VARIABLES - OTHER_VARIABLES
    assert not unknown, unknown
    settings = {k: v for k, v in env.items() if k in SETTING_VARIABLES}
    assert _settings_of(["serve"], settings, monkeypatch).port == 8000


def test_compose_has_the_production_topology() -> None:
    compose = _compose()
    services = compose["services"]
    assert services["postgres"]["image"].startswith("pgvector/pgvector")
    assert services["redis"]["image"].startswith("redis")
    roles = [s["command"][0] for s in _graphport_services().values()]
    assert roles.count("serve") == 2 and roles.count("worker") == 2
    assert roles.count("db") == 1


@pytest.mark.parametrize("service", sorted(_graphport_services()))
def test_compose_commands_and_variables_exist(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _graphport_services()[service]
    env = spec.get("environment") or {}
    unknown = set(env) - SETTING_VARIABLES - OTHER_VARIABLES
    assert not unknown, unknown
    settings = _settings_of(spec["command"], env, monkeypatch)
    assert settings.database_url is not None and settings.redis_url is not None
    if spec["command"][0] in ("serve", "worker"):
        assert settings.migrate is False  # the `migrate` service did it once
    if spec["command"][0] == "worker":
        port = settings.metrics_port
        assert port is not None and f":{port}/ok" in " ".join(spec["healthcheck"]["test"])
