"""The SDK stands alone: importing it pulls in no server dependency; its surface is fixed."""

from __future__ import annotations

import subprocess
import sys

import graphport
import graphport.sdk
import graphport.sdk.client
import graphport.sdk.errors
import graphport.sdk.sse

SERVER_MODULES = ["fastapi", "starlette", "sqlalchemy", "langgraph", "langchain_core", "uvicorn"]

PROBE = f"""
import sys
import graphport
graphport.get_client, graphport.get_sync_client
import graphport.sdk, graphport.sdk.client, graphport.sdk.schema, graphport.sdk.errors
loaded = sorted(m for m in {SERVER_MODULES!r} if m in sys.modules or any(
    name.startswith(m + ".") for name in sys.modules))
print(",".join(loaded))
"""


def test_importing_the_sdk_imports_no_server_dependency() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


def test_top_level_exports() -> None:
    assert {"get_client", "get_sync_client"} <= set(graphport.__all__)
    assert graphport.get_client is graphport.sdk.get_client
    assert graphport.get_sync_client is graphport.sdk.get_sync_client
    assert graphport.sdk.__all__ == [
        "WebhookVerificationError",
        "__version__",
        "get_client",
        "get_sync_client",
        "verify_webhook",
    ]


def test_every_exported_name_exists_once() -> None:
    for module in (graphport, graphport.sdk, graphport.sdk.client, graphport.sdk.sse):
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_error_module_names_match_langgraph_sdk() -> None:
    names = [
        "LangGraphError",
        "GraphportError",
        "APIError",
        "APIStatusError",
        "APIConnectionError",
        "APITimeoutError",
        "APIResponseValidationError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
    ]
    assert all(hasattr(graphport.sdk.errors, name) for name in names)
