"""The built-in web console (docs/console.md): the page built from `console/` and shipped in
the package, served at `/console`. Its files are public; its API calls, made by the official
JS SDK in the browser, carry the user's credentials like any other client's."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

ASSETS = Path(__file__).resolve().parent.parent / "console"
"""`make console` builds into this folder; its `manifest.json` ties it to the sources."""

_NOT_BUILT = "The console's assets are missing from this installation (run `make console`)."


def _page(index: str, root_path: str) -> str:
    """index.html with a `<base>` at this deployment's `/console/`, so the relative asset
    paths and the API's address (the base's parent) honour `http.mount_prefix`."""
    base = html.escape(f"{root_path}/console/", quote=True)
    return index.replace("<head>", f'<head>\n    <base href="{base}">', 1)


def router() -> APIRouter:
    """The console's routes; index.html is read once, here, not on every request."""
    index_file = ASSETS / "index.html"
    index = index_file.read_text() if index_file.is_file() else None
    root = ASSETS.resolve()
    api = APIRouter(include_in_schema=False)

    @api.get("/console")
    async def console_root(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/console/")

    @api.get("/console/{path:path}")
    async def console_file(path: str, request: Request) -> Response:
        if index is None:
            return JSONResponse({"detail": _NOT_BUILT}, status_code=404)
        if path and path != "index.html":
            file = (root / path).resolve()
            if file.is_relative_to(root) and file.is_file():
                # Vite names every asset by its content hash: never stale.
                hashed = path.startswith("assets/")
                cache = "public, max-age=31536000, immutable" if hashed else "no-cache"
                return FileResponse(file, headers={"cache-control": cache})
            if path.startswith("assets/"):
                return JSONResponse({"detail": "Not Found"}, status_code=404)
        # Any other path is a page of the console (deep links): its index answers.
        page = _page(index, request.scope.get("root_path", ""))
        return HTMLResponse(page, headers={"cache-control": "no-cache"})

    return api
