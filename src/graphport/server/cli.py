"""`graphport dev`: the embedded server on SQLite, one command, nothing else to run."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from pathlib import Path

DEFAULT_PORT = 2024
_SETTINGS_ENV = "GRAPHPORT_CLI_SETTINGS"


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(host: str, requested: int | None) -> int:
    """The requested port, or the first free one from 2024 upwards."""
    if requested is not None:
        return requested
    for port in range(DEFAULT_PORT, DEFAULT_PORT + 100):
        if _port_free(host, port):
            return port
    raise SystemExit(f"No free port in {DEFAULT_PORT}-{DEFAULT_PORT + 99} on {host}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphport", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the server with an embedded SQLite database")
    dev.add_argument("--config", default="langgraph.json", help="path to langgraph.json")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=None, help=f"default {DEFAULT_PORT} or next free")
    dev.add_argument("--reload", action="store_true", help="restart when files change")
    dev.add_argument(
        "--database",
        default=None,
        help="SQLite file (default .graphport/graphport.db beside the config; ':memory:' ok)",
    )
    dev.add_argument(
        "--database-url", default=os.environ.get("GRAPHPORT_DATABASE_URL"),
        help="postgresql://… to use PostgreSQL instead of SQLite",
    )
    dev.add_argument("--api-key", default=None, help="require this key in the x-api-key header")
    dev.add_argument(
        "--max-concurrent-runs", type=int, default=10, help="runs executed at once (default 10)"
    )
    dev.add_argument("--log-level", default="info")
    return parser


def _settings_from_env() -> object:
    from graphport.server.settings import Settings

    raw = json.loads(os.environ[_SETTINGS_ENV])
    raw["config_path"] = Path(raw["config_path"])
    return Settings(**raw)


def reload_app() -> object:
    """App factory uvicorn calls in its reloading subprocess."""
    from graphport.server.app import create_app

    return create_app(_settings_from_env())  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    import uvicorn

    from graphport.server.app import create_app
    from graphport.server.graphs import ConfigError, GraphLoadError
    from graphport.server.settings import Settings

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    config_path = Path(args.config).resolve()
    settings = Settings(
        config_path=config_path,
        database=args.database,
        database_url=args.database_url,
        max_concurrent_runs=args.max_concurrent_runs,
    )
    if args.api_key:
        settings.api_key = args.api_key
    try:
        app = create_app(settings)
    except (ConfigError, GraphLoadError) as e:
        print(f"graphport: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    port = pick_port(args.host, args.port)
    url = f"http://{args.host}:{port}"
    core_graphs = app.state.graph_ids
    print(f"Graphport {url}")
    print(f"  API docs:  {url}/docs")
    print(f"  Graphs:    {', '.join(core_graphs)}")
    print(f"  Database:  {settings.database_url or settings.sqlite_path}")
    if args.reload:
        os.environ[_SETTINGS_ENV] = json.dumps(
            {
                "config_path": str(config_path),
                "database": args.database,
                "database_url": args.database_url,
                "max_concurrent_runs": args.max_concurrent_runs,
                "api_key": settings.api_key,
            }
        )
        uvicorn.run(
            "graphport.server.cli:reload_app",
            factory=True,
            host=args.host,
            port=port,
            reload=True,
            reload_dirs=[str(config_path.parent)],
            log_level=args.log_level,
        )
    else:
        uvicorn.run(app, host=args.host, port=port, log_level=args.log_level)


if __name__ == "__main__":
    main()
