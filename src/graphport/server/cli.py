"""The `graphport` command. `dev`: the embedded server on SQLite, one command, nothing else
to run. `serve` + `worker`: API replicas and run executors sharing PostgreSQL (or one SQLite
file) and Redis. `db`: migrations, run explicitly once per rollout.

Every setting is a flag here and a variable in the environment (see `--help`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from graphport.server.settings import (
    DEFAULT_HOST,
    DEV_PORT,
    SERVE_PORT,
    Settings,
    commands_of,
    env_names,
)

_SETTINGS_ENV = "GRAPHPORT_CLI_SETTINGS"
_FLAGS = {"config_path": "--config"}
_KINDS = {int: "a whole number", float: "a number", bool: "true or false"}
_PARSING_ERRORS = ("int_parsing", "float_parsing", "bool_parsing", "int_from_float")


def flag(field: str) -> str:
    return _FLAGS.get(field, "--" + field.replace("_", "-"))


def _default(field: str, command: str) -> object:
    if field == "host":
        return DEFAULT_HOST[command]
    if field == "port":
        return f"{DEV_PORT} or the next free one" if command == "dev" else SERVE_PORT
    default = Settings.model_fields[field].default
    if isinstance(default, bool):
        return flag(field) if default else f"--no-{flag(field)[2:]}"
    return "none" if default is None else default


def _help(field: str, command: str) -> str:
    info = Settings.model_fields[field]
    default = _default(field, command)
    env = " or ".join(env_names(field))
    return f"{info.description} (default: {default}; env {env})".replace("%", "%%")


def _add_settings(cmd: argparse.ArgumentParser, command: str) -> None:
    for field, info in Settings.model_fields.items():
        if command not in commands_of(field):
            continue
        text = _help(field, command)
        if info.annotation is bool:
            cmd.add_argument(
                flag(field), dest=field, action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS, help=text,
            )
            continue
        choices = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
        metavar = "{" + ",".join(choices) + "}" if choices else field.upper()
        cmd.add_argument(
            flag(field), dest=field, default=argparse.SUPPRESS, metavar=metavar, help=text
        )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="graphport", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    commands = {
        "dev": "run the server for development: 127.0.0.1, first free port from 2024",
        "serve": "run an API replica for production: 0.0.0.0, port 8000 (or PORT)",
        "worker": "execute runs queued by the API replicas",
    }
    for name, text in commands.items():
        cmd = sub.add_parser(name, help=text, description=text)
        _add_settings(cmd, name)
        if name == "dev":
            cmd.add_argument("--reload", action="store_true", help="restart when files change")
    db = sub.add_parser("db", help="database migrations (Alembic)")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for name, text in {
        "upgrade": "migrate the database to this version's schema",
        "current": "print the database's schema revision",
        "history": "list the schema revisions, newest first",
    }.items():
        _add_settings(db_sub.add_parser(name, help=text, description=text), "db")
    return root


def _expected(field: str) -> str:
    annotation = Settings.model_fields[field].annotation
    kinds = [_KINDS[a] for a in (annotation, *get_args(annotation)) if a in _KINDS]
    unit = " of seconds" if field.endswith("_seconds") else ""
    return f"expected {kinds[0]}{unit}" if kinds else "invalid value"


def _field_of(loc: str) -> str:
    if loc in Settings.model_fields:
        return loc
    return next(f for f in Settings.model_fields if loc in env_names(f))


def _problem(error: Any, given: dict[str, Any]) -> str:
    """`<flag or variable>=<value>: <what is wrong>` for one validation error."""
    field = _field_of(str(error["loc"][0]))
    if field in given:
        source = flag(field)
    else:
        source = next((n for n in env_names(field) if os.environ.get(n)), field)
    value = error.get("input")
    if field.endswith("_url") and isinstance(value, str):
        from graphport.server.redact import redact_url

        value = redact_url(value)
    message = _expected(field) if error["type"] in _PARSING_ERRORS else error["msg"]
    return f"{source}={value!r}: {message.removeprefix('Value error, ')}"


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings, or exit 2 with one line per invalid flag or variable."""
    given = {f: v for f, v in vars(args).items() if f in Settings.model_fields}
    try:
        return Settings(**given, dev=args.command == "dev")
    except ValidationError as e:
        for error in e.errors():
            print(f"graphport: {_problem(error, given)}", file=sys.stderr)
        raise SystemExit(2) from None


def _check_roles(command: str, settings: Settings) -> None:
    if command == "worker" and settings.redis_url is None:
        raise SystemExit(
            "graphport: a worker needs --redis-url: the API replicas that queue its runs "
            "follow their events and cancel them through Redis"
        )
    if command == "worker" and settings.max_concurrent_runs < 1:
        raise SystemExit("graphport: a worker needs --max-concurrent-runs of at least 1")
    if command != "db" and settings.redis_url is None and settings.max_concurrent_runs < 1:
        print(
            "graphport: --max-concurrent-runs 0 without --redis-url: no process can execute "
            "runs (they stay pending); the rest of the API works",
            file=sys.stderr,
        )


def reload_app() -> object:
    """App factory uvicorn calls in its reloading subprocess."""
    from graphport.server import logs
    from graphport.server.app import create_app

    settings = Settings.model_validate_json(os.environ[_SETTINGS_ENV])
    logs.configure(settings.log_level, settings.log_format)
    return create_app(settings)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = settings_from(args)
    _check_roles(args.command, settings)

    from graphport.server import launch, logs
    from graphport.server.graphs import ConfigError, GraphLoadError
    from graphport.server.process import StartupError

    logs.configure(settings.log_level, settings.log_format)
    try:
        if args.command == "db":
            from graphport.server import dbcli

            dbcli.run(args.db_command, settings)
        elif args.command == "worker":
            launch.run_worker(settings)
        elif getattr(args, "reload", False):
            os.environ[_SETTINGS_ENV] = settings.model_dump_json()
            launch.serve_reloading(settings, "graphport.server.cli:reload_app")
        else:
            launch.serve_api(settings, dev=args.command == "dev")
    except (ConfigError, GraphLoadError) as e:
        print(f"graphport: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except StartupError as e:
        print(f"graphport: {e}", file=sys.stderr)
        raise SystemExit(1) from None

if __name__ == "__main__":
    main()
