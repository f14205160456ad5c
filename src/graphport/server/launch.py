"""Running a server process: the API (`dev`, `serve`) on uvicorn, or a `worker`. The port is
bound and the core opened before anything is served, so a busy port, an unreachable
database or Redis stops start-up with one line (see `process.StartupError`), and the
banner appears only once the server answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from graphport.server import process
from graphport.server.api import monitoring
from graphport.server.app import create_app
from graphport.server.redact import redact_url
from graphport.server.settings import DEFAULT_HOST, DEV_PORT, SERVE_PORT, Settings

logger = logging.getLogger("graphport")


class Server(uvicorn.Server):
    """A uvicorn server serving an app whose lifespan the caller holds open (`state` is
    what it yielded) and whose signals the caller routes to `handle_exit`: uvicorn's own
    capture would re-raise a SIGTERM after serving, killing the process before its
    lifespan could stop the runtime."""

    def __init__(
        self,
        config: uvicorn.Config,
        state: dict[str, Any] | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.state = state or {}
        self.on_ready = on_ready

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self.lifespan.state.update(self.state)
        await super().startup(sockets)
        if self.on_ready is not None and not self.should_exit:
            self.on_ready()


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or a `StartupError` saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise process.StartupError(f"cannot listen on {host}:{port}: {e.strerror}") from e
    return sock


def bind_first_free(host: str) -> socket.socket:
    for port in range(DEV_PORT, DEV_PORT + 100):
        with contextlib.suppress(process.StartupError):
            return bind(host, port)
    raise process.StartupError(f"no free port in {DEV_PORT}-{DEV_PORT + 99} on {host}")


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a uvicorn[standard] extra
        asyncio.run(main)
    else:
        uvloop.run(main)


def _on_signals(handler: Callable[[int], None]) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, handler, sig)


def _uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """Logging stays ours (`logs.configure`): uvicorn's records propagate to it."""
    return uvicorn.Config(
        app,
        log_config=None,
        log_level=settings.log_level,
        proxy_headers=settings.proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **options,
    )


def banner(settings: Settings, url: str, app: FastAPI) -> None:
    """Where the server listens and what it serves; one log record in JSON mode."""
    graph_ids, console_path = app.state.graph_ids, app.state.console_path
    lines = {
        **({"Console": f"{url}{console_path}"} if console_path else {}),
        "API docs": f"{url}/docs",
        "Graphs": ", ".join(graph_ids),
        "Database": process.database_location(settings),
    }
    if settings.redis_url:
        lines["Redis"] = redact_url(settings.redis_url)
    if settings.log_format == "json":
        logger.info("Graphport %s", url, extra={"url": url, "graph_ids": graph_ids})
        return
    print(f"Graphport {url}")
    for name, value in lines.items():
        print(f"  {name + ':':<10} {value}")
    print(flush=True)


def serve_api(settings: Settings, *, dev: bool) -> None:
    """`dev` (loopback, first free port from 2024) or `serve` (all interfaces, port 8000):
    bind, open the core, serve, print the banner once serving."""
    app = create_app(settings)
    host = settings.host or DEFAULT_HOST["dev" if dev else "serve"]
    port = settings.port or (None if dev else SERVE_PORT)
    sock = bind(host, port) if port is not None else bind_first_free(host)
    bound = sock.getsockname()[1]
    url = f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
    _run(_serve(app, settings, sock, lambda: banner(settings, url, app)))


async def _serve(
    app: FastAPI, settings: Settings, sock: socket.socket, on_ready: Callable[[], None]
) -> None:
    server: Server | None = None
    stopping = asyncio.Event()

    def stop(sig: int) -> None:
        """At once, not when every connection has closed: open streams end (their clients
        reconnect elsewhere) and the worker stops taking runs while uvicorn waits."""
        stopping.set()
        core = getattr(app.state, "core", None)
        if core is not None:
            core.shutdown.begin()
        if server is not None:
            server.handle_exit(sig, None)

    _on_signals(stop)
    with sock:
        async with app.router.lifespan_context(app) as state:
            if stopping.is_set():
                return
            # Connections still open once the grace period is over (a wait whose run is
            # still going) are closed; streams have ended on their own by then.
            grace = max(1, int(settings.shutdown_grace_seconds))
            config = _uvicorn_config(app, settings, lifespan="off", timeout_graceful_shutdown=grace)
            server = Server(config, dict(state or {}), on_ready)
            await server.serve(sockets=[sock])


def serve_reloading(settings: Settings, factory: str) -> None:
    """`dev --reload`: uvicorn restarts a subprocess running `factory` on file changes."""
    host = settings.host or DEFAULT_HOST["dev"]
    if settings.port is None:
        with bind_first_free(host) as probe:
            port = probe.getsockname()[1]
    else:
        port = settings.port
    app = create_app(settings)  # the graphs load here first, so errors show at once
    banner(settings, f"http://{host}:{port}", app)
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        reload=True,
        reload_dirs=[str(settings.config_path.parent)],
        log_config=None,
        log_level=settings.log_level,
    )


def run_worker(settings: Settings) -> None:
    """Execute runs from the shared queue until SIGINT/SIGTERM; with a metrics port, serve
    `/metrics` and `/ok` there."""
    loaded = process.load(settings)
    _run(_work(settings, loaded))


async def _work(settings: Settings, loaded: process.Loaded) -> None:
    stop = asyncio.Event()
    monitor: Server | None = None

    def on_signal(sig: int) -> None:
        stop.set()
        if monitor is not None:
            monitor.handle_exit(sig, None)

    _on_signals(on_signal)
    sock = None
    if settings.metrics_port is not None:
        sock = bind(settings.host or DEFAULT_HOST["worker"], settings.metrics_port)
    async with process.open_core(settings, loaded) as core, process.running(core):
        assert core.worker is not None  # the CLI refuses max_concurrent_runs < 1
        tasks = []
        if sock is not None:
            app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
            app.include_router(monitoring.router)
            app.state.core = core
            monitor = Server(_uvicorn_config(app, settings, lifespan="off", access_log=False))
            tasks.append(asyncio.create_task(monitor.serve(sockets=[sock])))
        logger.info(
            "worker %s ready: graphs %s", core.worker.owner, ", ".join(loaded.registry.graph_ids)
        )
        await stop.wait()
        if monitor is not None:
            monitor.should_exit = True
        await asyncio.gather(*tasks)
