"""whoami: reports what the server put in `config.configurable` (and `runtime.context`)
about the caller."""

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    seen: dict[str, Any]


def whoami(state: State, config: RunnableConfig, runtime: Runtime) -> State:
    c = config.get("configurable", {})
    user = c.get("langgraph_auth_user")
    return {
        "seen": {
            "user_id": c.get("langgraph_auth_user_id"),
            "permissions": c.get("langgraph_auth_permissions"),
            "identity_attr": getattr(user, "identity", None),
            "identity_item": user["identity"] if user is not None else None,
            "org": user["org"] if user is not None and "org" in user else None,
            "x_custom": c.get("x-custom"),
            "x_api_key": c.get("x-api-key"),
            "authorization": c.get("authorization"),
            "custom_header": c.get("my-header"),
            "request_id": c.get("langgraph_request_id"),
            "context": dict(runtime.context or {}),
        }
    }


graph = StateGraph(State).add_node(whoami).add_edge(START, "whoami").compile()
