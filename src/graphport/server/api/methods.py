"""405 answers as the API document implies them. Of the path templates matching a URL, the
most specific one (fewest parameters) is the resource: `GET /runs/batch` is a 405 naming
the methods of `/runs/batch`, not a lookup of run "batch" by `GET /runs/{run_id}`; and
every 405 carries `Allow`."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from graphport.server.auth.middleware import iter_app_routes, route_path, send_json

Template = tuple[re.Pattern[str], int, frozenset[str]]  # regex, parameters, methods


def _templates(app: Any) -> list[Template]:
    """Every HTTP path template with the methods served on it, most specific first."""
    methods: dict[str, set[str]] = {}
    for path, served, websocket in iter_app_routes(app):
        if served and not websocket:
            methods.setdefault(path, set()).update(served)
    templates = []
    for path, allowed in methods.items():
        regex, _, convertors = compile_path(path)
        templates.append((regex, len(convertors), frozenset(allowed)))
    return sorted(templates, key=lambda t: t[1])


def _resource(templates: list[Template], path: str) -> frozenset[str] | None:
    """The methods of the most specific template matching `path` (None: no template)."""
    for regex, _, served in templates:
        if regex.match(path):
            return served
    return None


def allowed(app: Any, scope: Scope) -> list[str]:
    return sorted(_resource(_templates(app), route_path(scope)) or ())


class SpecificPaths:
    """Answers 405 when the most specific template lacks the method, before a less specific
    template that has it takes the request. Only templates shadowing another are checked."""

    def __init__(self, app: ASGIApp, *, routes_app: FastAPI) -> None:
        self.app = app
        self.routes_app = routes_app
        self._shadowing: list[Template] | None = None

    def _table(self) -> list[Template]:
        if self._shadowing is None:
            templates = _templates(self.routes_app)
            self._shadowing = [
                t
                for t in templates
                if any(o[1] > t[1] and o[0].match(_sample(t[0])) for o in templates)
            ]
        return self._shadowing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            served = _resource(self._table(), route_path(scope))
            if served is not None and scope["method"] not in served:
                allow = {"Allow": ", ".join(sorted(served))}
                await send_json(scope, send, 405, {"detail": "Method Not Allowed"}, allow)
                return
        await self.app(scope, receive, send)


def _sample(regex: re.Pattern[str]) -> str:
    """A concrete path the template matches (each parameter as `x`)."""
    return re.sub(r"\(\?P<[^>]+>[^)]*\)", "x", regex.pattern.removeprefix("^").removesuffix("$"))


def install(app: FastAPI) -> None:
    app.add_middleware(SpecificPaths, routes_app=app)
