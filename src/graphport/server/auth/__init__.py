"""Server side of custom auth (docs/api.md#auth) and the `http` settings (docs/api.md#conventions):
`install(app, settings, config)` wires both; `routes.ROUTES` maps every route to what it
authorizes."""

from graphport.server.auth.backend import AuthBackend, ServerAuth, load_backend
from graphport.server.auth.http import install

__all__ = ["AuthBackend", "ServerAuth", "install", "load_backend"]
