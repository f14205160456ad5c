"""Server side of custom auth (spec 1.3, 6.15) and the `http` settings (spec 1.1, 1.7):
`install(app, settings, config)` wires both; `routes.ROUTES` maps every route to what it
authorizes."""

from graphport.server.auth.backend import AuthBackend, ServerAuth, load_backend
from graphport.server.auth.http import install

__all__ = ["AuthBackend", "ServerAuth", "install", "load_backend"]
