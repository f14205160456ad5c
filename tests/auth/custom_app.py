"""A user's own FastAPI app mounted beside the API (`http.app`), with its own lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.started = True
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/custom/hello")
async def hello(request: Request) -> dict:
    user = request.scope.get("user")
    return {
        "hello": "world",
        "user": getattr(user, "identity", None),
        "started": getattr(app.state, "started", False),
    }


@app.get("/info")
async def info() -> dict:
    """Shadows the built-in /info: custom routes take precedence."""
    return {"custom": True}
