"""The `graphport` command. `dev`: the embedded server on SQLite, one command, nothing else
to run. `serve` + `worker`: API replicas and run executors sharing PostgreSQL (or one SQLite
file) and Redis."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from graphport.server.settings import Settings

if TYPE_CHECKING:
    import uvicorn

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


def _storage_options(cmd: argparse.ArgumentParser) -> None:
    """What every process of one deployment shares: graphs, database, Redis."""
    cmd.add_argument("--config", default="langgraph.json", help="path to langgraph.json")
    cmd.add_argument(
        "--database",
        default=None,
        help="SQLite file (default .graphport/graphport.db beside the config; ':memory:' ok)",
    )
    cmd.add_argument(
        "--database-url", default=os.environ.get("GRAPHPORT_DATABASE_URL"),
        help="postgresql://… to use PostgreSQL instead of SQLite",
    )
    cmd.add_argument(
        "--redis-url", default=os.environ.get("GRAPHPORT_REDIS_URL"),
        help="redis://… to share runs with other API replicas and `graphport worker`s",
    )
    cmd.add_argument("--log-level", default="info")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphport", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the server with an embedded SQLite database")
    serve = sub.add_parser("serve", help="run an API replica (dev without reloading)")
    for cmd in (dev, serve):
        _storage_options(cmd)
        cmd.add_argument("--host", default="127.0.0.1")
        cmd.add_argument(
            "--port", type=int, default=None, help=f"default {DEFAULT_PORT} or next free"
        )
        cmd.add_argument("--api-key", default=None, help="require this key in the x-api-key header")
        cmd.add_argument(
            "--max-concurrent-runs", type=int, default=10,
            help="runs this process executes at once (default 10; 0 = leave them to workers)",
        )
    dev.add_argument("--reload", action="store_true", help="restart when files change")
    worker = sub.add_parser("worker", help="execute runs queued by the API replicas")
    _storage_options(worker)
    worker.add_argument(
        "--max-concurrent-runs", type=int, default=10, help="runs executed at once (default 10)"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings(
        config_path=Path(args.config).resolve(),
        database=args.database,
        database_url=args.database_url,
        redis_url=args.redis_url,
        max_concurrent_runs=args.max_concurrent_runs,
        dev=args.command == "dev",
    )
    if settings.redis_url is None and args.command == "worker":
        raise SystemExit(
            "graphport: a worker needs --redis-url: the API replicas that queue its runs "
            "follow their events and cancel them through Redis"
        )
    if args.command == "worker" and args.max_concurrent_runs < 1:
        raise SystemExit("graphport: a worker needs --max-concurrent-runs of at least 1")
    if settings.redis_url is None and args.max_concurrent_runs < 1:
        print(
            "graphport: --max-concurrent-runs 0 without --redis-url: no process can execute "
            "runs (they stay pending); the rest of the API works",
            file=sys.stderr,
        )
    if getattr(args, "api_key", None):
        settings.api_key = args.api_key
    return settings


def _settings_from_env() -> Settings:
    raw = json.loads(os.environ[_SETTINGS_ENV])
    raw["config_path"] = Path(raw["config_path"])
    return Settings(**raw)


def reload_app() -> object:
    """App factory uvicorn calls in its reloading subprocess."""
    from graphport.server.app import create_app

    return create_app(_settings_from_env())


def _worker(settings: Settings) -> None:
    from graphport.server import process

    loaded = process.load(settings)
    print(f"Graphport worker: graphs {', '.join(loaded.registry.graph_ids)}", flush=True)

    async def work() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await process.run_worker(settings, loaded, stop)

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a uvicorn[standard] extra
        asyncio.run(work())
    else:
        uvloop.run(work())


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    import uvicorn

    from graphport.server.app import create_app
    from graphport.server.graphs import ConfigError, GraphLoadError
    from graphport.server.runtime.backends import BackendUnavailable

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    try:
        if args.command == "worker":
            _worker(settings)
            return
        app = create_app(settings)
    except (ConfigError, GraphLoadError, BackendUnavailable) as e:
        print(f"graphport: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    config_path = settings.config_path
    port = pick_port(args.host, args.port)
    url = f"http://{args.host}:{port}"
    core_graphs = app.state.graph_ids
    print(f"Graphport {url}")
    print(f"  API docs:  {url}/docs")
    print(f"  Graphs:    {', '.join(core_graphs)}")
    print(f"  Database:  {settings.database_url or settings.sqlite_path}")
    if settings.redis_url:
        print(f"  Redis:     {settings.redis_url}")
    if getattr(args, "reload", False):
        os.environ[_SETTINGS_ENV] = json.dumps(
            {
                "config_path": str(config_path),
                "database": args.database,
                "database_url": args.database_url,
                "redis_url": args.redis_url,
                "max_concurrent_runs": args.max_concurrent_runs,
                "api_key": settings.api_key,
                "dev": True,
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
        grace = settings.shutdown_grace_seconds
        config = uvicorn.Config(
            app,
            host=args.host,
            port=port,
            log_level=args.log_level,
            # Connections still open once the grace period is over (a wait whose run is
            # still going) are closed; streams have ended on their own by then.
            timeout_graceful_shutdown=max(1, int(grace)),
        )
        _serve_gracefully(config, app)


def _serve_gracefully(config: uvicorn.Config, app: Any) -> None:
    """uvicorn, telling the app the moment a stop signal arrives, not once every connection
    has closed: open streams end (their clients reconnect elsewhere) and the worker stops
    taking runs while uvicorn waits for connections (docs/architecture.md#processes)."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            core = getattr(app.state, "core", None)
            if core is not None:
                core.shutdown.begin_threadsafe()
            super().handle_exit(sig, frame)

    Server(config).run()


if __name__ == "__main__":
    main()
