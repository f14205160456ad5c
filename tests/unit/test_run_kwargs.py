"""The execution request a run stores (docs/api.md#runs): what reaches the graph from the
assistant, the request and the caller."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphport.server.services.caller import Caller
from graphport.server.services.runs import build_kwargs

FORGED = {
    "langgraph_auth_user": {"identity": "evil"},
    "langgraph_auth_user_id": "evil",
    "langgraph_auth_permissions": ["admin"],
}


def kwargs_for(assistant: dict[str, Any], caller: Caller, body: dict[str, Any]) -> Any:
    return build_kwargs(
        None,  # type: ignore[arg-type]  # the merge reads no server state
        caller,
        {"assistant_id": assistant["assistant_id"], **body},
        assistant,
        run_id="r",
        thread_id="t",
        metadata={},
        temporary=False,
    )


def test_assistant_rows_cannot_forge_identity() -> None:
    # A row written before assistant writes were cleaned still carries the keys.
    assistant = {
        "assistant_id": "a",
        "graph_id": "g",
        "config": {"configurable": {**FORGED, "team": "x"}},
        "context": {**FORGED, "team": "x"},
    }
    for caller in (Caller(), Caller(user=SimpleNamespace(identity="alice"), permissions=["p"])):
        kwargs = kwargs_for(assistant, caller, {"context": {"extra": 1}})
        assert kwargs["context"] == {"team": "x", "extra": 1}
        configurable = kwargs["config"]["configurable"]
        assert configurable["team"] == "x"
        if caller.identity is None:
            assert not set(FORGED) & set(configurable)
        else:
            assert configurable["langgraph_auth_user_id"] == caller.identity
            assert configurable["langgraph_auth_permissions"] == ["p"]
